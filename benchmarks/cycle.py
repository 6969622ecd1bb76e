"""Daily-cycle benchmark (issue 10): one incremental `build_tables` + checks + publish after a day's crawl.

Target: at 3 million models with 0.5% of them changed, the daily cycle (crawl excluded) under 5 minutes on
2 cores / 24 GiB. Method (docs/benchmarks.md, "Daily cycle"):

1. `benchmarks.rawgen.generate_raw` writes the raw layer of n models on D0 (a first crawl plus the
   history backfill), timed apart (reused when a folder with the same size and seed exists).
2. "Before": the full rebuild of every table (the full mode of the build runner, `pipelines/runner.py`;
   the figures recorded before the runner came from the former pure rebuild) on that raw layer, timed
   step by step, in a fresh process (its own peak RSS). It runs on at most `CYCLE_BEFORE_MAX` models
   (default 100,000; 0 skips it), scaled linearly to n (the former pure rebuild held every capture in one
   Python list).
3. Set-up of the incremental warehouse: its first run (the state built from the whole raw layer, every
   table written), then the blocking checks and a first snapshot, so that the measured day has a
   previous snapshot to be gated against, as every day in production has.
4. `generate_day` writes D1: 0.5% of the models get one or two commits, 0.1% new models, 0.01% deleted.
5. The cycle, in a fresh process, timed step by step: the incremental steps of `build_tables`
   (revisions, releases, crawl_runs, datasets, papers and release_papers, scores and history, marts),
   the blocking asset checks (the two SQL checks and every Great Expectations suite the job runs), and
   the publish job (`publish`: its quality gate, which reuses the checks' passes for unchanged content
   through the validation ledger and validates the rest again, then the snapshot gates, the Parquet
   snapshot, the HTML report and the serving file of views over the new version).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks.run import figure_row

SEED = 20260820
D0, D1 = "2026-08-20", "2026-08-21"
TARGET_SECONDS = 300.0
CHANGE_RATE, NEW_RATE = 0.005, 0.001


def gx_suites() -> list[str]:
    """The Great Expectations suites the build_tables job runs (assets/checks.py: one per registered table
    with a suite), in the registry's order."""
    from pipelines.tables import TABLES

    return [t.short for t in TABLES if t.suite]


def _rss() -> dict[str, int]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return {"peak_rss_mb": own, "peak_rss_children_mb": children}


def _timed(steps: list[tuple[str, Callable[[], Any]]], log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run steps in order; per step its seconds and what it returned (a failure is recorded and ends the run)."""
    out: dict[str, Any] = {}
    for name, fn in steps:
        started = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - a step that fails at scale is a figure too
            out[name] = {
                "seconds": round(time.perf_counter() - started, 2),
                "error": f"{type(exc).__name__}: {exc}",
            }
            log(f"{name}: FAILED after {out[name]['seconds']} s: {out[name]['error'][:300]}")
            break
        out[name] = {
            "seconds": round(time.perf_counter() - started, 2),
            "result": result if isinstance(result, dict) else None,
        }
        log(f"{name}: {out[name]['seconds']} s")
    return out


def _checks(wh: Any, con: Any, now: datetime) -> dict[str, Any]:
    """The blocking checks of build_tables, as the asset checks run them (each pass recorded in the ledger)."""
    from pipelines.quality.gx_run import run_suite
    from pipelines.quality.ledger import Ledger
    from pipelines.quality.sql_checks import releases_match_revisions, revision_keys

    out: dict[str, Any] = {}
    for name, fn in (
        ("revisions_keys", revision_keys),
        ("releases_cover_revisions", releases_match_revisions),
    ):
        started = time.perf_counter()
        out[name] = {"passed": fn(con)["passed"], "seconds": round(time.perf_counter() - started, 2)}
    for table in gx_suites():
        started = time.perf_counter()
        result = run_suite(con, table, now=now, ledger=Ledger(wh.quality), reuse=True)
        out[f"{table}_suite"] = {
            "passed": result["success"],
            "rows": result["rows"],
            "seconds": round(time.perf_counter() - started, 2),
            "timings": result["timings"],
            "validated": (
                "reused"
                if result.get("reused")
                else f"{result['delta']['validated_rows']} rows of "
                f"{result['delta']['changed_repos']} changed repos"
                if result.get("delta")
                else "whole table"
            ),
        }
    return out


def _publish(wh: Any, con: Any) -> dict[str, Any]:
    """The publish job's work (`publish`), with the time of each of its parts (wrapped, not re-implemented)."""
    from pipelines.publish import publish as pub
    from pipelines.storage.warehouse import Warehouse

    parts: dict[str, float] = {}

    def timed(name: str, fn: Callable) -> Callable:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] = round(parts.get(name, 0) + time.perf_counter() - started, 2)

        return run

    originals = {
        "run_all": pub.run_all,
        "evaluate_gates": pub.evaluate_gates,
        "write_version": pub.write_version,
        "render_report": pub.render_report,
    }
    serving = Warehouse.publish_serving
    for name, fn in originals.items():
        setattr(pub, name, timed(name, fn))
    Warehouse.publish_serving = timed("serving", serving)  # type: ignore[method-assign]
    started = time.perf_counter()
    try:
        now = datetime.now(UTC)
        folder = pub.publish(wh, con, now=now)
    finally:
        for name, fn in originals.items():
            setattr(pub, name, fn)
        Warehouse.publish_serving = serving  # type: ignore[method-assign]
    manifest = json.loads((folder / "manifest.json").read_text())
    sync = _sync_bytes(folder)
    suites = manifest["checks"]["suites"]
    return {
        "version": manifest["version"],
        "suites_reused": sorted(
            t for t, s in suites.items() if s["present"] and s["validated_at"] != now.isoformat()
        ),
        "seconds": round(time.perf_counter() - started, 2),
        "parts": {
            "quality gate: GX suites (reused from the checks where the content is unchanged)": parts.get(
                "run_all"
            ),
            "snapshot gates": parts.get("evaluate_gates"),
            "Parquet snapshot": parts.get("write_version"),
            "HTML report": parts.get("render_report"),
            "serving views": parts.get("serving"),
        },
        "snapshot_mb": round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1),
        "serving_mb": round(wh.serving_db.stat().st_size / 1e6, 1),
        **sync,
    }


def _sync_bytes(folder: Path) -> dict[str, Any]:
    """What `openness download` of this version transfers to a reader who holds the previous one: the bytes
    of the files whose sha256 the previous version's manifest does not list, against the version's bytes."""
    from pipelines.publish.snapshot import manifest_entries, published_versions

    def entries(version: str) -> list[dict]:
        return manifest_entries(json.loads((folder.parent / version / "manifest.json").read_text()))

    earlier = [v for v in published_versions(folder.parent) if v != folder.name]
    held = {e["sha256"] for e in entries(earlier[-1])} if earlier else set()
    listed = entries(folder.name)
    total = sum(e["bytes"] for e in listed)
    new = sum(e["bytes"] for e in listed if e["sha256"] not in held)
    return {
        "files_new": sum(1 for e in listed if e["sha256"] not in held),
        "files": len(listed),
        "sync_bytes": new,
        "version_bytes": total,
        "sync_share": round(new / total, 4) if total else None,
    }


def _before(root: str) -> dict[str, Any]:
    """Child process: a full rebuild of every table (the build runner's full mode, pipelines/runner.py)."""
    from pipelines.runner import run_step
    from pipelines.storage.warehouse import Warehouse
    from pipelines.tables import steps as build_steps

    wh = Warehouse(Path(root))
    with wh.connect() as con:
        steps = _timed(
            [(name, lambda name=name: run_step(name, wh, con, full=True)) for name in build_steps()],
            lambda m: print(f"before: {m}", flush=True),
        )
    return {"steps": steps, **_rss()}


def code_pins() -> dict[str, str]:
    """The code versions the state records, computed once: the set-up and the cycle run as one deployment,
    even if someone edits the tree between the two (a changed version would make the day a full rebuild)."""
    from pipelines.incremental import state

    return {
        "normaliser": state.code_version(state.NORMALISER_CODE),
        "scoring": state.code_version(state.SCORING_CODE),
    }


def _pin(pins: dict[str, str]) -> None:
    from pipelines.incremental import state

    real = state.code_version
    by_list = {tuple(state.NORMALISER_CODE): pins["normaliser"], tuple(state.SCORING_CODE): pins["scoring"]}
    state.code_version = lambda patterns: by_list.get(tuple(patterns)) or real(patterns)  # type: ignore[assignment]


def _incremental(
    root: str, full: bool = False, pins: dict[str, str] | None = None, label: str = "cycle"
) -> dict[str, Any]:
    """Child process: the incremental build_tables steps (the assets, in the job's order)."""
    from pipelines.runner import run_step
    from pipelines.storage.warehouse import Warehouse
    from pipelines.tables import steps as build_steps

    if pins:
        _pin(pins)
    wh = Warehouse(Path(root))
    with wh.connect() as con:

        def log(message: str) -> None:
            print(f"{label}: {message}", flush=True)

        # The revisions and scores steps say how far a long first build is (a line per committed batch).
        steps = [
            (
                name,
                lambda name=name: run_step(
                    name, wh, con, full=full, **({"progress": log} if name in ("revisions", "scores") else {})
                ),
            )
            for name in build_steps()
        ]
        out = _timed(steps, log)
        sizes = {
            t: con.execute(f"SELECT count(*) FROM core.{t}").fetchall()[0][0]  # noqa: S608 - fixed names
            for t in ("revisions", "releases", "disclosures", "openness", "transitions")
        }
    return {"steps": out, "rows": sizes, "work_db_mb": round(wh.work_db.stat().st_size / 1e6, 1), **_rss()}


def _after_build(root: str, what: str) -> dict[str, Any]:
    """Child process: the blocking checks of build_tables (`checks`) or the publish job (`publish`)."""
    from pipelines.storage.warehouse import Warehouse

    wh = Warehouse(Path(root))
    with wh.connect() as con:
        step = (
            (lambda: _checks(wh, con, datetime.now(UTC))) if what == "checks" else (lambda: _publish(wh, con))
        )
        out = _timed([(what, step)], lambda m: print(f"{what}: {m}", flush=True))
    return {"steps": out, **_rss()}


def _stage(root: str, full: bool, pins: dict[str, str], after: bool, label: str = "cycle") -> dict[str, Any]:
    """The build in one process, then the checks and the publish each in their own (an out-of-memory kill
    of one of them is recorded as its result and does not lose the others' figures)."""
    build = _in_child(_incremental, root, full, pins, label)
    steps = dict(build.get("steps") or {})
    rss = {
        "peak_rss_mb": build.get("peak_rss_mb", 0),
        "peak_rss_children_mb": build.get("peak_rss_children_mb", 0),
    }
    parts = {"build": build}
    # After a failed build (a step raised, or the process died) its checks and publish would run on a
    # half-built warehouse: not run.
    for what in ("checks", "publish") if after and not _failed(build) else ():
        part = _in_child(_after_build, root, what)
        parts[what] = part
        steps[what] = (part.get("steps") or {}).get(what) or {
            "seconds": part["wall_seconds"],
            "error": part.get("error", "no result"),
        }
        rss = {k: max(v, part.get(k, 0)) for k, v in rss.items()}
    return {
        "steps": steps,
        "rows": build.get("rows"),
        "work_db_mb": build.get("work_db_mb"),
        **rss,
        "rss_by_part": {
            k: max(p.get("peak_rss_mb", 0), p.get("peak_rss_children_mb", 0)) for k, p in parts.items()
        },
    }


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `fn` in a fresh process; a process killed (by the kernel's OOM killer, say) is a result too."""
    started = time.perf_counter()
    try:
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            out = pool.submit(fn, *args).result()
    except BrokenProcessPool as exc:
        return {
            "error": f"the process died ({exc}): out of memory?",
            "steps": {},
            "wall_seconds": round(time.perf_counter() - started, 2),
        }
    return {**out, "wall_seconds": round(time.perf_counter() - started, 2)}


def prepare_raw(work: Path, n_models: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The D0 raw layer of n models (generated, or reused when made earlier with the same size and seed)."""
    from benchmarks.rawgen import generate_extras, generate_raw
    from pipelines.storage.raw import RawStore

    root = work / f"raw-{n_models}-seed{seed}"
    marker = root / "rawgen.json"
    if marker.exists():
        return root, {**json.loads(marker.read_text()), "reused": True}
    shutil.rmtree(root, ignore_errors=True)
    made = generate_raw(RawStore(root), n_models, seed=seed, d0=D0, workers=min(2, os.cpu_count() or 1))
    made["extras"] = generate_extras(RawStore(root), D0)
    marker.write_text(json.dumps(made))
    return root, {**made, "reused": False}


def _warehouse(work: Path, name: str, raw_d0: Path) -> Path:
    """A fresh warehouse whose raw layer links the D0 partitions of the generated folder (day files are its own)."""
    root = work / name
    shutil.rmtree(root, ignore_errors=True)
    for source in raw_d0.iterdir():
        if source.is_dir():
            (root / "raw" / source.name).mkdir(parents=True)
            for part in source.iterdir():
                (root / "raw" / source.name / part.name).symlink_to(part, target_is_directory=True)
    return root


def _save(path: Path, saved: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(saved, default=str))
    tmp.replace(path)


def _resumable(progress: Path, n_models: int, seed: int) -> dict[str, Any] | None:
    """The saved progress of an earlier run of this size and seed, if its warehouse is still there."""
    if not progress.exists() or not (progress.parent / f"incremental-{n_models}").is_dir():
        return None
    saved = json.loads(progress.read_text())
    return saved if (saved.get("models"), saved.get("seed")) == (n_models, seed) else None


@contextmanager
def _alive(progress: Path, saved: dict[str, Any]) -> Iterator[None]:
    """Record a set-up attempt and, every minute, that it is still running: an attempt killed with the
    machine still counts (to the minute) in the set-up's wall time."""
    attempt = {"started": time.time(), "alive_until": time.time(), "finished": False}
    saved["attempts"].append(attempt)
    _save(progress, saved)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(60):
            attempt["alive_until"] = time.time()
            _save(progress, saved)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        attempt["alive_until"] = time.time()


def _failed(stage: dict[str, Any]) -> str | None:
    """The first error of a stage (a step that raised, or a process that died), or None."""
    if stage.get("error"):
        return str(stage["error"])
    return next((f"{k}: {v['error']}" for k, v in (stage.get("steps") or {}).items() if "error" in v), None)


def _merged_setup(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """The set-up as the last (finished) attempt measured it, with the wall time of every attempt."""
    last = dict(attempts[-1])
    last["attempts"] = [
        {"wall_seconds": round(a["alive_until"] - a["started"], 1), "finished": a.get("finished", False)}
        for a in attempts
    ]
    last["wall_seconds_all_attempts"] = round(sum(a["alive_until"] - a["started"] for a in attempts), 1)
    return last


def run_cycle_bench(n_models: int, *, seed: int = SEED, work: Path | None = None) -> dict[str, Any]:
    """Measure the full rebuild (before) and the incremental daily cycle (after) at n models."""
    from benchmarks.rawgen import generate_day
    from pipelines.storage.raw import RawStore

    work = (
        Path(work or os.environ.get("BENCH_WORK") or Path(tempfile.gettempdir()) / "openness-bench") / "cycle"
    )
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    raw_d0, made = prepare_raw(work, n_models, seed)
    print(f"raw layer: {made}", flush=True)
    # The former pure rebuild held every capture in one Python list: at 300,000 models it needed more than
    # 17 GB (killed by the OOM killer on the 24 GiB machine), so it runs on at most CYCLE_BEFORE_MAX models (its
    # own raw layer, same seed) and its time is also given per model.
    before_n = min(n_models, int(os.environ.get("CYCLE_BEFORE_MAX", 100_000)))
    before = None
    if before_n > 0:
        raw_before = raw_d0 if before_n == n_models else prepare_raw(work, before_n, seed)[0]
        pure = _warehouse(work, f"pure-{before_n}", raw_before)
        before = {**_in_child(_before, str(pure)), "models": before_n}
        shutil.rmtree(pure, ignore_errors=True)  # disk: the incremental warehouse needs the room
    root = work / f"incremental-{n_models}"
    # CYCLE_RESUME=1: a set-up killed half-way (it takes hours at Hub scale) goes on where it stopped, with the
    # code versions it started with; its progress is kept beside the warehouse, not in it.
    progress = work / f"incremental-{n_models}.progress.json"
    saved = _resumable(progress, n_models, seed) if os.environ.get("CYCLE_RESUME") == "1" else None
    if saved is None:
        root = _warehouse(work, f"incremental-{n_models}", raw_d0)
        saved = {
            "models": n_models,
            "seed": seed,
            "pins": code_pins(),
            "attempts": [],
            "setup": None,
            "day": None,
        }
        _save(progress, saved)
    else:
        print(f"resuming the set-up after {len(saved['attempts'])} attempt(s)", flush=True)
    pins = saved["pins"]
    # Above CYCLE_SETUP_CHECKS_MAX models the set-up skips its checks and first snapshot (they are what
    # the measured day's checks and publish are; at Hub scale each takes long or runs out of memory).
    setup_after = n_models <= int(os.environ.get("CYCLE_SETUP_CHECKS_MAX", 1_000_000))
    if saved["setup"] is None:
        with _alive(progress, saved):
            attempt = _stage(str(root), False, pins, setup_after, "set-up")
        saved["attempts"][-1].update(attempt, finished=True)
        _save(progress, saved)
        if _failed(attempt):
            raise RuntimeError(
                f"the set-up failed ({_failed(attempt)}); run again with CYCLE_RESUME=1 to resume it "
                f"(progress in {progress})"
            )
        saved["setup"] = _merged_setup(saved["attempts"])
        _save(progress, saved)
    setup = saved["setup"]
    if saved["day"] is None:
        saved["day"] = generate_day(
            RawStore(root / "raw"), n_models, D1, seed=seed, d0=D0, change_rate=CHANGE_RATE, new_rate=NEW_RATE
        )
        _save(progress, saved)
    day = saved["day"]
    print(
        f"day {D1}: {day['changed']} changed, {day['new']} new, {day['deleted']} deleted, "
        f"{day['files']} files in {day['seconds']} s",
        flush=True,
    )
    # CYCLE_AFTER=0 measures the build alone (the checks and the publish need the disk of two more
    # copies of the warehouse: the snapshot and the serving file).
    cycle = _stage(str(root), False, pins, os.environ.get("CYCLE_AFTER", "1") != "0")
    disk = disk_usage(root, raw_d0)
    print(f"disk after the cycle (GB): {disk}", flush=True)
    result = {
        "models": n_models,
        "seed": seed,
        "raw": made,
        "before": before,
        "setup": setup,
        "day": {k: v for k, v in day.items() if not k.endswith("_ids")},
        "cycle": cycle,
        "disk_gb": disk,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "seconds": round(time.perf_counter() - started, 1),
    }
    result["figures"] = figures(result)
    return result


def disk_usage(root: Path, raw_d0: Path) -> dict[str, float]:
    """GB on disk (allocated blocks; a hard-linked file counted once) per top-level entry of the
    warehouse (the working file, its state, each snapshot version, the serving file), plus the generated
    D0 raw layer its raw folder links to and the total."""
    seen: set[tuple[int, int]] = set()

    def size(path: Path) -> int:
        total = 0
        for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
            st = p.lstat()
            if p.is_symlink() or (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
        return total

    out: dict[str, float] = {}
    for entry in sorted(root.iterdir()):
        if entry.name == "snapshots" and entry.is_dir():
            for version in sorted(entry.iterdir()):
                out[f"snapshots/{version.name}"] = size(version) / 1e9
        else:
            out[entry.name] = size(entry) / 1e9
    out["raw (generated D0)"] = size(raw_d0) / 1e9
    out = {k: round(v, 2) for k, v in out.items() if v >= 0.005}
    out["total"] = round(sum(out.values()), 2)
    return out


def _step_seconds(part: dict[str, Any] | None) -> dict[str, float]:
    return {k: v["seconds"] for k, v in ((part or {}).get("steps") or {}).items()}


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers: the cycle's total and its parts, the before figure, what the day touched."""
    cycle = result["cycle"]
    steps = _step_seconds(cycle)
    cycle.setdefault("steps", {})
    build = sum(v for k, v in steps.items() if k not in ("checks", "publish"))
    total = sum(steps.values())
    failed = [k for k, v in cycle["steps"].items() if "error" in v]
    checks = (cycle["steps"].get("checks") or {}).get("result") or {}
    gx = sum(v["seconds"] for k, v in checks.items() if k.endswith("_suite"))
    slowest = sorted(
        ((k, v["seconds"]) for k, v in checks.items() if k.endswith("_suite")), key=lambda x: -x[1]
    )[:3]
    validated = {k.removesuffix("_suite"): v["validated"] for k, v in checks.items() if "validated" in v}
    publish = (cycle["steps"].get("publish") or {}).get("result") or {}
    revisions = (cycle["steps"].get("revisions") or {}).get("result") or {}
    scores = (cycle["steps"].get("scores") or {}).get("result") or {}
    before = _step_seconds(result.get("before"))
    before_n = (result.get("before") or {}).get("models") or result["models"]
    before_total = sum(before.values()) if before and not (result.get("before") or {}).get("error") else None
    return {
        "cycle_seconds": round(total, 1),
        "cycle_build_seconds": round(build, 1),
        "cycle_checks_seconds": steps.get("checks"),
        "cycle_gx_seconds": round(gx, 1),
        "slowest_suites": slowest,
        "checks_validated": validated,
        "cycle_publish_seconds": steps.get("publish"),
        "cycle_failed_steps": failed,
        "cycle_steps": steps,
        "cycle_peak_rss_mb": max(cycle.get("peak_rss_mb", 0), cycle.get("peak_rss_children_mb", 0)),
        "checks_passed": all(v.get("passed") for v in checks.values()) if checks else None,
        "touched_repos": revisions.get("touched_repos"),
        "parsed": revisions.get("parsed"),
        "rescored_repos": scores.get("rescored_repos"),
        "rescored_derivatives": scores.get("rescored_derivatives_of_changed"),
        "publish_breakdown": publish,
        "before_models": before_n,
        "before_seconds": round(before_total, 1) if before_total is not None else None,
        "before_seconds_at_n": round(before_total * result["models"] / before_n, 1) if before_total else None,
        "before_error": (result.get("before") or {}).get("error"),
        "before_steps": before,
        "before_peak_rss_mb": (result.get("before") or {}).get("peak_rss_mb"),
        # A resumed set-up: the wall time of every attempt (its last attempt's steps are only what was left).
        "setup_seconds": result["setup"].get("wall_seconds_all_attempts")
        or round(sum(_step_seconds(result["setup"]).values()), 1),
        "setup_steps": _step_seconds(result["setup"]),
        "disk_gb": result.get("disk_gb"),
        "rows": cycle.get("rows"),
        "work_db_mb": cycle.get("work_db_mb"),
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(figure, value, target, met?) rows for docs/benchmarks.md."""
    f = result["figures"]
    n = result["models"]
    at_scale = n >= 3_000_000
    day = result["day"]
    raw = result["raw"]

    row = figure_row
    pb = f["publish_breakdown"]
    snap = (pb.get("parts") or {}).get("Parquet snapshot", "-")

    rows = [
        row(
            "models on D0 / revisions / disclosures after the day",
            f"{n:,} / {f['rows']['revisions']:,} / {f['rows']['disclosures']:,}" if f.get("rows") else n,
        ),
        row(
            "raw layer: generator seconds (not in the figure) / files / README MB",
            f"{'reused' if raw.get('reused') else raw.get('seconds')} / {raw.get('files'):,} / "
            f"{raw.get('readme_bytes', 0) / 1e6:,.0f}",
        ),
        row(
            "the day: changed / new / deleted models, raw files",
            f"{day['changed']:,} / {day['new']:,} / {day['deleted']:,}, {day['files']}",
        ),
        row(
            f"before: full rebuild of every table at {f['before_models']:,} models (s)",
            f["before_seconds"] if f["before_seconds"] is not None else (f["before_error"] or "not run"),
        ),
        row(f"before: the same, scaled linearly to {n:,} models (s)", f["before_seconds_at_n"] or "-"),
        row("before: its steps (s)", ", ".join(f"{k} {v}" for k, v in f["before_steps"].items()) or "-"),
        row("before: peak RSS (MB)", f["before_peak_rss_mb"] or "-"),
        row(
            "set-up: first incremental run, state from the whole raw layer (s, not in the figure)",
            f"{f['setup_seconds']} ({', '.join(f'{k} {v}' for k, v in f['setup_steps'].items())})",
        ),
        row(
            "cycle: repos touched by the day's files / captures parsed / repos rescored (of which derivatives)",
            f"{f['touched_repos']} / {f['parsed']} / {f['rescored_repos']} ({f['rescored_derivatives']})",
        ),
        row(
            "cycle: build_tables steps (s)",
            ", ".join(f"{k} {v}" for k, v in f["cycle_steps"].items() if k not in ("checks", "publish")),
        ),
        row("cycle: build_tables total (s)", f["cycle_build_seconds"]),
        row(
            "cycle: blocking checks (s) / of which Great Expectations suites",
            f"{f['cycle_checks_seconds']} / {f['cycle_gx_seconds']}",
        ),
        row("cycle: the slowest suites (s)", ", ".join(f"{k} {v}" for k, v in f["slowest_suites"])),
        row(
            "cycle: what each suite validated (validation ledger)",
            "; ".join(f"{k}: {v}" for k, v in (f.get("checks_validated") or {}).items()) or "-",
        ),
        row(
            "cycle: publish (quality gate, gates, snapshot, report, serving views) (s)",
            f["cycle_publish_seconds"],
        ),
        row(
            "cycle: publish gate, suites reused from the checks (same content)",
            ", ".join(f["publish_breakdown"].get("suites_reused") or []) or "none",
        ),
        row(
            "cycle: publish, its parts (s)",
            ", ".join(f"{k} {v}" for k, v in (f["publish_breakdown"].get("parts") or {}).items()) or "-",
        ),
        row(
            "cycle: snapshot / serving file (MB)",
            f"{f['publish_breakdown'].get('snapshot_mb', '-')} / "
            f"{f['publish_breakdown'].get('serving_mb', '-')}",
        ),
        row(
            "cycle: daily sync, files / bytes a reader holding the previous version downloads",
            f"{pb.get('files_new', '-')} of {pb.get('files', '-')} files, "
            f"{pb.get('sync_bytes', 0) / 1e6:,.1f} of {pb.get('version_bytes', 0) / 1e6:,.1f} MB "
            f"({(pb.get('sync_share') or 0) * 100:.2f}%)",
        ),
        row(
            "cycle: Parquet snapshot write (s)",
            snap,
            "< 60 s at 3,000,000 models",
            snap < 60 if at_scale and isinstance(snap, float | int) else None,
        ),
        row(
            "disk after the cycle (GB, hard links counted once)",
            ", ".join(f"{k} {v}" for k, v in (f.get("disk_gb") or {}).items()) or "-",
            "< 50 GB at 3,000,000 models",
            f["disk_gb"]["total"] < 50 if at_scale and f.get("disk_gb") else None,
        ),
        row(
            "cycle: peak RSS of build / checks / publish (MB)",
            " / ".join(
                str(result["cycle"].get("rss_by_part", {}).get(k, "-"))
                for k in ("build", "checks", "publish")
            ),
        ),
        row(
            "cycle: total, crawl excluded (s)",
            f["cycle_seconds"],
            "< 300 s at 3,000,000 models",
            (f["cycle_seconds"] < TARGET_SECONDS and not f["cycle_failed_steps"]) if at_scale else None,
        ),
        row("cycle: peak RSS (MB)", f["cycle_peak_rss_mb"], "< 24 GiB", f["cycle_peak_rss_mb"] < 24 * 1024),
        row("cycle: every blocking check passed", f["checks_passed"]),
        row("1-minute load average at the end (other processes on the machine)", result["load_average_1m"]),
    ]
    if f["cycle_failed_steps"]:
        rows.append(
            row(
                "cycle: failed steps",
                ", ".join(
                    f"{k}: {result['cycle']['steps'][k]['error'][:120]}" for k in f["cycle_failed_steps"]
                ),
            )
        )
    return rows


if __name__ == "__main__":
    import sys

    out = run_cycle_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 30_000)
    print(json.dumps(out["figures"], indent=1, default=str))
