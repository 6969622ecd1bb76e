"""Seeded, reproducible fault injection for the hub mirror server.

Whether a request is faulted, and how, is a pure function of (seed, method, request target, n), where n
counts how many times that same method and target were seen before. So the same sequence of requests
gets the same faults whatever the thread scheduling, and a retried request gets a fresh draw.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

# Order matters: one uniform draw is compared against the cumulative rates in this order.
# GitHub's primary and secondary rate limits come last, so that adding them left older draws unchanged.
KINDS = ("429", "5xx", "stall", "truncate", "malformed", "primary", "secondary")
SERVER_ERRORS = (500, 502, 503, 504)
_ALIASES = {
    "429": "rate_429",
    "5xx": "rate_5xx",
    "stall": "rate_stall",
    "truncate": "rate_truncate",
    "malformed": "rate_malformed",
    "primary": "rate_primary",
    "secondary": "rate_secondary",
    "rate_primary": "rate_primary",
    "rate_secondary": "rate_secondary",
    "limit_status": "limit_status",
    "rate_429": "rate_429",
    "rate_5xx": "rate_5xx",
    "rate_stall": "rate_stall",
    "rate_truncate": "rate_truncate",
    "rate_malformed": "rate_malformed",
    "seed": "seed",
    "stall_seconds": "stall_seconds",
    "retry_after": "retry_after",
    "paths": "paths",
}


@dataclass(frozen=True)
class Fault:
    """One decided fault, with everything needed to apply it (so a later config change cannot alter it)."""

    kind: str  # one of KINDS
    status: int  # the 5xx status used if it is, or becomes, a server error
    stall_seconds: float = 0.0
    retry_after: int = 1
    limit_status: int = 403  # GitHub's status for a primary or secondary limit


@dataclass(frozen=True)
class FaultConfig:
    """Fault rates (each 0..1, summing to at most 1), the seed, and the knobs of each fault kind."""

    seed: int = 0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_stall: float = 0.0
    rate_truncate: float = 0.0
    rate_malformed: float = 0.0
    stall_seconds: float = 30.0
    retry_after: int = 1
    paths: str | None = None  # regex searched in the request path (as sent, without the query)
    rate_primary: float = 0.0  # GitHub: primary limit (X-RateLimit-Remaining: 0, reset retry_after s ahead)
    rate_secondary: float = 0.0  # GitHub: secondary limit (Retry-After: retry_after)
    limit_status: int = 403  # GitHub's status for both limits: 403 or 429

    def __post_init__(self) -> None:
        rates = self._rates()
        for rate in rates:
            if not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rates must be numbers in [0, 1], got {rate!r}")
        if sum(rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates sum to {sum(rates)}, more than 1")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if not isinstance(self.stall_seconds, int | float) or self.stall_seconds < 0:
            raise ValueError(f"stall_seconds must be >= 0, got {self.stall_seconds!r}")
        if (
            not isinstance(self.retry_after, int)
            or isinstance(self.retry_after, bool)
            or self.retry_after < 0
        ):
            raise ValueError(f"retry_after must be an integer >= 0, got {self.retry_after!r}")
        if self.paths is not None:
            try:
                re.compile(self.paths)  # fail early on a bad pattern
            except re.error as err:
                raise ValueError(f"paths is not a valid regex: {err}") from err
        if self.limit_status not in (403, 429):
            raise ValueError(f"limit_status must be 403 or 429, got {self.limit_status!r}")

    def _rates(self) -> list[float]:
        return [
            self.rate_429,
            self.rate_5xx,
            self.rate_stall,
            self.rate_truncate,
            self.rate_malformed,
            self.rate_primary,
            self.rate_secondary,
        ]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from a dict of field names (or the short names of `parse`); unknown keys are an error."""
        if not isinstance(data, dict):
            raise ValueError("a fault config must be a JSON object")
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = _ALIASES.get(str(key))
            if name is None:
                raise ValueError(f"unknown fault option {key!r}")
            values[name] = value
        return cls(**values)

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """Build from a short string like "seed=1,429=0.1,5xx=0.1,stall_seconds=2" (`paths=` must come last)."""
        values: dict[str, Any] = {}
        rest = text.strip()
        while rest:
            item, _, rest = rest.partition(",")
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"expected key=value, got {item!r}")
            name = _ALIASES.get(key)
            if name is None:
                raise ValueError(f"unknown fault option {key!r}")
            if name == "paths":  # a regex may contain commas: it takes the rest of the string
                values[name] = (value + ("," + rest if rest else "")).strip() or None
                break
            values[name] = _convert(name, value.strip())
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-able dict of its fields."""
        return asdict(self)

    def applies_to(self, path: str) -> bool:
        """True when requests to `path` may be faulted at all."""
        return self.paths is None or re.search(self.paths, path) is not None

    def decide(self, method: str, target: str, n: int) -> Fault | None:
        """The fault for the n-th (0-based) occurrence of `method target`, or None: a pure function."""
        digest = hashlib.sha256(f"{self.seed}\n{method}\n{target}\n{n}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        edge = 0.0
        for kind, rate in zip(KINDS, self._rates(), strict=True):
            edge += rate
            if draw < edge:
                status = SERVER_ERRORS[digest[8] % len(SERVER_ERRORS)]
                return Fault(kind, status, float(self.stall_seconds), self.retry_after, self.limit_status)
        return None


def _convert(name: str, value: str) -> Any:
    types = {f.name: f.type for f in fields(FaultConfig)}
    kind = types[name]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError as err:
        raise ValueError(f"{name} needs a number, got {value!r}") from err
    return value
