"""The mirror's GitHub quota: GitHub's primary rate limit, per token (or for anonymous callers), per hour.

GitHub gives 5,000 requests an hour to a token and 60 to anonymous callers; a conditional request
answered 304 and `GET /rate_limit` are not counted. The window starts with the first counted request
and resets an hour later (`X-RateLimit-Reset`, epoch seconds).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_LIMIT = 5000
ANONYMOUS_LIMIT = 60
WINDOW_SECONDS = 3600


@dataclass
class Window:
    """One caller's current window: when it resets and how many requests it used."""

    limit: int
    reset: int
    used: int = 0

    @property
    def remaining(self) -> int:
        """Requests left in this window."""
        return max(self.limit - self.used, 0)

    def headers(self, resource: str = "core") -> list[tuple[str, str]]:
        """GitHub's X-RateLimit-* headers for this window."""
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
            ("X-RateLimit-Used", str(self.used)),
            ("X-RateLimit-Resource", resource),
        ]


class Quota:
    """Per-caller hourly windows; thread-safe. The caller is the Authorization header (hashed) or anonymous."""

    def __init__(
        self,
        token_limit: int = TOKEN_LIMIT,
        anonymous_limit: int = ANONYMOUS_LIMIT,
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for name, value in (
            ("token_limit", token_limit),
            ("anonymous_limit", anonymous_limit),
            ("window_seconds", window_seconds),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        self.token_limit = token_limit
        self.anonymous_limit = anonymous_limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, Window] = {}

    @staticmethod
    def caller(authorization: str | None) -> str:
        """A key for the caller: a hash of the Authorization header (never the token itself), or 'anonymous'."""
        if not authorization or not authorization.strip():
            return "anonymous"
        return "token:" + hashlib.sha256(authorization.strip().encode()).hexdigest()[:16]

    def _window(self, caller: str) -> Window:
        now = int(self._clock())
        window = self._windows.get(caller)
        if window is None or now >= window.reset:
            limit = self.anonymous_limit if caller == "anonymous" else self.token_limit
            window = Window(limit, now + self.window_seconds)
            self._windows[caller] = window
        return window

    def peek(self, caller: str) -> Window:
        """The caller's current window (a copy), without counting anything."""
        with self._lock:
            w = self._window(caller)
            return Window(w.limit, w.reset, w.used)

    def charge(self, caller: str) -> Window | None:
        """Count one request; returns the window after it, or None when the quota is exhausted (not counted)."""
        with self._lock:
            w = self._window(caller)
            if w.remaining <= 0:
                return None
            w.used += 1
            return Window(w.limit, w.reset, w.used)

    def reset(self) -> None:
        """Forget every window (all callers start afresh)."""
        with self._lock:
            self._windows.clear()

    def to_dict(self) -> dict[str, int]:
        """The configuration as a JSON-able dict."""
        return {
            "token_limit": self.token_limit,
            "anonymous_limit": self.anonymous_limit,
            "window_seconds": self.window_seconds,
        }
