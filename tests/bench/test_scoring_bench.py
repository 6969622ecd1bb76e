"""The scoring benchmark's data and runner, at a size that keeps the test suite fast."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from benchmarks.scoring import run_scoring_bench, synthetic_context, synthetic_revisions
from pipelines.hub.schema import REVISIONS_SCHEMA
from pipelines.openness.components import detect_components
from pipelines.openness.rubric import load_rubric
from pipelines.openness.run import score_in_batches
from pipelines.openness.scoring import base_facts, score_revisions


@pytest.fixture(scope="module")
def rubric() -> dict[str, Any]:
    """The shipped rubric."""
    return load_rubric()


def test_synthetic_revisions_follow_the_schema() -> None:
    df = synthetic_revisions(2_000, seed=3)
    assert df.schema == pl.Schema(REVISIONS_SCHEMA) and df.height == 2_000
    assert df.equals(synthetic_revisions(2_000, seed=3))
    assert df["revision"].str.len_chars().unique().to_list() == [40]


def test_batches_give_the_same_openness_as_one_pass(rubric: dict[str, Any]) -> None:
    revisions = synthetic_revisions(3_000, seed=5)
    datasets, papers = synthetic_context(seed=5)
    bases = base_facts(revisions)
    whole = score_revisions(
        revisions, detect_components(revisions, datasets, papers, rubric=rubric), rubric=rubric, bases=bases
    )
    parts = [
        o
        for _, o in score_in_batches(
            revisions, datasets, papers, rubric=rubric, bases=bases, batch_size=1_000
        )
    ]
    assert pl.concat(parts).equals(whole)


def test_bench_report() -> None:
    report = run_scoring_bench(2_000, seed=1, batch_size=900)
    assert report["openness_rows"] == 2_000 and report["disclosures_rows"] == 17 * 2_000
    assert report["seconds"] > 0 and report["peak_rss_mib"] >= report["peak_rss_mib_before_scoring"]
