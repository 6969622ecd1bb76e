"""The publish asset copies each new snapshot to the configured targets (a loopback S3 server here)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import dagster as dg
import fsspec

from assets.definitions import defs
from pipelines.hub.step import run_crawl
from pipelines.mirror.server import MirrorServer
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.small_mirror import make_small_mirror


def test_snapshot_asset_publishes_to_s3(tmp_path, s3_bucket, monkeypatch):
    bucket, options = s3_bucket
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(make_small_mirror(tmp_path / "mirror")) as srv:
        run_crawl(wh, settings(srv.url), "2024-03-06", now=datetime(2026, 1, 1, tzinfo=UTC))
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
        run_step("crawl_runs", wh, con, full=True)
    monkeypatch.setenv("OPENNESS_WAREHOUSE", str(wh.root))
    monkeypatch.setenv("OPENNESS_PUBLISH_TARGETS", f"s3://{bucket}/openness")
    monkeypatch.setenv("OPENNESS_STORAGE_OPTIONS", json.dumps(options))
    for key in (
        "OPENNESS_HUB_ENDPOINT",
        "OPENNESS_HUB_REPLAY",
        "OPENNESS_HUB_RATE_LIMIT",
        "OPENNESS_ARXIV_ENDPOINT",
        "OPENNESS_HUB_SCOPE_FILE",
    ):
        monkeypatch.setenv(key, os.environ.get(key, "false" if "REPLAY" in key or "LIMIT" in key else ""))
    result = (
        defs.resolve_implicit_global_asset_job_def()
        .get_subset(asset_selection={dg.AssetKey(["publish", "snapshot"])})
        .execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=True)
    )
    (mat,) = result.asset_materializations_for_node("publish__snapshot")
    version = mat.metadata["version"].value
    fs = fsspec.filesystem("s3", **options)
    assert fs.cat(f"{bucket}/openness/LATEST").decode().strip() == version
    local = json.loads((wh.snapshots / version / "manifest.json").read_text())
    remote = json.loads(fs.cat(f"{bucket}/openness/{version}/manifest.json"))
    assert remote["tables"] == local["tables"]
    assert mat.metadata["copies"].value == [f"s3://{bucket}/openness/{version}"]
