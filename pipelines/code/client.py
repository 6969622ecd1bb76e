"""The only network I/O of the code repositories source: GitHub's REST API through PyGithub.

PyGithub's Requester is pointed at the configured API base (api.github.com, a GitHub Enterprise
Server, or the offline mirror's `/api/v3`), authenticates with the token when one is given, and
follows a moved repository's 301. This module adds the policy GitHub documents, in one place:
conditional requests (`If-None-Match`; a 304 does not count against the quota), the primary limit
(`X-RateLimit-Remaining: 0`: wait until `X-RateLimit-Reset` if that is soon, else stop the run so the
next one resumes), the secondary limit (`Retry-After`), and 5xx, transport errors and malformed JSON
(retried with exponential backoff). Every request is counted for the run's cost account. Before a
request leaves, it takes a permit from the token's quota (settings.effective_quota() per quota_window),
shared through a file with every process crawling with the same token when a quota folder is given.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from github import Auth, Github

from pipelines.code.settings import CodeSettings
from pipelines.transport import retry_after_seconds, window_limiter

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class RateLimited(Exception):
    """The quota is spent until a time further away than the run may wait: stop now, resume next run."""

    def __init__(self, reset_at: float | None, message: str) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class TransientFailure(Exception):
    """A request that kept failing (5xx, transport error, malformed body) after every retry."""


@dataclass
class Reply:
    """One answer: status, lower-case headers, the decoded JSON body (None for 304 and empty bodies)."""

    status: int
    headers: dict[str, str]
    body: Any = None

    @property
    def etag(self) -> str | None:
        """The answer's ETag, as sent."""
        return self.headers.get("etag")

    def next_url(self) -> str | None:
        """The `rel="next"` URL of GitHub's Link header, if any."""
        m = _NEXT.search(self.headers.get("link", ""))
        return m.group(1) if m else None


@dataclass
class Cost:
    """What the run asked GitHub and what it cost against the quota."""

    requests: int = 0
    not_modified: int = 0  # 304s: free
    quota_used: int = 0  # answers that count against the primary limit (everything but 304)
    retries: int = 0
    status_5xx: int = 0
    status_429: int = 0  # 403/429 limit answers (primary or secondary)
    transport_errors: int = 0
    redirects: int = 0  # 301s followed (moved repositories)
    bytes: int = 0
    waited_seconds: float = 0.0
    ratelimit_remaining: int | None = None
    by_status: dict[str, int] = field(default_factory=dict)

    def note_redirect(self) -> None:
        """Count the 301 that PyGithub followed (seen by the caller as a changed `full_name`)."""
        self.redirects += 1
        self.requests += 1
        self.quota_used += 1
        self.by_status["301"] = self.by_status.get("301", 0) + 1

    def as_dict(self) -> dict:
        """A JSON-safe copy."""
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}


def _limit_answer(status: int, headers: dict[str, str], text: str) -> bool:
    if status not in (403, 429):
        return False
    if headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers:
        return True
    return "rate limit" in text.lower()


class GitHubClient:
    """GET requests to one GitHub API base with GitHub's documented retry and limit policy."""

    def __init__(
        self,
        settings: CodeSettings,
        *,
        crawl_date: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        shared_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.settings = settings
        quota = settings.effective_quota()
        self._limiter = (
            window_limiter(
                quota,
                settings.quota_window,
                shared_dir,
                service="github",
                bucket="core",
                token=settings.token,
            )
            if quota
            else None
        )
        self.base_url = settings.endpoint_for(crawl_date) if crawl_date else settings.endpoint.rstrip("/")
        self._github = Github(
            base_url=self.base_url,
            auth=Auth.Token(settings.token) if settings.token else None,
            timeout=int(settings.timeout),
            per_page=settings.per_page,
            retry=None,  # the policy below decides (bounded waits, a clean stop)
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._requester = self._github.requester
        self._sleep, self._clock = sleep, clock
        self.cost = Cost()

    def close(self) -> None:
        """Close the connection."""
        self._github.close()

    def get(self, path: str, params: dict[str, Any] | None = None, *, etag: str | None = None) -> Reply:
        """GET a path under the API base (or a full next-page URL); conditional when `etag` is given."""
        headers = {"Accept": "application/vnd.github+json"}
        if etag:
            headers["If-None-Match"] = etag
        attempt = 0
        while True:
            if self._limiter is not None:
                waited = self._limiter.waited_seconds
                self._limiter.acquire()
                self.cost.waited_seconds += self._limiter.waited_seconds - waited
            try:
                status, raw_headers, text = self._requester.requestJson(
                    "GET", path, parameters=params, headers=dict(headers)
                )
            except (OSError, http.client.HTTPException) as exc:  # requests' errors are OSErrors
                self.cost.requests += 1
                self.cost.transport_errors += 1
                attempt = self._backoff(attempt, f"transport error: {type(exc).__name__}")
                continue
            hdrs = {k.lower(): v for k, v in raw_headers.items()}
            self._count(status, hdrs, text)
            if _limit_answer(status, hdrs, text or ""):
                attempt = self._wait_for_limit(attempt, hdrs)
                continue
            if status >= 500:
                self.cost.status_5xx += 1
                attempt = self._backoff(attempt, f"HTTP {status}")
                continue
            if status == 304 or not text:
                return Reply(status, hdrs, None)
            try:
                body = json.loads(text)
            except json.JSONDecodeError:
                if status >= 400:  # an error page that is not JSON: the status says enough
                    return Reply(status, hdrs, {"message": text[:200]})
                attempt = self._backoff(attempt, "malformed JSON body")
                continue
            return Reply(status, hdrs, body)

    def _count(self, status: int, headers: dict[str, str], text: str | None) -> None:
        cost = self.cost
        cost.requests += 1
        cost.by_status[str(status)] = cost.by_status.get(str(status), 0) + 1
        cost.bytes += len((text or "").encode())
        if status == 304:
            cost.not_modified += 1
        else:
            cost.quota_used += 1
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.strip().lstrip("-").isdigit():
            cost.ratelimit_remaining = int(remaining)

    def _backoff(self, attempt: int, why: str) -> int:
        if attempt >= self.settings.max_retries:
            raise TransientFailure(f"{why} after {attempt + 1} attempts")
        wait = self.settings.base_wait * (2**attempt)
        self.cost.retries += 1
        self.cost.waited_seconds += wait
        self._sleep(wait)
        return attempt + 1

    def _wait_for_limit(self, attempt: int, headers: dict[str, str]) -> int:
        self.cost.status_429 += 1
        now = self._clock()
        reset = _number(headers.get("x-ratelimit-reset"))
        if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
            wait = max(0.0, reset - now) + 1.0  # primary limit: not before the window resets
        elif (asked := retry_after_seconds(headers.get("retry-after"))) is not None:
            wait = asked  # secondary limit: as long as asked
            reset = now + wait
        else:
            wait = 60.0  # secondary limit without a header: GitHub says wait at least a minute
            reset = now + wait
        if wait > self.settings.max_wait or attempt >= self.settings.max_retries:
            raise RateLimited(reset, f"GitHub rate limit: resumes after {wait:.0f} s")
        self.cost.retries += 1
        self.cost.waited_seconds += wait
        self._sleep(wait)
        return attempt + 1


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
