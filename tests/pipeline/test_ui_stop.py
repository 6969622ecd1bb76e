"""Stopping `openness ui` with Ctrl-C (SIGINT) stops its webserver and daemon and frees the port.

SIGTERM, as a service manager stops it, is checked when the UI of tests/pipeline/test_ui.py stops.
"""

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
from tests.pipeline.processes import descendants, kill_left, listening, still_running, wait_until_gone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ctrl_c_stops_openness_ui_and_its_children_and_frees_the_port(tmp_path):
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
        while not listening(port):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the UI did not listen within 120 s"
            time.sleep(0.5)
        children = descendants(proc.pid)
        assert len(children) >= 3, children  # dagster dev, its webserver and its daemon at least

        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        wait_until_gone(port, children)
        assert not listening(port), "the port is still taken after `openness ui` stopped"
        assert not still_running(children), f"left running: {still_running(children)}"
        assert proc.returncode in (0, 130), log.read_text()[-3000:]
        # Started in $DAGSTER_HOME, `dagster dev` has no project dagster.yaml to warn about.
        assert "will not be used" not in log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        kill_left(children)
