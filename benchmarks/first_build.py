"""The first build over a whole raw layer (the set-up of a Hub-scale warehouse), timed: its revisions step
(index, parse in committed batches, derive) on a fresh warehouse, then every other step.

    .venv/bin/python -m benchmarks.first_build 30000 [WORK]

`BENCH_BUILD_BATCH=10000` sets the keys of a committed batch (to measure what more batches cost).

The raw layer is `benchmarks.cycle.prepare_raw`'s (reused when made earlier with the same size and seed).
Prints one JSON object: the seconds (wall and CPU, the parse workers' included) of each step, the revisions step's own timings and its progress lines
(one per committed batch), the seconds of the next day's incremental build of every table, and the peak
RSS.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.cycle import CHANGE_RATE, D0, D1, NEW_RATE, SEED, _rss, _warehouse, prepare_raw


def _cpu() -> float:
    """CPU seconds of this process and its ended children (the parse workers): less sensitive than the
    wall time to other work on a shared machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_first_build(n_models: int, work: Path) -> dict[str, Any]:
    """Time the first build of every table on a fresh warehouse over the D0 raw layer of `n_models`, then
    the incremental build of the next day (0.5% of the models changed)."""
    from benchmarks.rawgen import generate_day
    from pipelines.runner import run_step
    from pipelines.storage.raw import RawStore
    from pipelines.storage.warehouse import Warehouse
    from pipelines.tables import steps as build_steps

    if os.environ.get("BENCH_BUILD_BATCH"):  # keys a committed batch of the first build (default BUILD_BATCH)
        from pipelines.incremental import normalise

        normalise.BUILD_BATCH = int(os.environ["BENCH_BUILD_BATCH"])
    work.mkdir(parents=True, exist_ok=True)
    raw, _made = prepare_raw(work, n_models, SEED)
    root = _warehouse(work, f"first-build-{n_models}", raw)
    wh = Warehouse(root)
    lines: list[str] = []
    out: dict[str, Any] = {"models": n_models, "steps": {}, "cpu_seconds": {}}
    with wh.connect() as con:
        for name in build_steps():
            started, cpu = time.perf_counter(), _cpu()
            options = {"progress": lines.append} if name == "revisions" else {}
            result = run_step(name, wh, con, **options)
            out["steps"][name] = round(time.perf_counter() - started, 2)
            out["cpu_seconds"][name] = round(_cpu() - cpu, 2)
            if name == "revisions":
                out["revisions"] = {k: result.get(k) for k in ("mode", "parsed", "revisions", "timings")}
        generate_day(
            RawStore(root / "raw"), n_models, D1, seed=SEED, d0=D0, change_rate=CHANGE_RATE, new_rate=NEW_RATE
        )
        started, cpu = time.perf_counter(), _cpu()
        for name in build_steps():
            run_step(name, wh, con)
        out["day_seconds"] = round(time.perf_counter() - started, 2)
        out["day_cpu_seconds"] = round(_cpu() - cpu, 2)
    out["progress"] = [line for line in lines if "batch" in line]
    out["total_seconds"] = round(sum(out["steps"].values()), 2)
    out["total_cpu_seconds"] = round(sum(out["cpu_seconds"].values()), 2)
    shutil.rmtree(root, ignore_errors=True)
    return {**out, **_rss()}


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        sys.exit("usage: python -m benchmarks.first_build N_MODELS [WORK_FOLDER]")
    folder = (
        Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.gettempdir()) / "openness-bench" / "first"
    )
    print(json.dumps(run_first_build(int(sys.argv[1]), folder), indent=1))
