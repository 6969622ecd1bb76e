"""Fixtures of the end-to-end tests: one `make demo` run on a small mirror, shared by the tests."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import ROOT
from tests.small_mirror import make_small_mirror


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """Run `make demo` once on the small mirror; returns (base folder, make output)."""
    base = tmp_path_factory.mktemp("demo")
    # Like the bundled sample, the mirror holds no dataset repos and only some papers, and says so: the
    # datasets and the paper the cards name that it lacks are unknown to it, not missing from the Hub or arXiv.
    mirror = make_small_mirror(base / "mirror", unrecorded=["datasets", "papers"], papers=True)
    env = {**os.environ, "DAGSTER_HOME": str(base / "dagster_home")}
    proc = subprocess.run(
        ["make", "--no-print-directory", "demo", f"MIRROR={mirror}", f"WAREHOUSE={base / 'wh'}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return base, proc.stdout
