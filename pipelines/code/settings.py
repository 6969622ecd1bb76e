"""Settings of the code repositories source (GitHub's REST API), for this source only.

Values are passed in; `from_environment` is called at run time (never at import) by the command line
and the Dagster resource. The token is held only in memory: it is not part of the repr, and nothing
this source writes contains it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

from pipelines.depth import DEFAULT_SHARE

DEFAULT_ENDPOINT = "https://api.github.com"
ENDPOINT_VARIABLE = "OPENNESS_GITHUB_ENDPOINT"
TOKEN_VARIABLE = "GITHUB_TOKEN"


@dataclass(frozen=True)
class CodeSettings:
    """How to reach GitHub's REST API and how hard to try."""

    endpoint: str = DEFAULT_ENDPOINT  # an API base: https://api.github.com or http(s)://HOST/api/v3
    token: str | None = field(default=None, repr=False)
    replay: bool = False  # a mirror: crawl its state as of the crawl date (`/as-of/<date>/api/v3`)
    timeout: float = 30.0
    max_retries: int = 4  # per request, for 5xx, transport errors and the secondary limit
    base_wait: float = 1.0  # first backoff wait in seconds, doubled at each retry
    max_wait: float = 60.0  # longest wait for a limit to reset; longer: the run stops, the next resumes
    refresh_days: float = 7.0  # re-read the tree and licence files of an unchanged repo after this long
    per_page: int = 100  # GitHub's maximum page size
    max_history_pages: int = 10  # pages of commits touching one licence file (100 commits each)
    max_file_bytes: int = 1_000_000  # licence files above this are recorded without their text
    # Only these repositories (owner/name, any case) are crawled; None: every one a card or paper names.
    # A mirror records a few repositories: a repository it does not record would be answered 404 and
    # recorded as gone, a false statement about a real repository, so the demo limits the crawl to them.
    scope: tuple[str, ...] | None = None
    # Requests per `quota_window` seconds taken from the token's shared bucket before each request, so
    # that every process crawling with the token keeps one quota together. None: GitHub's published
    # primary limit (5,000 an hour with a token, 60 without) against api.github.com, and no client-side
    # limit elsewhere (a mirror or GitHub Enterprise Server: its X-RateLimit headers govern); 0: none.
    quota: int | None = None
    quota_window: float = 3600.0
    # The folder of the shared quota files (None: the warehouse's state/quota; "": each process alone).
    quota_dir: str | None = None
    # Quota (answers that count against the primary limit; a 304 costs none) one crawl date may spend,
    # most-used repositories first; the rest is crawled on the next date (docs/crawler.md, "Depth by usage").
    # None: half the token's daily primary quota against api.github.com (60,000 a day with a token, 720
    # without), no limit elsewhere; 0: no limit.
    daily_budget: int | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"GitHub endpoint must be an http(s) URL, got {self.endpoint!r}")
        if parts.username or parts.password:
            raise ValueError("GitHub endpoint must not carry credentials; set GITHUB_TOKEN instead")
        for name in ("max_retries", "max_wait", "refresh_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.quota is not None and self.quota < 0:
            raise ValueError(f"quota must not be negative, got {self.quota}")
        if self.daily_budget is not None and self.daily_budget < 0:
            raise ValueError(f"daily_budget must not be negative, got {self.daily_budget}")
        if self.quota_window <= 0:
            raise ValueError(f"quota_window must be positive, got {self.quota_window}")

    def effective_quota(self) -> int:
        """Requests per `quota_window` the crawl may send (0: no client-side limit)."""
        if self.quota is not None:
            return self.quota
        if urlsplit(self.endpoint).netloc.lower() != urlsplit(DEFAULT_ENDPOINT).netloc:
            return 0
        return 5000 if self.token else 60

    def effective_daily_budget(self) -> int:
        """Quota one crawl date may spend (0: no limit); see `daily_budget`."""
        if self.daily_budget is not None:
            return self.daily_budget
        return int(DEFAULT_SHARE * self.effective_quota() * 86_400 / self.quota_window)

    def endpoint_for(self, crawl_date: str) -> str:
        """The API base a crawl of `crawl_date` talks to (the mirror's as-of prefix in replay mode)."""
        base = self.endpoint.rstrip("/")
        if not self.replay:
            return base
        parts = urlsplit(base)
        return urlunsplit((parts.scheme, parts.netloc, f"/as-of/{crawl_date}{parts.path}", "", ""))

    def with_endpoint(self, endpoint: str | None) -> CodeSettings:
        """The same settings pointed at another API base (None: unchanged)."""
        return self if not endpoint else replace(self, endpoint=endpoint)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> CodeSettings:
        """Settings from OPENNESS_GITHUB_ENDPOINT and GITHUB_TOKEN, read now (at run time)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "endpoint": env.get(ENDPOINT_VARIABLE) or DEFAULT_ENDPOINT,
            "token": env.get(TOKEN_VARIABLE) or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
