"""Publishing one snapshot version from the working warehouse, then refreshing the serving file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.publish.snapshot import write_snapshot
from pipelines.storage.warehouse import Warehouse


def crawl_window(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """The first and last crawl dates that fed the warehouse."""
    first, last = con.execute("SELECT min(crawl_date)::VARCHAR, max(crawl_date)::VARCHAR FROM core.crawl_runs"
                              ).fetchone()
    return {"from": first, "to": last}


def quarantine_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Quarantined inputs per reason."""
    rows = con.execute("SELECT reason, count(*) FROM core.quarantine GROUP BY reason ORDER BY reason").fetchall()
    return {reason: n for reason, n in rows}


def publish(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, checks: dict | None = None,
            documents: dict[str, str] | None = None, extra: dict | None = None) -> Path:
    """Write a new snapshot version (named after the last crawl date) and refresh the serving database."""
    window = crawl_window(con)
    if window["to"] is None:
        raise RuntimeError("nothing to publish: no crawl has been recorded in this warehouse")
    meta = {"crawl_window": window, "quarantine": quarantine_counts(con), "checks": checks or {}, **(extra or {})}
    folder = write_snapshot(con, wh.snapshots, window["to"], extra=meta, documents=documents)
    wh.publish_serving(con)
    return folder
