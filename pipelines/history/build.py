"""Scoring every stored revision and turning the scores into history (a pure rebuild, no crawl needed)."""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.history.dimensions import ranks, tracked_frame
from pipelines.history.transitions import intervals_and_transitions, with_provenance


def openness_history(
    revisions: pl.DataFrame,
    openness: pl.DataFrame,
    disclosures: pl.DataFrame,
    rubric: dict[str, Any],
    marks: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(openness with valid_from/valid_to, transitions) from scored revisions, ordered by commit time.
    `marks`: a mirror's reconstruction kinds per captured revision (pipelines.hub.provenance), shown in the
    transitions' `reconstructed` column; a reconstructed commit id gets no evidence link."""
    if openness.height == 0:
        from pipelines.history.transitions import MARKED_SCHEMA

        stamp = pl.Datetime("us", "UTC")  # the columns in the order with_validity leaves them
        return openness.drop("committed_at", strict=False).with_columns(
            pl.lit(None, stamp).alias("committed_at"),
            pl.lit(None, stamp).alias("valid_from"),
            pl.lit(None, stamp).alias("valid_to"),
        ), pl.DataFrame(schema=MARKED_SCHEMA)
    timed = openness.drop("committed_at", strict=False).join(
        revisions.select("repo_id", "revision", "committed_at"), on=["repo_id", "revision"], how="left"
    )
    frame, dims = tracked_frame(revisions, openness, disclosures)
    intervals, transitions = intervals_and_transitions(timed, frame, dims, ranks(rubric, dims))
    return intervals, with_provenance(transitions, revisions, marks)
