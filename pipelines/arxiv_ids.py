"""The arXiv identifier grammar: parse, validate and normalise ids before any of them reaches a URL.

Shared by the papers source (pipelines/papers: the ids it asks arXiv for) and the Hub source's card parser
(pipelines/hub/cards.py, through pipelines/card_text.py: the ids a card links), which never import each
other.

Two schemes exist (https://info.arxiv.org/help/arxiv_identifier.html):
- new style since 2007-04: `YYMM.NNNN` (to 2014-12) or `YYMM.NNNNN` (from 2015-01), e.g. `2307.09288`;
- old style 1991-08 .. 2007-03: `archive(.SC)/YYMMNNN`, e.g. `hep-th/9901001`, `math.GT/0309136`;
both with an optional version suffix `vN` (N >= 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# [0-9], not \d: \d also matches non-ASCII digits, which must never get into a URL.
_NEW = re.compile(r"([0-9]{2})(0[1-9]|1[0-2])\.([0-9]{4,5})(?:v([1-9][0-9]{0,3}))?")
_OLD = re.compile(
    r"([a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?)/([0-9]{2})(0[1-9]|1[0-2])([0-9]{3})(?:v([1-9][0-9]{0,3}))?"
)
_PREFIX = re.compile(r"(?i)^arxiv:\s*")


class InvalidArxivId(ValueError):
    """A string that is not an arXiv identifier."""


@dataclass(frozen=True)
class ArxivId:
    """A parsed arXiv id: the base id (no version) and the version number, if one was given."""

    base: str
    version: int | None = None

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"


def _new_style(match: re.Match[str]) -> ArxivId | None:
    yy, mm, number, version = match.groups()
    yymm = int(yy + mm)
    if yymm < 704:  # the new scheme started in April 2007
        return None
    # Four-digit serial numbers until 1412, five digits from 1501 on.
    if (len(number) == 5) != (yymm >= 1501):
        return None
    return ArxivId(f"{yy}{mm}.{number}", int(version) if version else None)


def _old_style(match: re.Match[str]) -> ArxivId | None:
    archive, yy, mm, number, version = match.groups()
    year = int(yy)
    # The old scheme ran from 1991-08 to 2007-03 (two-digit years 91..99, then 00..07).
    if not (year >= 91 or year <= 7) or (year == 91 and int(mm) < 8) or (year == 7 and int(mm) > 3):
        return None
    return ArxivId(f"{archive}/{yy}{mm}{number}", int(version) if version else None)


def try_parse_arxiv_id(value: object) -> ArxivId | None:
    """The parsed id, or None when `value` is not a well-formed arXiv id (an `arXiv:` prefix is allowed)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = _PREFIX.sub("", value.strip())
    match = _NEW.fullmatch(text)
    if match:
        return _new_style(match)
    match = _OLD.fullmatch(text)
    if match:
        return _old_style(match)
    return None


def parse_arxiv_id(value: str) -> ArxivId:
    """The parsed id; raises InvalidArxivId when `value` is not a well-formed arXiv id."""
    parsed = try_parse_arxiv_id(value)
    if parsed is None:
        raise InvalidArxivId(f"not an arXiv id: {value!r}")
    return parsed


def is_valid_arxiv_id(value: object) -> bool:
    """True when `value` is a well-formed arXiv id (with or without version)."""
    return try_parse_arxiv_id(value) is not None


def normalise_arxiv_id(value: str) -> tuple[str, int | None]:
    """(id without version, version or None); raises InvalidArxivId on a malformed id."""
    parsed = parse_arxiv_id(value)
    return parsed.base, parsed.version


def base_id_or_none(value: object) -> str | None:
    """The id without version, or None when `value` is not an arXiv id (for filtering scraped ids)."""
    parsed = try_parse_arxiv_id(value)
    return parsed.base if parsed is not None else None
