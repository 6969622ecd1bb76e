"""Runs left behind by a process that is gone: find them, mark them failed and free their concurrency slots.

A run executed in process (`openness demo`) has no run worker for Dagster to watch: when its process is
killed (SIGKILL, OOM, a reboot) the run stays STARTED and keeps the op concurrency slot of the step it was
in (pools `hub`, `arxiv` and `duckdb` hold one slot each), so the next run that needs that pool waits for
ever. Marking the run failed does not give the slot back; only `free_concurrency_slots_for_run` does.

Every run the CLI launches carries the tags of its process (`process_tags`): host, pid and the pid's
start time (so a recycled pid is not mistaken for the run's process). A run launched by the daemon's
run launcher records its worker's pid in its "Started process for run (pid: N)" engine event. `sweep_dead_runs`
reads both; `openness demo`, `openness ui` and the `free_slots_of_dead_runs` sensor call it.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
from dagster._core.events import JobFailureData, RunFailureReason

HOST_TAG = "openness/host"
PID_TAG = "openness/pid"
PID_START_TAG = "openness/pid_start"
# Runs that a live process would be executing (a killed one stays in one of these for ever).
ACTIVE = (
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
_WORKER_PID = re.compile(r"^Started process for run \(pid: (\d+)\)")


def _pid_start(pid: int) -> str | None:
    """When the process started (clock ticks since boot, from /proc; None where /proc is absent)."""
    try:
        stat = open(f"/proc/{pid}/stat", encoding="ascii").read()  # noqa: SIM115 - one short read
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def process_tags() -> dict[str, str]:
    """Tags naming this process (host, pid, pid start time), for the runs it executes in process."""
    pid = os.getpid()
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(pid)}
    start = _pid_start(pid)
    if start is not None:
        tags[PID_START_TAG] = start
    return tags


def process_alive(pid: int, start: str | None = None) -> bool:
    """Whether process `pid` of this host exists (and, when `start` is given, is the one started then)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    if start is not None:
        now = _pid_start(pid)
        if now is not None and now != start:
            return False  # the pid was recycled by another process
    return True


@dataclass(frozen=True)
class SweptRun:
    """A run the sweep acted on, and what it did."""

    run_id: str
    job_name: str
    partition: str | None
    action: str  # "failed" (a dead run marked failed, its slots freed) | "freed" (a finished run's slots)

    def line(self) -> str:
        """The one log line of this run."""
        where = f"{self.job_name}, {self.partition}" if self.partition else self.job_name
        if self.action == "failed":
            return (
                f"run {self.run_id} ({where}) was left STARTED by a process that is gone: marked failed, "
                "slots freed"
            )
        return f"run {self.run_id} ({where}) had ended but still held concurrency slots: slots freed"


def _worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The run worker's pid from the run's "Started process for run (pid: N)" engine event, if any."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50).records
    for record in records:
        match = _WORKER_PID.match(record.event_log_entry.message or "")
        if match:
            return int(match.group(1))
    return None


def _local_launcher(instance: dg.DagsterInstance) -> bool:
    """Whether the instance launches run workers as local processes (so their pids are this host's)."""
    from dagster._core.launcher import DefaultRunLauncher

    return isinstance(instance.run_launcher, DefaultRunLauncher)


def _is_dead(instance: dg.DagsterInstance, run: dg.DagsterRun, host: str) -> bool:
    """Whether the process that executes `run` is known to be gone (unknown: alive)."""
    if PID_TAG in run.tags:
        if run.tags.get(HOST_TAG) != host:
            return False  # another machine's process: not ours to judge
        pid = run.tags[PID_TAG]
        return pid.isdigit() and not process_alive(int(pid), run.tags.get(PID_START_TAG))
    if run.status == dg.DagsterRunStatus.NOT_STARTED or not _local_launcher(instance):
        return False  # queued or launched elsewhere: the run monitoring of the daemon watches it
    pid = _worker_pid(instance, run.run_id)
    return pid is not None and not process_alive(pid)


def sweep_dead_runs(
    instance: dg.DagsterInstance, log: Callable[[str], None] | None = print
) -> list[SweptRun]:
    """Mark failed every active run whose process is gone and free its concurrency slots; free the slots
    still held by runs that have ended. Logs one line per run; returns what it did."""
    host = socket.gethostname()
    swept: list[SweptRun] = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(ACTIVE))):
        if not _is_dead(instance, run, host):
            continue
        partition = run.tags.get("dagster/partition")
        # UNEXPECTED_TERMINATION, not a step failure: the run retries of dagster.yaml (crashed runs only)
        # request it again when it was launched by the daemon.
        instance.report_run_failed(
            run,
            message=f"The process that executed this run ({_who(run)}) is gone: marked failed.",
            job_failure_data=JobFailureData(
                error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION
            ),
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        swept.append(SweptRun(run.run_id, run.job_name, partition, "failed"))
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holding = storage.get_concurrency_run_ids()
        if holding:
            for run in instance.get_runs(
                filters=dg.RunsFilter(run_ids=sorted(holding), statuses=list(FINISHED))
            ):
                storage.free_concurrency_slots_for_run(run.run_id)
                swept.append(SweptRun(run.run_id, run.job_name, run.tags.get("dagster/partition"), "freed"))
    if log is not None:
        for item in swept:
            log(item.line())
    return swept


def _who(run: dg.DagsterRun) -> str:
    if PID_TAG in run.tags:
        return f"pid {run.tags[PID_TAG]} on {run.tags.get(HOST_TAG)}"
    return "its run worker"
