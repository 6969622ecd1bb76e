"""Validity intervals and dated transitions from per-revision facts (vectorised Polars, order-free).

Input: one row per (repo, revision) with `committed_at` and one column per tracked dimension (values as
strings, null = unknown). Output: `valid_from`/`valid_to` per revision, and one transition row per
change of a dimension between consecutive revisions of a repo, with its direction.
"""

from __future__ import annotations

import polars as pl

TRANSITIONS_SCHEMA = {
    "repo_id": pl.String, "changed_at": pl.Datetime("us", "UTC"), "dimension": pl.String,
    "from_value": pl.String, "to_value": pl.String, "direction": pl.String, "from_revision": pl.String,
    "to_revision": pl.String, "evidence_url": pl.String, "short_lived": pl.Boolean,
}
SHORT_LIVED_HOURS = 24
KEY = ["repo_id", "revision"]


def with_validity(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `valid_from` (the commit time) and `valid_to` (the next revision's commit time; null = current)."""
    ordered = frame.sort("repo_id", "committed_at", "revision")
    return ordered.with_columns(
        pl.col("committed_at").alias("valid_from"),
        pl.col("committed_at").shift(-1).over("repo_id").alias("valid_to"),
    )


def _direction(dimension: str, ranks: dict[str, dict[str, int]]) -> pl.Expr:
    """opening / closing / lateral from the dimension's openness order (higher rank = more open)."""
    order = ranks.get(dimension)
    if not order:
        return pl.lit("lateral")
    before = pl.col("from_value").replace_strict(order, default=None, return_dtype=pl.Int64)
    after = pl.col("to_value").replace_strict(order, default=None, return_dtype=pl.Int64)
    return (pl.when(before.is_null() | after.is_null()).then(pl.lit("lateral"))
            .when(after > before).then(pl.lit("opening"))
            .when(after < before).then(pl.lit("closing"))
            .otherwise(pl.lit("lateral")))


def build_transitions(frame: pl.DataFrame, dimensions: list[str], ranks: dict[str, dict[str, int]],
                      hub_url: str = "https://huggingface.co") -> pl.DataFrame:
    """One row per change of a dimension between consecutive revisions of a repo (unknown -> x counts too)."""
    ordered = frame.select([*KEY, "committed_at", *dimensions]).sort("repo_id", "committed_at", "revision")
    ordered = ordered.with_columns(pl.col("revision").shift(1).over("repo_id").alias("from_revision"))
    parts = []
    for dim in dimensions:
        prev = pl.col(dim).shift(1).over("repo_id")
        changed = (ordered.with_columns(prev.alias("from_value"))
                   .filter(pl.col("from_revision").is_not_null() & pl.col("from_value").ne_missing(pl.col(dim))))
        if changed.height == 0:
            continue
        parts.append(changed.select(
            "repo_id", pl.col("committed_at").alias("changed_at"), pl.lit(dim).alias("dimension"),
            "from_value", pl.col(dim).alias("to_value"), "from_revision", pl.col("revision").alias("to_revision"),
        ).with_columns(_direction(dim, ranks).alias("direction")))
    if not parts:
        return pl.DataFrame(schema=TRANSITIONS_SCHEMA)
    out = pl.concat(parts, how="vertical_relaxed").with_columns(
        (pl.lit(f"{hub_url}/") + pl.col("repo_id") + pl.lit("/commit/") + pl.col("to_revision")).alias("evidence_url"))
    return flag_short_lived(out).select(list(TRANSITIONS_SCHEMA)).sort("repo_id", "changed_at", "dimension")


def flag_short_lived(transitions: pl.DataFrame, hours: int = SHORT_LIVED_HOURS) -> pl.DataFrame:
    """Flag a change that the next change of the same dimension undoes within `hours` (both rows)."""
    t = transitions.sort("repo_id", "dimension", "changed_at")
    grp = ["repo_id", "dimension"]
    nxt_to = pl.col("to_value").shift(-1).over(grp)
    nxt_at = pl.col("changed_at").shift(-1).over(grp)
    prv_from = pl.col("from_value").shift(1).over(grp)
    prv_at = pl.col("changed_at").shift(1).over(grp)
    window = pl.duration(hours=hours)
    undone_next = nxt_to.eq_missing(pl.col("from_value")) & ((nxt_at - pl.col("changed_at")) <= window)
    undoes_prev = prv_from.eq_missing(pl.col("to_value")) & ((pl.col("changed_at") - prv_at) <= window)
    return t.with_columns((undone_next.fill_null(False) | undoes_prev.fill_null(False)).alias("short_lived"))
