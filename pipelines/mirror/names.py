"""The Hub's and arXiv's name grammars, and the mirror's time values.

Everything that comes from a URL is checked here before it is allowed near the filesystem.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import unquote_to_bytes

# A repo id part as the Hub accepts it; `--` and `..` are refused anywhere, as huggingface_hub does.
_REPO_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
# A branch-like revision (git ref rules, simplified) or a hex commit (prefix).
_REVISION = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._/+-]{0,254}")
HEX_COMMIT = re.compile(r"[0-9a-f]{40}")
HEX_PREFIX = re.compile(r"[0-9a-f]{7,40}")
# arXiv identifiers: new style (0704.0001 onwards) and old style (archive[.SUBJ]/YYMMNNN), optional version.
ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(v\d+)?")
ARXIV_OLD = re.compile(r"([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?")
_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_PATH = 1024
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadName(ValueError):
    """A name from a request that does not follow the grammar (answered with HTTP 400)."""


def decode_segment(raw: str) -> str:
    """Percent-decode one URL path segment strictly (invalid UTF-8 is a bad name)."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadName(f"invalid percent-encoding in {raw!r}") from err


def is_repo_part(part: str) -> bool:
    """True when `part` is a valid namespace or repo name."""
    return (
        _REPO_PART.fullmatch(part) is not None
        and ".." not in part
        and "--" not in part
        and not part.endswith(".git")
    )


def check_repo_id(org: str, name: str) -> str:
    """Return `org/name` or raise BadName."""
    if not (is_repo_part(org) and is_repo_part(name)):
        raise BadName(f"invalid repo id {org!r}/{name!r}")
    return f"{org}/{name}"


def check_revision(rev: str) -> str:
    """Return the revision (branch-like name or hex) or raise BadName."""
    bad = (
        _REVISION.fullmatch(rev) is None
        or ".." in rev
        or "//" in rev
        or rev.endswith(("/", ".lock", "."))
        or "/." in rev
    )
    if bad:
        raise BadName(f"invalid revision {rev!r}")
    return rev


def check_file_path(segments: list[str]) -> str:
    """Join decoded path segments into a repo-relative file path, refusing anything that could escape."""
    if not segments:
        raise BadName("empty file path")
    for seg in segments:
        if (
            seg in ("", ".", "..")
            or "/" in seg
            or "\\" in seg
            or any(ord(c) < 32 or ord(c) == 127 for c in seg)
        ):
            raise BadName(f"invalid file path segment {seg!r}")
    path = "/".join(segments)
    if len(path) > _MAX_PATH:
        raise BadName("file path too long")
    return path


def split_arxiv_id(value: str) -> tuple[str, str] | None:
    """Split an arXiv id into (base id, version suffix or ''), or None when it is not well-formed."""
    for pattern in (ARXIV_NEW, ARXIV_OLD):
        match = pattern.fullmatch(value)
        if match:
            return match.group(1), match.group(2) or ""
    return None


def parse_as_of(value: str) -> datetime:
    """Parse an as-of value: a bare date means the END of that day (UTC); naive datetimes are UTC."""
    if _BARE_DATE.fullmatch(value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError as err:
            raise BadName(f"invalid as-of date {value!r}") from err
        return datetime.combine(day, time.max, tzinfo=UTC)
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as err:
        raise BadName(f"invalid as-of value {value!r}") from err
    if "T" not in value.upper() and " " not in value:
        raise BadName(f"invalid as-of value {value!r}")  # e.g. compact forms fromisoformat also accepts
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def micros(dt: datetime) -> int:
    """Exact integer microseconds since the epoch (floats lose the last digit)."""
    return (dt - EPOCH) // timedelta(microseconds=1)


def hub_date(dt: datetime) -> str:
    """Format a datetime the way the Hub writes dates: `2024-09-25T17:00:57.000Z`."""
    utc = dt.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
