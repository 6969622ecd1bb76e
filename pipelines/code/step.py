"""The code repositories step of a crawl date: crawl the given repos, then account the run's cost.

The run's account is one `crawl_run` raw row (scope `code:github`), like the Hub's and the papers':
requests in `requests_api`, retries, limit answers in `status_429`, 5xx, bytes, and in `detail` the
304s, the quota used, the repos done and why any was not. A defect in one repository is recorded and
the others go on; a rate limit that resets later than the run may wait stops the run cleanly
(status `partial`, `stopped` in its detail), and the next run resumes with the repos not done on this crawl date.

The repos are crawled in the order of pipelines.depth: those not crawled for longest first (never crawled
before all others), and among them the most-used first (a repo's usage: the downloads of the most-downloaded
model whose card links to it; unknown usage last, ties by repo). A run stops before the next repo once it
has spent the crawl date's budget of quota (`CodeSettings.daily_budget`; a 304 costs none): the repos left
are the least recently crawled on the next date, so they come first then, and none is skipped for good.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

import polars as pl

from pipelines.code import crawl_state
from pipelines.code.client import GitHubClient, RateLimited
from pipelines.code.crawl import crawl_repo
from pipelines.code.links import BadRepoUrl, repo_key, repo_key_or_none
from pipelines.code.settings import CodeSettings
from pipelines.code.state import KnownCaptures
from pipelines.depth import by_usage, latest_downloads
from pipelines.storage.raw import CRAWL_RUN_SCHEMA, RawStore
from pipelines.storage.warehouse import Warehouse
from pipelines.transport import quota_folder

log = logging.getLogger(__name__)


def load_known(wh: Warehouse):  # noqa: ANN201 - KnownCaptures
    """What the raw layer knows of every code repository crawled before (from the crawl-state index)."""
    return crawl_state.known(wh.raw)


def cited_code_repos(store: RawStore, until: str | None = None) -> list[str]:
    """The GitHub repositories that the captured model cards (each repo's latest README) and papers (arXiv
    answers, Hub paper pages) link to, sorted; read from the crawl-state index of the Hub's and the papers'
    captures (pipelines/code/crawl_state.py). With `until`, only the captures of that crawl date and before:
    a crawl date run again after later dates were captured must not ask for repositories only later cards
    name (asked as of the earlier date, a repository created since answers 404 and would be recorded as
    gone)."""
    return sorted(cited_code_usage(store, until))


def cited_code_usage(store: RawStore, until: str | None = None) -> dict[str, int | None]:
    """Each GitHub repository that `cited_code_repos` finds -> its usage: the latest listed downloads of the
    most-downloaded model whose card links to it (None: named by papers only, or by models of unknown usage);
    from the crawl-state index."""
    usage: dict[str, int | None] = {}
    cards = crawl_state.readme_keys(store, until)
    downloads = latest_downloads(store, until=until) if cards else {}
    for model, keys in cards.items():
        count = downloads.get(model)
        for key in keys:
            known = usage.get(key)
            usage[key] = count if known is None else known if count is None else max(known, count)
    for key in sorted(crawl_state.paper_keys(store, until)):
        usage.setdefault(key, None)
    return usage


def crawl_order(keys: Iterable[str], usage: Mapping[str, int | None], known: KnownCaptures) -> list[str]:
    """The order of a code crawl: least recently crawled first (never crawled before all), then most-used
    first (unknown usage last), then by repo (see the module's docstring)."""
    ranked = by_usage(keys, usage)
    rank = {key: n for n, key in enumerate(ranked)}
    return sorted(ranked, key=lambda k: (max(known.state(k).done_dates, default=""), rank[k]))


def run_code_step(
    wh: Warehouse,
    settings: CodeSettings,
    crawl_date: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """The code step of a crawl date: every repository the cards and papers captured so far link to (those
    in `settings.scope`, when it is set; the others are counted as `out_of_scope`)."""
    usage = cited_code_usage(wh.raw, until=crawl_date)
    repos = sorted(usage)
    skipped = 0
    if settings.scope is not None:
        allowed = {s.lower() for s in settings.scope}
        kept = [r for r in repos if r.lower() in allowed]
        skipped = len(repos) - len(kept)
        repos = kept
    result = run_code(wh, settings, crawl_date, repos, now=now, progress=progress, usage=usage)
    return {**result, "out_of_scope": skipped}


def run_code(
    wh: Warehouse,
    settings: CodeSettings,
    crawl_date: str,
    repos: Iterable[str],
    *,
    now: datetime | None = None,
    client: GitHubClient | None = None,
    progress: Callable[[str], None] | None = None,
    usage: Mapping[str, int | None] | None = None,
) -> dict:
    """Crawl the given GitHub repos (URLs or owner/name) for one crawl date; returns the run's summary.

    The repos are crawled least recently crawled first, then most-used first (`usage`: owner/name -> the
    downloads of the models citing it; none: unknown), up to the crawl date's budget of quota
    (`settings.daily_budget`). A link that names no GitHub repository is recorded in `errors`, like a
    repository that failed."""
    started = datetime.now(UTC)
    now = now or started
    errors: dict[str, str] = {}
    named: set[str] = set()
    for url in repos:
        try:
            named.add(repo_key(url))
        except BadRepoUrl as exc:
            errors[str(url)] = str(exc)
    wh.raw.clean_temporaries()
    known = load_known(wh)
    usage_by_key = {repo_key_or_none(k): v for k, v in (usage or {}).items()}
    keys = crawl_order(named, {k: v for k, v in usage_by_key.items() if k is not None}, known)
    budget = settings.effective_daily_budget()
    earlier = quota_spent(wh.raw, crawl_date) if budget else 0  # a date run again spends what is left
    deferred = 0
    own_client = client is None
    shared = quota_folder(settings.quota_dir, wh.state)
    client = client or GitHubClient(settings, crawl_date=crawl_date, shared_dir=shared)
    counts: dict[str, int] = {}
    moved: dict[str, str] = {}
    files = history = 0
    stopped: str | None = None
    try:
        for n, key in enumerate(keys):
            if crawl_date in known.state(key).done_dates:
                counts["done_earlier"] = counts.get("done_earlier", 0) + 1
                continue
            # The budget spent: the rest waits for the next crawl date.
            if budget and earlier + client.cost.quota_used >= budget:
                deferred = sum(crawl_date not in known.state(k).done_dates for k in keys[n:])
                if progress:
                    progress(f"daily budget of {budget} quota spent: {deferred} repos left for the next date")
                break
            try:
                outcome = crawl_repo(
                    client, wh.raw, known, key, crawl_date=crawl_date, now=now, settings=settings
                )
            except RateLimited as exc:
                stopped = str(exc)
                break
            except Exception as exc:  # noqa: BLE001 - one repo's defect never stops the others
                errors[key] = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("code repo %s failed: %s", key, errors[key])
                continue
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            counts["contents_read"] = counts.get("contents_read", 0) + outcome.contents_read
            files += outcome.files_fetched
            history += outcome.history_commits
            if outcome.moved_to:
                moved[key] = outcome.moved_to
            if progress:
                progress(f"{key}: {outcome.status}")
    finally:
        if own_client:
            client.close()
    cost = client.cost.as_dict()
    # core.crawl_runs knows complete, partial and failed: a run the rate limit stopped is partial (`stopped`
    # in its detail says why).
    status = "partial" if stopped or errors else "complete"
    detail = {
        "repos": len(keys),
        "outcomes": counts,
        "errors": errors,
        "moved": moved,
        "files_fetched": files,
        "history_commits": history,
        "not_modified": cost["not_modified"],
        "quota_used": cost["quota_used"],
        "ratelimit_remaining": cost["ratelimit_remaining"],
        "redirects": cost["redirects"],
        "transport_errors": cost["transport_errors"],
        "waited_seconds": round(cost["waited_seconds"], 3),
        "by_status": cost["by_status"],
        "stopped": stopped,
        "budget": budget,
        "deferred": deferred,
    }
    record_run(wh, client.base_url, crawl_date, started, status, cost, detail)
    return {"status": status, **detail, "requests": cost["requests"], "retries": cost["retries"]}


def quota_spent(store: RawStore, crawl_date: str) -> int:
    """The GitHub quota that earlier code runs of `crawl_date` recorded in their accounts."""
    if not store.files("crawl_run"):
        return 0
    details = (
        store.scan("crawl_run", CRAWL_RUN_SCHEMA, until=crawl_date)
        .filter((pl.col("crawl_date") == crawl_date) & (pl.col("scope") == "code:github"))
        .select("detail")
        .collect()["detail"]
    )
    return sum(int(json.loads(d).get("quota_used") or 0) for d in details if d)


def record_run(
    wh: Warehouse, endpoint: str, crawl_date: str, started: datetime, status: str, cost: dict, detail: dict
) -> None:
    """Append the run's account (one `crawl_run` row, scope `code:github`) to the raw layer."""
    finished = datetime.now(UTC)
    row = {
        "run_key": f"code:{crawl_date}@{started.isoformat()}",
        "crawl_date": crawl_date,
        "started_at": started,
        "finished_at": finished,
        "endpoint": endpoint,
        "scope": "code:github",
        "status": status,
        "pages": 0,
        "models_listed": 0,
        "models_new": 0,
        "models_changed": 0,
        "models_deleted": 0,
        "readmes_fetched": 0,
        "requests_api": cost["requests"],
        "requests_resolvers": 0,
        "bytes_total": cost["bytes"],
        "retries": cost["retries"],
        "status_429": cost["status_429"],
        "status_5xx": cost["status_5xx"],
        "seconds": (finished - started).total_seconds(),
        "watermark": None,
        "reached_watermark": None,
        "detail": json.dumps(detail, sort_keys=True),
    }
    wh.raw.append("crawl_run", crawl_date, pl.DataFrame([row], schema=CRAWL_RUN_SCHEMA), payload=["run_key"])
