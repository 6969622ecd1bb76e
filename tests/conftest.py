"""Shared test settings: no telemetry, no network but loopback, project paths."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]


def start_reader(script: str, db: Path) -> subprocess.Popen:
    """A Python process running `script` with the database path as its argument, talking over stdin/stdout
    (a reader held open while the test publishes)."""
    return subprocess.Popen(
        [sys.executable, "-c", script, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


REFERENCE = ROOT.parent / "shared" / "reference"

# Session fixtures that cost tens of seconds (a whole demo run): under pytest-xdist (`make test` runs two
# workers) every test that uses one goes to the same worker, so each is built once, not once per worker.
SHARED_SESSION_FIXTURES = ("small_demo",)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items) -> None:  # noqa: ARG001 (pytest hook signature)
    """Put the tests of each costly session fixture in one xdist group (`--dist loadgroup`)."""
    for item in items:
        for name in SHARED_SESSION_FIXTURES:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's standalone S3 server on a free loopback port (tests/s3_server.py)."""
    from tests.s3_server import s3_server

    with s3_server() as endpoint:
        yield endpoint
