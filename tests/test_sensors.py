"""The publish sensor asks for a snapshot only after a build whose blocking checks all passed."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import duckdb
import pytest

from assets.definitions import defs
from pipelines.hub.step import run_crawl
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.small_mirror import make_small_mirror


@pytest.fixture
def crawled(tmp_path, monkeypatch):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(make_small_mirror(tmp_path / "mirror")) as srv:
        run_crawl(wh, settings(srv.url), "2024-03-06", now=datetime(2026, 1, 1, tzinfo=UTC))
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


def _tick(context):
    """One tick of the publish sensor; the context carries its cursor from tick to tick, as the daemon does."""
    sensor = defs.resolve_sensor_def("publish_after_checks")
    return sensor.evaluate_tick(context)


def test_no_publish_before_a_successful_build_and_one_after(crawled):
    with dg.DagsterInstance.ephemeral() as instance:
        ticks = dg.build_sensor_context(instance=instance, definitions=defs)
        assert not _tick(ticks).run_requests
        build = defs.resolve_job_def("build_tables").execute_in_process(instance=instance)
        assert build.success and all(e.passed for e in build.get_asset_check_evaluations())
        (request,) = _tick(ticks).run_requests
        assert request.tags["openness/build_run"] == build.run_id


def test_a_failed_blocking_check_blocks_the_publish(crawled):
    with dg.DagsterInstance.ephemeral() as instance:
        defs.resolve_job_def("build_tables").execute_in_process(instance=instance)
        _tick_context = dg.build_sensor_context(instance=instance, definitions=defs)
        sensor = defs.resolve_sensor_def("publish_after_checks")
        sensor.evaluate_tick(_tick_context)  # the sensor's first tick: it watches the runs that end after it
        cursor = _tick_context.cursor
        # A defect the revisions check must catch: the same revision twice (no primary key on a copy).
        with duckdb.connect(str(crawled.work_db)) as con:
            con.execute("CREATE TABLE core.revisions_copy AS SELECT * FROM core.revisions")
            con.execute("INSERT INTO core.revisions_copy SELECT * FROM core.revisions LIMIT 1")
            con.execute("DROP TABLE core.revisions")
            con.execute("ALTER TABLE core.revisions_copy RENAME TO revisions")
        job = defs.resolve_job_def("build_tables").get_subset(
            asset_check_selection={dg.AssetCheckKey(dg.AssetKey(["core", "revisions"]), "revisions_keys")},
            asset_selection=set(),
        )
        failed = job.execute_in_process(instance=instance, raise_on_error=False)
        assert [e.passed for e in failed.get_asset_check_evaluations()] == [False]
        assert not failed.success  # a failing blocking check fails the build run
        result = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, definitions=defs, cursor=cursor)
        )
        assert not result.run_requests


def _materialise(instance, key: dg.AssetKey, partition: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=partition))


def _shard(day: str, shard: int) -> str:
    return str(dg.MultiPartitionKey({"date": day, "shard": str(shard)}))


def test_the_sensors_chain_a_crawl_date_listing_shards_extras_build():
    """listing of a date -> one shards run per (date, shard) -> one extras run once every shard of the date is
    in -> one build run for the dates completed since the last tick; each link fires once."""
    from assets import code, hub, papers
    from assets.partitions import CRAWL_SHARDS

    day = "2024-03-06"
    with dg.DagsterInstance.ephemeral() as instance:
        sensors = {
            name: (
                defs.resolve_sensor_def(name),
                dg.build_sensor_context(instance=instance, definitions=defs),
            )
            for name in ("shards_after_listing", "extras_after_shards", "build_after_crawl")
        }

        def tick(name):
            sensor, context = sensors[name]
            return sensor.job_name, sensor.evaluate_tick(context).run_requests

        assert all(not tick(name)[1] for name in sensors)  # nothing crawled yet
        _materialise(instance, hub.LISTING, day)
        job, requests = tick("shards_after_listing")
        assert job == "daily_shards"
        assert [(r.run_key, str(r.partition_key)) for r in requests] == [
            (f"shards:{day}|{s}", _shard(day, s)) for s in range(CRAWL_SHARDS)
        ]
        assert not tick("shards_after_listing")[1]  # the listing is not followed twice
        assert not tick("extras_after_shards")[1]

        for s in range(CRAWL_SHARDS):
            _materialise(instance, hub.READMES, _shard(day, s))
            if s < CRAWL_SHARDS - 1:
                _materialise(instance, hub.HISTORY, _shard(day, s))
        assert not tick("extras_after_shards")[1]  # one shard's history is missing
        _materialise(instance, hub.HISTORY, _shard(day, CRAWL_SHARDS - 1))
        job, requests = tick("extras_after_shards")
        assert job == "daily_extras"
        assert [(r.run_key, r.partition_key) for r in requests] == [(f"extras:{day}", day)]

        assert not tick("build_after_crawl")[1]
        _materialise(instance, hub.DATASETS, day)
        assert not tick("build_after_crawl")[1]  # the day is complete once its papers are in
        _materialise(instance, papers.PAPERS, day)
        assert not tick("build_after_crawl")[1]  # ... and the code repositories they link
        _materialise(instance, code.CODE, day)
        job, requests = tick("build_after_crawl")
        assert job == "build_tables"
        (request,) = requests
        assert request.run_key.startswith(f"build:{day}:")
        assert not tick("build_after_crawl")[1]

    publish = defs.resolve_sensor_def("publish_after_checks")
    assert isinstance(publish, dg.RunStatusSensorDefinition)
    assert publish.job_name == "publish_snapshot"


def test_two_builds_between_ticks_publish_the_newest_once(crawled):
    with dg.DagsterInstance.ephemeral() as instance:
        ticks = dg.build_sensor_context(instance=instance, definitions=defs)
        assert not _tick(ticks).run_requests
        job = defs.resolve_job_def("build_tables").get_subset(
            asset_selection={dg.AssetKey(["core", "crawl_runs"])}, asset_check_selection=set()
        )
        runs = [job.execute_in_process(instance=instance) for _ in range(2)]
        assert all(r.success for r in runs)
        requests = [r for _ in range(3) for r in _tick(ticks).run_requests]
        assert [r.tags["openness/build_run"] for r in requests] == [runs[1].run_id]
