"""Benchmarks of the history step: intervals and transitions over many revisions, and the monthly query.

`python -m benchmarks.history 30000000` (issue 5/10 targets: < 120 s for 30 million revisions; the
monthly spectrum distribution over the full history answered by DuckDB in < 1 s).

The synthetic revisions carry every dimension the real build tracks (`dimensions.tracked_frame`: 37 on the
current rubric), each with the value shares and the change rate measured on the real histories of the sample
corpus (`SAMPLE_DIMENSIONS`), and the transitions' directions use the real rubric's openness orders. The
timed step is `transitions.intervals_and_transitions`, what `openness_history` runs, on rows in no particular
order; it is timed again on the same rows in (repo_id, committed_at, revision) order, as core.revisions is.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import UTC, datetime

import duckdb
import numpy as np
import polars as pl

from pipelines.history.dimensions import ranks
from pipelines.history.transitions import intervals_and_transitions

# Per tracked dimension: (revisions, of the 72 consecutive revision pairs of the sample corpus, on which it
# changed; how many of its 134 revisions hold each value, None = unknown). Measured on the demo warehouse built
# from the sample corpus (pipelines/mirror/sample: real README histories of 62 repos), with
# `dimensions.tracked_frame` over core.revisions/openness/disclosures. The changes come together: 18 of the 72
# pairs change anything, on average 9 dimensions at once (a card edit, or a first README after an "initial
# commit"), 160 transitions in all (2.2 per pair).
SAMPLE_PAIRS, SAMPLE_CHANGING_PAIRS = 72, 18
SAMPLE_DIMENSIONS: dict[str, tuple[int, dict[str | None, int]]] = {
    "gated": (2, {"false": 111, "auto": 15, "manual": 8}),
    "weights_present": (3, {"true": 111, "false": 23}),
    "license_id": (
        4,
        {
            "apache-2.0": 49,
            "none": 41,
            "creativeml-openrail-m": 11,
            "mit": 8,
            "other": 5,
            "cc-by-nc-4.0": 3,
            "llama2": 3,
            "deepseek": 2,
            "cc-by-4.0": 2,
            "cc-by-sa-4.0": 2,
            "llama3": 2,
            "bsd-3-clause": 1,
            "ai2-impact-license-low-risk": 1,
            "gemma-terms-of-use": 1,
            "gemma": 1,
            "llama3.1": 1,
            "openrail++": 1,
        },
    ),
    "license_family": (
        4,
        {
            "osi-permissive": 58,
            "none": 41,
            "responsible-ai": 13,
            "community": 10,
            "unknown": 5,
            "non-commercial": 3,
            "open-data": 2,
            "osi-copyleft": 2,
        },
    ),
    "mof_class": (0, {"0": 134}),
    "osaid": (2, {"fails": 118, "undetermined": 16}),
    "release_level": (3, {"downloadable": 111, "fully_closed": 23}),
    "spectrum_level": (3, {"3": 47, "1": 37, "0": 23, "2": 21, None: 5, "4": 1}),
    "osai_code": (8, {None: 83, "closed": 51}),
    "osai_datasheet": (5, {"closed": 68, None: 52, "partial": 14}),
    "osai_datasources_basemodel": (3, {"closed": 101, None: 33}),
    "osai_datasources_endmodel": (2, {"closed": 113, None: 21}),
    "osai_hardware_architecture": (0, {None: 134}),
    "osai_licenses": (3, {"closed": 88, None: 45, "partial": 1}),
    "osai_modelcard": (6, {"partial": 97, None: 23, "open": 10, "closed": 4}),
    "osai_paper": (7, {None: 93, "closed": 41}),
    "osai_preprint": (7, {"partial": 90, "closed": 41, None: 3}),
    "osai_trainingcode": (8, {None: 68, "closed": 52, "partial": 13, "open": 1}),
    "osai_weights_basemodel": (4, {"open": 81, "closed": 24, "partial": 20, None: 9}),
    "osai_weights_endmodel": (3, {"open": 89, "closed": 23, "partial": 22}),
    "mof:Data card": (5, {"absent": 68, None: 52, "open": 10, "included": 4}),
    "mof:Data preprocessing code": (8, {None: 81, "absent": 53}),
    "mof:Datasets": (4, {"absent": 72, "included": 41, None: 21}),
    "mof:Evaluation code": (8, {None: 65, "absent": 52, "included": 16, "open": 1}),
    "mof:Evaluation data": (9, {None: 66, "absent": 60, "included": 8}),
    "mof:Evaluation results": (7, {"absent": 60, "included": 33, None: 22, "open": 19}),
    "mof:Inference code": (3, {"open": 102, "absent": 23, None: 9}),
    "mof:Model architecture": (4, {None: 78, "open": 33, "absent": 23}),
    "mof:Model card": (6, {"open": 61, "included": 46, None: 23, "absent": 4}),
    "mof:Model metadata": (1, {"absent": 122, "open": 8, "included": 4}),
    "mof:Model parameters (Final)": (3, {"included": 63, "open": 48, "absent": 23}),
    "mof:Model parameters (Intermediate)": (0, {None: 134}),
    "mof:Research paper": (7, {None: 93, "absent": 41}),
    "mof:Sample model outputs": (0, {None: 134}),
    "mof:Supporting libraries and tools": (3, {"open": 102, None: 32}),
    "mof:Technical report": (7, {"included": 52, "absent": 41, "open": 38, None: 3}),
    "mof:Training code": (8, {None: 68, "absent": 52, "included": 13, "open": 1}),
}
DIMENSIONS = list(SAMPLE_DIMENSIONS)


def bench_ranks() -> dict[str, dict[str, int]]:
    """The openness orders of the real rubric for the tracked dimensions (what the real build passes)."""
    from pipelines.openness.rubric import load_rubric

    return ranks(load_rubric(), DIMENSIONS)


def synthetic_history(n_revisions: int, seed: int = 5, revisions_per_repo: int = 10) -> pl.DataFrame:
    """n revisions over n / revisions_per_repo repos spread over 2019-2026, rows in random order, with every
    tracked dimension (Enum columns; null = unknown) changing as on the sample corpus's real histories.

    A revision is a "changing" one with the sample's share (18 of 72 pairs); on it, each dimension draws a
    new value (from its value shares, so possibly the same one) with the probability that makes its change
    rate per pair the sample's. A repo's first revision draws every value.
    """
    rng = np.random.default_rng(seed)
    repos = max(1, n_revisions // revisions_per_repo)
    repo_idx = np.sort(rng.integers(0, repos, n_revisions))
    start = datetime(2019, 1, 1, tzinfo=UTC).timestamp()
    span = datetime(2026, 11, 1, tzinfo=UTC).timestamp() - start
    seconds = (start + rng.random(n_revisions) * span).astype("int64")
    in_time = np.lexsort((seconds, repo_idx))  # commit order within each repo: the values evolve along it
    seconds = seconds[in_time]
    first = np.ones(n_revisions, dtype=bool)
    first[1:] = repo_idx[1:] != repo_idx[:-1]
    changing = first | (rng.random(n_revisions) < SAMPLE_CHANGING_PAIRS / SAMPLE_PAIRS)
    shuffle = rng.permutation(n_revisions)  # the build gets revisions in no particular order
    columns = []
    for dim, (changes, counts) in SAMPLE_DIMENSIONS.items():
        values = list(counts)
        weights = np.array(list(counts.values()), dtype=float) / sum(counts.values())
        stay = float((weights**2).sum())  # chance that a fresh draw repeats the value
        p_new = min(1.0, changes / SAMPLE_CHANGING_PAIRS / (1 - stay)) if stay < 1 else 0.0
        marked = first | (changing & (rng.random(n_revisions) < p_new))
        draws = rng.choice(len(values), int(marked.sum()), p=weights).astype(np.uint32)
        codes = draws[np.cumsum(marked) - 1][shuffle]
        categories = [v for v in values if v is not None]
        lookup = pl.Series(dim, [*values], dtype=pl.Enum(categories))  # code -> value (None: unknown)
        columns.append(lookup.gather(codes))
    ids = pl.DataFrame({"r": repo_idx[shuffle], "v": shuffle}).select(
        (
            pl.lit("org")
            + (pl.col("r") % 9973).cast(pl.String)
            + pl.lit("/model-")
            + pl.col("r").cast(pl.String).str.pad_start(7, "0")
        ).alias("repo_id"),
        pl.col("v").cast(pl.String).str.pad_start(40, "0").alias("revision"),
    )
    return ids.with_columns(
        pl.Series("committed_at", seconds[shuffle] * 1_000_000).cast(pl.Datetime("us", "UTC")), *columns
    )


def _peak_rss_gib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def run_history_bench(n: int) -> dict:
    """Time intervals + transitions on n synthetic revisions in no particular order, then the monthly
    distribution query, then intervals + transitions again on the same revisions already in (repo_id,
    committed_at, revision) order, the order the warehouse keeps core.revisions in (no sort needed)."""
    frame = synthetic_history(n)
    rank_orders = bench_ranks()
    load_start = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    # As openness_history: here the scored revisions and the tracked frame are one frame (one sort).
    intervals, transitions = intervals_and_transitions(frame, frame, DIMENSIONS, rank_orders)
    build_seconds, build_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    load_end = os.getloadavg()[0]
    figures = {
        "revisions": n,
        "dimensions": len(DIMENSIONS),
        "transitions": transitions.height,
        "intervals_and_transitions_seconds": round(build_seconds, 2),
        "intervals_and_transitions_cpu_seconds": round(build_cpu, 2),
        "load_average_1min_start_end": f"{load_start:.2f} / {load_end:.2f}",
        "peak_rss_gib": _peak_rss_gib(),
    }
    del frame, transitions
    con = duckdb.connect()
    con.register(
        "o", intervals.select("repo_id", "valid_from", "valid_to", pl.col("spectrum_level").cast(pl.String))
    )
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
    rows = con.execute(
        "SELECT k, spectrum_level, releases FROM monthly ORDER BY k, spectrum_level"
    ).fetchall()
    query_seconds = time.perf_counter() - started
    con.close()
    in_order = intervals.drop("valid_from", "valid_to")
    del intervals
    started, cpu_started = time.perf_counter(), time.process_time()
    intervals, transitions = intervals_and_transitions(in_order, in_order, DIMENSIONS, rank_orders)
    ordered_seconds, ordered_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert transitions.height == figures["transitions"]
    return {
        **figures,
        "in_order_input_seconds": round(ordered_seconds, 2),
        "in_order_input_cpu_seconds": round(ordered_cpu, 2),
        "monthly_mart_build_seconds": round(mart_seconds, 2),
        "monthly_distribution_query_seconds": round(query_seconds, 4),
        "monthly_rows": len(rows),
        "peak_rss_gib_all_steps": _peak_rss_gib(),
    }


if __name__ == "__main__":
    print(json.dumps(run_history_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000), indent=1))
