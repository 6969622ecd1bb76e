"""Code-crawl benchmark (issue 19): what crawling GitHub repositories costs, measured on the mirror's log.

A mirror whose `code/github/` folder holds `size` repositories is served on loopback: the 17 real
repositories of the sample corpus (`pipelines/mirror/sample/code/github/`) and, beyond 17, copies of
their folders under new owner names (`<owner>-copy<k>/<repo>`, the files hard-linked, every `repo.json`
rewritten to the new name so that GitHub's body names the repository asked). The real code source
(`pipelines.code.step.run_code`: PyGithub over HTTP, with a token, so the mirror applies GitHub's
5,000-requests-an-hour quota) crawls them all in four passes against one warehouse:

1. `first`: the first crawl (D0): every repository's metadata, head commit, tree, licence files and
   their history.
2. `same_day`: the same crawl date again, as a re-run of the day's asset would: every repository is
   already done on that date.
3. `next_day`: D0 + 1 day, nothing changed: one conditional request per repository.
4. `after_refresh`: D0 + 8 days, nothing changed, past the 7-day refresh period: the head commit, the
   tree and one page of history per licence path are read again; no stored blob is.

For each pass the mirror's request log (the server's `github` bucket, each entry with its `counted`
flag and body `bytes`) gives requests, counted requests (quota), 304s and bytes; the pass's `crawl_run`
row gives what the crawler accounted (`requests_api`, `detail.quota_used`, `detail.not_modified`,
`bytes_total`); the two must agree. Then the code build step (`pipelines.incremental.code.update_code`)
runs twice: the ScanCode index load, the seconds per licence blob identified, and the second run
identifies no blob.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.run import figure_row
from pipelines.code.settings import CodeSettings
from pipelines.code.step import run_code
from pipelines.mirror.github_quota import TOKEN_LIMIT
from pipelines.mirror.server import MirrorServer, Quota
from pipelines.storage.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "pipelines" / "mirror" / "sample" / "code" / "github"
# A made-up token: the mirror counts a token's requests against 5,000 an hour (60 without one).
TOKEN = "ghp_benchmarkTOKEN000000000000000000000"
D0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
# (pass, crawl date, the crawler's clock)
PASSES: tuple[tuple[str, datetime, datetime], ...] = (
    ("first", D0, D0),
    ("same_day", D0, D0 + timedelta(hours=3)),
    ("next_day", D0 + timedelta(days=1), D0 + timedelta(days=1)),
    ("after_refresh", D0 + timedelta(days=8), D0 + timedelta(days=8)),
)
TARGETS = {"recrawl_counted": 0, "blobs_identified_again": 0, "contents_after_refresh": 0}


def sample_repos() -> list[str]:
    """The `owner/repo` names of the sample corpus's code repositories, sorted."""
    return sorted(
        f"{o.name}/{r.name}"
        for o in SAMPLE.iterdir()
        if o.is_dir()
        for r in o.iterdir()
        if (r / "commits.json").is_file()
    )


def _renamed(body: dict[str, Any], owner: str, name: str) -> dict[str, Any]:
    """A repo.json body naming `owner/name` instead of the repository it was copied from."""
    full = f"{owner}/{name}"
    out = {**body, "name": name, "full_name": full}
    if isinstance(body.get("owner"), dict):
        out["owner"] = {**body["owner"], "login": owner}
    if "html_url" in body:
        out["html_url"] = f"https://github.com/{full}"
    if "url" in body:
        out["url"] = f"https://api.github.com/repos/{full}"
    return out


def _copy_repo(source: str, target: str, code: Path) -> None:
    """Copy one repository folder under a new name: files hard-linked, each repo.json rewritten."""
    owner, name = target.split("/")
    dest = code / target
    shutil.copytree(SAMPLE / source, dest, copy_function=os.link)
    for path in dest.rglob("repo.json"):
        body = json.loads(path.read_bytes())
        path.unlink()  # a hard link: never write through it into the sample corpus
        path.write_text(json.dumps(_renamed(body, owner, name), indent=1), encoding="utf-8")


def build_mirror(root: Path, size: int) -> list[str]:
    """Write a mirror of `size` code repositories under `root` and return their names, sorted."""
    if size < 1:
        raise ValueError(f"size must be at least 1 repository, got {size}")
    real = sample_repos()
    root.mkdir(parents=True, exist_ok=True)
    (root / "mirror.json").write_text(
        json.dumps({"format": "hub-mirror/1", "title": "code crawl benchmark", "sources": "sample code"}),
        encoding="utf-8",
    )
    code = root / "code" / "github"
    names: list[str] = []
    for i in range(size):
        source = real[i % len(real)]
        copy = i // len(real)
        if copy == 0:
            shutil.copytree(SAMPLE / source, code / source)
            names.append(source)
        else:
            owner, name = source.split("/")
            target = f"{owner}-copy{copy}/{name}"
            _copy_repo(source, target, code)
            names.append(target)
    return sorted(names)


def _log_figures(log: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = Counter(str(r["status"]) for r in log)
    return {
        "requests": len(log),
        "counted": sum(1 for r in log if r["counted"]),
        "not_modified": statuses.get("304", 0),
        "bytes": sum(r["bytes"] for r in log),
        # licence files read: answered 200 (a blob's bytes) or 404 (not at that commit)
        "contents_read": sum(1 for r in log if "/contents/" in r["path"] and r["status"] == 200),
        "contents_missing": sum(1 for r in log if "/contents/" in r["path"] and r["status"] == 404),
        "by_status": dict(sorted(statuses.items())),
    }


def _run_row(wh: Warehouse, crawl_date: str, started: datetime) -> dict[str, Any]:
    """The crawl_run row this pass wrote (scope code:github, started at or after `started`)."""
    runs = (
        wh.raw.scan("crawl_run")
        .filter((pl.col("scope") == "code:github") & (pl.col("crawl_date") == crawl_date))
        .collect()
        .filter(pl.col("started_at") >= started)
        .sort("started_at")
    )
    if runs.height != 1:
        raise RuntimeError(f"expected one code:github crawl_run row for {crawl_date}, found {runs.height}")
    row = runs.row(0, named=True)
    detail = json.loads(row["detail"])
    return {
        "status": row["status"],
        "requests": row["requests_api"],
        "counted": detail["quota_used"],
        "not_modified": detail["not_modified"],
        "bytes": row["bytes_total"],
        "seconds": round(row["seconds"], 3),
        "outcomes": detail["outcomes"],
        "ratelimit_remaining": detail["ratelimit_remaining"],
    }


def crawl_passes(srv: MirrorServer, wh: Warehouse, repos: list[str]) -> dict[str, dict[str, Any]]:
    """The four crawl passes (PASSES) against one warehouse; per pass the log's and the crawler's figures."""
    settings = CodeSettings(endpoint=srv.github_url, token=TOKEN)
    out: dict[str, dict[str, Any]] = {}
    for name, day, now in PASSES:
        crawl_date = day.date().isoformat()
        srv.reset_log()
        # Passes are days apart: each starts with a fresh hourly window, as it would on GitHub.
        srv.set_quota(Quota(TOKEN_LIMIT))
        started = datetime.now(UTC)
        clock = time.perf_counter()
        summary = run_code(wh, settings, crawl_date, repos, now=now)
        seconds = round(time.perf_counter() - clock, 3)
        log = _log_figures([r for r in srv.requests if r["bucket"] == "github"])
        run = _run_row(wh, crawl_date, started)
        agree = all(log[k] == run[k] for k in ("requests", "counted", "not_modified", "bytes"))
        out[name] = {
            "crawl_date": crawl_date,
            "seconds": seconds,
            "log": log,
            "crawl_run": run,
            "agree": agree,
            "errors": summary["errors"],
        }
    return out


def licence_cost(wh: Warehouse) -> dict[str, Any]:
    """The code build step twice: ScanCode's index load, seconds per blob identified, then none again."""
    from pipelines.incremental.code import update_code
    from pipelines.openness.license_detect import licence_index

    clock = time.perf_counter()
    licence_index()
    index_seconds = time.perf_counter() - clock
    with wh.connect() as con:
        clock = time.perf_counter()
        first = update_code(wh, con)
        first_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        second = update_code(wh, con)
        second_seconds = time.perf_counter() - clock
    identified = first["licence_blobs_identified"]
    return {
        "index_load_seconds": round(index_seconds, 2),
        "first_update_seconds": round(first_seconds, 2),
        "blobs_identified": identified,
        "license_file_rows": first["license_files"],
        "code_repos_rows": first["code_repos"],
        "seconds_per_blob": round(first_seconds / identified, 3) if identified else None,
        "second_update_seconds": round(second_seconds, 2),
        "blobs_identified_again": second["licence_blobs_identified"],
    }


def run_code_crawl(size: int, *, work: Path | None = None) -> dict[str, Any]:
    """Build a mirror of `size` code repositories, crawl it four times, build the code tables twice."""
    base = work or Path(os.environ.get("BENCH_WORK") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"code-crawl-{size}-", dir=base))
    try:
        clock = time.perf_counter()
        repos = build_mirror(folder / "mirror", size)
        mirror_seconds = round(time.perf_counter() - clock, 2)
        wh = Warehouse(folder / "wh")
        with MirrorServer(folder / "mirror") as srv:
            passes = crawl_passes(srv, wh, repos)
        licences = licence_cost(wh)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "size": size,
        "real_repos": min(size, len(sample_repos())),
        "copied_repos": max(size - len(sample_repos()), 0),
        "mirror_seconds": mirror_seconds,
        "passes": passes,
        "licences": licences,
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(figure, value, target, met?) rows for docs/benchmarks.md."""

    row = figure_row

    p, lic = result["passes"], result["licences"]
    rows = [
        row(
            "repositories (real / copies)",
            f"{result['size']} ({result['real_repos']} / {result['copied_repos']})",
        )
    ]
    for name, _, _ in PASSES:
        log, run = p[name]["log"], p[name]["crawl_run"]
        rows.append(
            row(
                f"{name} ({p[name]['crawl_date']}), mirror log: requests / counted / 304s / bytes / seconds",
                f"{log['requests']} / {log['counted']} / {log['not_modified']} / {log['bytes']:,} / "
                f"{p[name]['seconds']}",
            )
        )
        rows.append(
            row(
                f"{name}, crawl_run: requests / quota used / 304s / bytes (status)",
                f"{run['requests']} / {run['counted']} / {run['not_modified']} / {run['bytes']:,} "
                f"({run['status']})",
                "= the log",
                p[name]["agree"],
            )
        )
    for name in ("same_day", "next_day"):
        counted = p[name]["log"]["counted"]
        rows.append(
            row(
                f"{name} re-crawl of unchanged repos: counted requests",
                counted,
                TARGETS["recrawl_counted"],
                counted <= TARGETS["recrawl_counted"],
            )
        )
    first, refresh = p["first"]["log"], p["after_refresh"]["log"]
    per_repo = {k: p[k]["log"]["counted"] / result["size"] for k in ("first", "after_refresh")}
    rows += [
        row(
            "counted requests per repo: first / next_day / after_refresh",
            f"{per_repo['first']:.2f} / {p['next_day']['log']['counted'] / result['size']:.2f} / "
            f"{per_repo['after_refresh']:.2f}",
        ),
        row(
            f"repos one token's hourly quota ({TOKEN_LIMIT:,}) covers: first crawl / after refresh",
            " / ".join(f"{int(TOKEN_LIMIT / v):,}" if v else "all" for v in per_repo.values()),
        ),
        row("first crawl: licence files read (contents answered 200)", first["contents_read"]),
        row(
            "first crawl: the token's limit as the crawler saw it (X-RateLimit-Remaining + counted)",
            p["first"]["crawl_run"]["ratelimit_remaining"] + first["counted"],
            TOKEN_LIMIT,
            p["first"]["crawl_run"]["ratelimit_remaining"] + first["counted"] == TOKEN_LIMIT,
        ),
    ]
    rows += [
        row(
            "after_refresh: stored licence blobs read again (contents answered 200)",
            refresh["contents_read"],
            TARGETS["contents_after_refresh"],
            refresh["contents_read"] <= TARGETS["contents_after_refresh"],
        ),
        row(
            "after_refresh: contents answered 404 (listed in the tree, absent from the mirror)",
            refresh["contents_missing"],
        ),
    ]
    rows += [
        row("ScanCode index load (s)", lic["index_load_seconds"]),
        row(
            "first update_code: blobs identified / seconds / seconds per blob",
            f"{lic['blobs_identified']} / {lic['first_update_seconds']} / {lic['seconds_per_blob']}",
        ),
        row(
            "second update_code: blobs identified / seconds",
            f"{lic['blobs_identified_again']} / {lic['second_update_seconds']}",
            TARGETS["blobs_identified_again"],
            lic["blobs_identified_again"] <= TARGETS["blobs_identified_again"],
        ),
    ]
    return rows
