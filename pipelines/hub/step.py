"""The Hub crawl's steps for one crawl date, each with its cost account: the listing to the watermark, the
changed READMEs (per shard), the history walk (per shard) and the training datasets the cards name."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import polars as pl

from pipelines.hub.client import HubClient, default_quotas, describe_mirror, install, mirror_manifest
from pipelines.hub.crawl import Checkpoint, captured_revisions, crawl_listing, fetch_readmes, plan_readmes
from pipelines.hub.crawl_state import captures_of, listing_commits
from pipelines.hub.ids import is_valid_repo_id
from pipelines.hub.provenance import capture_reconstructions
from pipelines.hub.raw import PRESENCE_RAW_SCHEMA
from pipelines.hub.scope import item_filter
from pipelines.hub.settings import HubSettings
from pipelines.hub.shards import in_shard
from pipelines.storage.accounts import CrawlSummary, record_run
from pipelines.storage.warehouse import Warehouse
from pipelines.transport import RequestStats

log = logging.getLogger(__name__)


def watermark_before(wh: Warehouse, crawl_date: str) -> datetime | None:
    """The newest `lastModified` seen by crawls of earlier dates (None: this is a first, full crawl); read
    from the crawl-state index (every listed commit with the first crawl date that listed it)."""
    earlier = listing_commits(wh.raw).filter(pl.col("crawl_date") < crawl_date)
    value = earlier.select(pl.col("last_modified").max()).item()
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def client_for(settings: HubSettings, crawl_date: str) -> HubClient:
    """A Hub client for one crawl date (the as-of endpoint in replay mode)."""
    return HubClient(
        settings.endpoint_for(crawl_date),
        token=settings.token,
        timeout=settings.timeout,
        page_size=settings.page_size,
        max_retries=settings.max_retries,
        base_wait=settings.base_wait,
    )


def begin_accounting(settings: HubSettings, wh: Warehouse | None = None) -> RequestStats:
    """Install the rate limits for these settings (shared with the other processes crawling with the token
    through the warehouse's quota folder) and start fresh request counters."""
    quotas = default_quotas(bool(settings.token)) if settings.rate_limit else None
    shared = settings.quota_folder(wh.state) if wh is not None else None
    hooks = install(quotas, token=settings.token, shared_dir=shared)
    return hooks.begin()


def _record(
    wh: Warehouse,
    settings: HubSettings,
    summary: CrawlSummary,
    started: datetime,
    step: str,
    detail: dict | None = None,
) -> None:
    """The account of one Hub step."""
    record_run(
        wh,
        summary,
        started,
        step=step,
        endpoint=settings.endpoint_for(summary.crawl_date),
        authors=settings.authors,
        detail=detail,
    )


def run_listing(
    wh: Warehouse,
    settings: HubSettings,
    crawl_date: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> CrawlSummary:
    """Read the listing of one crawl date to the watermark (and the weekly full sweep) into the raw layer."""
    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings, wh)
    wh.raw.clean_temporaries()
    client = client_for(settings, crawl_date)
    watermark = watermark_before(wh, crawl_date)
    sweep = (
        watermark is not None and date.fromisoformat(crawl_date).isoweekday() == settings.full_sweep_weekday
    )
    summary = CrawlSummary(crawl_date=crawl_date, watermark=None if sweep else watermark)
    orgs = tuple(sorted(set(settings.authors) | {r.split("/", 1)[0] for r in settings.repos}))
    scoped = settings.repos or settings.min_downloads or settings.min_likes
    keep = (
        item_filter(settings.authors, settings.repos, settings.min_downloads, settings.min_likes)
        if scoped
        else None
    )
    usage_pages = 0
    for author in orgs or (None,):
        key = (
            f"{crawl_date}"
            + (f"__{author}" if author else "")
            + (f"__top{settings.top_n}" if settings.top_n else "")
        )
        checkpoint = Checkpoint.load(wh.state / "crawl" / f"{key}.json")
        res = crawl_listing(
            client,
            wh.raw,
            crawl_date,
            checkpoint,
            now=now,
            watermark=None if settings.top_n else summary.watermark,
            overlap=timedelta(hours=settings.overlap_hours),
            author=author,
            keep=keep,
            top_n=settings.top_n,
            on_page=(lambda p, n: progress(f"listing page {p}: {n} models")) if progress else None,
        )
        summary.rejected += len(res.rejected)
        summary.reached_watermark = summary.reached_watermark or res.reached_watermark
        if settings.usage_top_n > 0 and not settings.top_n:
            # One page of the most-downloaded models: their usage counts are refreshed every day.
            usage = Checkpoint.load(wh.state / "crawl" / f"{key}__usage{settings.usage_top_n}.json")
            top = crawl_listing(
                client,
                wh.raw,
                crawl_date,
                usage,
                now=now,
                watermark=None,
                author=author,
                keep=keep,
                top_n=settings.usage_top_n,
                only_new=True,
            )
            summary.rejected += len(top.rejected)
            usage_pages += top.pages
    # Today's captures and, from the crawl-state index, what earlier dates listed (no older capture is read).
    today = captures_of(wh.raw, "hub_listing", crawl_date, ["page_url", "repo_id", "sha"])
    earlier = listing_commits(wh.raw).filter(pl.col("crawl_date") < crawl_date)
    # The listing by the watermark, and the usage pages apart: their items already stored for the date
    # are not stored again, so their count is the pages read (the usage page refreshes counts only).
    listed = today.filter(~pl.col("page_url").str.contains("sort=downloads", literal=True))
    summary.usage_pages = usage_pages
    summary.pages = (
        listed.select(pl.col("page_url").n_unique()).item() if listed.height else 0
    ) + usage_pages
    summary.models_listed = listed.select(pl.col("repo_id").n_unique()).item() if listed.height else 0
    known_repos = set(earlier.get_column("repo_id").to_list())
    known_shas = set(
        zip(earlier.get_column("repo_id").to_list(), earlier.get_column("sha").to_list(), strict=True)
    )
    todays = set(zip(today.get_column("repo_id").to_list(), today.get_column("sha").to_list(), strict=True))
    summary.models_new = len({r for r, _ in todays if r not in known_repos})
    summary.models_changed = len({r for r, s in todays if r in known_repos and (r, s) not in known_shas})
    if sweep and not summary.reached_watermark:
        summary.models_deleted = check_absent(
            client,
            wh,
            crawl_date,
            known_repos - set(today.get_column("repo_id").to_list()),
            now=now,
            authors=settings.authors,
        )
    summary.cost = stats.as_dict()
    # Where the answers came from: a hub mirror names itself (title, its reconstructions); the real Hub is
    # never asked. The snapshot's card and report say it (pipelines/publish/provenance.py). Its list of
    # reconstructions goes to raw hub_reconstructions (once per distinct list), read by core.reconstructions.
    manifest = mirror_manifest(settings.endpoint, timeout=settings.timeout)
    source = None if manifest is None else describe_mirror(manifest)
    capture_reconstructions(wh.raw, crawl_date, manifest, settings.endpoint, now)
    detail = (
        None
        if source is None
        else {"readmes": summary.readmes, "rejected_ids": summary.rejected, "source": source}
    )
    _record(wh, settings, summary, started, "listing", detail=detail)
    return summary


def run_readmes(
    wh: Warehouse,
    settings: HubSettings,
    crawl_date: str,
    *,
    shard: int = 0,
    shards: int = 1,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Read the README of every commit listed on `crawl_date` not captured before, for one shard of repos."""
    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings, wh)
    client = client_for(settings, crawl_date)
    today = captures_of(wh.raw, "hub_listing", crawl_date, ["repo_id", "sha", "item"])
    today = today.filter(pl.col("repo_id").map_elements(lambda r: in_shard(r, shard, shards), pl.Boolean))
    plan = plan_readmes(today, captured_revisions(wh.raw))
    counts = fetch_readmes(
        client,
        wh.raw,
        crawl_date,
        plan,
        now=now,
        max_bytes=settings.max_readme_bytes,
        on_progress=(lambda d, t: progress(f"README {d}/{t}") if d % 50 == 0 or d == t else None)
        if progress
        else None,
    )
    summary = CrawlSummary(crawl_date=crawl_date, readmes=counts, cost=stats.as_dict())
    _record(wh, settings, summary, started, f"readmes[{shard}/{shards}]")
    return {"shard": f"{shard}/{shards}", "planned": len(plan), **counts, **summary.cost}


def run_crawl(
    wh: Warehouse,
    settings: HubSettings,
    crawl_date: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> CrawlSummary:
    """Listing and all READMEs of one crawl date, in one process (what a single shard does)."""
    summary = run_listing(wh, settings, crawl_date, now=now, progress=progress)
    result = run_readmes(wh, settings, crawl_date, now=now, progress=progress)
    summary.readmes = {
        k: v
        for k, v in result.items()
        if k in ("ok", "missing", "gated", "error", "repo_missing", "revision_missing")
    }
    return summary


def check_absent(
    client: HubClient,
    wh: Warehouse,
    crawl_date: str,
    absent: set[str],
    *,
    now: datetime,
    authors: tuple[str, ...] = (),
) -> int:
    """Ask the Hub about tracked repos missing from a complete listing; record each answer."""
    rows = []
    for repo_id in sorted(absent):
        if not is_valid_repo_id(repo_id) or (authors and repo_id.split("/", 1)[0] not in authors):
            continue
        info = client.model_info(repo_id)
        rows.append(
            {
                "checked_at": now,
                "repo_id": repo_id,
                "present": info is not None,
                "how": "sweep_present" if info is not None else "sweep_404",
            }
        )
    if rows:
        # Only the answers not recorded on this crawl date yet: a rerun of the date asks again, adds nothing.
        wh.raw.append_new(
            "hub_presence",
            crawl_date,
            pl.DataFrame(rows, schema=PRESENCE_RAW_SCHEMA),
            payload=["repo_id", "present", "how"],
        )
    return sum(not r["present"] for r in rows)


def run_history(
    wh: Warehouse,
    settings: HubSettings,
    crawl_date: str,
    *,
    shard: int = 0,
    shards: int = 1,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Backfill the commit history of tracked repos whose head is new (see pipelines.hub.backfill)."""
    from pipelines.hub.backfill import api_calls_spent, run_backfill

    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings, wh)
    client = client_for(settings, crawl_date)
    budget = settings.daily_history_budget()
    earlier = api_calls_spent(wh.raw, crawl_date, f"history[{shard}/{shards}]") if budget else 0
    result = run_backfill(
        client,
        wh.raw,
        crawl_date,
        now=now,
        authors=settings.authors,
        max_readme_bytes=settings.max_readme_bytes,
        progress=progress,
        shard=shard,
        shards=shards,
        budget=-(-budget // shards),  # each shard its share, rounded up
        spent=lambda: earlier + stats.requests.get("api", 0),  # the date's earlier runs count too
    )
    summary = CrawlSummary(
        crawl_date=crawl_date,
        cost=stats.as_dict(),
        readmes={"read": result.readmes_read, "same_blob": result.readmes_skipped_same_blob},
    )
    _record(wh, settings, summary, started, f"history[{shard}/{shards}]", detail=result.as_dict())
    return {"shard": f"{shard}/{shards}", **result.as_dict(), **summary.cost}


def run_license_files(
    wh: Warehouse,
    settings: HubSettings,
    crawl_date: str,
    *,
    repo_type: str = "model",
    shard: int = 0,
    shards: int = 1,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Capture the licence and policy files of every known file list of one shard's model revisions (or of
    the dataset infos read, with `repo_type="dataset"`), each blob's bytes once (see pipelines.hub.licences);
    the requests are accounted as a `license_files` step."""
    from pipelines.hub.licences import (
        fetch_licence_files,
        licence_capture_state,
        plan_licence_files,
        revision_file_lists,
    )

    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings, wh)
    client = client_for(settings, crawl_date)
    done, seen = licence_capture_state(wh.raw)
    plan = plan_licence_files(
        revision_file_lists(wh.raw, until=crawl_date), done, repo_type=repo_type, shard=shard, shards=shards
    )
    counts = fetch_licence_files(
        client,
        wh.raw,
        crawl_date,
        plan,
        seen,
        now=now,
        on_progress=(lambda d, t: progress(f"licence file {d}/{t}") if d % 50 == 0 or d == t else None)
        if progress
        else None,
    )
    # readmes_fetched of the account is the files read (GETs); what else happened is in its detail.
    summary = CrawlSummary(
        crawl_date=crawl_date, cost=stats.as_dict(), readmes={"read": counts.get("read", 0)}
    )
    _record(
        wh,
        settings,
        summary,
        started,
        f"license_files[{shard}/{shards}]" if repo_type == "model" else "license_files[datasets]",
        detail={"planned": len(plan), **counts},
    )
    return {"shard": f"{shard}/{shards}", "licence_files_planned": len(plan), **counts, **summary.cost}


def run_datasets(
    wh: Warehouse,
    settings: HubSettings,
    crawl_date: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Fetch the named training datasets that are new or due for their monthly refresh."""
    from pipelines.hub.datasets import due_datasets, fetch_datasets

    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings, wh)
    client = client_for(settings, crawl_date)
    due = due_datasets(wh.raw, date.fromisoformat(crawl_date))
    counts = fetch_datasets(client, wh.raw, crawl_date, due, now=now, progress=progress)
    summary = CrawlSummary(crawl_date=crawl_date, cost=stats.as_dict(), readmes=counts)
    _record(wh, settings, summary, started, "datasets", detail={"due": len(due), **counts})
    return {"datasets_due": len(due), **counts, **summary.cost}
