"""HTTP accounting and politeness for the Hub: per-bucket rate limits and request counters.

huggingface_hub 2.x sends every request through one shared httpx client built by a factory; we
install a factory whose event hooks (1) wait for the bucket's rate limiter before a request leaves
and (2) count requests, bytes, 429s and server errors per rate-limit bucket for the crawl's accounts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import constants as hf_constants
from huggingface_hub.utils import set_client_factory
from huggingface_hub.utils._http import hf_request_event_hook

# Published quotas per 5-minute window (reference/hub-api.md section 4.2): (free token, anonymous).
HUB_QUOTAS = {"api": (1000, 500), "resolvers": (5000, 3000), "pages": (200, 100)}
WINDOW_SECONDS = 300.0


def bucket_of(url: str) -> str:
    """The Hub rate-limit bucket a URL falls in (api, resolvers or pages)."""
    path = urlsplit(url).path
    if "/resolve/" in path:
        return "resolvers"
    if "/api/" in path:
        return "api"
    return "pages"


class WindowLimiter:
    """At most `quota` requests in any `window` seconds (the Hub counts fixed 5-minute windows)."""

    def __init__(self, quota: int, window: float = WINDOW_SECONDS) -> None:
        if quota <= 0:
            raise ValueError("quota must be positive")
        self.quota, self.window = quota, window
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until one more request fits in the window."""
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.quota:
                    self._sent.append(now)
                    return
                wait = self.window - (now - self._sent[0])
                self.waited_seconds += wait
            time.sleep(min(wait, 5.0))


@dataclass
class RequestStats:
    """Counters for one crawl: requests, bytes, 429s and 5xx per bucket."""

    requests: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    status_429: int = 0
    status_5xx: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)
    seen: set[tuple[str, str]] = field(default_factory=set, repr=False)

    @property
    def retries(self) -> int:
        """Requests that repeated one already sent in this run (after a 429, a 5xx or a cut connection)."""
        return sum(self.requests.values()) - len(self.seen)

    def as_dict(self) -> dict[str, object]:
        """A JSON-safe summary."""
        return {
            "requests": dict(sorted(self.requests.items())),
            "bytes": dict(sorted(self.bytes.items())),
            "requests_total": sum(self.requests.values()),
            "retries": self.retries,
            "status_429": self.status_429,
            "status_5xx": self.status_5xx,
            "seconds": round(time.monotonic() - self.started, 3),
        }


class HubHttp:
    """Process-wide hooks: the active stats object and one limiter per bucket."""

    def __init__(self) -> None:
        self.stats = RequestStats()
        self.limiters: dict[str, WindowLimiter] = {}
        self._lock = threading.Lock()

    def configure(self, quotas: dict[str, int] | None) -> None:
        """Set the per-bucket quotas (None: no limiting, for the local mirror)."""
        with self._lock:
            self.limiters = {b: WindowLimiter(q) for b, q in (quotas or {}).items()}

    def begin(self) -> RequestStats:
        """Start a fresh set of counters and return it."""
        with self._lock:
            self.stats = RequestStats()
            return self.stats

    def on_request(self, request: httpx2.Request) -> None:
        bucket = bucket_of(str(request.url))
        limiter = self.limiters.get(bucket)
        if limiter is not None:
            limiter.acquire()
        with self._lock:
            self.stats.requests[bucket] = self.stats.requests.get(bucket, 0) + 1
            self.stats.seen.add((request.method, str(request.url)))

    def on_response(self, response: httpx2.Response) -> None:
        bucket = bucket_of(str(response.request.url))
        size = int(response.headers.get("content-length") or 0)
        with self._lock:
            self.stats.bytes[bucket] = self.stats.bytes.get(bucket, 0) + size
            if response.status_code == 429:
                self.stats.status_429 += 1
            elif response.status_code >= 500:
                self.stats.status_5xx += 1


HTTP = HubHttp()
_installed = False


def install(quotas: dict[str, int] | None = None) -> HubHttp:
    """Route huggingface_hub's HTTP through our hooks (idempotent) and set the quotas."""
    global _installed
    # huggingface_hub's user-agent code fetches an "agent harness" registry from huggingface.co
    # (not from our endpoint) unless telemetry is off; the crawler must talk to its endpoint only.
    hf_constants.HF_HUB_DISABLE_TELEMETRY = True
    HTTP.configure(quotas)
    if not _installed:

        def factory() -> httpx2.Client:
            return httpx2.Client(
                event_hooks={
                    "request": [hf_request_event_hook, HTTP.on_request],
                    "response": [HTTP.on_response],
                },
                follow_redirects=True,
                timeout=None,
            )

        set_client_factory(factory)
        _installed = True
    return HTTP


def default_quotas(authenticated: bool) -> dict[str, int]:
    """The published per-window quotas for a free token or an anonymous client."""
    return {b: q[0] if authenticated else q[1] for b, q in HUB_QUOTAS.items()}
