"""Load and check the versioned openness rubric (rubric.yml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

RUBRIC_PATH = Path(__file__).with_name("rubric.yml")
FAMILIES = (
    "osi-permissive",
    "osi-copyleft",
    "open-data",
    "responsible-ai",
    "community",
    "non-commercial",
    "proprietary",
    "unknown",
)
_REQUIRED_KEYS = (
    "rubric_version",
    "spectrum_levels",
    "families",
    "missing_license",
    "release_levels",
    "modelcard",
    "datasheet",
    "own_paper",
    "patterns",
    "open_code_libraries",
    "arxiv_licenses",
)


class RubricError(ValueError):
    """The rubric file is incomplete or inconsistent."""


def load_rubric(path: Path | str | None = None) -> dict[str, Any]:
    """Read rubric.yml (or another rubric file) and check that every rule the scorers use is present."""
    rubric = yaml.safe_load(Path(path or RUBRIC_PATH).read_text(encoding="utf-8"))
    check_rubric(rubric)
    return rubric


def check_rubric(rubric: dict[str, Any]) -> None:
    """Raise RubricError if a key, a level, a family or a pattern is missing or malformed."""
    if not isinstance(rubric, dict):
        raise RubricError("rubric must be a mapping")
    missing = [k for k in _REQUIRED_KEYS if k not in rubric]
    if missing:
        raise RubricError(f"rubric misses {missing}")
    if not isinstance(rubric["rubric_version"], str) or not rubric["rubric_version"]:
        raise RubricError("rubric_version must be a non-empty string")
    levels = [lvl.get("level") for lvl in rubric["spectrum_levels"]]
    if levels != [0, 1, 2, 3, 4, 5]:
        raise RubricError(f"spectrum levels must be 0..5 in order, got {levels}")
    for lvl in rubric["spectrum_levels"]:
        if not lvl.get("definition") or not lvl.get("rationale"):
            raise RubricError(f"spectrum level {lvl.get('level')} needs a definition and a rationale")
    if set(rubric["families"]) != set(FAMILIES):
        raise RubricError(f"families must be exactly {FAMILIES}")
    for name, rx in rubric["patterns"].items():
        for sub in rx.values() if isinstance(rx, dict) else [rx]:
            try:
                re.compile(sub)
            except re.error as exc:
                raise RubricError(f"pattern {name}: {exc}") from exc
    kinds = {"training", "evaluation", "data", "limitations", "intended_use", "sample_outputs"}
    if not set(rubric["modelcard"].get("comprehensive_sections", [])) <= kinds:
        raise RubricError(f"modelcard.comprehensive_sections must be among {sorted(kinds)}")
    order = rubric["release_levels"].get("order")
    if rubric["release_levels"].get("no_weights") not in (order or []):
        raise RubricError("release_levels.no_weights must be one of release_levels.order")


def family_table(rubric: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per licence family with its rubric rules (open_terms, weights_level, rank)."""
    return [{"license_family": fam, **rubric["families"][fam]} for fam in FAMILIES]


def open_families(rubric: dict[str, Any]) -> list[str]:
    """The licence families whose terms the rubric counts as open (`open_terms: true`)."""
    return [fam for fam in FAMILIES if rubric["families"][fam].get("open_terms") is True]
