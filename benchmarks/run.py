"""`make bench`: run the benchmarks and write bench-results/results.json (untracked).

BENCH_SCALE=quick (default) or full (Hub scale) picks the sizes; BENCH_ONLY=name,name runs a subset;
BENCH_WORK is where the synthetic mirror and warehouse go (default: the system temp folder); BENCH_SHARDS
sets the parallel README/history shards (default 4, the pipeline's CRAWL_SHARDS). The results tables of
the tracked docs/benchmarks.md are rewritten only when asked: `--write-docs` (`make bench-docs`) after the
run, or `--render` alone, which runs nothing and rewrites them from bench-results/results.json.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
PACKAGES = ("huggingface_hub", "polars", "duckdb", "dagster", "httpx2", "pyarrow")

# The benchmarks `make bench` knows: name -> (module, function, argument per scale). Add yours here; a
# module that cannot be imported is reported as "not available". A module may define
# `table_rows(result) -> [(figure, value, target, met)]`; otherwise its scalar results are listed.
BENCHMARKS: dict[str, tuple[str, str, dict[str, int]]] = {
    "crawl_cost": ("benchmarks.crawl_cost", "run_crawl_cost", {"quick": 10_000, "full": 100_000}),
    "scoring": ("benchmarks.scoring", "run_scoring_bench", {"quick": 300_000, "full": 3_000_000}),
    "history": ("benchmarks.history", "run_history_bench", {"quick": 3_000_000, "full": 30_000_000}),
    "snapshot": ("benchmarks.snapshot", "run_snapshot_scaled", {"quick": 3_000_000, "full": 30_000_000}),
    "cards": ("benchmarks.cards", "run_cards_bench", {"quick": 5_000, "full": 50_000}),
    "cycle": ("benchmarks.cycle", "run_cycle_bench", {"quick": 30_000, "full": 3_000_000}),
    "snapshot_disclosures": (
        "benchmarks.snapshot",
        "run_snapshot_with_disclosures",
        {"quick": 300_000, "full": 3_000_000},
    ),
    # The size is the number of crawl dates: 60 at both scales (issue 11; the sample corpus has 60 commit days).
    "soak": ("benchmarks.soak", "run_soak", {"quick": 60, "full": 60}),
    # The size is the number of revisions (one release per ten), issue 23: what a daily version writes, and
    # the serving file's cost and example queries on views against a full copy.
    "snapshot_diff": (
        "benchmarks.snapshot_diff",
        "run_snapshot_diff_bench",
        {"quick": 300_000, "full": 3_000_000},
    ),
    "serving": ("benchmarks.serving", "run_serving_bench", {"quick": 300_000, "full": 3_000_000}),
    # The size is the number of code repositories (issue 19): the sample's 17 and copies of them.
    "code_crawl": ("benchmarks.code_crawl", "run_code_crawl", {"quick": 100, "full": 700}),
}


def figure_row(
    name: str, value: Any, target: Any = None, ok: bool | None = None
) -> tuple[str, Any, str, str]:
    """One (figure, value, target, met?) row of a benchmark's `table_rows` for docs/benchmarks.md."""
    return (
        name,
        value,
        "" if target is None else str(target),
        "" if ok is None else ("yes" if ok else "**no**"),
    )


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU, OS, Python and the versions of the packages the figures depend on."""
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text()
        info["ram_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", meminfo)[1]) / 1024**2, 1)  # type: ignore[index]
        cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        info["cpu"] = cpu[1].strip() if cpu else platform.processor()
    except (OSError, TypeError):
        info["cpu"] = platform.processor()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {**info, "packages": versions}


def _call(module: str, function: str, argument: int) -> dict[str, Any]:
    return getattr(importlib.import_module(module), function)(argument)


def run_one(name: str, scale: str, size: int | None = None) -> dict[str, Any]:
    """Run one benchmark in a fresh process (its own peak RSS); an unimportable one is "not available".

    `size` overrides the scale's size (BENCH_SIZE, with a single benchmark in BENCH_ONLY).
    """
    module, function, sizes = BENCHMARKS[name]
    sizes = {**sizes, scale: size} if size else sizes
    try:
        if not hasattr(importlib.import_module(module), function):
            raise ImportError(f"{module} has no {function}")
    except ImportError as err:
        return {"status": "not available", "detail": str(err)}
    started = time.perf_counter()
    try:
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            result = pool.submit(_call, module, function, sizes[scale]).result()
    except Exception as err:  # noqa: BLE001 - one failing benchmark must not hide the others' figures
        return {"status": "failed", "detail": f"{type(err).__name__}: {err}", "size": sizes[scale]}
    return {
        "status": "ok",
        "size": sizes[scale],
        "seconds": round(time.perf_counter() - started, 1),
        "result": result,
    }


def rows_for(name: str, outcome: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """The table rows of one benchmark's outcome."""
    if outcome["status"] != "ok":
        return [(f"{name}", outcome["status"], "", "")]
    module = importlib.import_module(BENCHMARKS[name][0])
    table: Callable | None = getattr(module, "table_rows", None)
    if table is not None:
        try:
            return table(outcome["result"])
        except (KeyError, TypeError, ValueError) as err:
            # A result kept from an earlier run may predate its module's table_rows: list its scalars
            # rather than lose every table of the docs block.
            note = (
                f"{name}: recorded by an older version of {BENCHMARKS[name][0]} (table_rows: "
                f"{type(err).__name__} {err}); its scalar results follow",
                "",
                "",
                "",
            )
            return [note] + [
                (f"{name}: {k}", v, "", "")
                for k, v in outcome["result"].items()
                if isinstance(v, int | float | str)
            ]
    return [
        (f"{name}: {k}", v, "", "") for k, v in outcome["result"].items() if isinstance(v, int | float | str)
    ]


def render(scale: str, record: dict[str, Any]) -> str:
    """The Markdown block of one scale: one table per benchmark, each with its command, date and machine."""
    lines = [f"<!-- scale:{scale} -->", f"### {scale} scale", ""]
    for name, outcome in record["benchmarks"].items():
        run = outcome.get("run") or record  # each benchmark keeps the run that measured it
        m = run["machine"]
        pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        lines += [
            f"**{name}** (size {outcome.get('size', '-')}, {outcome.get('seconds', '-')} s, "
            f"{run['finished_at'][:10]})",
            "",
            f"Command: `{run['command']}`. Machine: {m['cores']} cores, {m.get('ram_gb', '?')} GB RAM, "
            f"{m.get('cpu', '?')}, {m['os']}, Python {m['python']}; {pkgs}. Load average (other "
            f"processes) at start / end: {run.get('load_start', '?')} / {run.get('load_end', '?')}",
            "",
            "| figure | value | target | met? |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {f} | {v} | {'' if t is None else t} | {'' if ok is None else ok} |"
            for f, v, t, ok in rows_for(name, outcome)
        ]
        lines.append("")
    return "\n".join(lines + [f"<!-- /scale:{scale} -->"])


def update_doc(blocks: dict[str, str]) -> None:
    """Rewrite the results section of docs/benchmarks.md, keeping the block of a scale not run this time."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n## Results\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    section, tail = rest.split(END, 1)
    for scale in ("quick", "full"):
        old = re.search(rf"<!-- scale:{scale} -->.*?<!-- /scale:{scale} -->", section, re.S)
        if scale not in blocks and old:
            blocks[scale] = old.group(0)
    body = "\n\n".join(blocks[s] for s in ("quick", "full") if s in blocks)
    DOC.write_text(f"{head}{START}\n{body}\n{END}{tail}", encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options of `python -m benchmarks.run` (the sizes and the subset come from BENCH_* variables)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Run the benchmarks of BENCH_SCALE (quick or full; BENCH_ONLY=name,name for a subset) "
        "and save bench-results/results.json.",
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument(
        "--write-docs",
        action="store_true",
        help="after the run, also rewrite the results tables of docs/benchmarks.md (`make bench-docs`)",
    )
    what.add_argument(
        "--render",
        action="store_true",
        help="run nothing: rewrite the results tables of docs/benchmarks.md from bench-results/results.json",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks of BENCH_SCALE and save the results (and, if asked, the docs tables); non-zero
    if one failed."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.render:  # rewrite the docs tables from results.json, running nothing
        if not RESULTS.is_file():
            raise SystemExit(f"{RESULTS.relative_to(ROOT)} does not exist: run `make bench` first")
        saved = json.loads(RESULTS.read_text())
        update_doc({scale: render(scale, record) for scale, record in saved.items()})
        print(f"wrote {DOC.relative_to(ROOT)}")
        return 0
    scale = os.environ.get("BENCH_SCALE", "quick")
    if scale not in ("quick", "full"):
        raise SystemExit(f"BENCH_SCALE must be quick or full, not {scale!r}")
    only = [n for n in os.environ.get("BENCH_ONLY", "").split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in only if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(
            f"unknown benchmark(s) in BENCH_ONLY: {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}"
        )
    size = os.environ.get("BENCH_SIZE", "").strip()
    if size and (not size.isdigit() or int(size) < 1 or len(only) != 1):
        raise SystemExit(
            "BENCH_SIZE must be a positive integer, with exactly one benchmark named in BENCH_ONLY"
        )
    # The command as run, with the benchmarks' own knobs (CYCLE_BEFORE_MAX and the like) that were set.
    knobs = sorted(k for k in os.environ if k.startswith("CYCLE_"))
    env = " ".join(
        f"{k}={os.environ[k]}"
        for k in ("BENCH_SCALE", "BENCH_ONLY", "BENCH_SIZE", "BENCH_SHARDS", "BENCH_WORK", *knobs)
        if os.environ.get(k)
    )
    load_start = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    outcomes = {}
    for name in only:
        print(f"== {name} ({scale})", flush=True)
        outcomes[name] = run_one(name, scale, int(size) if size else None)
        print(json.dumps({k: v for k, v in outcomes[name].items() if k != "result"}), flush=True)
    run = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"{env + ' ' if env else ''}.venv/bin/python -m benchmarks.run",
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "load_start": load_start,
        "load_end": round(os.getloadavg()[0], 2),
    }
    # Results of benchmarks not run this time are kept: each outcome carries the run that measured it.
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous = saved.get(scale, {})
    kept = {
        n: {
            **o,
            "run": o.get("run")
            or {
                k: previous[k]
                for k in ("finished_at", "command", "seconds", "machine", "load_start", "load_end")
                if k in previous
            },
        }
        for n, o in previous.get("benchmarks", {}).items()
        if n not in outcomes
    }
    record = {"scale": scale, "benchmarks": {**kept, **{n: {**o, "run": run} for n, o in outcomes.items()}}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**saved, scale: record}, indent=1, default=str) + "\n", encoding="utf-8")
    if args.write_docs:
        update_doc({scale: render(scale, record)})
        print(f"wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
    else:
        print(
            f"wrote {RESULTS.relative_to(ROOT)}; {DOC.relative_to(ROOT)} left as it was "
            "(`make bench-docs`, or `python -m benchmarks.run --render`, rewrites its results tables)"
        )
    return 1 if any(o["status"] == "failed" for o in outcomes.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
