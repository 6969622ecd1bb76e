"""Core and mart assets: one asset per build step, with one asset key per table it writes.

(The steps keep the op names they had as single-table assets, `core__revisions` and so on, so that run
history stays readable across the change.)

The specs (keys, groups, descriptions, what each table reads) come from the table registry
(pipelines/tables.py); each step runs through the one build runner (pipelines/runner.py): incremental by
default, reading only the raw files it has not read yet and rewriting only the rows of the repos they touch,
with the same result as a full rebuild (tests/history/test_incremental.py). Every asset's metadata says
which mode ran (`build_mode`: incremental or full, and why) and how many repos it touched. Run config
`resources: {build: {config: {full_rebuild: true}}}` forces a full rebuild.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from assets.resources import BuildResource, WarehouseResource
from pipelines.history.charts import spectrum_chart
from pipelines.publish.markdown import frame_to_markdown
from pipelines.runner import run_step
from pipelines.storage.warehouse import preview_rows, table_counts
from pipelines.tables import tables_of_step

KINDS = {"revisions": {"duckdb", "polars"}, "releases": {"duckdb", "sql"}, "marts": {"duckdb", "sql"}}


def specs(step: str) -> list[dg.AssetSpec]:
    """The asset specs of the tables one build step writes, as the registry declares them."""
    own = {t.name for t in tables_of_step(step)}
    return [
        dg.AssetSpec(
            t.asset_key,
            deps=[dg.AssetKey(r.split(".")) for r in t.reads if r not in own],
            group_name=t.layer,
            kinds=KINDS.get(step, {"duckdb", "polars"}),
            description=t.description,
        )
        for t in tables_of_step(step)
    ]


def _mode(result: dict) -> dict:
    """The metadata every core asset carries: which build mode ran, why, how many repos it touched."""
    out: dict = {"build_mode": result.get("mode", "incremental")}
    if result.get("reason"):
        out["full_rebuild_reason"] = result["reason"]
    for key in ("touched_repos", "rescored_repos"):
        if result.get(key) is not None:
            out["touched_repos"] = result[key]
    return out


def _preview(con, table: str, columns: list[str], order: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame_to_markdown(preview_rows(con, table, columns, order)))


def _extra(step: str, con: Any, result: dict) -> dict[str, dict]:
    """Per table of a step, what its materialisation shows beyond the mode and row count."""
    if step == "revisions":
        repos = con.execute("SELECT count(DISTINCT repo_id) FROM core.revisions").fetchall()[0][0]
        columns = ["repo_id", "revision", "committed_at", "license_raw", "gated", "has_weights"]
        return {
            "core.revisions": {
                "repos": repos,
                "new_raw_files": result["new_files"],
                "captures_parsed": result["parsed"],
                "seconds": result["seconds"],
                "preview": _preview(con, "core.revisions", columns, "committed_at"),
            }
        }
    if step == "releases":
        columns = ["repo_id", "created_at", "pipeline_tag", "modality", "revision_count"]
        return {"core.releases": {"preview": _preview(con, "core.releases", columns, "repo_id")}}
    if step == "datasets":
        keep = ("datasets_found", "datasets_changed")
        return {"core.datasets": {k: result[k] for k in keep}}
    if step == "papers":
        keep = {k: result.get(k, 0) for k in ("papers_found", "papers_changed")}
        return {"core.papers": keep, "core.release_papers": {"build_mode": result["release_papers_mode"]}}
    if step == "scores":
        why = {k: v for k, v in result.items() if k.startswith("rescored_") and k != "rescored_repos"}
        meta = {"rubric_version": result["rubric_version"], "why_rescored": dg.MetadataValue.json(why)}
        return {t.name: meta for t in tables_of_step(step)}
    if step == "marts":
        # The spectrum over time, as a Vega-Lite spec (open it in any Vega viewer).
        return {
            "marts.monthly_openness": {"spectrum_over_time": dg.MetadataValue.json(spectrum_chart(con))},
            "marts.monthly_transitions": {"build_mode": "sql over core.transitions"},
        }
    return {}


def build_step(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource, step: str
) -> Iterator[dg.MaterializeResult]:
    """Run one build step and report each table it wrote: mode, row count and the step's own figures."""
    wh = warehouse.get()
    options = {"progress": context.log.info} if step in ("revisions", "scores") else {}
    with wh.connect() as con:
        result = run_step(step, wh, con, full=build.full_rebuild, **options)
        counts = table_counts(con, [t.name for t in tables_of_step(step)])
        extra = _extra(step, con, result)
    for t in tables_of_step(step):
        yield dg.MaterializeResult(
            asset_key=t.asset_key,
            metadata={
                **_mode(result),
                t.short: counts[t.name],
                "dagster/row_count": counts[t.name],
                **extra.get(t.name, {}),
            },
        )


@dg.multi_asset(name="core__revisions", specs=specs("revisions"), pool="duckdb")
def revisions(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Normalise the raw captures not read yet into core.revisions and core.quarantine."""
    yield from build_step(context, warehouse, build, "revisions")


@dg.multi_asset(name="core__releases", specs=specs("releases"), pool="duckdb")
def releases(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Derive core.releases (sql/core/releases.sql) and core.repo_presence for the repos that changed."""
    yield from build_step(context, warehouse, build, "releases")


@dg.multi_asset(name="core__crawl_runs", specs=specs("crawl_runs"), pool="duckdb")
def crawl_runs(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Load the crawl accounts into core.crawl_runs."""
    yield from build_step(context, warehouse, build, "crawl_runs")


@dg.multi_asset(name="core__datasets", specs=specs("datasets"), pool="duckdb")
def datasets(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Load the latest dataset captures into core.datasets (when new captures arrived)."""
    yield from build_step(context, warehouse, build, "datasets")


@dg.multi_asset(name="core__papers", specs=specs("papers"), pool="duckdb")
def papers(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Build core.papers (when new paper captures arrived) and core.release_papers (for the touched repos)."""
    yield from build_step(context, warehouse, build, "papers")


@dg.multi_asset(name="code_tables", specs=specs("code"), pool="duckdb")
def code_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Identify the licence files not identified yet and rebuild the code repositories' tables and the
    releases' links to them."""
    yield from build_step(context, warehouse, build, "code")


@dg.multi_asset(name="scored_tables", specs=specs("scores"), pool="duckdb")
def scored_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Score the revisions whose inputs changed (all of them after a rubric change) and rebuild their history."""
    yield from build_step(context, warehouse, build, "scores")


@dg.multi_asset(name="monthly_marts", specs=specs("marts"), pool="duckdb")
def monthly_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource, build: BuildResource):
    """Update the monthly timelines: monthly_openness by difference for the changed repos, monthly_transitions
    with its SQL."""
    yield from build_step(context, warehouse, build, "marts")
