"""Core-layer assets: normalised public tables in DuckDB, kept up to date from the raw layer.

Each build reads only the raw files it has not read yet and rewrites only the rows of the repos they touch
(`pipelines/incremental`); the result is the same as a rebuild from the whole raw layer
(tests/history/test_incremental.py). Every asset's metadata says which mode ran (`build_mode`: incremental
or full, and why) and how many repos it touched. Run config `resources: {build: {config: {full_rebuild:
true}}}` forces a full rebuild.
"""

import dagster as dg

from assets.crawl import hub_datasets, hub_history, hub_listing, hub_readmes, papers_raw
from assets.resources import BuildResource, WarehouseResource
from pipelines.build import build_crawl_runs_table, preview
from pipelines.history.charts import spectrum_chart
from pipelines.incremental.marts import update_marts
from pipelines.incremental.normalise import update_releases, update_revisions
from pipelines.incremental.scoring import update_datasets, update_release_papers, update_scores
from pipelines.publish.markdown import frame_to_markdown
from pipelines.storage.warehouse import table_counts


def _preview(con, table: str, columns: list[str], order: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame_to_markdown(preview(con, table, columns, order)))


def _mode(result: dict) -> dict:
    """The metadata every core asset carries: which build mode ran, why, how many repos it touched."""
    out: dict = {"build_mode": result.get("mode", "incremental")}
    if result.get("reason"):
        out["full_rebuild_reason"] = result["reason"]
    for key in ("touched_repos", "rescored_repos"):
        if result.get(key) is not None:
            out["touched_repos"] = result[key]
    return out


@dg.asset(
    key=["core", "revisions"],
    deps=[hub_listing, hub_readmes, hub_history],
    group_name="core",
    pool="duckdb",
    kinds={"duckdb", "polars"},
    description="One row per observed commit of a model repo: licence as declared, gating, files and "
    "weights, datasets, papers, code links and card facts. Unparseable inputs go to core.quarantine.",
)
def revisions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource
) -> dg.MaterializeResult:
    """Normalise the raw captures not read yet into core.revisions (and core.quarantine)."""
    wh = warehouse.get()
    with wh.connect() as con:
        result = update_revisions(wh, con, full=build.full_rebuild, progress=context.log.info)
        counts = table_counts(con, ["core.revisions", "core.quarantine"])
        repos = con.execute("SELECT count(DISTINCT repo_id) FROM core.revisions").fetchall()[0][0]
        preview = _preview(
            con,
            "core.revisions",
            ["repo_id", "revision", "committed_at", "license_raw", "gated", "has_weights"],
            "committed_at",
        )
    return dg.MaterializeResult(
        metadata={
            **_mode(result),
            "revisions": counts["core.revisions"],
            "quarantined": counts["core.quarantine"],
            "repos": repos,
            "new_raw_files": result["new_files"],
            "captures_parsed": result["parsed"],
            "seconds": result["seconds"],
            "dagster/row_count": counts["core.revisions"],
            "preview": preview,
        }
    )


@dg.asset(
    key=["core", "releases"],
    deps=[revisions],
    group_name="core",
    pool="duckdb",
    kinds={"duckdb", "sql"},
    description="One row per model repo: organisation, creation and first/last seen dates, task, library, "
    "base models and modality, with its latest revision.",
)
def releases(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource
) -> dg.MaterializeResult:
    """Derive core.releases with sql/core/releases.sql, for the repos whose revisions or sightings changed."""
    wh = warehouse.get()
    with wh.connect() as con:
        result = update_releases(wh, con, full=build.full_rebuild)
        preview = _preview(
            con,
            "core.releases",
            ["repo_id", "created_at", "pipeline_tag", "modality", "revision_count"],
            "repo_id",
        )
    return dg.MaterializeResult(
        metadata={
            **_mode(result),
            "releases": result["releases"],
            "dagster/row_count": result["releases"],
            "preview": preview,
        }
    )


@dg.asset(
    key=["core", "crawl_runs"],
    deps=[hub_listing, hub_readmes, hub_history, hub_datasets, papers_raw],
    group_name="core",
    pool="duckdb",
    kinds={"duckdb"},
    description="One row per crawl run: requests per rate-limit bucket, bytes, 429s, 5xx, seconds, models "
    "listed, new and changed.",
)
def crawl_runs(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Load the crawl accounts into core.crawl_runs."""
    wh = warehouse.get()
    with wh.connect() as con:
        counts = build_crawl_runs_table(wh, con)
    return dg.MaterializeResult(
        metadata={
            **counts,
            "build_mode": "full (one row per crawl run)",
            "dagster/row_count": counts["crawl_runs"],
        }
    )


@dg.asset(
    key=["core", "datasets"],
    deps=[hub_datasets],
    group_name="core",
    pool="duckdb",
    kinds={"duckdb"},
    description="One row per dataset repo named by a model card: whether it exists, its licence as "
    "declared, gating and card presence (latest capture).",
)
def datasets(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource
) -> dg.MaterializeResult:
    """Load the latest dataset captures into core.datasets (when new captures arrived)."""
    wh = warehouse.get()
    with wh.connect() as con:
        result = update_datasets(wh, con, full=build.full_rebuild)
    return dg.MaterializeResult(
        metadata={
            "build_mode": result["mode"],
            "datasets": result["datasets"],
            "datasets_found": result["datasets_found"],
            "datasets_changed": result["datasets_changed"],
            "dagster/row_count": result["datasets"],
        }
    )


@dg.asset(
    key=["core", "papers"],
    deps=[papers_raw, revisions, releases],
    group_name="core",
    pool="duckdb",
    kinds={"duckdb", "polars"},
    description="One row per cited arXiv paper (title, authors, dates, DOI, journal ref, code links, "
    "peer-reviewed or preprint); also core.release_papers: one row per (release, cited paper) with the "
    "first and last revision that cite it and whether a tag or a card link did.",
)
def papers(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource
) -> dg.MaterializeResult:
    """Build core.papers (when new paper captures arrived) and core.release_papers (for the touched repos)."""
    wh = warehouse.get()
    with wh.connect() as con:
        result = update_release_papers(wh, con, full=build.full_rebuild)
    meta = {
        "build_mode": result["release_papers_mode"],
        "papers": result["papers"],
        "papers_found": result["papers_found"],
        "release_papers": result["release_papers"],
        "papers_changed": result.get("papers_changed", 0),
        "dagster/row_count": result["papers"],
    }
    if result["touched_repos"] is not None:
        meta["touched_repos"] = result["touched_repos"]
    return dg.MaterializeResult(metadata=meta)


SCORED = ["licenses", "disclosures", "openness", "transitions", "derivatives"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["core", "licenses"],
            deps=[revisions],
            group_name="core",
            kinds={"duckdb"},
            description="One row per licence identifier of the catalogue (Hub ids and common license_name "
            "values): SPDX id, family, OSI approval, commercial use, MOT openness and the source.",
        ),
        dg.AssetSpec(
            ["core", "disclosures"],
            deps=[revisions, datasets, papers],
            group_name="core",
            kinds={"duckdb", "polars"},
            description="One row per revision and Model Openness Framework component (17): included?, "
            "licence, open?, the evidence (field or file, value, URL) and the method.",
        ),
        dg.AssetSpec(
            ["core", "openness"],
            deps=[revisions, datasets, papers],
            group_name="core",
            kinds={"duckdb", "polars"},
            description="One row per revision: MOF class and progress, the European Open Source AI Index "
            "criteria and score, the OSAID verdict, Solaiman's release level, the spectrum level 0-5, the "
            "licence family and rubric version, with evidence, as validity intervals (valid_from, valid_to).",
        ),
        dg.AssetSpec(
            ["core", "transitions"],
            deps=[revisions, datasets, papers],
            group_name="core",
            kinds={"duckdb", "polars"},
            description="One row per change of a tracked dimension between consecutive revisions of a "
            "repo: date, before, after, direction (opening, closing, lateral), commits and evidence URL; "
            "changes undone within 24 hours are flagged short-lived.",
        ),
        dg.AssetSpec(
            ["core", "derivatives"],
            deps=[revisions],
            group_name="core",
            kinds={"duckdb"},
            description="One row per (derivative, named base model): both licences and whether the "
            "derivative declares a more permissive licence family than its base.",
        ),
    ],
    pool="duckdb",
)
def scored_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Score the revisions whose inputs changed (all of them after a rubric change) and rebuild their history."""
    wh = warehouse.get()
    with wh.connect() as con:
        result = update_scores(wh, con, full=build.full_rebuild)
        rows = table_counts(con, [f"core.{t}" for t in SCORED])
    why = {k: v for k, v in result.items() if k.startswith("rescored_") and k != "rescored_repos"}
    for table in SCORED:
        yield dg.MaterializeResult(
            asset_key=["core", table],
            metadata={
                **_mode(result),
                "dagster/row_count": rows[f"core.{table}"],
                "rubric_version": result["rubric_version"],
                "why_rescored": dg.MetadataValue.json(why),
            },
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["marts", "monthly_openness"],
            deps=[["core", "openness"], releases],
            group_name="marts",
            kinds={"duckdb", "sql"},
            description="One row per month, breakdown (all, organisation, modality, base-model family), "
            "group, metric (spectrum level, licence family, MOF class) and value: releases at that value at "
            "the month's end, and their mean OSAI score.",
        ),
        dg.AssetSpec(
            ["marts", "monthly_transitions"],
            deps=[["core", "transitions"]],
            group_name="marts",
            kinds={"duckdb", "sql"},
            description="One row per month, dimension and direction: opening, closing and lateral "
            "transitions, short-lived ones counted apart.",
        ),
    ],
    pool="duckdb",
)
def monthly_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Update the monthly timelines: monthly_openness by difference for the changed repos (the same rows as
    sql/marts/monthly_openness.sql), monthly_transitions with its SQL."""
    wh = warehouse.get()
    with wh.connect() as con:
        result = update_marts(wh, con, full=build.full_rebuild)
        chart = spectrum_chart(con)
    for name in ("monthly_openness", "monthly_transitions"):
        meta: dict = {
            "dagster/row_count": result[name],
            **(_mode(result) if name == "monthly_openness" else {"build_mode": "sql over core.transitions"}),
        }
        if (
            name == "monthly_openness"
        ):  # the spectrum over time, as a Vega-Lite spec (open it in any Vega viewer)
            meta["spectrum_over_time"] = dg.MetadataValue.json(chart)
        yield dg.MaterializeResult(asset_key=["marts", name], metadata=meta)
