"""HTTP policy shared by every source: endpoints' defaults, retry statuses, pacing and request accounting.

Each source's `client.py` does its own network I/O; what they have in common lives here so that it is
decided once: which statuses are retried, how long to pause between exchanges and after a failure
(`Pacer`, `retry_after_seconds`), how a fixed-window quota is kept (`WindowLimiter`), and how the
requests of a step are counted for its crawl account (`RequestStats` for hook-based transports,
`SessionCounter` for a requests.Session).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# The public Hugging Face Hub: the Hub crawl and the Hub paper pages both default to it.
HUB_ENDPOINT = "https://huggingface.co"
# Answers worth asking again (after a pause): rate limited, or a transient server error.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def replay_endpoint(base: str, crawl_date: str, replay: bool) -> str:
    """`base` without a trailing slash, or its `/as-of/<crawl_date>` view in replay mode (a hub mirror)."""
    base = base.rstrip("/")
    return f"{base}/as-of/{crawl_date}" if replay else base


class Pacer:
    """Decides when the next request may leave; the clock and sleep are injectable for tests."""

    def __init__(
        self,
        min_interval: float,
        max_backoff: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval < 0:
            raise ValueError("min_interval must be >= 0")
        self.min_interval = float(min_interval)
        self.max_backoff = max(float(max_backoff), self.min_interval)
        self.clock, self.sleep = clock, sleep
        self._next_allowed: float | None = None  # clock() value before which no request may leave
        self.waited = 0.0  # seconds slept in total, for the crawl's accounts

    def wait(self) -> None:
        """Sleep until the pause after the previous exchange is over."""
        if self._next_allowed is None:
            return
        while (delay := self._next_allowed - self.clock()) > 0:
            self.waited += delay
            self.sleep(delay)

    def done(self, failed_attempt: int | None = None, retry_after: float | None = None) -> float:
        """Record that an exchange just ended (failed_attempt: 0-based retry count if it failed); returns the pause.

        The pause counts from the END of the exchange, not its start: so the gap the server sees between
        two arrivals is at least min_interval whatever the latency, and a retry is paced like any request.
        """
        pause = self.min_interval
        if failed_attempt is not None:
            # Exponential from at least one second, so a client built with min_interval=0 still backs off.
            backoff = max(self.min_interval, 1.0) * (2**failed_attempt)
            pause = min(self.max_backoff, max(pause, backoff, retry_after or 0.0))
        self._next_allowed = self.clock() + pause
        return pause


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (the delta-seconds form; an HTTP date is ignored)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class WindowLimiter:
    """At most `quota` requests in any `window` seconds (a fixed-window quota such as the Hub's)."""

    def __init__(self, quota: int, window: float) -> None:
        if quota <= 0:
            raise ValueError("quota must be positive")
        self.quota, self.window = quota, window
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def used(self) -> int:
        """How many requests the current window holds."""
        with self._lock:
            now = time.monotonic()
            return sum(1 for sent in self._sent if now - sent < self.window)

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
    """Counters for one step: requests, bytes, 429s and 5xx per bucket."""

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


class SessionCounter:
    """Counts what a requests session sends: requests per bucket, bytes, 429s, 5xx and repeats (retries)."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.status_429 = self.status_5xx = self.failures = 0
        self._seen: set[str] = set()
        self.retries = 0

    def wrap(self, session, bucket: str) -> None:  # noqa: ANN001 - a requests.Session
        """Count every request `session` sends under `bucket`."""
        send = session.send

        def counted(request, **kwargs):  # noqa: ANN001, ANN202
            self.requests[bucket] = self.requests.get(bucket, 0) + 1
            key = f"{request.method} {request.url}"
            self.retries += key in self._seen  # the same read asked again: a retry
            self._seen.add(key)
            try:
                response = send(request, **kwargs)
            except Exception:
                self.failures += 1
                raise
            self.bytes[bucket] = self.bytes.get(bucket, 0) + len(response.content or b"")
            self.status_429 += response.status_code == 429
            self.status_5xx += 500 <= response.status_code < 600
            return response

        session.send = counted

    def as_dict(self) -> dict:
        """A JSON-safe summary, in the shape of the crawl accounts."""
        return {
            "requests": dict(self.requests),
            "bytes": dict(self.bytes),
            "retries": self.retries,
            "status_429": self.status_429,
            "status_5xx": self.status_5xx,
            "transport_errors": self.failures,
        }
