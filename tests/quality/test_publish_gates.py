"""Through Dagster: a failed snapshot gate blocks publishing and says why; a recorded override publishes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest

from assets.definitions import defs
from pipelines.hub.step import run_crawl
from pipelines.mirror.server import MirrorServer
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.small_mirror import make_small_mirror


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(make_small_mirror(tmp_path / "mirror")) as srv:
        run_crawl(wh, settings(srv.url), "2024-03-06", now=datetime(2026, 1, 1, tzinfo=UTC))
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
        run_step("crawl_runs", wh, con, full=True)
    for key, value in {
        "OPENNESS_WAREHOUSE": str(wh.root),
        "OPENNESS_HUB_ENDPOINT": "http://127.0.0.1:9",
        "OPENNESS_HUB_REPLAY": "true",
        "OPENNESS_HUB_RATE_LIMIT": "false",
        "OPENNESS_ARXIV_ENDPOINT": "http://127.0.0.1:9",
        "OPENNESS_HUB_SCOPE_FILE": "",
        "OPENNESS_PUBLISH_TARGETS": "",
    }.items():
        monkeypatch.setenv(key, value)
    return wh


def _publish(instance, run_config=None):
    return defs.resolve_job_def("publish_snapshot").execute_in_process(
        instance=instance, raise_on_error=False, run_config=run_config or {}
    )


def _versions(wh: Warehouse) -> list[str]:
    return sorted(p.name for p in wh.snapshots.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_a_collapsed_release_count_blocks_publishing_until_overridden(warehouse):
    with dg.DagsterInstance.ephemeral() as instance:
        assert _publish(instance).success
        first = _versions(warehouse)
        with duckdb.connect(str(warehouse.work_db)) as con:  # half the releases vanish
            con.execute("DELETE FROM core.releases WHERE repo_id LIKE 'acme/%'")
            con.execute("DELETE FROM core.revisions WHERE repo_id LIKE 'acme/%'")
            con.execute("DELETE FROM core.release_metrics WHERE repo_id LIKE 'acme/%'")
            con.execute("DELETE FROM core.reconstructions WHERE repo_id LIKE 'acme/%'")
        blocked = _publish(instance)
        assert not blocked.success
        (failure,) = [e for e in blocked.all_events if e.event_type_value == "STEP_FAILURE"]
        assert "release_drop" in str(failure.event_specific_data.error)
        assert _versions(warehouse) == first  # nothing published
        assert (warehouse.snapshots / "LATEST").read_text().strip() == first[-1]

        no_reason = json.dumps({"gates": ["release_drop"], "by": "operator"})
        refused = _publish(instance, {"resources": {"publishing": {"config": {"gate_override": no_reason}}}})
        assert not refused.success  # an override without a reason is refused
        (failure,) = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
        assert "reason" in str(failure.event_specific_data.error)
        assert _versions(warehouse) == first
        override = json.dumps(
            {"reason": "two test repos withdrawn on purpose", "by": "operator", "gates": ["release_drop"]}
        )
        released = _publish(instance, {"resources": {"publishing": {"config": {"gate_override": override}}}})
        assert released.success
    latest = _versions(warehouse)[-1]
    manifest = json.loads((warehouse.snapshots / latest / "manifest.json").read_text())
    assert manifest["checks"]["gates"]["override"]["reason"] == "two test repos withdrawn on purpose"
    assert "two test repos withdrawn on purpose" in (warehouse.snapshots / latest / "QUALITY.md").read_text()
