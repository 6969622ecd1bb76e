"""core.release_metrics: the Hub's usage counts of every listed release, one row per release and crawl date.

The listing already asks the counts in its `expand` fields (client.LISTING_EXPAND: `downloads`, the last
30 days; `downloadsAllTime`; `likes`; `trendingScore`), so they cost no request of their own: every model
a day's listing returns (the changed ones, the most-downloaded page, the weekly full listing) gets a row
for that crawl date. The counts come from the `hub_listing` capture's usage columns; captures made before
those columns existed give theirs from the stored item (which then held `downloads` and `likes` only).

The build keeps the counts of every listing file already read in the incremental state
(`incr.listing_metrics`, with its ledger `incr.metrics_files`; raw files never change), then writes the
table from them: one row per (current repo id, crawl date), the newest capture of the date winning, ids
followed through renames as core.revisions records them. The full mode reads every file again.
"""

from __future__ import annotations

import time
from pathlib import Path, PurePath
from typing import Any

import duckdb
import polars as pl

from pipelines.hub.raw import LISTING_RAW_SCHEMA
from pipelines.incremental import state
from pipelines.storage.raw import RawStore
from pipelines.storage.warehouse import Warehouse, transaction

USAGE_COLUMNS = ("downloads", "downloads_all_time", "likes", "trending_score")
# The item's JSON field of each usage column (captures older than the columns).
ITEM_FIELDS = {
    "downloads": "downloads",
    "downloads_all_time": "downloadsAllTime",
    "likes": "likes",
    "trending_score": "trendingScore",
}
STAGING_DDL = """
CREATE TABLE IF NOT EXISTS incr.metrics_files (path VARCHAR);
CREATE TABLE IF NOT EXISTS incr.listing_metrics (repo_id VARCHAR, crawl_date DATE, fetched_at TIMESTAMPTZ,
    path VARCHAR, row_nr BIGINT, downloads BIGINT, downloads_all_time BIGINT, likes BIGINT,
    trending_score DOUBLE);
"""
TABLE_DDL = """CREATE TABLE IF NOT EXISTS core.release_metrics (repo_id VARCHAR, crawl_date DATE,
    downloads BIGINT, downloads_all_time BIGINT, likes BIGINT, trending_score DOUBLE)"""
# One row per (current id, crawl date): the newest capture of the date (later fetch, later file, later row).
BUILD_SQL = """
SELECT coalesce(i.current_id, m.repo_id) AS repo_id, m.crawl_date, m.downloads, m.downloads_all_time,
       m.likes, m.trending_score
FROM incr.listing_metrics m
LEFT JOIN (SELECT DISTINCT listed_as, repo_id AS current_id FROM core.revisions) i ON i.listed_as = m.repo_id
WHERE m.repo_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY coalesce(i.current_id, m.repo_id), m.crawl_date
                           ORDER BY m.fetched_at DESC, m.path DESC, m.row_nr DESC) = 1
"""


def _count(expr: pl.Expr) -> pl.Expr:
    """A count column: an integer >= 0, else null (a malformed value is not a count)."""
    value = expr.cast(pl.Int64, strict=False)
    return pl.when(value >= 0).then(value)


def file_metrics(path: PurePath, rel: str, raw: RawStore | None = None) -> pl.DataFrame:
    """The usage counts of one `hub_listing` file: one row per item, with where it is (path, row). `path` is
    a file of `raw` (default: a local file)."""
    raw = raw or RawStore(Path(path).parent)
    present = raw.columns(path)
    wanted = ["repo_id", "fetched_at", "item", *[c for c in USAGE_COLUMNS if c in present]]
    frame = raw.read(path, columns=wanted)
    day = path.parent.name.split("=", 1)[1]
    counts = []
    for column in USAGE_COLUMNS:
        from_item = pl.col("item").str.json_path_match(f"$.{ITEM_FIELDS[column]}")
        value = pl.coalesce(pl.col(column), from_item) if column in present else from_item
        if column == "trending_score":
            counts.append(value.cast(pl.Float64, strict=False).alias(column))
        else:
            counts.append(_count(value).alias(column))
    return frame.select(
        "repo_id",
        pl.lit(day).str.to_date().alias("crawl_date"),
        pl.col("fetched_at").cast(LISTING_RAW_SCHEMA["fetched_at"]),
        pl.lit(rel).alias("path"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row_nr"),
        *counts,
    )


def update_release_metrics(
    wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False
) -> dict[str, Any]:
    """Read the listing files not read yet into the state, then write core.release_metrics from it."""
    started = time.perf_counter()
    state.attach(wh, con)
    with transaction(con):
        if full:
            con.execute("DROP TABLE IF EXISTS incr.metrics_files")
            con.execute("DROP TABLE IF EXISTS incr.listing_metrics")
        con.execute(STAGING_DDL)
    known = {r[0] for r in con.execute("SELECT path FROM incr.metrics_files").fetchall()}
    new = []
    for path in wh.raw.files("hub_listing"):
        rel = wh.raw.relative(path)
        if rel not in known:
            new.append((path, rel))
    with transaction(con):
        for path, rel in new:
            frame = file_metrics(path, rel, wh.raw)
            if frame.height:
                con.register("metrics_frame", frame)
                try:
                    con.execute("INSERT INTO incr.listing_metrics BY NAME SELECT * FROM metrics_frame")
                finally:
                    con.unregister("metrics_frame")
            con.execute("INSERT INTO incr.metrics_files VALUES (?)", [rel])
    with transaction(con):
        con.execute(TABLE_DDL)
        con.execute("DELETE FROM core.release_metrics")
        # Releases only: an item held in quarantine (no revision, so no release) has no row.
        con.execute(
            f"INSERT INTO core.release_metrics SELECT * FROM ({BUILD_SQL}) b "  # noqa: S608 - fixed SQL
            "WHERE b.repo_id IN (SELECT repo_id FROM core.releases) ORDER BY repo_id, crawl_date"
        )
    rows = con.execute("SELECT count(*) FROM core.release_metrics").fetchall()[0][0]
    return {
        "metrics_files_read": len(new),
        "release_metrics": rows,
        "seconds": round(time.perf_counter() - started, 3),
    }
