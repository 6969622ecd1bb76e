"""Building the core tables from the whole raw layer (a pure rebuild: same raw in, same tables out)."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.hub.backfill import REVISION_RAW_SCHEMA
from pipelines.hub.crawl import LISTING_RAW_SCHEMA, PRESENCE_RAW_SCHEMA, README_RAW_SCHEMA
from pipelines.hub.daily import CRAWL_RUN_SCHEMA
from pipelines.hub.normalise import build_revisions
from pipelines.storage.warehouse import Warehouse, checked_table, replace_rows, sql_text, table_counts


def listing_presence(listing: pl.DataFrame) -> pl.DataFrame:
    """(repo_id, crawl_date, created_at) for every listing capture: when each repo was seen."""
    return listing.select(
        "repo_id",
        pl.col("crawl_date").str.to_date(),
        pl.col("item")
        .str.json_path_match("$.createdAt")
        .str.to_datetime(time_zone="UTC", strict=False)
        .alias("created_at"),
    )


def build_revisions_table(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """core.revisions and core.quarantine from every raw listing capture and README outcome."""
    listing = wh.raw.scan("hub_listing", LISTING_RAW_SCHEMA).collect()
    readmes = wh.raw.scan("hub_readme", README_RAW_SCHEMA).collect()
    infos = wh.raw.scan("hub_revision", REVISION_RAW_SCHEMA).collect()
    revisions, quarantine = build_revisions(listing, readmes, infos)
    replace_rows(con, "core.revisions", revisions)
    replace_rows(con, "core.quarantine", quarantine)
    return {
        "revisions": revisions.height,
        "quarantined": quarantine.height,
        "repos": revisions.get_column("repo_id").n_unique() if revisions.height else 0,
    }


def build_releases_table(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """core.releases from core.revisions and the listing presence (sql/core/releases.sql)."""
    listing = listing_presence(wh.raw.scan("hub_listing", LISTING_RAW_SCHEMA).collect())
    ids = con.sql("SELECT DISTINCT listed_as, repo_id AS current_id FROM core.revisions").pl()
    listing = (
        listing.join(ids, left_on="repo_id", right_on="listed_as", how="left")
        .with_columns(pl.coalesce("current_id", "repo_id").alias("repo_id"))
        .drop("current_id")
    )
    presence = wh.raw.scan("hub_presence", PRESENCE_RAW_SCHEMA).collect()
    presence = (
        presence.join(ids, left_on="repo_id", right_on="listed_as", how="left")
        .with_columns(
            pl.coalesce("current_id", "repo_id").alias("repo_id"), pl.col("crawl_date").str.to_date()
        )
        .drop("current_id", "checked_at")
    )
    replace_rows(con, "core.repo_presence", presence)
    con.register("listing_seen", listing)
    try:
        releases = con.sql(sql_text("core/releases.sql")).pl()
    finally:
        con.unregister("listing_seen")
    replace_rows(con, "core.releases", releases)
    return {"releases": releases.height}


def build_datasets_table(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """core.datasets from the dataset captures (latest capture per dataset)."""
    from pipelines.hub.datasets import DATASET_RAW_SCHEMA, build_datasets

    frame = build_datasets(wh.raw.scan("hub_dataset", DATASET_RAW_SCHEMA).collect())
    replace_rows(con, "core.datasets", frame)
    return {"datasets": frame.height, "datasets_found": int(frame.get_column("exists").sum() or 0)}


def build_crawl_runs_table(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """core.crawl_runs from the crawl accounts recorded in the raw layer."""
    runs = wh.raw.scan("crawl_run", CRAWL_RUN_SCHEMA).collect()
    runs = runs.with_columns(pl.col("crawl_date").str.to_date()).sort("started_at")
    replace_rows(con, "core.crawl_runs", runs.drop([c for c in runs.columns if c not in CRAWL_RUN_SCHEMA]))
    return {"crawl_runs": runs.height}


def core_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts of the core tables built so far."""
    return table_counts(con, ["core.releases", "core.revisions", "core.quarantine", "core.crawl_runs"])


def preview(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], order: str, limit: int = 10
) -> pl.DataFrame:
    """The first rows of a table by `order` (newest first for timestamps), for run metadata."""
    qualified = checked_table(con, table)
    schema, _, name = table.partition(".")
    known = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }
    if order not in known or any(c not in known for c in columns):
        raise ValueError(f"unknown columns for {table}: {columns}, {order}")
    cols = ", ".join(f'"{c}"' for c in columns)  # names checked against the catalog above
    direction = "DESC" if order.endswith("_at") else "ASC"
    query = f'SELECT {cols} FROM {qualified} ORDER BY "{order}" {direction} NULLS LAST LIMIT ?'  # noqa: S608
    return con.sql(query, params=[limit]).pl()


def build_papers_tables(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """core.papers from the arXiv and Hub paper captures; core.release_papers from core.revisions."""
    from pipelines.papers.crawl import stored_papers
    from pipelines.papers.normalise import release_papers_frame

    papers = stored_papers(wh.raw)
    replace_rows(con, "core.papers", papers)
    revisions = con.sql("SELECT repo_id, revision, committed_at, arxiv_ids, tags FROM core.revisions").pl()
    links = release_papers_frame(revisions)
    replace_rows(con, "core.release_papers", links)
    found = int(papers.filter(pl.col("status") == "found").height) if papers.height else 0
    return {"papers": papers.height, "papers_found": found, "release_papers": links.height}


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """(Re)create a table whose schema the code defines (scores, history, marts) from a frame, atomically."""
    schema, _, name = table.partition(".")
    if schema not in ("core", "marts") or not name.replace("_", "").isalnum():
        raise ValueError(f"not a table this step may replace: {table!r}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.register("incoming_frame", frame)
    try:
        con.execute(f'CREATE OR REPLACE TABLE {schema}."{name}" AS SELECT * FROM incoming_frame')  # noqa: S608
    finally:
        con.unregister("incoming_frame")
    return frame.height


def build_openness_tables(
    wh: Warehouse, con: duckdb.DuckDBPyConnection, *, rubric: dict | None = None
) -> dict[str, int | str]:
    """Score every stored revision (no crawl): core.licenses, disclosures, openness, transitions, derivatives."""
    from pipelines.history.build import openness_history
    from pipelines.openness.catalogue import load_catalogue
    from pipelines.openness.derivatives import link_derivatives
    from pipelines.openness.rubric import load_rubric
    from pipelines.openness.run import score_in_batches

    rubric = rubric or load_rubric()
    revisions = con.sql("SELECT * FROM core.revisions").pl()
    datasets = con.sql("SELECT * FROM core.datasets").pl()
    papers = con.sql("SELECT * FROM core.papers").pl()
    parts = list(score_in_batches(revisions, datasets, papers, rubric=rubric))
    disclosures = pl.concat([p[0] for p in parts]) if parts else pl.DataFrame()
    openness = pl.concat([p[1] for p in parts]) if parts else pl.DataFrame()
    openness, transitions = openness_history(revisions, openness, disclosures, rubric)
    replace_table(con, "core.licenses", load_catalogue())
    replace_table(con, "core.disclosures", disclosures)
    replace_table(con, "core.openness", openness)
    replace_table(con, "core.transitions", transitions)
    replace_table(con, "core.derivatives", link_derivatives(revisions, rubric=rubric))
    return {
        "disclosures": disclosures.height,
        "openness": openness.height,
        "transitions": transitions.height,
        "rubric_version": str(rubric.get("rubric_version")),
    }


def build_marts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The monthly timelines (sql/marts/*.sql), rebuilt from core.openness and core.transitions."""
    counts = {}
    for name in ("monthly_openness", "monthly_transitions"):
        frame = con.sql(sql_text(f"marts/{name}.sql")).pl()
        counts[name] = replace_table(con, f"marts.{name}", frame)
    return counts
