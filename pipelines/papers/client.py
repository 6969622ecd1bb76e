"""The papers' clients, the only network code of the source: arXiv's query API and the Hub papers API.

arXiv (`ArxivClient`): batched `id_list` look-ups, paced and retried the way arXiv's terms ask. arXiv's Terms
of Use (https://info.arxiv.org/help/api/tou.html): no more than one request every three seconds, one
connection at a time. So this client owns one requests.Session with a one-connection pool, sends one request
at a time, and waits `min_interval` seconds after each exchange (retries included) before the next request
leaves. Ids are checked against the id grammar before any URL is built.

The Hub papers API (`HubPapersClient`, `GET /api/papers/{arxiv_id}`): the code repository and project page.
Papers with Code is gone (reference/hub-api.md 3.4), so the Hub's `githubRepo` is the surviving
paper -> code link. Its requests leave through huggingface_hub's transport as every Hub request does
(pipelines/hub_transport.py): with the Hub token, under the Hub's rate limiters and in the step's request
counters. Not HfApi.paper_info: we need the raw body for the raw layer, our own pacing
and retries (paper_info retries nothing), and 404 as an answer rather than an exception.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx2
import requests
from requests.adapters import HTTPAdapter

from pipelines.arxiv_ids import ArxivId, try_parse_arxiv_id
from pipelines.hub_transport import get_once, hub_headers
from pipelines.papers.atom import AtomError, FeedResult, parse_feed
from pipelines.papers.parse import paper_links
from pipelines.papers.settings import ARXIV_ENDPOINT
from pipelines.transport import HUB_ENDPOINT, RETRY_STATUSES, Pacer, retry_after_seconds

ARXIV_USER_AGENT = "openness-tracker/0.1 (arXiv metadata of cited papers; python-requests)"
STATUSES = ("found", "not_found", "unrecorded", "invalid", "error")
# A hub mirror's mark on an answer that leaves out papers its recording does not hold (docs/mirror.md):
# those are unknown, not absent from arXiv or the Hub. arXiv and the Hub never send it.
UNRECORDED_HEADER = "X-Mirror-Unrecorded"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ArxivBatchResult:
    """Per requested id: status (found | not_found | unrecorded | invalid | error), entry, and the answer it
    came from (`unrecorded`: a mirror's answer left it out and said its recording does not hold it)."""

    papers: dict[str, dict[str, Any]] = field(default_factory=dict)  # requested id -> parsed entry
    status: dict[str, str] = field(default_factory=dict)  # requested id -> status
    responses: list[dict[str, Any]] = field(default_factory=list)  # {url, status_code, body, fetched_at}
    response_index: dict[str, int] = field(default_factory=dict)  # requested id -> index in `responses`
    messages: dict[str, str] = field(default_factory=dict)  # requested id -> why invalid / error
    failures: list[dict[str, Any]] = field(default_factory=list)  # transport errors: {url, error, at}

    @property
    def requests_sent(self) -> int:
        """HTTP requests made (answered or not)."""
        return len(self.responses) + len(self.failures)


@dataclass
class _Answer:
    index: int | None  # position in ArxivBatchResult.responses, None if nothing usable came back
    status_code: int | None
    feed: FeedResult | None
    error: str | None = None
    unrecorded: bool = False  # the answer carried X-Mirror-Unrecorded


class ArxivClient:
    """Fetches arXiv metadata for lists of ids from the query API (or the hub mirror's copy of it)."""

    def __init__(
        self,
        base_url: str = ARXIV_ENDPOINT,
        min_interval: float = 3.0,
        batch_size: int = 100,
        max_retries: int = 4,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], datetime] = _utc_now,
        max_backoff: float = 120.0,
    ) -> None:
        if not 1 <= batch_size <= 2000:  # 2000 is arXiv's per-request maximum
            raise ValueError("batch_size must be between 1 and 2000")
        if max_retries < 0 or timeout <= 0:
            raise ValueError("max_retries must be >= 0 and timeout > 0")
        self.base_url = base_url
        self.min_interval = float(min_interval)
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.timeout = timeout
        self.wall_clock = wall_clock
        self.pacer = Pacer(self.min_interval, max_backoff, clock, sleep)
        self._owns_session = session is None
        self.session = session if session is not None else _one_connection_session()

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- public ----------------------------------------------------------------------------------
    def fetch(self, ids: Iterable[str]) -> ArxivBatchResult:
        """Look up every id (batches of <= batch_size); malformed ids are marked invalid without a request."""
        result = ArxivBatchResult()
        pending: list[tuple[str, ArxivId]] = []
        for raw in dict.fromkeys(ids):
            parsed = try_parse_arxiv_id(raw)
            if parsed is None:
                result.status[raw] = "invalid"
                result.messages[raw] = "not a well-formed arXiv id (not sent)"
            else:
                pending.append((raw, parsed))
        for start in range(0, len(pending), self.batch_size):
            self._fetch_batch(pending[start : start + self.batch_size], result)
        return result

    # ---- batches ---------------------------------------------------------------------------------
    def _fetch_batch(self, batch: list[tuple[str, ArxivId]], result: ArxivBatchResult) -> None:
        answer = self._get(list(dict.fromkeys(str(parsed) for _, parsed in batch)), result)
        if answer.status_code == 200 and answer.feed is not None:
            self._assign(batch, answer, result)
        elif answer.status_code == 400 and len(batch) > 1:
            # arXiv rejects the whole list for one id it dislikes: halve until the culprit stands alone.
            middle = len(batch) // 2
            self._fetch_batch(batch[:middle], result)
            self._fetch_batch(batch[middle:], result)
        elif answer.status_code == 400:
            raw = batch[0][0]
            errors = answer.feed.errors if answer.feed is not None else []
            result.status[raw] = "invalid"
            result.messages[raw] = errors[0]["message"] if errors else "HTTP 400"
            if answer.index is not None:
                result.response_index[raw] = answer.index
        else:
            for raw, _ in batch:
                result.status[raw] = "error"
                result.messages[raw] = answer.error or f"HTTP {answer.status_code}"
                if answer.index is not None:
                    result.response_index[raw] = answer.index

    @staticmethod
    def _assign(batch: list[tuple[str, ArxivId]], answer: _Answer, result: ArxivBatchResult) -> None:
        assert answer.feed is not None
        by_base: dict[str, list[dict[str, Any]]] = {}
        for entry in answer.feed.entries:
            by_base.setdefault(entry["arxiv_id"], []).append(entry)
        for raw, parsed in batch:
            candidates = by_base.get(parsed.base, [])
            # A versioned request is answered with that version; otherwise arXiv gives the latest.
            exact = [e for e in candidates if parsed.version is not None and e["version"] == parsed.version]
            entry = (exact or candidates or [None])[0]
            missing = "unrecorded" if answer.unrecorded else "not_found"
            result.status[raw] = "found" if entry is not None else missing
            if entry is not None:
                result.papers[raw] = entry
            if answer.index is not None:
                result.response_index[raw] = answer.index

    # ---- one request, paced and retried ----------------------------------------------------------
    def _get(self, id_list: list[str], result: ArxivBatchResult) -> _Answer:
        params = {"id_list": ",".join(id_list), "start": "0", "max_results": str(len(id_list))}
        url = requests.Request("GET", self.base_url, params=params).prepare().url or self.base_url
        last = _Answer(None, None, None, "no request made")
        for attempt in range(self.max_retries + 1):
            self.pacer.wait()
            try:
                response = self.session.get(url, timeout=self.timeout)
                content = response.content
            except requests.RequestException as err:  # timeouts, refused/reset connections, truncated bodies
                self.pacer.done(attempt, None)
                result.failures.append(
                    {"url": url, "error": f"{type(err).__name__}: {err}", "at": self.wall_clock()}
                )
                last = _Answer(None, None, None, f"{type(err).__name__}")
                continue
            # Decode as UTF-8 ourselves: arXiv feeds are UTF-8 (the XML declaration says so), and requests'
            # charset guess for application/atom+xml can turn "Wübben" into "WÃ¼bben".
            body = content.decode("utf-8", errors="replace")
            unrecorded = response.headers.get(UNRECORDED_HEADER) or None
            result.responses.append(
                {
                    "url": url,
                    "status_code": response.status_code,
                    "body": body,
                    "fetched_at": self.wall_clock(),
                    "unrecorded": unrecorded,
                }
            )
            index = len(result.responses) - 1
            status = response.status_code
            if status in RETRY_STATUSES:
                self.pacer.done(attempt, retry_after_seconds(response.headers.get("Retry-After")))
                last = _Answer(index, status, None, f"HTTP {status}")
                continue
            if status not in (200, 400):
                self.pacer.done()
                return _Answer(index, status, None, f"HTTP {status}")
            try:
                feed = parse_feed(content)
            except AtomError as err:
                # A feed that does not parse was most likely cut short on the way: ask again.
                self.pacer.done(attempt, None)
                last = _Answer(index, None, None, f"unreadable feed: {err}")
                continue
            self.pacer.done()
            return _Answer(index, status, feed, unrecorded=unrecorded is not None)
        return last


def _one_connection_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = ARXIV_USER_AGENT
    return session


class HubPapersClient:
    """Reads Hub paper pages one id at a time from the Hub or the hub mirror (`endpoint`), through the Hub
    client's transport (token, rate limiter, request counters), paced and retried at one level here."""

    def __init__(
        self,
        endpoint: str = HUB_ENDPOINT,
        min_interval: float = 1.0,
        max_retries: int = 3,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], datetime] = _utc_now,
        max_backoff: float = 60.0,
        token: str | None = None,
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
        self._token = token or None

    def __repr__(self) -> str:  # never show the token
        return f"HubPapersClient(endpoint={self.endpoint!r}, authenticated={self._token is not None})"

    def close(self) -> None:
        """Nothing to close: the requests share huggingface_hub's client (kept for `with` blocks)."""

    def __enter__(self) -> HubPapersClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_many(self, arxiv_ids: Iterable[str]) -> list[dict[str, Any]]:
        """fetch() for each distinct id, in order."""
        return [self.fetch(i) for i in dict.fromkeys(arxiv_ids)]

    def fetch(self, arxiv_id: str) -> dict[str, Any]:
        """{"status": found|not_found|unrecorded|invalid|error, "github_repo", "project_page", "published_at",
        "body", ...}; `unrecorded`: a mirror's 404 with X-Mirror-Unrecorded (unknown, not absent)."""
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
                status_code, content, headers = get_once(url, hub_headers(self._token), self.timeout)
            except (httpx2.TransportError, httpx2.TimeoutException, OSError) as err:
                self.pacer.done(attempt)
                out["error"] = type(err).__name__
                continue
            body = content.decode("utf-8", errors="replace")
            out.update(status_code=status_code, body=body, fetched_at=self.wall_clock())
            if status_code in RETRY_STATUSES:
                self.pacer.done(attempt, retry_after_seconds(headers.get("Retry-After")))
                out.update(status="error", error=f"HTTP {status_code}")
                continue
            if status_code == 404:
                self.pacer.done()
                unrecorded = bool(headers.get(UNRECORDED_HEADER))
                out.update(status="unrecorded" if unrecorded else "not_found", error=None)
                return out
            if status_code != 200:
                self.pacer.done()
                out.update(status="error", error=f"HTTP {status_code}")
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
