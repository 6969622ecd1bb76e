"""Starting the project prints no avoidable warning: the definitions import quietly, and so does the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    "argv",
    [["-c", "import assets.definitions"], ["-m", "assets.cli", "demo", "--help"]],
    ids=["import-definitions", "demo-help"],
)
def test_no_warning_on_stderr(argv, tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == "", proc.stderr[-3000:]
