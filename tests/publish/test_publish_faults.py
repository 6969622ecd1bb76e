"""A publish killed or out of space at any step: LATEST and the serving file still agree, and the next
publish removes every temporary file it left and keeps every complete version.

The faults are real and happen in a child process: the kernel's file-size limit (RLIMIT_FSIZE) makes a write
fail with EFBIG, as a full disk fails with ENOSPC, or kills the writer with SIGXFSZ in the middle of its
write; or the child SIGKILLs itself. The child sets the fault from the publish's progress callback, the one
seam, at the step named (pipelines/publish/publish.py, `Progress`).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.cleanup import stale_temporaries
from pipelines.publish.publish import publish_version, recover
from pipelines.publish.snapshot import published_versions, read_latest, verify_snapshot
from pipelines.storage.warehouse import Warehouse, migrate
from tests.conftest import ROOT
from tests.publish.conftest import TRANSITIONS_DDL, add_crawl, add_release

FIRST, SECOND = "2024-03-01.1", "2024-03-02.1"

CHILD = """
import os, resource, signal, sys
from pathlib import Path
from pipelines.publish.publish import publish_version, recover
from pipelines.storage.warehouse import Warehouse

root, at, fault, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def progress(event, detail):
    if event != at:
        return
    if fault == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    # "efbig": the write fails with an OSError, as on a full disk (Python ignores SIGXFSZ by default);
    # "xfsz": the kernel kills the process with SIGXFSZ in the middle of the write that crosses the limit.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL if fault == "xfsz" else signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

wh = Warehouse(Path(root))
with wh.connect() as con:
    publish_version(wh, con, "2024-03-02", progress=progress)
"""


def temporaries(wh: Warehouse) -> list[str]:
    """Every hidden temporary a publish writes, whoever wrote it."""
    found = [
        *wh.root.glob(".openness.duckdb.*"),
        *wh.snapshots.glob(".tmp-*"),
        *wh.snapshots.glob(".LATEST.*"),
    ]
    return sorted(p.name for p in found)


@pytest.fixture
def published(tmp_path: Path) -> Warehouse:
    """A warehouse with one published version (2024-03-01.1) and a new release not yet published."""
    wh = Warehouse(tmp_path / "wh")
    wh.root.mkdir()
    with duckdb.connect(str(wh.work_db)) as con:
        migrate(con)
        con.execute(TRANSITIONS_DDL)
        for repo in ("acme/alpha", "acme/beta", "zeta/gamma"):
            add_release(con, repo, "2024-03-01")
        add_crawl(con, "2024-03-01")
        publish_version(wh, con, "2024-03-01")
        add_release(con, "new/delta", "2024-03-02")
        add_crawl(con, "2024-03-02")
    assert read_latest(wh.snapshots) == wh.serving_version() == FIRST
    return wh


def run_child(wh: Warehouse, at: str, fault: str, limit: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(wh.root), at, fault, str(limit)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def publish_again(wh: Warehouse, progress=None) -> Path:
    """The next publish, in this process."""
    with wh.connect() as con:
        return publish_version(wh, con, "2024-03-02", progress=progress)


def releases_served(wh: Warehouse) -> int:
    with duckdb.connect(str(wh.serving_db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM core.releases").fetchone()[0]


@pytest.mark.parametrize(
    ("at", "fault", "limit", "returncode", "left"),
    [
        # SIGXFSZ in the middle of a Parquet file: a partial version folder is left.
        ("writing", "xfsz", 1024, -signal.SIGXFSZ, [".tmp-2024-03-02.1-"]),
        # A Parquet file cannot be written (EFBIG): the publish fails and removes its partial version.
        ("writing", "efbig", 1024, 1, []),
        # SIGXFSZ in the middle of the serving file: a 64 KiB partial database (and its WAL) and the staged
        # LATEST are left.
        ("serving", "xfsz", 65536, -signal.SIGXFSZ, [".LATEST.", ".openness.duckdb."]),
        # The serving file's write fails (EFBIG, as ENOSPC on a full disk): the publish fails and cleans up.
        ("serving", "efbig", 65536, 1, []),
    ],
    ids=[
        "killed-writing-parquet",
        "full-disk-writing-parquet",
        "killed-copying-serving-file",
        "full-disk-copying-serving-file",
    ],
)
def test_a_fault_before_the_commit_leaves_latest_and_the_serving_file_on_the_previous_version(
    published, at, fault, limit, returncode, left
):
    wh = published
    child = run_child(wh, at, fault, limit)

    assert child.returncode == returncode, child.stderr
    if fault == "efbig":
        assert "File too large" in child.stderr or "EFBIG" in child.stderr, child.stderr
    assert read_latest(wh.snapshots) == wh.serving_version() == FIRST
    assert releases_served(wh) == 3
    # A partial serving file and its WAL count as one (the prefix).
    assert sorted({re.sub(r"\d+(\.tmp)?(\.wal)?$", "", name) for name in temporaries(wh)}) == left
    for partial in wh.root.glob(".openness.duckdb.*.tmp*"):
        assert partial.stat().st_size <= limit  # cut off in the middle

    folder = publish_again(wh)

    assert temporaries(wh) == [] and stale_temporaries(wh) == []
    assert read_latest(wh.snapshots) == wh.serving_version() == folder.name
    assert releases_served(wh) == 4
    # Complete versions are kept: the first, and the one whose serving copy failed (never named by LATEST).
    kept = [FIRST, SECOND] if at == "serving" else [FIRST]
    assert published_versions(wh.snapshots) == [*kept, folder.name]
    for version in published_versions(wh.snapshots):
        verify_snapshot(wh.snapshots / version)
    assert verify_snapshot(folder)["previous_version"] == FIRST  # the changelog is against what was published


def test_a_kill_between_the_two_renames_is_finished_by_the_next_publish(published):
    wh = published
    child = run_child(wh, "served", "kill")

    assert child.returncode == -signal.SIGKILL
    # The one window two files cannot close: the serving file is one version ahead, its version complete.
    assert (read_latest(wh.snapshots), wh.serving_version()) == (FIRST, SECOND)
    verify_snapshot(wh.snapshots / SECOND)
    events = []

    folder = publish_again(wh, lambda e, d: events.append((e, d)))

    assert ("latest-recovered", SECOND) in events
    assert [e for e, _ in events].index("latest-recovered") < [e for e, _ in events].index("writing")
    assert folder.name == "2024-03-02.2" and verify_snapshot(folder)["previous_version"] == SECOND
    assert read_latest(wh.snapshots) == wh.serving_version() == folder.name
    assert temporaries(wh) == []


def test_recover_settles_a_killed_publish_before_the_checks(published):
    """`publish` calls `recover` before its gates, which compare with the version LATEST names."""
    wh = published
    assert run_child(wh, "served", "kill").returncode == -signal.SIGKILL
    events = []

    recover(wh, lambda e, d: events.append((e, Path(d).name if e == "removed" else d)))

    assert read_latest(wh.snapshots) == wh.serving_version() == SECOND
    assert [e for e, _ in events] == ["removed", "latest-recovered"] and events[0][1].startswith(".LATEST.")
    assert temporaries(wh) == []
    recover(wh, lambda e, d: events.append((e, d)))
    assert len(events) == 2  # nothing left to do


def test_cleanup_keeps_complete_versions_and_a_live_writers_files(published):
    wh = published
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        (wh.root / f".openness.duckdb.{dead_pid}.tmp").write_bytes(b"\0" * 4096)
        (wh.root / f".openness.duckdb.{dead_pid}.tmp.wal").write_bytes(b"\0" * 4096)  # its DuckDB WAL
        (wh.root / f".openness.duckdb.{live.pid}.tmp").write_bytes(b"\0" * 4096)
        (wh.snapshots / f".tmp-2024-03-01.5-{dead_pid}").mkdir()
        (wh.snapshots / f".tmp-2024-03-01.6-{live.pid}").mkdir()
        (wh.snapshots / f".LATEST.{dead_pid}.tmp").write_text("2024-03-01.5\n")
        (wh.snapshots / "2024-02-28.1").mkdir()  # named like a version, no manifest: not a version
        (wh.snapshots / "2024-02-28.1" / "releases.parquet").write_bytes(b"PAR1")
        removed = []

        publish_again(wh, lambda e, d: removed.append(d))

        assert temporaries(wh) == sorted(
            [f".openness.duckdb.{live.pid}.tmp", f".tmp-2024-03-01.6-{live.pid}"]
        )
        assert not (wh.snapshots / "2024-02-28.1").exists()
        assert {Path(p).name for p in removed} >= {
            f".openness.duckdb.{dead_pid}.tmp",
            f".openness.duckdb.{dead_pid}.tmp.wal",
            f".tmp-2024-03-01.5-{dead_pid}",
            f".LATEST.{dead_pid}.tmp",
            "2024-02-28.1",
        }
        assert published_versions(wh.snapshots) == [FIRST, SECOND]
        verify_snapshot(wh.snapshots / FIRST)
    finally:
        live.communicate(b"")
