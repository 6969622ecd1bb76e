"""Crawl-cost benchmark (issue 3): what the daily crawl asks of the Hub, measured on the mirror's request log.

A synthetic mirror (benchmarks.synthetic) is served on loopback; the real crawler runs, each step in
a fresh process (its own wall time and peak RSS): `run_crawl` D0 (first full crawl), `run_history` D0 (the
one-off history backfill), `run_crawl` D1 (1% of repos changed), `run_history` D1. Every logged request
is classified as needed (listing page, README of a changed/new commit, history read of a repo whose head
changed, dataset read) or wasted (anything else: README of an unchanged commit, a duplicate, a retry).
The D0 backfill's API calls per model give the days of the daily history budget that the top 100,000 /
1,000,000 / all of the Hub's models need, walked most-downloaded first (`openness depth`).
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks.run import figure_row
from benchmarks.synthetic import generate_mirror
from pipelines.depth import HUB_MODELS, hub_daily_budget, plan_tiers
from pipelines.mirror.server import MirrorServer
from pipelines.mirror.store import State
from pipelines.transport import HUB_ENDPOINT

SCALES = {"quick": 10_000, "full": 100_000}
DAYS = ["2026-08-20", "2026-08-21"]
SEED = 20260820
DEFAULT_SHARDS = 4  # CRAWL_SHARDS in assets/partitions.py (not imported: that would import Dagster)
FREE_QUOTAS = {"api": 1000, "resolvers": 5000}  # per 5-minute window (reference/hub-api.md section 4.2)
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/(?P<what>revision|commits)/(?P<rev>[^/]+))?$")
# Targets: cost that grows with what changed (DESIGN.md "Scale"), not with the size of the Hub.
TARGETS = {
    "api_per_1000_listed": 1.0,
    "resolvers_per_changed": 1.0,
    "wasted": 0,
    "avoidable_head": 0,
    "ratio_to_naive_d1": 0.05,
}


def _end_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), dtime.max, tzinfo=UTC)


def _step(kind: str, wh_root: str, endpoint: str, day: str, shard: int, shards: int) -> dict[str, Any]:
    """Run one crawl step (or one shard of it) in this child process; returns its result, time and peak RSS."""
    from pipelines.hub import step as daily
    from pipelines.hub.settings import HubSettings
    from pipelines.hub.step import run_history
    from pipelines.storage.warehouse import Warehouse

    wh = Warehouse(Path(wh_root))
    settings = HubSettings(endpoint=endpoint, replay=True, rate_limit=False, page_size=1000)
    now = _end_of(day) + timedelta(hours=1)
    started = time.perf_counter()
    if kind == "crawl":  # run_crawl = run_listing + run_readmes of the single shard
        out: Any = daily.run_crawl(wh, settings, day, now=now).as_metadata()
    elif kind == "listing":
        out = daily.run_listing(wh, settings, day, now=now).as_metadata()
    elif kind == "readmes":
        out = daily.run_readmes(wh, settings, day, now=now, shard=shard, shards=shards)
    else:
        shard_args = {"shard": shard, "shards": shards} if shards > 1 else {}
        out = run_history(wh, settings, day, now=now, **shard_args)
    return {
        "result": out,
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _in_children(kind: str, wh_root: str, endpoint: str, day: str, shards: int) -> list[dict[str, Any]]:
    # Fresh interpreters per step (peak RSS is the step's own, no state leaks between days), one per shard
    # running side by side, as the pipeline's sharded partitions do under a multiprocess executor.
    with ProcessPoolExecutor(shards, mp_context=get_context("spawn")) as pool:
        jobs = [pool.submit(_step, kind, wh_root, endpoint, day, i, shards) for i in range(shards)]
        return [j.result() for j in jobs]


def run_step(kind: str, wh_root: str, endpoint: str, day: str, shards: int) -> dict[str, Any]:
    """One step, sharded like the pipeline when shards > 1; wall time and the largest peak RSS of its processes."""
    started = time.perf_counter()
    if kind == "crawl" and shards > 1:
        parts = _in_children("listing", wh_root, endpoint, day, 1) + _in_children(
            "readmes", wh_root, endpoint, day, shards
        )
    else:
        parts = _in_children(kind, wh_root, endpoint, day, shards if kind == "history" else 1)
    return {
        "result": parts[0]["result"],
        "shards": [p["result"] for p in parts[1:]],
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": max(p["peak_rss_mb"] for p in parts),
    }


class Expectation:
    """What a step needs to ask, from the mirror's own index: heads per day and the commits in between."""

    def __init__(self, srv: MirrorServer, day: str, prev: str | None) -> None:
        self.store, self.day, self.prev = srv.store, day, prev
        self.repos = srv.store.repos("models")
        end, prev_end = _end_of(day), _end_of(prev) if prev else None
        self.heads = {r: s for r, s in ((rid, repo.state_at(end)) for rid, repo in self.repos.items()) if s}
        before = {rid: repo.state_at(prev_end) for rid, repo in self.repos.items()} if prev_end else {}
        # Repos whose head moved since the previous day (all of them on D0): the ones worth any request.
        self.moved = {
            r: st
            for r, st in self.heads.items()
            if before.get(r) is None or before[r].commit.id != st.commit.id
        }
        self.prev_index = {
            r: (before[r].index if before.get(r) else len(self.repos[r].commits)) for r in self.moved
        }
        self.new = {r for r in self.moved if before.get(r) is None} if prev else set()

    def readme(self, repo: str, index: int) -> bytes | None:
        """README bytes of a repo at commit index (None: no README there)."""
        path = self.store.revision_file(State(self.repos[repo], index), "README.md")
        return path.read_bytes() if path is not None else None

    def new_commits(self, repo: str) -> list[int]:
        """Commit indexes (newest first) after the previous day's head, up to and including today's head."""
        return list(range(self.moved[repo].index, self.prev_index[repo])) if repo in self.moved else []


def classify(requests: list[dict], exp: Expectation, kind: str) -> Counter:
    """Count a step's requests per category; every category starting with `wasted` misses the target."""
    counts: Counter = Counter()
    seen: set[tuple] = set()
    paths = [
        ("/" + r["path"].split("/", 3)[3]) if r["path"].startswith("/as-of/") else r["path"] for r in requests
    ]
    got = {
        p for r, p in zip(requests, paths, strict=True) if r["method"] == "GET" and p.endswith("/README.md")
    }
    for r, path in zip(requests, paths, strict=True):
        key = (r["method"], path, json.dumps(r.get("query") or {}, sort_keys=True))
        dup = key in seen
        seen.add(key)
        cat = _category(r, path, exp, kind, dup)
        if r["method"] == "HEAD" and not cat.startswith("wasted") and path in got:
            # hf_hub_download asks HEAD for the commit and ETag, then GETs the same URL: one resolver call too many.
            cat = "avoidable: README HEAD before its GET (hf_hub_download)"
        counts[cat] += 1
    return counts


def _category(r: dict, path: str, exp: Expectation, kind: str, dup: bool) -> str:
    if r["status"] == 429 or r["status"] >= 500 or r.get("fault"):
        return "wasted: retry after a fault"
    if path.startswith(("/api/datasets", "/datasets/")):
        return "dataset read"
    if dup:
        return "wasted: duplicate request"
    if path == "/api/models":
        return "listing page"
    m = _RESOLVE.match(path)
    if m and m["file"] == "README.md":
        repo, rev = m["repo"], m["rev"]
        if r["status"] == 404:
            return "wasted: README of a commit without one"
        if kind == "crawl":
            needed = repo in exp.moved and exp.moved[repo].commit.id == rev
            return "README of a changed/new head" if needed else "wasted: README of an unchanged commit"
        idx = next((i for i in exp.new_commits(repo) if exp.repos[repo].commits[i].id == rev), None)
        if idx is None or idx == exp.moved[repo].index:
            return "wasted: history README of a captured commit"
        older = exp.readme(repo, idx + 1) if idx + 1 < len(exp.repos[repo].commits) else None
        if older is not None and older == exp.readme(repo, idx):
            return "wasted: history README with the same blob as the commit before"
        return "history README (blob changed)"
    m = _API.match(path)
    if m and kind == "history" and m["what"] == "commits" and m["repo"] in exp.moved:
        return "history: commits list"
    if m and kind == "history" and m["what"] == "revision" and m["repo"] in exp.moved:
        ids = {exp.repos[m["repo"]].commits[i].id for i in exp.new_commits(m["repo"])[1:]}
        return "history: revision info" if m["rev"] in ids else "wasted: revision info of a captured commit"
    what = "file" if m is None and _RESOLVE.match(path) else (m["what"] or "model info") if m else "request"
    return f"wasted: unexpected {r['method']} {what}"


def _quota_minutes(buckets: Counter) -> float:
    """Minutes the requests take at a free token's sustained rate (quota per 5 minutes; the busier bucket)."""
    return round(max(5 * buckets.get(b, 0) / q for b, q in FREE_QUOTAS.items()), 1)


def prepare_mirror(work: Path, n_models: int, seed: int = SEED) -> dict[str, Any]:
    """Generate the mirror, or reuse one made earlier with the same parameters (its synthetic.json)."""
    root = work / f"mirror-{n_models}-seed{seed}"
    meta = root / "synthetic.json"
    if meta.exists():
        made = json.loads(meta.read_text())
        if (made["n_models"], made["seed"], made["days"]) == (n_models, seed, DAYS):
            return {**made, "root": str(root), "seconds": None, "reused": True}
    shutil.rmtree(root, ignore_errors=True)
    return {**generate_mirror(root, n_models, seed=seed, days=DAYS), "reused": False}


def run_crawl_cost(
    n_models: int, *, seed: int = SEED, work: Path | None = None, shards: int | None = None
) -> dict[str, Any]:
    """Run the four crawl steps against a synthetic mirror of n models; print and return the figures."""
    work = Path(work or os.environ.get("BENCH_WORK") or Path(tempfile.gettempdir()) / "openness-bench")
    shards = shards or int(os.environ.get("BENCH_SHARDS", DEFAULT_SHARDS))
    work.mkdir(parents=True, exist_ok=True)
    mirror = prepare_mirror(work, n_models, seed)
    wh_root = work / f"warehouse-{n_models}"
    shutil.rmtree(wh_root, ignore_errors=True)
    d0, d1 = DAYS
    steps: dict[str, Any] = {}
    srv = MirrorServer(Path(mirror["root"]), page_size=1000)
    t0 = time.perf_counter()
    with srv.start():
        index_s = time.perf_counter() - t0
        for name, kind, day, prev in [
            ("crawl_d0", "crawl", d0, None),
            ("history_d0", "history", d0, None),
            ("crawl_d1", "crawl", d1, d0),
            ("history_d1", "history", d1, d0),
        ]:
            srv.reset_log()
            out = run_step(kind, str(wh_root), srv.url, day, shards)
            log = srv.requests
            exp = Expectation(srv, day, prev)
            cats = classify(log, exp, kind)
            buckets = Counter(r["bucket"] for r in log)
            steps[name] = {
                **out,
                "requests": len(log),
                "buckets": dict(buckets),
                "categories": dict(cats),
                "wasted": sum(v for k, v in cats.items() if k.startswith("wasted")),
                "minutes_at_free_quota": _quota_minutes(buckets),
                "moved_repos": len(exp.moved),
                "new_repos": len(exp.new),
                "existing": len(exp.heads),
                "raw_files": {
                    d.name: sum(1 for _ in d.glob("*/*.parquet")) for d in sorted((wh_root / "raw").glob("*"))
                },
            }
            print(
                f"{name}: {len(log)} requests in {out['seconds']} s, peak RSS {out['peak_rss_mb']} MB: "
                + ", ".join(f"{k} {v}" for k, v in sorted(cats.items())),
                flush=True,
            )
    result = _figures(mirror, steps, index_s)
    result["figures"]["shards"] = shards
    return result


def _figures(mirror: dict[str, Any], steps: dict[str, Any], index_s: float) -> dict[str, Any]:
    c0, h0, c1, h1 = (steps[k] for k in ("crawl_d0", "history_d0", "crawl_d1", "history_d1"))
    changed, new = len(mirror["changed"][DAYS[1]]), len(mirror["new"][DAYS[1]])
    d1_requests = c1["requests"] + h1["requests"]
    naive_d1 = 2 * c1["existing"]  # one model_info + one README per model and day
    heads = sum(
        v for k, v in [*c1["categories"].items(), *h1["categories"].items()] if k.startswith("avoidable")
    )
    figures = {
        "models": mirror["n_models"],
        "generator_seconds": mirror["seconds"],
        "generator_files": mirror["files"],
        "generator_bytes": mirror["bytes"],
        "server_index_seconds": round(index_s, 2),
        # the listing by the watermark, apart from the daily page of the most-downloaded models
        "d0_listing_pages": c0["result"]["pages"] - c0["result"]["usage_pages"],
        "d0_usage_pages": c0["result"]["usage_pages"],
        "d0_models_listed": c0["result"]["models_listed"],
        "d0_api_per_1000_listed": round(
            1000 * c0["buckets"].get("api", 0) / max(1, c0["result"]["models_listed"]), 3
        ),
        "d0_resolvers": c0["buckets"].get("resolvers", 0),
        "d0_wasted": c0["wasted"],
        "d0_seconds": c0["seconds"],
        "d0_peak_rss_mb": c0["peak_rss_mb"],
        "d0_requests": c0["requests"],
        "d0_ratio_to_naive": round(c0["requests"] / (2 * c0["existing"]), 4),
        "raw_files_after_backfill": sum(h0["raw_files"].values()),
        "d0_minutes_at_free_quota": c0["minutes_at_free_quota"],
        "backfill_requests": h0["requests"],
        "backfill_wasted": h0["wasted"],
        "backfill_seconds": h0["seconds"],
        "backfill_peak_rss_mb": h0["peak_rss_mb"],
        "backfill_minutes_at_free_quota": h0["minutes_at_free_quota"],
        "d1_changed": changed,
        "d1_new": new,
        "d1_changed_seen": c1["result"]["models_changed"],
        "d1_new_seen": c1["result"]["models_new"],
        "d1_listing_pages": c1["result"]["pages"] - c1["result"]["usage_pages"],
        "d1_usage_pages": c1["result"]["usage_pages"],
        "d1_models_listed": c1["result"]["models_listed"],
        "d1_api_per_1000_listed": round(
            1000 * c1["categories"].get("listing page", 0) / max(1, c1["result"]["models_listed"]), 3
        ),
        "d1_resolvers_per_changed": round(c1["buckets"].get("resolvers", 0) / max(1, changed + new), 3),
        "d1_history_reads": h1["requests"],
        "d1_history_commit_lists": h1["categories"].get("history: commits list", 0),
        "d1_history_revisions": h1["categories"].get("history: revision info", 0),
        "d1_history_readmes": h1["buckets"].get("resolvers", 0),
        "d1_requests": d1_requests,
        "d1_wasted": c1["wasted"] + h1["wasted"],
        "d1_avoidable_head": heads,
        "d1_naive_requests": naive_d1,
        "d1_ratio_to_naive": round(d1_requests / naive_d1, 4),
        "d1_seconds": round(c1["seconds"] + h1["seconds"], 2),
        "d1_peak_rss_mb": max(c1["peak_rss_mb"], h1["peak_rss_mb"]),
        "d1_minutes_at_free_quota": _quota_minutes(Counter(c1["buckets"]) + Counter(h1["buckets"])),
        **_depth_figures(h0["buckets"].get("api", 0) / max(1, mirror["n_models"])),
    }
    return {
        "figures": figures,
        "steps": steps,
        "mirror": {k: v for k, v in mirror.items() if k not in ("changed", "new")},
    }


def _depth_figures(api_per_model: float) -> dict[str, Any]:
    """Days of the daily history budget (BENCH_HISTORY_BUDGET, else the default with a token) that the
    top 100,000 / 1,000,000 / all of the Hub's ~3,000,000 models need at this run's API calls per model
    (docs/crawler.md, "Depth by usage"): the measured cost times the Hub's size, no other Hub-wide input."""
    budget = int(os.environ.get("BENCH_HISTORY_BUDGET") or hub_daily_budget(None, HUB_ENDPOINT, True))
    plans = plan_tiers([True] * HUB_MODELS, budget, api_per_model) if api_per_model > 0 else []
    return {
        "backfill_api_per_model": round(api_per_model, 5),
        "depth_budget": budget,
        "depth_days": {p.tier: p.days for p in plans},
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(figure, value, target, met?) rows for docs/benchmarks.md."""
    f = result["figures"]

    row = figure_row

    t = TARGETS  # a listing shorter than one page still costs one call: "met" counts whole pages
    return [
        row("models in the mirror (D0)", f["models"]),
        row("README and history steps: parallel shards (CRAWL_SHARDS)", f.get("shards", 1)),
        row(
            "generator: seconds to write the mirror",
            f["generator_seconds"] if f["generator_seconds"] else "reused",
        ),
        row(
            "D0 first crawl: listing pages / models listed",
            f"{f['d0_listing_pages']} / {f['d0_models_listed']}",
        ),
        row(
            "D0 API calls per 1,000 models listed",
            f["d0_api_per_1000_listed"],
            f"<= {t['api_per_1000_listed']}",
            f["d0_listing_pages"] <= math.ceil(f["d0_models_listed"] / 1000),
        ),
        row("D0 resolver calls (READMEs)", f["d0_resolvers"]),
        row("D0 wasted requests", f["d0_wasted"], t["wasted"], f["d0_wasted"] <= t["wasted"]),
        row("D0 wall time (s) / peak RSS (MB)", f"{f['d0_seconds']} / {f['d0_peak_rss_mb']}"),
        row(
            "D0 our requests / naive crawl",
            f"{f['d0_requests']} / {2 * f['models']} = {f['d0_ratio_to_naive']}",
        ),
        row("D0 minutes under a free token's quotas", f["d0_minutes_at_free_quota"]),
        row(
            "history backfill (D0): requests / wasted",
            f"{f['backfill_requests']} / {f['backfill_wasted']}",
            "wasted 0",
            f["backfill_wasted"] == 0,
        ),
        row(
            "history backfill: wall time (s) / peak RSS (MB)",
            f"{f['backfill_seconds']} / {f['backfill_peak_rss_mb']}",
        ),
        row("history backfill: minutes under a free token's quotas", f["backfill_minutes_at_free_quota"]),
        row("raw-layer Parquet files after the backfill", f["raw_files_after_backfill"]),
        row("history backfill: API calls per model", f["backfill_api_per_model"]),
        row(
            f"days of a {f['depth_budget']:,} API calls/day history budget at that cost: top 100,000 / "
            f"1,000,000 / all {HUB_MODELS:,} Hub models",
            " / ".join(str(d) for d in f["depth_days"].values()),
        ),
        row(
            "D1 changed + new repos (generated / seen by the crawl)",
            f"{f['d1_changed']} + {f['d1_new']} / {f['d1_changed_seen']} + {f['d1_new_seen']}",
            "equal",
            (f["d1_changed"], f["d1_new"]) == (f["d1_changed_seen"], f["d1_new_seen"]),
        ),
        row("D1 listing pages / models listed", f"{f['d1_listing_pages']} / {f['d1_models_listed']}"),
        row(
            "D1 API calls per 1,000 models listed",
            f["d1_api_per_1000_listed"],
            f"<= {t['api_per_1000_listed']}",
            f["d1_listing_pages"] <= math.ceil(f["d1_models_listed"] / 1000),
        ),
        row(
            "D1 resolver calls per changed/new model",
            f["d1_resolvers_per_changed"],
            f"<= {t['resolvers_per_changed']}",
            f["d1_resolvers_per_changed"] <= t["resolvers_per_changed"],
        ),
        row(
            "D1 history reads (commit lists + revision infos + READMEs)",
            f"{f['d1_history_reads']} ({f['d1_history_commit_lists']} + {f['d1_history_revisions']} + "
            f"{f['d1_history_readmes']})",
        ),
        row("D1 wasted requests", f["d1_wasted"], t["wasted"], f["d1_wasted"] <= t["wasted"]),
        row(
            "D1 avoidable README HEADs (hf_hub_download)",
            f["d1_avoidable_head"],
            t["avoidable_head"],
            f["d1_avoidable_head"] <= t["avoidable_head"],
        ),
        row(
            "D1 our requests / naive crawl (2 per model)",
            f"{f['d1_requests']} / {f['d1_naive_requests']} = {f['d1_ratio_to_naive']}",
            f"<= {t['ratio_to_naive_d1']}",
            f["d1_ratio_to_naive"] <= t["ratio_to_naive_d1"],
        ),
        row("D1 minutes under a free token's quotas", f["d1_minutes_at_free_quota"]),
        row("D1 wall time (s) / peak RSS (MB)", f"{f['d1_seconds']} / {f['d1_peak_rss_mb']}"),
    ]
