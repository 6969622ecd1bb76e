"""Score many revisions in bounded memory: licence resolution, detection and scoring batch by batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from pipelines.openness.catalogue import resolve_licenses
from pipelines.openness.components import detect_components
from pipelines.openness.scoring import base_facts, score_revisions


def score_in_batches(
    revisions: pl.DataFrame,
    datasets: pl.DataFrame,
    papers: pl.DataFrame,
    *,
    rubric: dict[str, Any],
    bases: pl.DataFrame | None = None,
    batch_size: int = 300_000,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Yield (disclosures, openness) per batch of revisions; a revision's rows never span two batches.

    Every revision is scored independently (the base models' facts come from `bases`, built once from
    all revisions when not given), so writing each batch out as it comes keeps memory bounded: the
    `disclosures` of 3 million revisions are 51 million rows.
    """
    if bases is None:
        bases = base_facts(revisions)
    for start in range(0, revisions.height, batch_size):
        batch = revisions.slice(start, batch_size)
        if "license_status" not in batch.columns:
            batch = resolve_licenses(batch)
        disclosures = detect_components(batch, datasets, papers, rubric=rubric)
        yield disclosures, score_revisions(batch, disclosures, rubric=rubric, bases=bases)
