"""The other steps of a crawl date: history backfill (per shard), training datasets and cited papers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from pipelines.hub.daily import CrawlSettings, CrawlSummary, begin_accounting, client_for, record_run
from pipelines.storage.warehouse import Warehouse


def run_history(
    wh: Warehouse,
    settings: CrawlSettings,
    crawl_date: str,
    *,
    shard: int = 0,
    shards: int = 1,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Backfill the commit history of tracked repos whose head is new (see pipelines.hub.backfill)."""
    from pipelines.hub.backfill import run_backfill

    now = now or datetime.now(UTC)
    started = datetime.now(UTC)
    stats = begin_accounting(settings)
    client = client_for(settings, crawl_date)
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
    )
    summary = CrawlSummary(
        crawl_date=crawl_date,
        cost=stats.as_dict(),
        readmes={"read": result.readmes_read, "same_blob": result.readmes_skipped_same_blob},
    )
    record_run(wh, settings, summary, started, scope=f"history[{shard}/{shards}]", detail=result.as_dict())
    return {"shard": f"{shard}/{shards}", **result.as_dict(), **summary.cost}


def run_datasets(
    wh: Warehouse,
    settings: CrawlSettings,
    crawl_date: str,
    *,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
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


class _SessionCounter:
    """Counts what a requests session sends: requests per bucket, bytes, 429s, 5xx and repeats (retries)."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.status_429 = self.status_5xx = self.failures = 0
        self._seen: set[str] = set()
        self.retries = 0

    def wrap(self, session, bucket: str) -> None:  # noqa: ANN001 - a requests.Session
        send = session.send

        def counted(request, **kwargs):  # noqa: ANN001, ANN202
            self.requests[bucket] = self.requests.get(bucket, 0) + 1
            key = f"{request.method} {request.url}"
            self.retries += key in self._seen  # the same read asked again: a retry
            self._seen.add(key)
            try:
                response = send(request, **kwargs)
            except Exception:
                self.failures += 1
                raise
            self.bytes[bucket] = self.bytes.get(bucket, 0) + len(response.content or b"")
            self.status_429 += response.status_code == 429
            self.status_5xx += 500 <= response.status_code < 600
            return response

        session.send = counted

    def as_dict(self) -> dict:
        return {
            "requests": dict(self.requests),
            "bytes": dict(self.bytes),
            "retries": self.retries,
            "status_429": self.status_429,
            "status_5xx": self.status_5xx,
            "transport_errors": self.failures,
        }


def run_papers_step(
    wh: Warehouse, settings: CrawlSettings, crawl_date: str, *, progress: Callable[[str], None] | None = None
) -> dict:
    """Fetch the cited papers that are new or due (arXiv query API and the Hub papers API); the cost goes
    to core.crawl_runs (scope `papers`: Hub paper pages under requests_api, arXiv requests in `detail`)."""
    from pipelines.papers.arxiv import ArxivClient
    from pipelines.papers.crawl import run_papers
    from pipelines.papers.hf_papers import HubPapersClient

    started = datetime.now(UTC)
    arxiv = ArxivClient(base_url=settings.arxiv_endpoint, min_interval=settings.arxiv_min_interval)
    # The Hub papers API counts against the `api` quota: pace it unless we talk to a local mirror.
    hub = HubPapersClient(
        endpoint=settings.endpoint.rstrip("/"), min_interval=1.0 if settings.rate_limit else 0.0
    )
    counter = _SessionCounter()
    counter.wrap(arxiv.session, "arxiv")
    counter.wrap(hub.session, "api")
    try:
        result = run_papers(wh.raw, crawl_date, arxiv=arxiv, hub=hub, progress=progress)
    finally:
        arxiv.close()
        hub.close()
    cost = counter.as_dict()
    summary = CrawlSummary(crawl_date=crawl_date, cost=cost)
    record_run(
        wh,
        settings,
        summary,
        started,
        scope="papers",
        detail={
            **result,
            "requests_arxiv": cost["requests"].get("arxiv", 0),
            "transport_errors": cost["transport_errors"],
        },
    )
    return {**result, **cost}
