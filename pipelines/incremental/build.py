"""Every table of a `build_tables` run, the incremental way, in the job's order (for tests and benchmarks;
the Dagster assets call the same steps one by one)."""

from __future__ import annotations

import time
from typing import Any

import duckdb

from pipelines.build import build_crawl_runs_table
from pipelines.incremental.marts import update_marts
from pipelines.incremental.normalise import update_releases, update_revisions
from pipelines.incremental.scoring import update_datasets, update_release_papers, update_scores
from pipelines.storage.warehouse import Warehouse


def build_incremental(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """Bring every core table and mart up to date with the raw layer; per step, what it did and its seconds."""
    steps = [
        ("revisions", lambda: update_revisions(wh, con, full=full)),
        ("releases", lambda: update_releases(wh, con, full=full)),
        ("crawl_runs", lambda: build_crawl_runs_table(wh, con)),
        ("datasets", lambda: update_datasets(wh, con, full=full)),
        ("papers", lambda: update_release_papers(wh, con, full=full)),
        ("scores", lambda: update_scores(wh, con, full=full)),
        ("marts", lambda: update_marts(wh, con, full=full)),
    ]
    out: dict[str, Any] = {}
    for name, step in steps:
        started = time.perf_counter()
        result = step()
        out[name] = {**result, "seconds": round(time.perf_counter() - started, 3)}
    return out
