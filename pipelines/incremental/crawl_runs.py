"""core.crawl_runs: one account per step and crawl date from the raw layer (a few rows a day, so always
rebuilt whole).

A step that runs again for a crawl date it already accounted for (a demo replayed after a kill, a run
re-executed by hand or by a retry) appends a second account to the raw layer, which stays append-only.
The table keeps one row per (crawl date, scope): the outcome of the newest attempt (status, watermark,
counts of what the listing held, run_key), the start of the first, and the cost of all of them summed
(requests, bytes, retries, seconds, READMEs fetched); `detail` gains `attempts` when there were several.
"""

from __future__ import annotations

import json
import time
from typing import Any

import duckdb
import polars as pl

from pipelines.storage.raw import CRAWL_RUN_SCHEMA
from pipelines.storage.warehouse import Warehouse, replace_rows

# What each attempt spent (summed over the attempts); every other column is the newest attempt's.
COST_COLUMNS = (
    "readmes_fetched",
    "requests_api",
    "requests_resolvers",
    "bytes_total",
    "retries",
    "status_429",
    "status_5xx",
    "seconds",
)


def _with_attempts(detail: str | None, attempts: int) -> str | None:
    """The account's detail JSON with the number of attempts, when there were several."""
    if attempts < 2:
        return detail
    try:
        parsed = json.loads(detail) if detail else {}
    except ValueError:
        parsed = {"note": detail}
    if not isinstance(parsed, dict):
        parsed = {"note": parsed}
    return json.dumps({**parsed, "attempts": attempts}, sort_keys=True)


def one_account_per_step(runs: pl.DataFrame) -> pl.DataFrame:
    """One row per (crawl_date, scope): the newest attempt's outcome, the first start, the summed cost."""
    if runs.is_empty():
        return runs
    runs = runs.sort("started_at", "run_key")
    keys = ["crawl_date", "scope"]
    merged = runs.group_by(keys, maintain_order=True).agg(
        *(pl.col(c).last() for c in runs.columns if c not in (*keys, "started_at", *COST_COLUMNS)),
        pl.col("started_at").first(),
        # A cost no attempt recorded stays null (not 0).
        *(pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c) for c in COST_COLUMNS),
        pl.len().alias("_attempts"),
    )
    merged = merged.with_columns(
        pl.struct("detail", "_attempts")
        .map_elements(lambda r: _with_attempts(r["detail"], r["_attempts"]), return_dtype=pl.String)
        .alias("detail")
    )
    return merged.select(runs.columns).sort("started_at", "run_key")


def update_crawl_runs(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """core.crawl_runs from the crawl accounts in the raw layer; the same in both modes (it is small)."""
    started = time.perf_counter()
    runs = wh.raw.scan("crawl_run", CRAWL_RUN_SCHEMA).collect()
    runs = runs.with_columns(pl.col("crawl_date").str.to_date())
    runs = runs.drop([c for c in runs.columns if c not in CRAWL_RUN_SCHEMA])
    accounts = one_account_per_step(runs)
    replace_rows(con, "core.crawl_runs", accounts)
    return {
        "mode": "full",
        "reason": "one row per step and crawl date",
        "crawl_runs": accounts.height,
        "attempts": runs.height,
        "seconds": round(time.perf_counter() - started, 3),
    }
