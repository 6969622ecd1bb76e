"""The other steps of a crawl date: history backfill (per shard), training datasets and cited papers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from pipelines.hub.daily import CrawlSettings, CrawlSummary, begin_accounting, client_for, record_run
from pipelines.storage.warehouse import Warehouse


def run_history(wh: Warehouse, settings: CrawlSettings, crawl_date: str, *, shard: int = 0, shards: int = 1,
                now: datetime | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Backfill the commit history of tracked repos whose head is new (see pipelines.hub.backfill)."""
    from pipelines.hub.backfill import run_backfill

    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings)
    client = client_for(settings, crawl_date)
    result = run_backfill(client, wh.raw, crawl_date, now=now, authors=settings.authors,
                          max_readme_bytes=settings.max_readme_bytes, progress=progress, shard=shard, shards=shards)
    summary = CrawlSummary(crawl_date=crawl_date, cost=stats.as_dict(),
                           readmes={"read": result.readmes_read, "same_blob": result.readmes_skipped_same_blob})
    record_run(wh, settings, summary, started, scope=f"history[{shard}/{shards}]", detail=result.as_dict())
    return {"shard": f"{shard}/{shards}", **result.as_dict(), **summary.cost}


def run_datasets(wh: Warehouse, settings: CrawlSettings, crawl_date: str, *, now: datetime | None = None,
                 progress: Callable[[str], None] | None = None) -> dict:
    """Fetch the named training datasets that are new or due for their monthly refresh."""
    from pipelines.hub.datasets import due_datasets, fetch_datasets

    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings)
    client = client_for(settings, crawl_date)
    due = due_datasets(wh.raw, date.fromisoformat(crawl_date))
    counts = fetch_datasets(client, wh.raw, crawl_date, due, now=now, progress=progress)
    summary = CrawlSummary(crawl_date=crawl_date, cost=stats.as_dict(), readmes=counts)
    record_run(wh, settings, summary, started, scope="datasets", detail={"due": len(due), **counts})
    return {"datasets_due": len(due), **counts, **summary.cost}


def run_papers_step(wh: Warehouse, settings: CrawlSettings, crawl_date: str, *,
                    progress: Callable[[str], None] | None = None) -> dict:
    """Fetch the cited papers that are new or due (arXiv query API and the Hub papers API)."""
    from pipelines.papers.arxiv import ArxivClient
    from pipelines.papers.crawl import run_papers
    from pipelines.papers.hf_papers import HubPapersClient

    arxiv = ArxivClient(base_url=settings.arxiv_endpoint, min_interval=settings.arxiv_min_interval)
    # The Hub papers API counts against the `api` quota: pace it unless we talk to a local mirror.
    hub = HubPapersClient(endpoint=settings.endpoint.rstrip("/"), min_interval=1.0 if settings.rate_limit else 0.0)
    try:
        return run_papers(wh.raw, crawl_date, arxiv=arxiv, hub=hub, progress=progress)
    finally:
        arxiv.close()
        hub.close()


