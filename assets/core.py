"""Core-layer assets: normalised public tables in DuckDB, rebuilt from the whole raw layer."""


import dagster as dg

from assets.crawl import hub_datasets, hub_history, hub_listing, hub_readmes, papers_raw
from assets.resources import WarehouseResource
from pipelines.build import (
    build_crawl_runs_table,
    build_datasets_table,
    build_marts,
    build_openness_tables,
    build_papers_tables,
    build_releases_table,
    build_revisions_table,
    preview,
)
from pipelines.history.charts import spectrum_chart
from pipelines.publish.markdown import frame_to_markdown
from pipelines.storage.warehouse import table_counts


def _preview(con, table: str, columns: list[str], order: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame_to_markdown(preview(con, table, columns, order)))


@dg.asset(key=["core", "revisions"], deps=[hub_listing, hub_readmes, hub_history], group_name="core", pool="duckdb", kinds={"duckdb", "polars"},
          description="One row per observed commit of a model repo: licence as declared, gating, files and "
          "weights, datasets, papers, code links and card facts. Unparseable inputs go to core.quarantine.")
def revisions(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Normalise every raw capture into core.revisions (and core.quarantine)."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_revisions_table(wh, con)
        preview = _preview(con, "core.revisions", ["repo_id", "revision", "committed_at", "license_raw", "gated", "has_weights"],
                           "committed_at")
    return dg.MaterializeResult(metadata={**counts, "dagster/row_count": counts["revisions"], "preview": preview})


@dg.asset(key=["core", "releases"], deps=[revisions], group_name="core", pool="duckdb", kinds={"duckdb", "sql"},
          description="One row per model repo: organisation, creation and first/last seen dates, task, library, "
          "base models and modality, with its latest revision.")
def releases(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Derive core.releases with sql/core/releases.sql."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_releases_table(wh, con)
        preview = _preview(con, "core.releases", ["repo_id", "created_at", "pipeline_tag", "modality", "revision_count"],
                           "repo_id")
    return dg.MaterializeResult(metadata={**counts, "dagster/row_count": counts["releases"], "preview": preview})


@dg.asset(key=["core", "crawl_runs"], deps=[hub_listing, hub_readmes, hub_history, hub_datasets, papers_raw], group_name="core", pool="duckdb", kinds={"duckdb"},
          description="One row per crawl run: requests per rate-limit bucket, bytes, 429s, 5xx, seconds, models "
          "listed, new and changed.")
def crawl_runs(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Load the crawl accounts into core.crawl_runs."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_crawl_runs_table(wh, con)
    return dg.MaterializeResult(metadata={**counts, "dagster/row_count": counts["crawl_runs"]})


@dg.asset(key=["core", "datasets"], deps=[hub_datasets], group_name="core", pool="duckdb", kinds={"duckdb"},
          description="One row per dataset repo named by a model card: whether it exists, its licence as "
          "declared, gating and card presence (latest capture).")
def datasets(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Load the latest dataset captures into core.datasets."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_datasets_table(wh, con)
    return dg.MaterializeResult(metadata={**counts, "dagster/row_count": counts["datasets"]})


@dg.asset(key=["core", "papers"], deps=[papers_raw, revisions, releases], group_name="core", pool="duckdb",
          kinds={"duckdb", "polars"},
          description="One row per cited arXiv paper (title, authors, dates, DOI, journal ref, code links, "
          "peer-reviewed or preprint); also core.release_papers: one row per (release, cited paper) with the "
          "first and last revision that cite it and whether a tag or a card link did.")
def papers(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Build core.papers and core.release_papers."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_papers_tables(wh, con)
    return dg.MaterializeResult(metadata={**counts, "dagster/row_count": counts["papers"]})


SCORED = ["licenses", "disclosures", "openness", "transitions", "derivatives"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["core", "licenses"], deps=[revisions], group_name="core", kinds={"duckdb"},
                     description="One row per licence identifier of the catalogue (Hub ids and common license_name "
                     "values): SPDX id, family, OSI approval, commercial use, MOT openness and the source."),
        dg.AssetSpec(["core", "disclosures"], deps=[revisions, datasets, papers], group_name="core",
                     kinds={"duckdb", "polars"},
                     description="One row per revision and Model Openness Framework component (17): included?, "
                     "licence, open?, the evidence (field or file, value, URL) and the method."),
        dg.AssetSpec(["core", "openness"], deps=[revisions, datasets, papers], group_name="core",
                     kinds={"duckdb", "polars"},
                     description="One row per revision: MOF class and progress, the European Open Source AI Index "
                     "criteria and score, the OSAID verdict, Solaiman's release level, the spectrum level 0-5, the "
                     "licence family and rubric version, with evidence, as validity intervals (valid_from, valid_to)."),
        dg.AssetSpec(["core", "transitions"], deps=[revisions, datasets, papers], group_name="core",
                     kinds={"duckdb", "polars"},
                     description="One row per change of a tracked dimension between consecutive revisions of a "
                     "repo: date, before, after, direction (opening, closing, lateral), commits and evidence URL; "
                     "changes undone within 24 hours are flagged short-lived."),
        dg.AssetSpec(["core", "derivatives"], deps=[revisions], group_name="core", kinds={"duckdb"},
                     description="One row per (derivative, named base model): both licences and whether the "
                     "derivative declares a more permissive licence family than its base."),
    ],
    pool="duckdb",
)
def scored_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Score every stored revision with the current rubric and rebuild the history tables (no crawl)."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_openness_tables(wh, con)
        rows = table_counts(con, [f"core.{t}" for t in SCORED])
    for table in SCORED:
        yield dg.MaterializeResult(asset_key=["core", table], metadata={
            "dagster/row_count": rows[f"core.{table}"], "rubric_version": counts["rubric_version"]})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["marts", "monthly_openness"], deps=[["core", "openness"], releases], group_name="marts",
                     kinds={"duckdb", "sql"},
                     description="One row per month, breakdown (all, organisation, modality, base-model family), "
                     "group, metric (spectrum level, licence family, MOF class) and value: releases at that value at "
                     "the month's end, and their mean OSAI score."),
        dg.AssetSpec(["marts", "monthly_transitions"], deps=[["core", "transitions"]], group_name="marts",
                     kinds={"duckdb", "sql"},
                     description="One row per month, dimension and direction: opening, closing and lateral "
                     "transitions, short-lived ones counted apart."),
    ],
    pool="duckdb",
)
def monthly_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Rebuild the monthly timelines (sql/marts/*.sql)."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_marts(con)
        chart = spectrum_chart(con)
    for name, rows in counts.items():
        meta: dict = {"dagster/row_count": rows}
        if name == "monthly_openness":  # the spectrum over time, as a Vega-Lite spec (open it in any Vega viewer)
            meta["spectrum_over_time"] = dg.MetadataValue.json(chart)
        yield dg.MaterializeResult(asset_key=["marts", name], metadata=meta)
