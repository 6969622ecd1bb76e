"""The Hugging Face papers API client (`GET /api/papers/{arxiv_id}`): the code repository and project page.

Papers with Code is gone (reference/hub-api.md 3.4), so the Hub's `githubRepo` is the surviving
paper -> code link. Plain requests rather than HfApi.paper_info: we need the raw body for the raw layer,
our own pacing and retries (paper_info retries nothing), and 404 as an answer rather than an exception.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from pipelines.papers.atom import iso_utc
from pipelines.papers.code_links import normalise_code_url
from pipelines.papers.ids import try_parse_arxiv_id
from pipelines.papers.pacing import Pacer, retry_after_seconds

DEFAULT_ENDPOINT = "https://huggingface.co"
USER_AGENT = "openness-tracker/0.1 (Hub paper pages of cited papers; python-requests)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
STATUSES = ("found", "not_found", "invalid", "error")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _project_page(value: object) -> str | None:
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def paper_links(body: str | bytes | None) -> dict[str, Any]:
    """github_repo, project_page and published_at from a Hub papers body (top level or nested `paper`)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {"github_repo": None, "project_page": None, "published_at": None}
    # /api/papers/{id} answers at top level; daily-papers items nest the same fields under `paper`.
    paper = data.get("paper") if isinstance(data.get("paper"), dict) else data
    published = paper.get("publishedAt") or paper.get("published_at")
    return {
        "github_repo": normalise_code_url(paper.get("githubRepo")),
        "project_page": _project_page(paper.get("projectPage")),
        "published_at": iso_utc(published) if isinstance(published, str) else None,
    }


class HubPapersClient:
    """Reads Hub paper pages one id at a time from the Hub or the hub mirror (`endpoint`)."""

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        min_interval: float = 1.0,
        max_retries: int = 3,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], datetime] = _utc_now,
        max_backoff: float = 60.0,
    ) -> None:
        # The default pace (<= 300 requests per 5 minutes) leaves most of the anonymous `api` quota
        # (500 per 5 minutes, reference/hub-api.md 4.2) to the Hub crawler that shares it.
        if max_retries < 0 or timeout <= 0:
            raise ValueError("max_retries must be >= 0 and timeout > 0")
        self.endpoint = endpoint.rstrip("/")
        self.max_retries = max_retries
        self.timeout = timeout
        self.wall_clock = wall_clock
        self.pacer = Pacer(min_interval, max_backoff, clock, sleep)
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        if self._owns_session:
            self.session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> HubPapersClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_many(self, arxiv_ids: Iterable[str]) -> list[dict[str, Any]]:
        """fetch() for each distinct id, in order."""
        return [self.fetch(i) for i in dict.fromkeys(arxiv_ids)]

    def fetch(self, arxiv_id: str) -> dict[str, Any]:
        """{"status": found|not_found|invalid|error, "github_repo", "project_page", "published_at", "body", ...}."""
        out: dict[str, Any] = {
            "arxiv_id": arxiv_id,
            "status": "error",
            "github_repo": None,
            "project_page": None,
            "published_at": None,
            "body": None,
            "status_code": None,
            "url": None,
            "fetched_at": None,
            "error": None,
        }
        parsed = try_parse_arxiv_id(arxiv_id)
        if parsed is None:  # never let a malformed id into a URL path
            out.update(status="invalid", error="not a well-formed arXiv id (not sent)")
            return out
        # The Hub keys paper pages by the id without version; the grammar leaves only [A-Za-z0-9.-/] here.
        url = f"{self.endpoint}/api/papers/{quote(parsed.base, safe='/')}"
        out.update(arxiv_id=parsed.base, url=url)
        for attempt in range(self.max_retries + 1):
            self.pacer.wait()
            try:
                response = self.session.get(url, timeout=self.timeout)
                body = response.content.decode("utf-8", errors="replace")
            except requests.RequestException as err:
                self.pacer.done(attempt)
                out["error"] = type(err).__name__
                continue
            out.update(status_code=response.status_code, body=body, fetched_at=self.wall_clock())
            if response.status_code in RETRY_STATUSES:
                self.pacer.done(attempt, retry_after_seconds(response.headers.get("Retry-After")))
                out.update(status="error", error=f"HTTP {response.status_code}")
                continue
            if response.status_code == 404:
                self.pacer.done()
                out.update(status="not_found", error=None)
                return out
            if response.status_code != 200:
                self.pacer.done()
                out.update(status="error", error=f"HTTP {response.status_code}")
                return out
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if not isinstance(data, dict):  # cut short or mangled on the way: ask again
                self.pacer.done(attempt)
                out.update(status="error", error="unreadable JSON body")
                continue
            self.pacer.done()
            out.update(status="found", error=None, **paper_links(body))
            return out
        return out
