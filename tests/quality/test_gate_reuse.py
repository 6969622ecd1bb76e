"""Through Dagster: after the build job and its blocking checks, the publish gate reuses every suite's pass by
file (the working file untouched since the checks recorded them), reading no row of any table."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest

from assets.definitions import defs
from pipelines.hub.step import run_crawl
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.small_mirror import make_small_mirror

pytestmark = pytest.mark.slow

ENVIRONMENT = {
    "OPENNESS_HUB_ENDPOINT": "http://127.0.0.1:9",
    "OPENNESS_HUB_REPLAY": "true",
    "OPENNESS_HUB_RATE_LIMIT": "false",
    "OPENNESS_ARXIV_ENDPOINT": "http://127.0.0.1:9",
    "OPENNESS_HUB_SCOPE_FILE": "",
    "OPENNESS_PUBLISH_TARGETS": "",
}


def test_the_publish_gate_reuses_every_check_of_the_build_by_file(tmp_path, monkeypatch):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(make_small_mirror(tmp_path / "mirror")) as srv:
        run_crawl(wh, settings(srv.url), "2024-03-06", now=datetime(2026, 1, 1, tzinfo=UTC))
    monkeypatch.setenv("OPENNESS_WAREHOUSE", str(wh.root))
    for key, value in ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    with dg.DagsterInstance.ephemeral() as instance:
        build = defs.resolve_job_def("build_tables").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert build.success
        checked = {
            e.event_specific_data.check_name
            for e in build.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.passed
        }
        published = defs.resolve_job_def("publish_snapshot").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert published.success
    version = (wh.snapshots / "LATEST").read_text().strip()
    suites = json.loads((wh.snapshots / version / "manifest.json").read_text())["checks"]["suites"]
    assert {f"{t}_suite" for t in suites} <= checked  # the build checked every suite the gate runs
    how = {t: s["reused_by"] for t, s in suites.items() if s["present"]}
    assert len(how) >= 20, how  # the core tables and the marts, built from the mirror
    assert how == dict.fromkeys(how, "file"), how
    # The records name the working file as the publish job found it.
    for table in how:
        record = json.loads((wh.quality / f"{table}.json").read_text())
        assert record["file"]["path"] == str(wh.work_db), table
