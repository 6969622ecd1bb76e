"""One daily crawl partition end to end: listing to the watermark, changed READMEs, and its accounts."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import polars as pl

from pipelines.hub import http
from pipelines.hub.client import HubClient
from pipelines.hub.crawl import (
    LISTING_RAW_SCHEMA,
    PRESENCE_RAW_SCHEMA,
    Checkpoint,
    captured_revisions,
    crawl_listing,
    fetch_readmes,
    plan_readmes,
)
from pipelines.hub.ids import is_valid_repo_id
from pipelines.hub.scope import item_filter
from pipelines.hub.shards import in_shard
from pipelines.storage.warehouse import Warehouse

log = logging.getLogger(__name__)

CRAWL_RUN_SCHEMA = {
    "run_key": pl.String,
    "crawl_date": pl.String,
    "started_at": pl.Datetime("us", "UTC"),
    "finished_at": pl.Datetime("us", "UTC"),
    "endpoint": pl.String,
    "scope": pl.String,
    "status": pl.String,
    "pages": pl.Int64,
    "models_listed": pl.Int64,
    "models_new": pl.Int64,
    "models_changed": pl.Int64,
    "models_deleted": pl.Int64,
    "readmes_fetched": pl.Int64,
    "requests_api": pl.Int64,
    "requests_resolvers": pl.Int64,
    "bytes_total": pl.Int64,
    "retries": pl.Int64,
    "status_429": pl.Int64,
    "status_5xx": pl.Int64,
    "seconds": pl.Float64,
    "watermark": pl.Datetime("us", "UTC"),
    "reached_watermark": pl.Boolean,
    "detail": pl.String,
}


@dataclass(frozen=True)
class CrawlSettings:
    """How to reach the Hub and what to crawl; passed in, never read from the environment here."""

    endpoint: str = "https://huggingface.co"
    token: str | None = field(default=None, repr=False)
    replay: bool = False  # crawl the mirror's state as of the partition date (`/as-of/<date>/`)
    page_size: int | None = 1000
    timeout: float = 30.0
    max_retries: int = 5
    base_wait: float = 1.0  # first retry wait in seconds (huggingface_hub's default)
    max_readme_bytes: int = 5_000_000
    authors: tuple[str, ...] = ()  # organisations to list; empty: the whole Hub
    repos: tuple[str, ...] = ()  # single watched repos (listed through their organisation, then filtered)
    min_downloads: int = 0  # only track repos with at least this many downloads (last 30 days)
    min_likes: int = 0
    top_n: int = 0  # > 0: track the N most-downloaded models instead of a listing to the watermark
    overlap_hours: float = 1.0
    # A full listing (ignoring the watermark) on this ISO weekday (7 = Sunday; 0 = never) finds deletions:
    # a tracked repo absent from a complete listing is checked with model_info and marked deleted on 404.
    full_sweep_weekday: int = 7
    arxiv_endpoint: str = "https://export.arxiv.org/api/query"
    arxiv_min_interval: float = 3.0  # arXiv's terms: at most one request every 3 seconds
    rate_limit: bool = True  # apply the published per-window quotas

    def endpoint_for(self, crawl_date: str) -> str:
        """The endpoint a crawl of `crawl_date` talks to."""
        base = self.endpoint.rstrip("/")
        return f"{base}/as-of/{crawl_date}" if self.replay else base


@dataclass
class CrawlSummary:
    """What one crawl partition did and cost."""

    crawl_date: str
    pages: int = 0
    models_listed: int = 0
    models_new: int = 0
    models_changed: int = 0
    models_deleted: int = 0
    readmes: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    reached_watermark: bool = False
    watermark: datetime | None = None
    cost: dict = field(default_factory=dict)

    def as_metadata(self) -> dict:
        """A flat, JSON-safe summary for run metadata."""
        return {
            "crawl_date": self.crawl_date,
            "pages": self.pages,
            "models_listed": self.models_listed,
            "models_new": self.models_new,
            "models_changed": self.models_changed,
            "models_deleted": self.models_deleted,
            "readmes": self.readmes,
            "rejected_ids": self.rejected,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "reached_watermark": self.reached_watermark,
            **self.cost,
        }


def watermark_before(wh: Warehouse, crawl_date: str) -> datetime | None:
    """The newest `lastModified` seen by crawls of earlier dates (None: this is a first, full crawl)."""
    lf = wh.raw.scan("hub_listing", LISTING_RAW_SCHEMA).filter(pl.col("crawl_date") < crawl_date)
    value = lf.select(pl.col("last_modified").max()).collect().item()
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def client_for(settings: CrawlSettings, crawl_date: str) -> HubClient:
    """A Hub client for one crawl date (the as-of endpoint in replay mode)."""
    return HubClient(
        settings.endpoint_for(crawl_date),
        token=settings.token,
        timeout=settings.timeout,
        page_size=settings.page_size,
        max_retries=settings.max_retries,
        base_wait=settings.base_wait,
    )


def begin_accounting(settings: CrawlSettings) -> http.RequestStats:
    """Install the rate limits for these settings and start fresh request counters."""
    hooks = http.install(http.default_quotas(bool(settings.token)) if settings.rate_limit else None)
    return hooks.begin()


def run_listing(
    wh: Warehouse,
    settings: CrawlSettings,
    crawl_date: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> CrawlSummary:
    """Read the listing of one crawl date to the watermark (and the weekly full sweep) into the raw layer."""
    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings)
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
    listing = wh.raw.scan("hub_listing", LISTING_RAW_SCHEMA).collect()
    today = listing.filter(pl.col("crawl_date") == crawl_date)
    earlier = listing.filter(pl.col("crawl_date") < crawl_date)
    summary.pages = today.select(pl.col("page_url").n_unique()).item() if today.height else 0
    summary.models_listed = today.select(pl.col("repo_id").n_unique()).item() if today.height else 0
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
    record_run(wh, settings, summary, started, scope="listing")
    return summary


def run_readmes(
    wh: Warehouse,
    settings: CrawlSettings,
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
    stats = begin_accounting(settings)
    client = client_for(settings, crawl_date)
    today = (
        wh.raw.scan("hub_listing", LISTING_RAW_SCHEMA).filter(pl.col("crawl_date") == crawl_date).collect()
    )
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
    record_run(wh, settings, summary, started, scope=f"readmes[{shard}/{shards}]")
    return {"shard": f"{shard}/{shards}", "planned": len(plan), **counts, **summary.cost}


def run_crawl(
    wh: Warehouse,
    settings: CrawlSettings,
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
        wh.raw.append(
            "hub_presence",
            crawl_date,
            pl.DataFrame(rows, schema=PRESENCE_RAW_SCHEMA),
            payload=["repo_id", "present", "how"],
        )
    return sum(not r["present"] for r in rows)


def record_run(
    wh: Warehouse,
    settings: CrawlSettings,
    s: CrawlSummary,
    started: datetime,
    scope: str = "listing",
    detail: dict | None = None,
) -> None:
    finished = datetime.now(UTC)
    cost = s.cost
    row = {
        "run_key": f"{scope}:{s.crawl_date}@{started.isoformat()}",
        "crawl_date": s.crawl_date,
        "started_at": started,
        "finished_at": finished,
        "endpoint": settings.endpoint_for(s.crawl_date),
        "scope": f"{scope}:" + (",".join(settings.authors) or "hub"),
        "status": "complete",
        "pages": s.pages,
        "models_listed": s.models_listed,
        "models_new": s.models_new,
        "models_changed": s.models_changed,
        "models_deleted": s.models_deleted,
        "readmes_fetched": sum(s.readmes.values()),
        "requests_api": cost["requests"].get("api", 0),
        "requests_resolvers": cost["requests"].get("resolvers", 0),
        "bytes_total": sum(cost["bytes"].values()),
        "retries": cost["retries"],
        "status_429": cost["status_429"],
        "status_5xx": cost["status_5xx"],
        "seconds": (finished - started).total_seconds(),
        "watermark": s.watermark,
        "reached_watermark": s.reached_watermark,
        "detail": json.dumps(detail or {"readmes": s.readmes, "rejected_ids": s.rejected}, sort_keys=True),
    }
    wh.raw.append(
        "crawl_run", s.crawl_date, pl.DataFrame([row], schema=CRAWL_RUN_SCHEMA), payload=["run_key"]
    )
