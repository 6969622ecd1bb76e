"""Publish-layer assets: the versioned Parquet snapshot and the serving DuckDB file."""

import json

import dagster as dg

from assets.resources import PublishResource, WarehouseResource
from pipelines.publish.publish import PublishBlocked, describe_progress, publish
from pipelines.publish.targets import publish_to
from pipelines.tables import TABLES


@dg.asset(
    key=["publish", "snapshot"],
    deps=[dg.AssetKey(t.asset_key) for t in TABLES if t.layer == "core"],
    group_name="publish",
    pool="duckdb",
    kinds={"parquet", "duckdb"},
    description="A new immutable snapshot version under warehouse/snapshots/<version>/: one zstd Parquet "
    "file per public table and manifest.json with row counts and sha256; then the serving file "
    "warehouse/openness.duckdb is replaced atomically (its meta.serving row names the version), and LATEST "
    "moves last. Temporary files a killed publish left are removed first. Runs only after the blocking "
    "checks pass.",
)
def snapshot(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, publishing: PublishResource
) -> dg.MaterializeResult:
    """Publish a snapshot of the public tables, then copy it to the configured targets."""
    wh = warehouse.get()
    try:
        with wh.connect() as con:
            folder = publish(
                wh,
                con,
                override=publishing.override(),
                reuse_checks=not publishing.revalidate,
                progress=lambda event, detail: context.log.info(describe_progress(event, detail)),
            )
    except PublishBlocked as blocked:
        # The run fails and the UI shows why; set the `gate_override` config (with a reason) to overrule a gate.
        raise dg.Failure(
            description=str(blocked),
            metadata={
                "quality_report": dg.MetadataValue.md(blocked.report),
                "checks": dg.MetadataValue.json(blocked.checks),
            },
        ) from None
    token, options = publishing.credentials()
    copies = [
        publish_to(folder, target, token=token, storage_options=options)
        for target in publishing.target_list()
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    return dg.MaterializeResult(
        metadata={
            "version": manifest["version"],
            "path": dg.MetadataValue.path(str(folder)),
            "rows": dg.MetadataValue.json({k: v["rows"] for k, v in manifest["tables"].items()}),
            "crawl_window": dg.MetadataValue.json(manifest["crawl_window"]),
            "copies": dg.MetadataValue.json(copies),
            "quality_report": dg.MetadataValue.md((folder / "QUALITY.md").read_text()),
            "report": dg.MetadataValue.path(str(folder / "report.html")),
            "gates": dg.MetadataValue.json(manifest["checks"]["gates"]),
        }
    )
