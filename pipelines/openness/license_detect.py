"""Which licence a text is: ScanCode's `licensedcode` matches, mapped to the licence catalogue.

ScanCode is the field's reference licence detector and knows the model licences (Llama, Gemma, Tongyi
Qianwen, DeepSeek, Stability AI, RAIL, ...). Its index is loaded lazily, once per process (measured with
scancode-toolkit-mini 32.5.0: 5.4-7.0 s and 1.4 GB resident memory). ScanCode's licence keys are mapped
to the catalogue (licenses.csv) by `scancode_license_map.csv`, one row per key with its source. The
rules (thresholds, mapping, several licences in one file) are in docs/rubric.md, "Licence files".
"""

from __future__ import annotations

import csv
import threading
import warnings
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from pipelines.openness.catalogue import _RESTRICTIVENESS, HERE, load_catalogue

MAP_PATH = HERE / "scancode_license_map.csv"

# A match below this ScanCode score (0-100: how much of the rule's text matched, weighted by relevance)
# is a fragment, not evidence of a licence.
MIN_MATCH_SCORE = 80.0
# The kept matches must together cover at least this share of the file's words; otherwise the file is
# mostly text ScanCode does not know (a custom licence quoting a known one, a README) and is `unknown`.
MIN_TEXT_COVERAGE = 0.5

UNKNOWN = "unknown"


@dataclass(frozen=True)
class MapRow:
    """One row of scancode_license_map.csv."""

    scancode_key: str
    rule: str  # only matches of this ScanCode rule (empty: any rule of the key)
    title: str  # only files whose first line contains this (case-insensitive; empty: any)
    license_id: str  # catalogue id; empty for a use policy, which names no licence
    source: str


@cache
def load_scancode_map() -> tuple[MapRow, ...]:
    """The ScanCode key -> catalogue id mapping, checked against the catalogue."""
    ids = set(load_catalogue()["id"].to_list())
    rows = []
    with MAP_PATH.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            row = MapRow(**{k: (rec[k] or "").strip() for k in MapRow.__dataclass_fields__})
            if not row.scancode_key or not row.source:
                raise ValueError(f"{MAP_PATH.name}: a row without scancode_key or source: {rec}")
            if row.license_id and row.license_id not in ids:
                raise ValueError(f"{MAP_PATH.name}: {row.license_id!r} is not a catalogue id")
            rows.append(row)
    return tuple(rows)


def _map_key(key: str, rule: str, title: str) -> MapRow | None:
    """The most specific mapping row for a key as matched by a rule in a file with this title."""
    best: tuple[int, MapRow] | None = None
    for row in load_scancode_map():
        if row.scancode_key != key:
            continue
        if row.rule and row.rule != rule:
            continue
        if row.title and row.title.lower() not in title.lower():
            continue
        rank = 2 * bool(row.rule) + bool(row.title)
        if best is None or rank > best[0]:
            best = (rank, row)
    return best[1] if best else None


@cache
def _families() -> dict[str, str]:
    cat = load_catalogue()
    return dict(zip(cat["id"].to_list(), cat["family"].to_list(), strict=True))


_INDEX_LOCK = threading.Lock()
_INDEX: list[Any] = []


def licence_index() -> Any:
    """ScanCode's licence index, loaded on first use and kept for the life of the process."""
    # One load per process even when threads ask at once: the index takes ~1.4 GB.
    with _INDEX_LOCK:
        if not _INDEX:
            with warnings.catch_warnings():
                # Without the typecode-libmagic wheel, typecode (imported by ScanCode) warns that it
                # falls back to the system's libmagic; licence matching does not use it.
                warnings.simplefilter("ignore")
                from licensedcode.cache import get_index

                _INDEX.append(get_index())
        return _INDEX[0]


@dataclass(frozen=True)
class LicenceMatch:
    """One ScanCode match: which licence, how well, on which lines, by which rule."""

    key: str  # ScanCode licence key (or expression, for a rule naming several licences)
    license_id: str | None  # catalogue id it maps to (None: not mapped, or a use policy)
    score: float  # ScanCode score, 0-100
    coverage: float  # share of the rule's text that matched, 0-100
    rule: str  # ScanCode rule identifier
    start_line: int
    end_line: int
    kept: bool  # counted: score >= MIN_MATCH_SCORE and not a reference inside a matched licence text


@dataclass(frozen=True)
class LicenceIdentification:
    """What a licence file says: a catalogue id and family, or `unknown`, with ScanCode's evidence."""

    license_id: str  # catalogue id; several licences joined with ',' (sorted); "unknown"
    license_family: str  # the most restrictive family of the licences; "unknown"
    license_ids: tuple[str, ...]
    scancode_keys: tuple[str, ...]
    score: float  # the lowest score of the kept matches (0 when none)
    text_coverage: float  # share of the file's words covered by the kept matches, 0-1
    rules: tuple[str, ...]
    matches: tuple[LicenceMatch, ...] = field(default=())
    reason: str | None = None  # why the result is unknown

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        for k in ("license_ids", "scancode_keys", "rules"):
            out[k] = list(out[k])
        out["matches"] = [asdict(m) for m in self.matches]
        return out


def _title(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def identify_licence(text: str) -> LicenceIdentification:
    """Identify the licence(s) of a licence file's text with ScanCode and map them to the catalogue.

    `unknown` when nothing matched, when the kept matches (score >= MIN_MATCH_SCORE) cover less than
    MIN_TEXT_COVERAGE of the words, or when a kept match's ScanCode key has no catalogue mapping.
    Several licences: all are listed, `license_id` joins them, the family is the most restrictive.
    """
    if not isinstance(text, str):
        raise TypeError(f"identify_licence takes the text of a file (str), not {type(text).__name__}")
    title = _title(text)
    raw = licence_index().match(query_string=text) if text.strip() else []
    matches: list[LicenceMatch] = []
    kept_positions: set[int] = set()
    unmapped: list[str] = []
    ids: set[str] = set()
    keys: set[str] = set()
    rules: list[str] = []
    scores: list[float] = []
    total = 0
    # A short reference (a licence's name, or a phrase such as "non-commercial") inside the span of a
    # matched full licence text is a part of that text, not a second licence.
    texts = [(m.qspan.start, m.qspan.end) for m in raw if m.rule.is_license_text]
    for m in raw:
        if not total:
            q = m.query
            total = len(q.tokens) + sum(q.unknowns_by_pos.values())
        rule = m.rule.identifier
        rule_keys = list(m.rule.license_keys())
        rows = [_map_key(k, rule, title) for k in rule_keys]
        mapped = [r.license_id for r in rows if r is not None and r.license_id]
        policy = all(r is not None and not r.license_id for r in rows)
        score = round(float(m.score()), 2)
        inside = not m.rule.is_license_text and any(a <= m.qspan.start and m.qspan.end <= b for a, b in texts)
        kept = score >= MIN_MATCH_SCORE and not inside
        matches.append(
            LicenceMatch(
                key=m.rule.license_expression,
                license_id=",".join(sorted(set(mapped))) if len(mapped) == len(rows) else None,
                score=score,
                coverage=round(float(m.coverage()), 2),
                rule=rule,
                start_line=int(m.start_line),
                end_line=int(m.end_line),
                kept=kept,
            )
        )
        if not kept:
            continue
        kept_positions.update(m.qspan)
        scores.append(score)
        if rule not in rules:
            rules.append(rule)
        keys.update(rule_keys)
        if policy:
            continue
        for k, r in zip(rule_keys, rows, strict=True):
            if r is None:
                unmapped.append(k)
            elif r.license_id:
                ids.add(r.license_id)
    coverage = round(len(kept_positions) / total, 4) if total else 0.0
    reason = None
    if not raw:
        reason = "no licence text recognised"
    elif not scores:
        reason = f"only fragments matched (every score < {MIN_MATCH_SCORE:g})"
    elif coverage < MIN_TEXT_COVERAGE:
        reason = f"recognised licence text covers {coverage:.0%} of the file (< {MIN_TEXT_COVERAGE:.0%})"
    elif unmapped:
        reason = "ScanCode keys without a catalogue mapping: " + ", ".join(sorted(set(unmapped)))
    elif not ids:
        reason = "a use policy only: it names no licence"
    if reason:
        license_id, family, id_list = UNKNOWN, UNKNOWN, ()
    else:
        id_list = tuple(sorted(ids))
        license_id = ",".join(id_list)
        family = most_restrictive_family(id_list)
    return LicenceIdentification(
        license_id=license_id,
        license_family=family,
        license_ids=id_list,
        scancode_keys=tuple(sorted(keys)),
        score=min(scores) if scores else 0.0,
        text_coverage=coverage,
        rules=tuple(rules),
        matches=tuple(matches),
        reason=reason,
    )


def most_restrictive_family(license_ids: tuple[str, ...] | list[str]) -> str:
    """The most restrictive catalogue family among these ids (the catalogue's order); 'unknown' if none."""
    families = _families()
    ranked = [families.get(i, UNKNOWN) for i in license_ids]
    if not ranked:
        return UNKNOWN
    order = {f: n for n, f in enumerate(_RESTRICTIVENESS)}
    return min(ranked, key=lambda f: order.get(f, 0))
