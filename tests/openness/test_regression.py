"""Without code or licence-file evidence the rubric scores the reference cards exactly as before.

The baseline in golden/ is the disclosures and openness of the `world` fixture (29 reference cards and
their variants) as rubric 2026.11.0 scored them, before code repositories and licence files were read;
`rubric_version` is left out (it is bumped with every rule change). The columns added since (declared,
file, inherited licence, conflict) are checked apart: they must say nothing beyond the card. One value
changed since: a licence declared nowhere has the family `none` (was null), in the column and the evidence.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.openness.scoring import EXTRA_LICENCE_COLUMNS

GOLDEN = Path(__file__).with_name("golden")


def _lines(frame: pl.DataFrame) -> list[str]:
    buf = io.BytesIO()
    frame.write_ndjson(buf)
    return buf.getvalue().decode().splitlines()


def _golden(name: str) -> list[str]:
    return gzip.decompress((GOLDEN / f"{name}.ndjson.gz").read_bytes()).decode().splitlines()


def _same(table: str, frame: pl.DataFrame) -> None:
    expected = _golden(table)
    columns = list(pl.read_ndjson(io.StringIO(expected[0])).columns)
    got = _lines(frame.select(columns))
    assert len(got) == len(expected), f"{table}: {len(got)} rows, expected {len(expected)}"
    diff = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert not diff, f"{table}: {len(diff)} rows differ, first:\nexpected {diff[0][0]}\ngot      {diff[0][1]}"


def test_disclosures_without_new_evidence_equal_the_baseline(world: dict[str, Any]) -> None:
    _same("disclosures", world["disclosures"])


def test_openness_without_new_evidence_equals_the_baseline(world: dict[str, Any]) -> None:
    openness = world["openness"]
    _same("openness", openness)
    # The baseline's columns come first, in the same order; the new licence columns follow.
    baseline = list(pl.read_ndjson(io.StringIO(_golden("openness")[0])).columns)
    assert [c for c in openness.columns if c != "rubric_version"] == baseline + EXTRA_LICENCE_COLUMNS


def test_new_licence_columns_say_only_what_the_card_says(world: dict[str, Any]) -> None:
    o = world["openness"]
    assert o["file_license_id"].null_count() == o.height
    assert o["file_license_family"].null_count() == o.height
    assert o["license_conflict"].null_count() == o.height
    assert o["license_conflict_evidence"].null_count() == o.height
    assert o["declared_license_id"].equals(o["license_id"], null_equal=True)
    assert o["declared_license_family"].equals(o["license_family"], null_equal=True)
    source = o.select(
        (pl.col("license_source") == pl.when(pl.col("license_status") != "missing").then(pl.lit("card")))
        .fill_null(pl.col("license_source").is_null() & (pl.col("license_status") == "missing"))
        .all()
    ).item()
    assert source


def test_empty_evidence_frames_score_as_none(world: dict[str, Any], rubric: dict[str, Any]) -> None:
    """The warehouse gives empty frames when the code or licence-file tables have no rows yet."""
    from pipelines.openness.code_evidence import CODE_SCHEMA
    from pipelines.openness.components import detect_components
    from pipelines.openness.licence_rule import LICENSE_FILES_SCHEMA
    from pipelines.openness.scoring import base_facts, score_revisions

    revisions = world["revisions"]
    for code, files in (
        (pl.DataFrame(), pl.DataFrame()),
        (pl.DataFrame(schema=CODE_SCHEMA), pl.DataFrame(schema=LICENSE_FILES_SCHEMA)),
    ):
        evidence = {"code": code, "license_files": files}
        disclosures = detect_components(
            revisions, world["datasets"], world["papers"], rubric=rubric, **evidence
        )
        assert disclosures.equals(world["disclosures"])
        openness = score_revisions(
            revisions, disclosures, rubric=rubric, bases=base_facts(revisions), **evidence
        )
        assert openness.equals(world["openness"])
