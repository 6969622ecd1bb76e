"""The one build runner: every table of the registry (pipelines/tables.py) built by its step.

Each step brings the tables it writes up to date with the raw layer in one of two modes of the same
code: incremental (only the raw files not read yet, only the repos they touch, their rows replaced) or
full (everything from the whole raw layer). tests/history/test_incremental.py proves the two modes give
the same tables after every replayed day. The Dagster assets call `run_step` one step per asset; tests
and benchmarks call `build_all`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import duckdb

from pipelines.incremental.code import update_code
from pipelines.incremental.crawl_runs import update_crawl_runs
from pipelines.incremental.marts import update_marts
from pipelines.incremental.normalise import update_releases, update_revisions
from pipelines.incremental.scoring import update_datasets, update_release_papers, update_scores
from pipelines.storage.warehouse import Warehouse
from pipelines.tables import steps

# Step name (the `step` of the registry's tables) -> its builder: (wh, con, *, full) -> what it did.
STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "revisions": update_revisions,
    "releases": update_releases,
    "crawl_runs": update_crawl_runs,
    "datasets": update_datasets,
    "papers": update_release_papers,
    "code": update_code,
    "scores": update_scores,
    "marts": update_marts,
}


def run_step(
    name: str, wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False, **options: Any
) -> dict[str, Any]:
    """Run one build step in incremental (default) or full mode; returns what it did. `options` go to the
    step's builder (`progress=` for revisions, `rubric=` for scores)."""
    if name not in STEPS:
        raise KeyError(f"no build step {name!r}; known: {', '.join(STEPS)}")
    return STEPS[name](wh, con, full=full, **options)


def build_all(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """Every table of the registry, step by step in the registry's order; per step, what it did and its
    seconds."""
    out: dict[str, Any] = {}
    for name in steps():
        started = time.perf_counter()
        result = run_step(name, wh, con, full=full)
        out[name] = {**result, "seconds": round(time.perf_counter() - started, 3)}
    return out
