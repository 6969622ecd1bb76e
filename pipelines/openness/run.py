"""Score many revisions in bounded memory: licence resolution, detection and scoring batch by batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from pipelines.openness.catalogue import resolve_licenses
from pipelines.openness.components import detect_components
from pipelines.openness.scoring import base_facts, score_revisions


def base_verdicts(
    revisions: pl.DataFrame,
    datasets: pl.DataFrame,
    papers: pl.DataFrame,
    *,
    rubric: dict[str, Any],
    code: pl.DataFrame | None = None,
    license_files: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The `bases` frame: every repo's latest weights facts, plus the scored verdicts of the repos named as
    bases (scored with the same optional `code` and `license_files` evidence as score_revisions)."""
    if "base_models" not in revisions.columns or revisions.height == 0:
        return base_facts(revisions)
    latest = (
        revisions.sort("committed_at", nulls_last=False) if "committed_at" in revisions.columns else revisions
    )
    latest = latest.unique("repo_id", keep="last", maintain_order=True)
    named = revisions.select(pl.col("base_models").explode().drop_nulls().unique()).to_series()
    heads = latest.filter(pl.col("repo_id").is_in(named.implode()))
    if heads.height == 0:
        return base_facts(latest)
    if "license_status" not in heads.columns:
        heads = resolve_licenses(heads)
    evidence = {"code": code, "license_files": license_files}
    disclosures = detect_components(heads, datasets, papers, rubric=rubric, **evidence)
    scored = score_revisions(heads, disclosures, rubric=rubric, **evidence)
    return base_facts(latest, scored)


def score_in_batches(
    revisions: pl.DataFrame,
    datasets: pl.DataFrame,
    papers: pl.DataFrame,
    *,
    rubric: dict[str, Any],
    bases: pl.DataFrame | None = None,
    batch_size: int = 300_000,
    code: pl.DataFrame | None = None,
    license_files: pl.DataFrame | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Yield (disclosures, openness) per batch of revisions; a revision's rows never span two batches.

    Every revision is scored independently (the base models' facts come from `bases`), so writing each
    batch out as it comes keeps memory bounded: the `disclosures` of 3 million revisions are 51 million
    rows. Without `bases`, the latest revisions of the repos named as base models are scored first, so
    that a derivative's base-model criteria (weights and data sources) rest on its base's own verdicts.
    `code` (core.release_code joined with core.code_repos) and `license_files` (core.license_files of
    model repos) are optional evidence passed to detect_components and score_revisions.
    """
    evidence = {"code": code, "license_files": license_files}
    if bases is None:
        bases = base_verdicts(revisions, datasets, papers, rubric=rubric, **evidence)
    # An empty warehouse still gets one (empty) batch, so the tables keep their columns.
    for start in range(0, max(revisions.height, 1), batch_size):
        batch = revisions.slice(start, batch_size)
        if "license_status" not in batch.columns:
            batch = resolve_licenses(batch)
        disclosures = detect_components(batch, datasets, papers, rubric=rubric, **evidence)
        yield disclosures, score_revisions(batch, disclosures, rubric=rubric, bases=bases, **evidence)
