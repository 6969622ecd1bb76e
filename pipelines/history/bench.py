"""Benchmarks of the history step: intervals and transitions over many revisions, and the monthly query.

`python -m pipelines.history.bench 30000000` (issue 5 targets: < 120 s for 30 million revisions; the
monthly spectrum distribution over the full history answered by DuckDB in < 1 s).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime

import duckdb
import numpy as np
import polars as pl

from pipelines.history.transitions import build_transitions, with_validity

FAMILIES = ["osi-permissive", "community", "responsible-ai", "non-commercial", "none", "osi-copyleft"]
RANKS = {"license_family": {f: r for f, r in zip(FAMILIES, [6, 3, 4, 2, 0, 5], strict=True)},
         "spectrum_level": {str(i): i for i in range(6)}, "gated": {"false": 2, "manual": 1},
         "weights_present": {"false": 0, "true": 1}}


def synthetic_history(n_revisions: int, seed: int = 5, revisions_per_repo: int = 10) -> pl.DataFrame:
    """n revisions over n / revisions_per_repo repos spread over 2019-2026; values change rarely, like the Hub."""
    rng = np.random.default_rng(seed)
    repos = max(1, n_revisions // revisions_per_repo)
    repo_idx = np.sort(rng.integers(0, repos, n_revisions))
    start = datetime(2019, 1, 1, tzinfo=UTC).timestamp()
    span = datetime(2026, 11, 1, tzinfo=UTC).timestamp() - start
    seconds = (start + rng.random(n_revisions) * span).astype("int64")

    def sticky(choices: list[str], change: float) -> pl.Series:
        # A value that changes on about `change` of the revisions, otherwise repeats the previous one.
        draws = rng.integers(0, len(choices), n_revisions)
        marked = np.where(rng.random(n_revisions) < change, draws, -1)
        idx = pl.Series(marked).replace(-1, None).forward_fill().fill_null(0).to_numpy()
        return pl.Series(np.array(choices)[idx])

    ids = pl.DataFrame({"r": repo_idx, "v": np.arange(n_revisions)}).select(
        (pl.lit("org/m") + pl.col("r").cast(pl.String)).alias("repo_id"),
        pl.col("v").cast(pl.String).str.pad_start(40, "0").alias("revision"))
    return ids.with_columns(
        pl.Series("committed_at", seconds * 1_000_000).cast(pl.Datetime("us", "UTC")),
        sticky(FAMILIES, 0.05).alias("license_family"),
        sticky([str(i) for i in range(6)], 0.05).alias("spectrum_level"),
        sticky(["false", "manual"], 0.02).alias("gated"),
        sticky(["true", "false"], 0.02).alias("weights_present"),
    )


def run_history_bench(n: int) -> dict:
    """Time intervals + transitions on n synthetic revisions, then the monthly distribution query."""
    frame = synthetic_history(n)
    dims = ["license_family", "spectrum_level", "gated", "weights_present"]
    started = time.perf_counter()
    intervals = with_validity(frame)
    transitions = build_transitions(frame, dims, RANKS)
    build_seconds = time.perf_counter() - started
    con = duckdb.connect()
    con.register("o", intervals.select("repo_id", "valid_from", "valid_to", "spectrum_level"))
    con.execute("CREATE TABLE openness AS SELECT * FROM o")
    # The month-end rule of sql/marts/monthly_openness.sql: an interval holds at the end of month k for k in
    # [month(valid_from), month(valid_to)), months as integers; the mart is then a small table.
    mart_sql = """
        CREATE TABLE monthly AS
        SELECT k, spectrum_level, count(*) AS releases FROM (
          SELECT unnest(range(year(valid_from AT TIME ZONE 'UTC') * 12 + month(valid_from AT TIME ZONE 'UTC') - 1,
                 coalesce(year(valid_to AT TIME ZONE 'UTC') * 12 + month(valid_to AT TIME ZONE 'UTC') - 1,
                          2026 * 12 + 10))) AS k, spectrum_level
          FROM openness)
        GROUP BY ALL"""
    started = time.perf_counter()
    con.execute(mart_sql)
    mart_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rows = con.execute("SELECT k, spectrum_level, releases FROM monthly ORDER BY k, spectrum_level").fetchall()
    query_seconds = time.perf_counter() - started
    return {"revisions": n, "transitions": transitions.height, "intervals_and_transitions_seconds":
            round(build_seconds, 2), "monthly_mart_build_seconds": round(mart_seconds, 2),
            "monthly_distribution_query_seconds": round(query_seconds, 4), "monthly_rows": len(rows),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


if __name__ == "__main__":
    print(json.dumps(run_history_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000), indent=1))
