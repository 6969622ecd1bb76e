"""HTTP policy shared by every source: endpoints' defaults, retry statuses, pacing and request accounting.

Each source's `client.py` does its own network I/O; what they have in common lives here so that it is
decided once: which statuses are retried, how long to pause between exchanges and after a failure
(`Pacer`, `retry_after_seconds`), how a per-window quota is kept (`WindowLimiter` in one process,
`SharedWindowLimiter` across every process that crawls with one token, `window_limiter` picks one), and how
the requests of a step are counted for its crawl account (`RequestStats` for hook-based transports,
`SessionCounter` for a requests.Session).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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


_SLOT = struct.Struct("<d")  # one send time (Unix seconds) in a shared bucket file
_HEAD = struct.Struct("<Q")  # the index of the oldest slot
_NAME = re.compile(r"^[a-z0-9_-]{1,40}$")


def token_key(token: str | bool | None) -> str:
    """A short, stable name for a token's quota: a sha256 prefix of it (never the token), or `anonymous`."""
    if not token or token is True:
        return "anonymous"
    return hashlib.sha256(str(token).encode()).hexdigest()[:16]


class SharedWindowLimiter:
    """At most `quota` requests in any `window` seconds, counted across every process that uses one file.

    The file is a ring of the last `quota` send times (Unix seconds), read and written under an exclusive
    `flock`: a request may leave when the oldest of them is at least `window` old. So processes on one
    machine, or on several machines sharing the folder (a file system whose locks span machines, clocks in
    step), together keep the quota. The kernel drops the lock of a killed process, and a send time older
    than the window no longer blocks anyone, so nothing stale is left behind. The interface is
    `WindowLimiter`'s.
    """

    def __init__(self, quota: int, window: float, path: str | os.PathLike[str]) -> None:
        if quota <= 0:
            raise ValueError("quota must be positive")
        if window <= 0:
            raise ValueError("window must be positive")
        self.quota, self.window = quota, float(window)
        self.path = os.fspath(path)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._size = _HEAD.size + quota * _SLOT.size
        self._lock = threading.Lock()  # threads of one process queue here, processes on the flock
        self.waited_seconds = 0.0

    def _take(self) -> float:
        """Take a permit and return 0, or return how long to wait before asking again."""
        # Opened per attempt: a flock belongs to the open file, which a forked child would share.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size != self._size:  # new, or written for another quota: start over
                os.ftruncate(fd, 0)
                os.pwrite(fd, bytes(self._size), 0)
            head = _HEAD.unpack(os.pread(fd, _HEAD.size, 0))[0] % self.quota
            at = _HEAD.size + head * _SLOT.size
            (oldest,) = _SLOT.unpack(os.pread(fd, _SLOT.size, at))
            now = time.time()
            if oldest > now + self.window:  # from a clock that was ahead: stale
                oldest = 0.0
            if now - oldest < self.window:
                return self.window - (now - oldest)
            os.pwrite(fd, _SLOT.pack(now), at)
            os.pwrite(fd, _HEAD.pack((head + 1) % self.quota), 0)
            return 0.0
        finally:
            os.close(fd)  # also releases the lock

    def used(self) -> int:
        """How many requests the current window holds (every process's)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            data = os.pread(fd, self._size, 0)
        finally:
            os.close(fd)
        if len(data) != self._size:
            return 0
        now = time.time()
        return sum(1 for (sent,) in _SLOT.iter_unpack(data[_HEAD.size :]) if 0 <= now - sent < self.window)

    def acquire(self) -> None:
        """Block until one more request fits in the shared window."""
        with self._lock:
            while (wait := self._take()) > 0:
                self.waited_seconds += wait
                time.sleep(min(wait, 5.0))


def quota_folder(configured: str | None, state: str | os.PathLike[str]) -> Path | None:
    """The shared quota folder: `configured`, else `state`/quota; an empty string shares nothing (None)."""
    if configured == "":
        return None
    return Path(configured) if configured is not None else Path(state) / "quota"


def window_limiter(
    quota: int,
    window: float,
    shared_dir: str | os.PathLike[str] | None = None,
    *,
    service: str = "",
    bucket: str = "",
    token: str | bool | None = None,
) -> WindowLimiter | SharedWindowLimiter:
    """The limiter for one quota: shared through `shared_dir/<service>-<token key>-<bucket>.quota` when a
    folder is given (every process crawling `service` with `token` takes permits from it), else in-process."""
    if shared_dir is None:
        return WindowLimiter(quota, window)
    for what, name in (("service", service), ("bucket", bucket)):
        if not _NAME.match(name):
            raise ValueError(f"{what} must be 1-40 of a-z, 0-9, '_' or '-', got {name!r}")
    path = os.path.join(os.fspath(shared_dir), f"{service}-{token_key(token)}-{bucket}.quota")
    return SharedWindowLimiter(quota, window, path)


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
