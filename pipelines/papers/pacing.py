"""Request pacing shared by the two paper clients: a minimum pause between exchanges, longer after failures."""

from __future__ import annotations

import time
from collections.abc import Callable


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
