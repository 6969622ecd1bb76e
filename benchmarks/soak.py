"""Soak benchmark (issue 11): many days of scheduled crawls with faults end with the same warehouse as a clean run.

The bundled sample corpus (pipelines/mirror/sample) is served by the hub mirror (`MirrorServer`, in its own
process) on 127.0.0.1 and crawled in replay mode (`/as-of/<date>/`), one crawl date after the other, twice,
into two warehouses:

- **clean**: no faults;
- **faulty**: the mirror injects 429s, 5xx, stalls (longer than the client's timeout) and truncated bodies,
  and on one day the crawl is SIGKILLed mid-way and that day is run again (as the scheduler would).

Each crawl date runs, in a fresh spawned process, the steps the daily jobs run (assets/hub.py, assets/papers.py): the listing,
then for each of the CRAWL_SHARDS shards its READMEs and its history walk, then the named datasets and the
cited papers. The parent process (the scheduler's analogue) only starts processes, talks to the mirror's
control endpoints and keeps one small record per day; its RSS, the crawl processes' peak RSS and the mirror's
RSS are sampled every day. At the end one partition is run again (it must add nothing), every core table and
mart is built in both warehouses and compared, and primary keys and raw payloads are checked for duplicates.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import tempfile
import time
import traceback
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks.run import figure_row

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "pipelines" / "mirror" / "sample"
DEFAULT_SHARDS = 4  # CRAWL_SHARDS in assets/partitions.py (not imported: that would import Dagster)
PAGE_SIZE = 10  # listing pages of 10 models: the sample's 62 models take up to 7 pages (pagination, resume)
TOKEN = "hf_soak_local_mirror"  # a made-up token, only ever sent to the loopback mirror (gated READMEs)
RUN_AT = dtime(2, 15)  # daily_listing_schedule: the crawl of date D runs at 02:15 UTC on D + 1
# Both runs use the same client settings (HubSettings fields): a 2 s timeout, so that a 4 s stall is a
# timeout that is retried, and short backoff waits (a 429 still costs huggingface_hub's `t + 1` = 1 s).
CLIENT = {"timeout": 2.0, "base_wait": 0.1, "max_retries": 5}
# FaultConfig.from_dict short names; `retry_after` 0 keeps each 429 at one second of waiting.
FAULTS = {
    "seed": 11,
    "429": 0.04,
    "5xx": 0.04,
    "stall": 0.01,
    "truncate": 0.03,
    "stall_seconds": 4.0,
    "retry_after": 0,
}
FAULT_KINDS = ("429", "5xx", "stall", "truncate", "malformed")
HUB_STEPS = ("listing", "readmes", "history")  # the SIGKILL lands in one of these (not datasets or papers)
MAX_ATTEMPTS = 3  # a day whose crawl fails is run again, as a run retry would; a killed day does not count
TARGETS = {"rss_growth": 0.10, "rss_growth_mb": 5.0, "slope_mb_per_day": 0.5}
# Columns that record when a capture was made (wall-clock time), left out of the clean/faulty comparison.
CAPTURE_TIME = {"papers": ["fetched_at"]}
# Tables that are accounts of the runs themselves, not data: different by design (retries, a killed run).
ACCOUNTS = {"crawl_runs"}
# Primary keys (sql/migrations/) and the natural keys of the tables the scoring step creates; any other table
# is checked for whole-row duplicates.
KEYS = {
    "revisions": ["repo_id", "revision"],
    "releases": ["repo_id"],
    "datasets": ["dataset_id"],
    "papers": ["arxiv_id"],
    "release_papers": ["repo_id", "arxiv_id"],
    "crawl_runs": ["run_key"],
    "openness": ["repo_id", "revision"],
    "licenses": ["id"],
    "disclosures": ["repo_id", "revision", "component_id"],
    "transitions": ["repo_id", "dimension", "to_revision"],
    "derivatives": ["repo_id", "base_model"],
}
# The columns each raw writer hashes into the file name (pipelines/hub, pipelines/papers).
PAYLOAD = {
    "hub_listing": ["item"],
    "hub_readme": ["repo_id", "revision", "status", "content"],
    "hub_revision": ["repo_id", "revision", "info"],
    "hub_commits": ["repo_id", "status", "commits"],
    "hub_dataset": ["dataset_id", "status", "info", "readme_sha256"],
    "arxiv": ["url", "status_code", "body"],
    "hf_paper": ["arxiv_id", "status", "body"],
    "hub_presence": ["repo_id", "present", "how"],
}
# A successful capture of one of these keys is stored once across all crawl dates (a second one is a duplicate).
ONCE = {
    "hub_readme": ["repo_id", "revision"],
    "hub_revision": ["repo_id", "revision"],
    "hub_commits": ["repo_id", "commits"],
}


# ---- dates -------------------------------------------------------------------------------------------
def commit_days(mirror: Path = SAMPLE) -> list[str]:
    """Every day on which a model repo of the mirror has a commit, in order."""
    days = {
        c["date"][:10]
        for p in mirror.glob("models/*/*/commits.json")
        for c in json.loads(p.read_text(encoding="utf-8"))
    }
    return sorted(days)


def soak_dates(n: int, mirror: Path = SAMPLE) -> list[str]:
    """n crawl dates: every commit day when n equals their number (the sample has 60), an even spread of them
    (first and last included) when n is smaller; when larger, the quiet days after the last commit follow
    (nothing changes any more: only the number of crawl dates grows)."""
    days = commit_days(mirror)
    if n < 1:
        raise ValueError("days must be >= 1")
    if n <= len(days):
        step = (len(days) - 1) / max(1, n - 1)
        return sorted({days[round(i * step)] for i in range(n)})
    last = date.fromisoformat(days[-1])
    return days + [(last + timedelta(days=i)).isoformat() for i in range(1, n - len(days) + 1)]


def crawl_time(day: str) -> datetime:
    """When the scheduled crawl of `day` runs (the `now` of every step)."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), RUN_AT, tzinfo=UTC)


# ---- memory ------------------------------------------------------------------------------------------
def rss_mb(pid: int) -> float | None:
    """Current resident set size of a process (MB), from /proc; None where /proc is not available."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def slope(values: list[float]) -> float:
    """Least-squares slope of values against their index (per day)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    return sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values)) / sxx


def growth(values: list[float | None]) -> dict[str, Any]:
    """Peak of the first and last (up to) 10 days, their difference and the least-squares slope."""
    vals = [v for v in values if v is not None]
    if not vals:
        return {
            "first": None,
            "last": None,
            "growth_mb": None,
            "growth": None,
            "slope_mb_per_day": None,
            "window": 0,
        }
    k = max(1, min(10, len(vals) // 2))
    first, last = max(vals[:k]), max(vals[-k:])
    return {
        "first": round(first, 1),
        "last": round(last, 1),
        "growth_mb": round(last - first, 1),
        "growth": round((last - first) / first, 4) if first else None,
        "slope_mb_per_day": round(slope(vals), 3),
        "window": k,
    }


def means(values: list[float | None]) -> dict[str, Any]:
    """Mean of the first and last (up to) 10 values."""
    vals = [v for v in values if v is not None]
    k = max(1, min(10, len(vals) // 2))
    return {
        "first": round(sum(vals[:k]) / k, 2) if vals else None,
        "last": round(sum(vals[-k:]) / k, 2) if vals else None,
        "window": k if vals else 0,
    }


def _memory_ok(g: dict[str, Any]) -> bool:
    if g["first"] is None:
        return False
    small = g["growth_mb"] <= max(TARGETS["rss_growth_mb"], TARGETS["rss_growth"] * g["first"])
    return small and g["slope_mb_per_day"] <= TARGETS["slope_mb_per_day"]


# ---- the mirror, in its own process -----------------------------------------------------------------
def _serve(root: str, conn: Any) -> None:
    from pipelines.mirror.server import MirrorServer

    srv = MirrorServer(Path(root)).start()
    conn.send(srv.url)
    try:
        conn.recv()
    except EOFError:
        pass
    srv.stop()


class Mirror:
    """The hub mirror served from a child process, driven through its `/_mirror/` control endpoints."""

    def __init__(self, root: Path) -> None:
        ctx = get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(str(root), child), name="soak-mirror")
        self.proc.start()
        child.close()
        try:
            if not self._conn.poll(120):
                raise RuntimeError("the hub mirror did not start within 120 s")
            self.url: str = self._conn.recv()
        except (EOFError, RuntimeError) as err:
            self.proc.kill()
            raise RuntimeError(
                f"the hub mirror process failed to start (exit code {self.proc.exitcode})"
            ) from err
        self.arxiv_url = self.url + "/arxiv/api/query"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if method == "GET" else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - our own loopback server
            return json.loads(resp.read())

    def log(self) -> list[dict[str, Any]]:
        """The request log since the last reset."""
        return self._call("GET", "/_mirror/log")

    def reset(self) -> None:
        """Empty the log and restart the fault draws' occurrence counts."""
        self._call("POST", "/_mirror/log/reset")

    def set_faults(self, faults: dict[str, Any] | None) -> None:
        """Turn faults on (FaultConfig fields or short names) or off (None)."""
        self._call("POST", "/_mirror/faults", faults)

    def rss_mb(self) -> float | None:
        """The mirror process's current RSS (MB)."""
        return rss_mb(self.proc.pid)

    def close(self) -> None:
        """Stop the server and its process."""
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


# ---- one crawl date, in a fresh process -------------------------------------------------------------
def _crawl_day(
    wh_root: str, endpoint: str, arxiv_url: str, day: str, shards: int, client: dict[str, Any], conn: Any
) -> None:
    """Every step of one crawl date, as the daily jobs run them; reports each step's start to the parent."""
    step = "import"
    try:
        from huggingface_hub.utils import logging as hf_logging

        from pipelines.hub.settings import HubSettings
        from pipelines.hub.step import run_datasets, run_history, run_listing, run_readmes
        from pipelines.papers.settings import PapersSettings
        from pipelines.papers.step import run_papers_step
        from pipelines.storage.warehouse import Warehouse

        hf_logging.set_verbosity_error()  # huggingface_hub logs one warning per retry otherwise
        wh = Warehouse(Path(wh_root))
        settings = HubSettings(
            endpoint=endpoint,
            token=TOKEN,
            replay=True,
            rate_limit=False,
            page_size=PAGE_SIZE,
            **client,
        )
        papers_settings = PapersSettings(
            arxiv_endpoint=arxiv_url,
            arxiv_min_interval=0.0,
            hub_endpoint=endpoint,
            hub_min_interval=0.0,
            hub_token=TOKEN,
            hub_rate_limit=False,
            replay=True,
        )
        now = crawl_time(day)
        started = time.perf_counter()
        steps: list[dict[str, Any]] = []
        plan: list[tuple[str, Any]] = [
            ("listing", lambda: run_listing(wh, settings, day, now=now).as_metadata())
        ]
        for shard in range(shards):
            plan.append(
                (
                    f"readmes[{shard}]",
                    lambda s=shard: run_readmes(wh, settings, day, shard=s, shards=shards, now=now),
                )
            )
            plan.append(
                (
                    f"history[{shard}]",
                    lambda s=shard: run_history(wh, settings, day, shard=s, shards=shards, now=now),
                )
            )
        plan += [
            ("datasets", lambda: run_datasets(wh, settings, day, now=now)),
            ("papers", lambda: run_papers_step(wh, papers_settings, day)),
        ]
        for step, run in plan:
            conn.send(("step", step))
            t0 = time.perf_counter()
            out = run()
            steps.append(
                {
                    "step": step,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "retries": out.get("retries", 0),
                    "status_429": out.get("status_429", 0),
                    "status_5xx": out.get("status_5xx", 0),
                    "requests": out.get("requests_total"),
                }
            )
        conn.send(
            (
                "done",
                {
                    "steps": steps,
                    "seconds": round(time.perf_counter() - started, 2),
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                },
            )
        )
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which retries the day
        conn.send(
            (
                "error",
                {
                    "step": step,
                    "error": f"{type(err).__name__}: {err}"[:2000],
                    "traceback": traceback.format_exc()[-4000:],
                    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                },
            )
        )
        raise SystemExit(1) from None


def run_day(
    wh_root: Path,
    mirror: Mirror,
    day: str,
    shards: int,
    client: dict[str, Any],
    *,
    kill_after: int | None = None,
) -> dict[str, Any]:
    """Run one crawl date in a fresh process; with kill_after, SIGKILL it once the mirror has logged that
    many requests of the day (counted from the last log reset)."""
    ctx = get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_crawl_day,
        args=(str(wh_root), mirror.url, mirror.arxiv_url, day, shards, client, writer),
        name=f"soak-crawl-{day}",
    )
    started = time.perf_counter()
    proc.start()
    writer.close()
    steps_started: list[str] = []
    outcome: dict[str, Any] = {"status": "died"}
    killed: dict[str, Any] | None = None
    next_poll = 0.0
    while True:
        if reader.poll(0.02):
            try:
                kind, payload = reader.recv()
            except EOFError:
                break
            if kind == "step":
                steps_started.append(payload)
                continue
            outcome = {"status": "ok" if kind == "done" else "error", **payload}
            break
        if not proc.is_alive() and not reader.poll():
            break
        if kill_after is not None and killed is None and time.monotonic() >= next_poll:
            next_poll = time.monotonic() + 0.05
            log = mirror.log()
            if len(log) >= kill_after:
                os.kill(proc.pid, signal.SIGKILL)
                killed = {
                    "after_requests": len(log),
                    "during_step": steps_started[-1] if steps_started else None,
                    "steps_completed": steps_started[:-1],
                    "seconds_in": round(time.perf_counter() - started, 2),
                }
    proc.join()
    reader.close()
    outcome.update(
        exitcode=proc.exitcode,
        wall_seconds=round(time.perf_counter() - started, 2),
        steps_started=steps_started,
    )
    if killed is not None:
        outcome.update(status="killed", killed=killed)
    return outcome


# ---- the raw layer, seen from the parent (no Polars here: the parent stays a small scheduler) --------
def raw_files(wh_root: Path) -> dict[str, set[str]]:
    """Committed raw files per source (relative paths)."""
    out: dict[str, set[str]] = {}
    base = wh_root / "raw"
    for folder in sorted(base.glob("*")) if base.exists() else []:
        out[folder.name] = {
            str(p.relative_to(base))
            for p in folder.glob("crawl_date=*/*.parquet")
            if not p.name.startswith(".")
        }
    return out


def _count(files: dict[str, set[str]], *, accounts: bool = False) -> int:
    return sum(len(v) for k, v in files.items() if accounts == (k == "crawl_run"))


def _temporaries(wh_root: Path) -> int:
    return (
        sum(1 for _ in (wh_root / "raw").glob("*/crawl_date=*/.*.tmp")) if (wh_root / "raw").exists() else 0
    )


def _key(r: dict[str, Any]) -> str:
    return json.dumps([r["method"], r["path"], r.get("query") or {}], sort_keys=True)


def _answered(r: dict[str, Any]) -> bool:
    """A real answer reached the client (any status, 404 included), not a fault."""
    return r["status"] is not None and not r.get("fault") and r["status"] != 429 and r["status"] < 500


def _kind(path: str) -> str:
    """What a logged request asked for: listing page, commit list, revision info, README, dataset, paper."""
    if "/arxiv/" in path or "/api/papers/" in path:
        return "paper"
    if "/api/datasets" in path or "/datasets/" in path:
        return "dataset"
    if path.endswith("/api/models"):
        return "listing page"
    if "/commits/" in path:
        return "commit list"
    if "/revision/" in path:
        return "revision info"
    return "README" if path.endswith("/README.md") else "model info" if "/api/models/" in path else "other"


def _readme_get(r: dict[str, Any]) -> tuple[str, str] | None:
    """(repo, revision) of a model README GET in the log (path /as-of/D/org/name/resolve/rev/README.md)."""
    parts = r["path"].split("/")
    if (
        r["method"] != "GET"
        or len(parts) < 8
        or parts[1] != "as-of"
        or parts[5] != "resolve"
        or parts[-1] != "README.md"
        or parts[3] == "datasets"
    ):
        return None
    return f"{parts[3]}/{parts[4]}", parts[6]


def summarise_log(log: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests, faults applied per kind, error statuses and repeated requests of one day's log."""
    seen: set[str] = set()
    repeated = 0
    for r in log:
        k = _key(r)
        repeated += k in seen
        seen.add(k)
    faults = Counter(r["fault"] for r in log if r.get("fault"))
    return {
        "requests": len(log),
        "buckets": dict(Counter(r["bucket"] for r in log)),
        "faults": {k: faults.get(k, 0) for k in FAULT_KINDS},
        "status_429": sum(r["status"] == 429 for r in log),
        "status_5xx": sum((r["status"] or 0) >= 500 for r in log),
        "repeated": repeated,
    }


# ---- one soak run ------------------------------------------------------------------------------------
def soak_run(
    name: str,
    mirror: Mirror,
    wh_root: Path,
    dates: list[str],
    *,
    faults: dict[str, Any] | None,
    shards: int,
    client: dict[str, Any],
    kill_day: int | None = None,
    kill_after: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Crawl every date in order into one warehouse; one record per day (requests, faults, memory)."""
    shutil.rmtree(wh_root, ignore_errors=True)
    wh_root.mkdir(parents=True)
    mirror.set_faults(faults)
    days: list[dict[str, Any]] = []
    kill: dict[str, Any] | None = None
    started = time.perf_counter()
    for i, day in enumerate(dates, start=1):
        mirror.reset()
        before = raw_files(wh_root)
        attempts: list[dict[str, Any]] = []
        if i == kill_day:
            victim = run_day(wh_root, mirror, day, shards, client, kill_after=kill_after)
            attempts.append(victim)
            at_kill = raw_files(wh_root)
            log = mirror.log()
            cut = victim["killed"]["after_requests"] if victim["status"] == "killed" else len(log)
            kill = {
                "day": i,
                "date": day,
                "status": victim["status"],
                "exitcode": victim["exitcode"],
                **victim.get("killed", {}),
                "threshold": kill_after,
                "requests_before_kill": cut,
                "temporaries_left": _temporaries(wh_root),
                "saved_files": {s: sorted(at_kill.get(s, set()) - before.get(s, set())) for s in at_kill},
                "before_log": log[:cut],
            }
        while True:
            outcome = run_day(wh_root, mirror, day, shards, client)
            attempts.append(outcome)
            if outcome["status"] == "ok" or sum(a["status"] != "killed" for a in attempts) >= MAX_ATTEMPTS:
                break
        log = mirror.log()
        after = raw_files(wh_root)
        if kill is not None and kill["day"] == i:
            before_log = kill.pop("before_log")
            rerun_log = log[len(before_log) :]
            answered = {_key(r): r for r in before_log if _answered(r)}
            redone = [answered[k] for k in answered.keys() & {_key(r) for r in rerun_log}]
            kill.update(
                rerun_requests=len(rerun_log),
                redone_requests=len(redone),
                redone_by_kind=dict(Counter(_kind(r["path"]) for r in redone)),
                rerun_readme_gets=sorted({g for g in map(_readme_get, rerun_log) if g}),
                listing_pages_before_kill=sum(
                    1 for r in before_log if r["path"].endswith("/api/models") and r["status"] == 200
                ),
                listing_pages_rerun=sum(
                    1 for r in rerun_log if r["path"].endswith("/api/models") and r["status"] == 200
                ),
            )
        ok = outcome["status"] == "ok"
        steps = outcome.get("steps", [])
        record = {
            "day": i,
            "date": day,
            "ok": ok,
            "attempts": len(attempts),
            "failures": [
                {"step": a.get("step"), "error": a.get("error")} for a in attempts if a["status"] == "error"
            ],
            "seconds": round(sum(a["wall_seconds"] for a in attempts), 2),
            "crawl_seconds": outcome.get("seconds"),
            "peak_rss_mb": outcome.get("peak_rss_mb"),
            "parent_rss_mb": rss_mb(os.getpid()),
            "mirror_rss_mb": mirror.rss_mb(),
            "retries_accounted": sum(s["retries"] or 0 for s in steps),
            "hub_crawl_requests": sum(s["requests"] or 0 for s in steps if s["step"].startswith(HUB_STEPS)),
            "raw_files_added": _count(after) - _count(before),
            "run_accounts_added": _count(after, accounts=True) - _count(before, accounts=True),
            **summarise_log(log),
        }
        days.append(record)
        if progress:
            f = record["faults"]
            print(
                f"soak {name} day {i}/{len(dates)} {day}: {'ok' if ok else 'FAILED'} in {record['seconds']} s, "
                f"{record['requests']} requests, faults {sum(f.values())}, +{record['raw_files_added']} raw files, "
                f"peak RSS {record['peak_rss_mb']} MB, parent {record['parent_rss_mb']} MB"
                + (
                    f", killed at request {kill['requests_before_kill']}" if kill and kill["day"] == i else ""
                ),
                flush=True,
            )
    return {
        "name": name,
        "faults": faults,
        "days": days,
        "kill": kill,
        "seconds": round(time.perf_counter() - started, 1),
        "raw_files": _count(raw_files(wh_root)),
    }


def rerun_partition(
    wh_root: Path, mirror: Mirror, day: str, shards: int, client: dict[str, Any]
) -> dict[str, Any]:
    """Run a crawl date that already ran; report what it asked and what it added to the raw layer."""
    mirror.reset()
    before = raw_files(wh_root)
    outcome = run_day(wh_root, mirror, day, shards, client)
    after = raw_files(wh_root)
    log = mirror.log()
    return {
        "date": day,
        "status": outcome["status"],
        "error": outcome.get("error"),
        "requests": len(log),
        "requests_ok": sum(r["status"] == 200 for r in log),
        "data_files_before": _count(before),
        "data_files_after": _count(after),
        "added": {
            s: len(after.get(s, set()) - before.get(s, set()))
            for s in after
            if after.get(s, set()) - before.get(s, set())
        },
    }


# ---- building and comparing, in a fresh process -----------------------------------------------------
def _build_all(root: Path) -> None:
    """Every table of the warehouse at `root`, rebuilt from its whole raw layer (the runner's full mode)."""
    from pipelines.runner import build_all
    from pipelines.storage.warehouse import Warehouse

    wh = Warehouse(root)
    with wh.connect() as con:
        build_all(wh, con, full=True)


def _rows(frame: Any) -> Counter:
    return Counter(json.dumps(r, sort_keys=True, default=str) for r in frame.iter_rows(named=True))


def analyse(clean_root: str, faulty_root: str, kill: dict[str, Any] | None) -> dict[str, Any]:
    """Build every table in both warehouses; compare them, count duplicate keys and duplicate raw payloads."""
    import duckdb
    import polars as pl

    from pipelines.storage.raw import RawStore

    started = time.perf_counter()
    for root in (clean_root, faulty_root):
        _build_all(Path(root))
    build_seconds = round(time.perf_counter() - started, 1)
    frames: dict[str, dict[str, Any]] = {}
    for label, root in (("clean", clean_root), ("faulty", faulty_root)):
        con = duckdb.connect(str(Path(root) / "work.duckdb"), read_only=True)
        try:
            names = [
                f"{s}.{t}"
                for s, t in con.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('core', 'marts') "
                    "ORDER BY 1, 2"
                ).fetchall()
            ]
            frames[label] = {n: con.sql(f"SELECT * FROM {n}").pl() for n in names}  # noqa: S608 - catalog names
        finally:
            con.close()
    tables: dict[str, dict[str, Any]] = {}
    for name in sorted(set(frames["clean"]) | set(frames["faulty"])):
        short = name.split(".", 1)[1]
        entry: dict[str, Any] = {}
        for label in ("clean", "faulty"):
            frame = frames[label].get(name)
            if frame is None:
                entry[f"{label}_rows"] = None
                continue
            entry[f"{label}_rows"] = frame.height
            key = KEYS.get(short) or frame.columns
            entry[f"{label}_duplicates"] = (
                frame.height - frame.select(key).unique().height if frame.height else 0
            )
            entry["key"] = "(" + ", ".join(KEYS[short]) + ")" if short in KEYS else "whole row"
        if short in ACCOUNTS:
            entry["equal"] = None  # accounts of the runs: the faulty run has retries and a killed run
        elif entry["clean_rows"] is None or entry["faulty_rows"] is None:
            entry["equal"] = False
        else:
            drop = CAPTURE_TIME.get(short, [])
            a, b = (_rows(frames[x][name].drop(drop)) for x in ("clean", "faulty"))
            entry.update(
                equal=a == b,
                only_clean=sum((a - b).values()),
                only_faulty=sum((b - a).values()),
                dropped_columns=drop,
            )
        tables[name] = entry
    raw = {
        label: _raw_checks(RawStore(Path(root) / "raw"), pl)
        for label, root in (("clean", clean_root), ("faulty", faulty_root))
    }
    raw_equal = {
        s: _raw_rows(RawStore(Path(clean_root) / "raw"), s, pl)
        == _raw_rows(RawStore(Path(faulty_root) / "raw"), s, pl)
        for s in ("hub_listing", "hub_readme", "hub_revision", "hub_commits", "hub_dataset", "hub_presence")
    }
    out: dict[str, Any] = {
        "tables": tables,
        "raw": raw,
        "raw_equal": raw_equal,
        "build_seconds": build_seconds,
        "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if kill and kill.get("saved_files"):
        readme_files = [Path(faulty_root) / "raw" / f for f in kill["saved_files"].get("hub_readme", [])]
        saved = set()
        for f in readme_files:
            saved |= set(
                pl.read_parquet(f)
                .filter(pl.col("status") != "error")
                .select("repo_id", "revision")
                .iter_rows()
            )
        refetched = saved & {tuple(g) for g in kill.get("rerun_readme_gets", [])}
        out["kill"] = {"readmes_saved_before_kill": len(saved), "saved_then_fetched_again": len(refetched)}
    return out


def _raw_checks(raw: Any, pl: Any) -> dict[str, Any]:
    """Per source: files, rows, answers repeating a payload within a crawl date, captures stored twice.

    Records of failed attempts (a README `error`, an arXiv answer other than 200, a paper page `error`) are
    accounts of what went wrong, like the crawl runs: two identical 503s for one URL are not a duplicate.
    """
    out = {}
    for source, cols in PAYLOAD.items():
        files = raw.files(source)
        if not files:
            out[source] = {
                "files": 0,
                "rows": 0,
                "failed_attempts": 0,
                "duplicate_payloads": 0,
                "captured_twice": 0,
            }
            continue
        frame = raw.scan(source).collect()
        if source == "arxiv":
            ok = frame.filter(pl.col("status_code") == 200)
        elif "status" in frame.columns:
            ok = frame.filter(pl.col("status") != "error")
        else:
            ok = frame
        key = ["crawl_date", *[c for c in cols if c in ok.columns]]
        twice = ok.height - ok.select(ONCE[source]).unique().height if source in ONCE else 0
        out[source] = {
            "files": len(files),
            "rows": frame.height,
            "failed_attempts": frame.height - ok.height,
            "duplicate_payloads": ok.height - ok.select(key).unique().height,
            "captured_twice": twice,
        }
    return out


def _raw_rows(raw: Any, source: str, pl: Any) -> Counter:
    """A source's payload rows (no capture times, no failed attempts), for comparing two warehouses."""
    if not raw.files(source):
        return Counter()
    frame = raw.scan(source).collect()
    if "status" in frame.columns and source != "hub_dataset":
        frame = frame.filter(pl.col("status") != "error")
    keep = [c for c in frame.columns if c not in ("fetched_at", "checked_at", "page_url", "detail")]
    return _rows(frame.select(keep))


def _analyse_in_child(clean_root: Path, faulty_root: Path, kill: dict[str, Any] | None) -> dict[str, Any]:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(analyse, str(clean_root), str(faulty_root), kill).result()


# ---- the benchmark -----------------------------------------------------------------------------------
def run_soak(
    days: int = 60,
    *,
    kill_day: int | None = None,
    work: Path | None = None,
    faults: dict[str, Any] | None = None,
    shards: int | None = None,
    client: dict[str, Any] | None = None,
    rerun_day: int | None = None,
    mirror_root: Path = SAMPLE,
    progress: bool = True,
) -> dict[str, Any]:
    """Soak `days` crawl dates of the sample corpus clean and with faults; compare the warehouses.

    kill_day: 1-based day of the faulty run whose crawl is SIGKILLed (default: the day whose listing, README and
    history steps made the most requests in the clean run), once the mirror has logged half the requests those
    steps made that day in the clean run (so the kill lands in the listing, a README or a history step). faults:
    FaultConfig fields or short names (default FAULTS). rerun_day: the day run once more at the end
    (default: the kill day). work: where the two warehouses go (default BENCH_WORK or the temp folder).
    """
    work = (
        Path(work or os.environ.get("BENCH_WORK") or Path(tempfile.gettempdir()) / "openness-bench") / "soak"
    )
    shards = shards or int(os.environ.get("BENCH_SHARDS", DEFAULT_SHARDS))
    client = {**CLIENT, **(client or {})}
    faults = {**FAULTS, **(faults or {})}
    dates = soak_dates(days, mirror_root)
    work.mkdir(parents=True, exist_ok=True)
    mirror = Mirror(mirror_root)
    try:
        clean = soak_run(
            "clean",
            mirror,
            work / "clean",
            dates,
            faults=None,
            shards=shards,
            client=client,
            progress=progress,
        )
        per_day = [d["hub_crawl_requests"] for d in clean["days"]]
        if kill_day is None:
            kill_day = max(range(len(dates)), key=lambda i: per_day[i]) + 1
        if not 1 <= kill_day <= len(dates):
            raise ValueError(f"kill_day must be between 1 and {len(dates)}")
        kill_after = max(1, per_day[kill_day - 1] // 2)
        faulty = soak_run(
            "faulty",
            mirror,
            work / "faulty",
            dates,
            faults=faults,
            shards=shards,
            client=client,
            kill_day=kill_day,
            kill_after=kill_after,
            progress=progress,
        )
        rerun = rerun_partition(work / "faulty", mirror, dates[(rerun_day or kill_day) - 1], shards, client)
        mirror_rss = mirror.rss_mb()
    finally:
        mirror.close()
    analysis = _analyse_in_child(work / "clean", work / "faulty", faulty["kill"])
    if faulty["kill"]:
        faulty["kill"].pop("rerun_readme_gets", None)
        faulty["kill"]["saved_files"] = {s: len(v) for s, v in faulty["kill"]["saved_files"].items() if v}
    result = {
        "dates": dates,
        "mirror_root": str(mirror_root),
        "last_commit_day": commit_days(mirror_root)[-1],
        "shards": shards,
        "client": client,
        "faults": faults,
        "page_size": PAGE_SIZE,
        "clean": clean,
        "faulty": faulty,
        "rerun": rerun,
        "analysis": analysis,
        "mirror_rss_end_mb": mirror_rss,
    }
    result["figures"] = figures(result)
    return result


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a soak result."""
    clean, faulty, analysis = result["clean"], result["faulty"], result["analysis"]
    fd = faulty["days"]
    faults = Counter()
    for d in fd:
        faults.update(d["faults"])
    tables = analysis["tables"]
    compared = {n: t["equal"] for n, t in tables.items() if t["equal"] is not None}
    duplicates = sum(
        (t.get("clean_duplicates") or 0) + (t.get("faulty_duplicates") or 0) for t in tables.values()
    )
    raw_dups = sum(
        v["duplicate_payloads"] + v["captured_twice"] for r in analysis["raw"].values() for v in r.values()
    )
    kill = faulty["kill"] or {}
    return {
        "all_commit_days": set(commit_days(Path(result.get("mirror_root", SAMPLE)))) <= set(result["dates"]),
        "days": len(result["dates"]),
        "first_date": result["dates"][0],
        "last_date": result["dates"][-1],
        "models_at_end": tables.get("core.releases", {}).get("clean_rows"),
        "revisions_at_end": tables.get("core.revisions", {}).get("clean_rows"),
        "clean_requests": sum(d["requests"] for d in clean["days"]),
        "faulty_requests": sum(d["requests"] for d in fd),
        "faults": {k: faults.get(k, 0) for k in FAULT_KINDS},
        "faulty_status_429": sum(d["status_429"] for d in fd),
        "faulty_status_5xx": sum(d["status_5xx"] for d in fd),
        "faulty_repeated_requests": sum(d["repeated"] for d in fd),
        "faulty_retries_accounted": sum(d["retries_accounted"] for d in fd),
        "clean_repeated_requests": sum(d["repeated"] for d in clean["days"]),
        "failed_attempts": sum(len(d["failures"]) for d in fd + clean["days"]),
        "days_failed": sum(not d["ok"] for d in fd + clean["days"]),
        "clean_seconds": clean["seconds"],
        "faulty_seconds": faulty["seconds"],
        "kill_day": kill.get("day"),
        "kill_date": kill.get("date"),
        "kill_status": kill.get("status"),
        "kill_exitcode": kill.get("exitcode"),
        "kill_step": kill.get("during_step"),
        "kill_requests_before": kill.get("requests_before_kill"),
        "kill_rerun_requests": kill.get("rerun_requests"),
        "kill_redone_requests": kill.get("redone_requests"),
        "kill_redone_by_kind": kill.get("redone_by_kind"),
        "kill_saved_files": kill.get("saved_files"),
        "kill_temporaries": kill.get("temporaries_left"),
        "kill_clean_day_requests": clean["days"][kill["day"] - 1]["requests"] if kill else None,
        "kill_listing_pages": (kill.get("listing_pages_before_kill"), kill.get("listing_pages_rerun")),
        "kill_saved_then_refetched": analysis.get("kill", {}).get("saved_then_fetched_again"),
        "kill_readmes_saved": analysis.get("kill", {}).get("readmes_saved_before_kill"),
        "tables_compared": len(compared),
        "tables_equal": sum(compared.values()),
        "tables_different": sorted(n for n, ok in compared.items() if not ok),
        "duplicate_keys": duplicates,
        "raw_duplicates": raw_dups,
        "raw_equal": all(analysis["raw_equal"].values()),
        "rerun_date": result["rerun"]["date"],
        "rerun_requests": result["rerun"]["requests"],
        "rerun_files": (result["rerun"]["data_files_before"], result["rerun"]["data_files_after"]),
        "rerun_added": result["rerun"]["added"],
        "crawl_rss": growth([d["peak_rss_mb"] for d in fd]),
        "quiet_days": sum(d["date"] > result["last_commit_day"] for d in fd),
        "quiet_crawl_rss": growth([d["peak_rss_mb"] for d in fd if d["date"] > result["last_commit_day"]]),
        "clean_crawl_rss": growth([d["peak_rss_mb"] for d in clean["days"]]),
        "parent_rss": growth([d["parent_rss_mb"] for d in fd]),
        "clean_crawl_seconds": means([d["crawl_seconds"] for d in clean["days"]]),
        "mirror_rss": growth([d["mirror_rss_mb"] for d in fd]),
        "build_seconds": analysis["build_seconds"],
        "build_peak_rss_mb": analysis["build_peak_rss_mb"],
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(figure, value, target, met?) rows for docs/benchmarks.md (figures recomputed from the per-day records)."""
    f = figures(result)

    row = figure_row

    faults = f["faults"]
    c, p, m, q, t = (
        f["crawl_rss"],
        f["parent_rss"],
        f["mirror_rss"],
        f["quiet_crawl_rss"],
        f["clean_crawl_seconds"],
    )
    rss_target = (
        f"last <= first + max({TARGETS['rss_growth_mb']:g} MB, {TARGETS['rss_growth']:.0%}); "
        f"slope <= {TARGETS['slope_mb_per_day']} MB/day"
    )
    saved = ", ".join(f"{k} {v}" for k, v in (f["kill_saved_files"] or {}).items()) or "none"
    tables = f"{f['tables_equal']} / {f['tables_compared']}" + (
        f" (differ: {', '.join(f['tables_different'])})" if f["tables_different"] else ""
    )
    rerun_added = ", ".join(f"{k} +{v}" for k, v in f["rerun_added"].items()) or "nothing"
    by_kind = ", ".join(f"{k} {v}" for k, v in sorted((f["kill_redone_by_kind"] or {}).items()))
    redone = f" ({by_kind})" if by_kind else ""
    which = " (every commit day of the sample corpus)" if f["all_commit_days"] else ""
    return [
        row(f"crawl dates{which}", f"{f['days']}: {f['first_date']} .. {f['last_date']}"),
        row(
            "releases / revisions in the warehouse at the end",
            f"{f['models_at_end']} / {f['revisions_at_end']}",
        ),
        row("requests: clean run / faulty run", f"{f['clean_requests']} / {f['faulty_requests']}"),
        row(
            "faults injected: 429 / 5xx / stall / truncate",
            " / ".join(str(faults[k]) for k in ("429", "5xx", "stall", "truncate")),
            "> 0 each",
            all(faults[k] > 0 for k in ("429", "5xx", "stall", "truncate")),
        ),
        row(
            "retries: repeated requests in the mirror log / in the crawler's accounts",
            f"{f['faulty_repeated_requests']} / {f['faulty_retries_accounted']}",
        ),
        row(
            "failed step attempts (run again) / days that failed for good",
            f"{f['failed_attempts']} / {f['days_failed']}",
            "days failed 0",
            f["days_failed"] == 0,
        ),
        row("wall time (s): clean / faulty", f"{f['clean_seconds']} / {f['faulty_seconds']}"),
        row(
            "SIGKILL: day, date, step running",
            f"day {f['kill_day']}, {f['kill_date']}, {f['kill_step']}",
            "exit -9",
            f["kill_exitcode"] == -signal.SIGKILL,
        ),
        row(
            "SIGKILL: requests before the kill / rerun of the day / clean run of the day",
            f"{f['kill_requests_before']} / {f['kill_rerun_requests']} / {f['kill_clean_day_requests']}",
        ),
        row("SIGKILL: raw files saved before the kill", saved),
        row(
            "SIGKILL: answers received but not saved (asked again) / saved READMEs asked again",
            f"{f['kill_redone_requests']}{redone} / {f['kill_saved_then_refetched']}",
            "saved asked again: 0",
            f["kill_saved_then_refetched"] == 0,
        ),
        row(
            "core tables and marts equal, clean vs faulty",
            tables,
            "all",
            f["tables_compared"] > 0 and f["tables_equal"] == f["tables_compared"],
        ),
        row(
            "raw captures equal, clean vs faulty (hub sources, payload columns)",
            "yes" if f["raw_equal"] else "no",
            "yes",
            f["raw_equal"],
        ),
        row(
            "duplicate primary keys (both warehouses, every table)",
            f["duplicate_keys"],
            0,
            f["duplicate_keys"] == 0,
        ),
        row(
            "duplicate raw payloads / captures stored twice", f["raw_duplicates"], 0, f["raw_duplicates"] == 0
        ),
        row(
            f"rerun of {f['rerun_date']}: requests / data files before -> after",
            f"{f['rerun_requests']} / {f['rerun_files'][0]} -> {f['rerun_files'][1]} ({rerun_added})",
            "no data file added",
            f["rerun_files"][0] == f["rerun_files"][1],
        ),
        row(
            f"crawl process peak RSS (MB): first / last {c['window']} days, slope MB/day",
            f"{c['first']} / {c['last']}, {c['slope_mb_per_day']}",
            rss_target,
            _memory_ok(c),
        ),
        *(
            [
                row(
                    f"crawl process peak RSS over the {f['quiet_days']} quiet days after the last commit (MB): "
                    f"first / last {q['window']}, slope MB/day",
                    f"{q['first']} / {q['last']}, {q['slope_mb_per_day']}",
                    rss_target,
                    _memory_ok(q),
                )
            ]
            if f["quiet_days"]
            else []
        ),
        row(
            f"crawl process seconds per date, clean run (mean): first / last {t['window']} days",
            f"{t['first']} / {t['last']}",
        ),
        row(
            f"scheduler (parent) RSS (MB): first / last {p['window']} days, slope MB/day",
            f"{p['first']} / {p['last']}, {p['slope_mb_per_day']}",
            rss_target,
            _memory_ok(p),
        ),
        row(
            f"mirror server RSS (MB): first / last {m['window']} days, slope MB/day",
            f"{m['first']} / {m['last']}, {m['slope_mb_per_day']}",
        ),
        row(
            "build of every table (both warehouses): seconds / peak RSS (MB)",
            f"{f['build_seconds']} / {f['build_peak_rss_mb']}",
        ),
    ]
