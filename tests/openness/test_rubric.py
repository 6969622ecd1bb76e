"""The rubric file: its checks, and re-scoring history under a new rubric version without re-crawling."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from pipelines.openness.components import detect_components
from pipelines.openness.rubric import RUBRIC_PATH, RubricError, check_rubric, load_rubric
from pipelines.openness.scoring import base_facts, score_revisions


def test_shipped_rubric(rubric: dict[str, Any]) -> None:
    assert rubric["rubric_version"] == "2026.12.1"
    assert [lvl["level"] for lvl in rubric["spectrum_levels"]] == [0, 1, 2, 3, 4, 5]
    assert rubric["release_levels"]["no_weights"] == "fully_closed"
    ranks = {fam: rule["rank"] for fam, rule in rubric["families"].items()}
    assert (
        ranks["osi-permissive"]
        > ranks["osi-copyleft"]
        > ranks["responsible-ai"]
        > ranks["community"]
        > ranks["non-commercial"]
    )


@pytest.mark.parametrize(
    "breaks",
    [
        lambda r: r.pop("families"),
        lambda r: r["spectrum_levels"].pop(),
        lambda r: r["families"].pop("community"),
        lambda r: r["patterns"].update(weight_file="(unclosed"),
        lambda r: r["release_levels"].update(no_weights="nowhere"),
        lambda r: r.update(rubric_version=""),
    ],
)
def test_broken_rubrics_are_refused(rubric: dict[str, Any], breaks: Any) -> None:
    broken = copy.deepcopy(rubric)
    breaks(broken)
    with pytest.raises(RubricError):
        check_rubric(broken)


def test_load_a_rubric_file(tmp_path: Path) -> None:
    data = yaml.safe_load(RUBRIC_PATH.read_text(encoding="utf-8"))
    data["rubric_version"] = "2027.1.0"
    path = tmp_path / "rubric.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_rubric(path)["rubric_version"] == "2027.1.0"


def test_rescoring_with_a_new_version_changes_only_the_version(
    world: dict[str, pl.DataFrame], rubric: dict[str, Any]
) -> None:
    bumped = copy.deepcopy(rubric)
    bumped["rubric_version"] = "2026.12.2"
    revisions = world["revisions"]
    disclosures = detect_components(revisions, world["datasets"], world["papers"], rubric=bumped)
    rescored = score_revisions(revisions, disclosures, rubric=bumped, bases=base_facts(revisions))
    before = world["openness"]
    assert (rescored["rubric_version"] == "2026.12.2").all() and (
        before["rubric_version"] == "2026.12.1"
    ).all()
    assert rescored.drop("rubric_version").equals(before.drop("rubric_version"))
    assert disclosures.drop("rubric_version").equals(world["disclosures"].drop("rubric_version"))
    assert (disclosures["rubric_version"] == "2026.12.2").all()
