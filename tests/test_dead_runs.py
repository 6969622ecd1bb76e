"""Runs whose process is gone are failed and their concurrency slots freed (assets/runs.py), by the sweep at
the start of `openness demo` and by the daemon's `free_slots_of_dead_runs` sensor; live runs are left alone."""

from __future__ import annotations

import socket
import subprocess
import uuid

import dagster as dg
import pytest
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import should_retry

from assets.definitions import defs
from assets.environment import prepare_dagster_home
from assets.runs import HOST_TAG, PID_TAG, process_alive, process_tags, sweep_dead_runs


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A real SQLite instance with the project's dagster.yaml (pools of one slot)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = prepare_dagster_home(tmp_path / "home")
    with dg.DagsterInstance.from_config(str(home)) as inst:
        for pool in ("hub", "duckdb", "arxiv"):
            inst.event_log_storage.set_concurrency_slots(pool, 1)
        yield inst


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not process_alive(proc.pid)
    return proc.pid


def _run(instance, status, tags, pool: str | None = None, job: str = "daily_shards") -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name=job, run_id=run_id, status=status, tags=tags))
    if pool:
        claim = instance.event_log_storage.claim_concurrency_slot(pool, run_id, "raw__hub_readmes")
        assert claim.is_claimed
    return run_id


def test_the_sensor_fails_dead_runs_and_frees_their_slots(instance, dead_pid):
    host = socket.gethostname()
    killed = _run(
        instance,
        dg.DagsterRunStatus.STARTED,
        {HOST_TAG: host, PID_TAG: str(dead_pid), "dagster/partition": "2024-03-05|1"},
        pool="hub",
    )
    alive = _run(instance, dg.DagsterRunStatus.STARTED, process_tags(), pool="duckdb", job="build_tables")
    elsewhere = _run(
        instance, dg.DagsterRunStatus.STARTED, {HOST_TAG: "another-host", PID_TAG: str(dead_pid)}
    )
    # A run the daemon launched: its worker's pid is in its engine event, not in a tag.
    worker = _run(instance, dg.DagsterRunStatus.STARTED, {}, pool="arxiv", job="daily_extras")
    instance.report_engine_event(
        f"Started process for run (pid: {dead_pid}).", instance.get_run_by_id(worker)
    )
    # Marked failed by hand, its slot still held.
    ended = _run(instance, dg.DagsterRunStatus.STARTED, {})
    instance.report_run_failed(instance.get_run_by_id(ended))
    instance.event_log_storage.set_concurrency_slots("hub", 2)
    assert instance.event_log_storage.claim_concurrency_slot("hub", ended, "raw__hub_history").is_claimed

    sensor = defs.resolve_sensor_def("free_slots_of_dead_runs")
    result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    assert not result.run_requests
    message = result.skip_message
    assert f"run {killed} (daily_shards, 2024-03-05|1) was left STARTED by a process that is gone" in message
    assert f"run {worker} (daily_extras) was left STARTED by a process that is gone" in message
    assert f"run {ended} (daily_shards) had ended but still held concurrency slots" in message
    status = {r: instance.get_run_by_id(r).status for r in (killed, alive, elsewhere, worker, ended)}
    assert status == {
        killed: dg.DagsterRunStatus.FAILURE,
        alive: dg.DagsterRunStatus.STARTED,
        elsewhere: dg.DagsterRunStatus.STARTED,
        worker: dg.DagsterRunStatus.FAILURE,
        ended: dg.DagsterRunStatus.FAILURE,
    }
    # A crash, not a step failure: the daemon's run retries (dagster.yaml) launch the run again once.
    assert should_retry(instance.get_run_by_id(killed), instance)
    assert should_retry(instance.get_run_by_id(worker), instance)
    assert instance.event_log_storage.get_concurrency_run_ids() == {alive}
    assert instance.event_log_storage.get_concurrency_info("hub").active_slot_count == 0
    # Nothing left to do: the next tick skips quietly and the sweep finds nothing.
    again = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    assert again.skip_message.startswith("no run of a dead process")
    assert sweep_dead_runs(instance, log=None) == []


def test_a_recycled_pid_is_not_the_run_s_process(instance):
    tags = process_tags()
    if "openness/pid_start" not in tags:
        pytest.skip("no /proc: the pid's start time is unknown")
    tags["openness/pid_start"] = str(int(tags["openness/pid_start"]) - 1)  # our pid, another process's start
    run_id = _run(instance, dg.DagsterRunStatus.STARTED, tags, pool="hub")
    (swept,) = sweep_dead_runs(instance, log=None)
    assert swept.run_id == run_id and swept.action == "failed"
