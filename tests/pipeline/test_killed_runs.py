"""A SIGKILLed `openness demo` never blocks the next: kill a real run in each phase, then run it to the end.

The runs are real subprocesses on the small mirror (two crawl dates), each killed in one phase: a crawl
step (pool `hub`), a build step (pool `duckdb`), the snapshot write and the serving copy. The next run must
fail the dead runs, free their slots, complete within a bound and publish a sound result: LATEST verifies,
the serving database answers, no duplicate keys, and the bookkeeping equals a fault-free run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.demo import replay_dates
from pipelines.publish.snapshot import verify_snapshot
from tests.conftest import ROOT
from tests.small_mirror import make_small_mirror

pytestmark = pytest.mark.slow

DATES = "2"
# A run of the small mirror takes ~15 s on 2 busy cores; a run waiting for a slot never ends.
BOUND = 150


class Demo:
    """One `openness demo` subprocess whose output lines are collected as they come."""

    def __init__(self, mirror: Path, warehouse: Path, home: Path) -> None:
        env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "assets.cli", "demo", "--mirror", str(mirror)]
        cmd += ["--warehouse", str(warehouse), "--max-dates", DATES]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def kill_when(self, hit: Callable[[], bool], what: str) -> None:
        """SIGKILL the run as soon as `hit()` holds (polled every millisecond); fail if it never does."""
        deadline = time.monotonic() + BOUND
        while not hit():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(
                    f"the run never reached {what} (exit {self.proc.returncode}):\n{self.output[-4000:]}"
                )
            time.sleep(0.001)
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.reader.join(10)

    def finish(self) -> str:
        """Wait for the run to end by itself within BOUND seconds; returns its output."""
        try:
            self.proc.wait(BOUND)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.reader.join(10)
            pytest.fail(f"the run did not end within {BOUND} s (waiting for a slot?):\n{self.output[-4000:]}")
        self.reader.join(10)
        assert self.proc.returncode == 0, self.output[-4000:]
        return self.output


def _line(demo: Demo, *parts: str) -> Callable[[], bool]:
    return lambda: any(all(p in line for p in parts) for line in list(demo.lines))


def _all(*hits: Callable[[], bool]) -> Callable[[], bool]:
    return lambda: all(hit() for hit in hits)


class Slots:
    """Whether a step holds a pool's concurrency slot, read from the instance the demo runs on."""

    def __init__(self, home: Path) -> None:
        self.home, self.instance = home, None

    def held(self, pool: str) -> Callable[[], bool]:
        def hit() -> bool:
            if self.instance is None:
                if not (self.home / "dagster.yaml").is_file():
                    return False
                self.instance = dg.DagsterInstance.from_config(str(self.home))
            return bool(self.instance.event_log_storage.get_concurrency_info(pool).claimed_slots)

        return hit

    def close(self) -> None:
        if self.instance is not None:
            self.instance.dispose()


def _file(folder: Path, pattern: str) -> Callable[[], bool]:
    return lambda: folder.is_dir() and any(folder.glob(pattern))


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    """What must equal a fault-free run: the keys of the core tables and the bookkeeping counts."""
    with duckdb.connect(str(warehouse / "openness.duckdb"), read_only=True) as con:

        def rows(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        return {
            "releases": rows(
                "SELECT repo_id, latest_revision, first_seen, last_seen FROM core.releases ORDER BY ALL"
            ),
            "revisions": rows("SELECT repo_id, revision, license_raw FROM core.revisions ORDER BY ALL"),
            "repo_presence": rows(
                "SELECT repo_id, crawl_date, present, how FROM core.repo_presence ORDER BY ALL"
            ),
            "counts": [
                (f"{schema}.{table}", *con.execute(f'SELECT count(*) FROM {schema}."{table}"').fetchone())  # noqa: S608
                for schema, table in rows(
                    "SELECT schema_name, table_name FROM duckdb_tables() "
                    "WHERE schema_name IN ('core', 'marts') ORDER BY ALL"
                )
            ],
            "crawl_runs": rows(
                "SELECT crawl_date, scope, count(*) FROM core.crawl_runs GROUP BY ALL ORDER BY ALL"
            ),
            "duplicate_revisions": rows(
                "SELECT repo_id, revision FROM core.revisions GROUP BY ALL HAVING count(*) > 1"
            ),
            "duplicate_releases": rows("SELECT repo_id FROM core.releases GROUP BY ALL HAVING count(*) > 1"),
        }


def _raw_commit_lists(warehouse: Path) -> list[tuple]:
    """Every commit list in the raw layer, with how many times it was captured on its crawl date."""
    glob = str(warehouse / "raw" / "hub_commits" / "crawl_date=*" / "*.parquet")
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT regexp_extract(filename, 'crawl_date=([0-9-]+)', 1) AS d, repo_id, status, count(*) "  # noqa: S608
            f"FROM read_parquet('{glob}', filename = true) GROUP BY ALL ORDER BY ALL"
        ).fetchall()


def test_a_run_killed_in_any_phase_never_blocks_the_next(tmp_path):
    mirror = make_small_mirror(tmp_path / "mirror")
    wh, home = tmp_path / "wh", tmp_path / "home"
    # A fault-free run of the same dates, beside the killed ones (a demo keeps about one core busy).
    clean = Demo(mirror, tmp_path / "clean" / "wh", tmp_path / "clean" / "home")

    last = replay_dates(mirror, int(DATES))[-1]
    slots = Slots(home)
    first = Demo(mirror, wh, home)
    # In the history walk of the last date (a shard's commit lists are saved, the hub slot is held): the
    # rerun replays the first date with the last one listed.
    walked = _file(wh / "raw" / "hub_commits" / f"crawl_date={last}", "*.parquet")
    first.kill_when(
        _all(_line(first, f"[{DATES}/{DATES}] crawl date"), walked, slots.held("hub")), "a crawl step"
    )
    second = Demo(mirror, wh, home)
    second.kill_when(_all(_line(second, "build and check the tables"), slots.held("duckdb")), "a build step")
    third = Demo(mirror, wh, home)
    third.kill_when(_file(wh / "snapshots", ".tmp-*"), "the snapshot write")
    fourth = Demo(mirror, wh, home)
    fourth.kill_when(_file(wh, ".openness.duckdb.*.tmp"), "the serving copy")
    slots.close()
    started = time.monotonic()
    out = Demo(mirror, wh, home).finish()
    assert time.monotonic() - started < BOUND

    # Each rerun failed the run of the process killed before it, and said so.
    for run, job in ((second, "daily_shards"), (third, "build_tables"), (fourth, "publish_snapshot")):
        gone = [line for line in run.lines if "was left STARTED by a process that is gone" in line]
        assert gone and all(f"({job}" in line and "marked failed, slots freed" in line for line in gone), (
            run.output
        )
    gone = [line for line in out.splitlines() if "was left STARTED by a process that is gone" in line]
    assert gone and all("(publish_snapshot" in line for line in gone), out
    with dg.DagsterInstance.from_config(str(home)) as instance:
        stuck = instance.get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
        )
        assert not stuck
        assert not instance.event_log_storage.get_concurrency_run_ids()
        assert instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))

    latest = (wh / "snapshots" / "LATEST").read_text().strip()
    verify_snapshot(wh / "snapshots" / latest)

    # The same tables and the same bookkeeping as the fault-free run.
    clean.finish()
    killed, expected = _tables(wh), _tables(tmp_path / "clean" / "wh")
    assert not killed["duplicate_revisions"] and not killed["duplicate_releases"]
    for name in ("releases", "revisions", "repo_presence", "crawl_runs", "counts"):
        assert killed[name] == expected[name], name
    assert all(n == 1 for *_, n in _raw_commit_lists(wh)), _raw_commit_lists(wh)
