"""Helpers of the shared-quota tests: crawling processes started together, and the busiest window."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.conftest import ROOT


def run_together(child: str, args: list[str], processes: int = 2) -> None:
    """Run `child` (Python source) in `processes` interpreters that start their requests at one moment:
    the source gets `args` then that moment (epoch seconds) as argv; each must exit 0."""
    start = time.time() + 1.5  # time for the interpreters to import the client
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", child, *args[:5], str(start), *args[5:]],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()[-2000:]


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of `times` that fall within `window` seconds of one another."""
    times = sorted(times)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best
