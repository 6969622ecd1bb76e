"""Stopping `openness ui` (SIGINT as Ctrl-C sends it, or SIGTERM) stops its webserver and daemon and frees the port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _descendants(root: int) -> dict[int, str]:
    """The processes below `root`, with their start times (so a reused pid is not mistaken for one)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            if (fields := _stat(pid)) is not None:
                found[pid] = fields[19]
                todo.append(pid)
    return found


def _still_running(pids: dict[int, str]) -> list[int]:
    alive = []
    for pid, started in pids.items():
        fields = _stat(pid)
        if fields is not None and fields[19] == started and fields[0] != "Z":
            alive.append(pid)
    return alive


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_openness_ui_stops_its_children_and_frees_the_port(tmp_path, sig):
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "OPENNESS_WAREHOUSE": str(tmp_path / "wh")}
    log = tmp_path / "ui.log"
    with open(log, "w") as out:
        # Its own session, as a terminal's shell would give it; the signal goes to this one process only.
        proc = subprocess.Popen(
            [sys.executable, "-m", "assets.cli", "ui", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    children: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the UI did not listen within 120 s"
            time.sleep(0.5)
        children = _descendants(proc.pid)
        assert len(children) >= 3, children  # dagster dev, its webserver and its daemon at least

        proc.send_signal(sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while (_listening(port) or _still_running(children)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(port), "the port is still taken after `openness ui` stopped"
        assert not _still_running(children), f"left running: {_still_running(children)}"
        assert proc.returncode in (0, 128 + sig), log.read_text()[-3000:]
        # Started in $DAGSTER_HOME, `dagster dev` has no project dagster.yaml to warn about.
        assert "will not be used" not in log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in _still_running(children):  # what a failed stop left behind
            os.kill(pid, signal.SIGKILL)
