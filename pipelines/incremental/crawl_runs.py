"""core.crawl_runs: every crawl account recorded in the raw layer (a few rows a day, so always rebuilt whole)."""

from __future__ import annotations

import time
from typing import Any

import duckdb
import polars as pl

from pipelines.storage.raw import CRAWL_RUN_SCHEMA
from pipelines.storage.warehouse import Warehouse, replace_rows


def update_crawl_runs(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """core.crawl_runs from the crawl accounts in the raw layer; the same in both modes (it is small)."""
    started = time.perf_counter()
    runs = wh.raw.scan("crawl_run", CRAWL_RUN_SCHEMA).collect()
    runs = runs.with_columns(pl.col("crawl_date").str.to_date()).sort("started_at")
    replace_rows(con, "core.crawl_runs", runs.drop([c for c in runs.columns if c not in CRAWL_RUN_SCHEMA]))
    return {
        "mode": "full",
        "reason": "one row per crawl run",
        "crawl_runs": runs.height,
        "seconds": round(time.perf_counter() - started, 3),
    }
