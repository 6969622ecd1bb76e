"""The papers step of a crawl date: arXiv metadata and Hub paper pages for the papers the cards cite,
with its cost account."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import polars as pl

from pipelines.card_text import readme_arxiv_ids
from pipelines.hub_transport import default_quotas, install
from pipelines.papers.client import ArxivClient, HubPapersClient
from pipelines.papers.parse import arxiv_captures, hf_captures, papers_frame, papers_to_refresh
from pipelines.papers.raw import ARXIV_RAW_SCHEMA, HF_RAW_SCHEMA
from pipelines.papers.settings import PapersSettings
from pipelines.storage.accounts import CrawlSummary, record_run
from pipelines.storage.raw import RawStore, schema_of
from pipelines.storage.warehouse import Warehouse
from pipelines.transport import SessionCounter, quota_folder

# Substrings one of which every README citing a paper holds, in one of their cases: `xiv` (an arXiv link
# or an `arxiv:` key) or `co/p` (a `huggingface.co/papers/` link). A byte test, exact for what the card
# parser finds (it ignores case), that leaves out most READMEs before any is decoded.
_MENTIONS = sorted(
    {
        "".join(c.upper() if (n >> i) & 1 else c for i, c in enumerate(word)).encode("ascii")
        for word in ("xiv", "co/p")
        for n in range(2 ** len(word))
    }
)


def card_cited_ids(raw: RawStore) -> set[str]:
    """Every arXiv id a captured README links or names (`arxiv.org/abs|pdf|html/`, `huggingface.co/papers/`,
    an `arxiv:` key of its front matter), as the card parser finds them: the Hub does not make a tag of
    every link, and a release cites what its card links too. Read one raw file at a time; a README
    captured twice (same sha256) is read once."""
    ids: set[str] = set()
    seen: set[str] = set()
    mentions = pl.any_horizontal(pl.col("content").bin.contains(m) for m in _MENTIONS)
    for path in raw.files("hub_readme"):
        frame = (
            raw.scan_file(path)
            .select("status", "sha256", "content")
            .filter((pl.col("status") == "ok") & pl.col("content").is_not_null() & mentions)
            .collect()
        )
        for digest, content in frame.select("sha256", "content").iter_rows():
            if digest is not None:
                if digest in seen:
                    continue
                seen.add(digest)
            ids.update(readme_arxiv_ids(content))
    return ids


def cited_arxiv_ids(raw: RawStore) -> list[str]:
    """Every arXiv id a captured release cites: the `arxiv:` tags of its model info (the Hub derives them
    from some card links) and the ids its README links (`card_cited_ids`).

    The Hub's captures are read by their registered raw source names, not through the Hub source's code.
    """
    ids: set[str] = set()
    listing = raw.scan("hub_listing", schema_of("hub_listing")).select("item").collect()
    texts = listing.get_column("item").to_list()
    revisions = raw.scan("hub_revision", schema_of("hub_revision")).select("info").collect()
    texts += revisions.get_column("info").to_list()
    for text in texts:
        try:
            tags = json.loads(text).get("tags") or []
        except (ValueError, AttributeError):
            continue
        # The prefix in any case, as release_papers_frame reads it.
        ids.update(t[6:] for t in tags if isinstance(t, str) and t[:6].lower() == "arxiv:" and len(t) > 6)
    return sorted(ids | card_cited_ids(raw))


def stored_papers(raw: RawStore) -> pl.DataFrame:
    """The papers table as the raw captures so far give it."""
    return papers_frame(
        raw.scan("arxiv", ARXIV_RAW_SCHEMA).collect().drop("crawl_date"),
        raw.scan("hf_paper", HF_RAW_SCHEMA).collect().drop("crawl_date"),
    )


def run_papers(
    raw: RawStore,
    crawl_date: str,
    *,
    arxiv: ArxivClient,
    hub: HubPapersClient,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Fetch cited papers that were never fetched or are a month old; append the answers raw."""
    cited = cited_arxiv_ids(raw)
    due = papers_to_refresh(stored_papers(raw), cited, date.fromisoformat(crawl_date))
    if progress:
        progress(f"papers: {len(cited)} cited, {len(due)} due")
    if not due:
        return {"cited": len(cited), "due": 0, "arxiv_requests": 0, "hub_requests": 0}
    result = arxiv.fetch(due)
    # A request that got no answer at all (refused, timed out) is kept too, without status or body: the
    # papers it asked for are then recorded as looked up without an answer (status `error`, asked again
    # on the next crawl) rather than never asked for.
    unanswered = [
        {"url": f["url"], "status_code": None, "body": None, "fetched_at": f["at"]} for f in result.failures
    ]
    frame = arxiv_captures(result.responses + unanswered)
    if frame.height:
        raw.append("arxiv", crawl_date, frame, payload=["url", "status_code", "body"])
    hub_results = hub.fetch_many(due)
    hub_frame = hf_captures(hub_results)
    if hub_frame.height:
        raw.append("hf_paper", crawl_date, hub_frame, payload=["arxiv_id", "status", "body"])
    statuses: dict[str, int] = {}
    for status in result.status.values():
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "cited": len(cited),
        "due": len(due),
        "arxiv_requests": len(result.responses),
        "hub_requests": hub_frame.height,
        **{f"arxiv_{k}": v for k, v in sorted(statuses.items())},
    }


def _merged(arxiv: dict, hub: dict) -> dict:
    """One cost account from arXiv's session counter and the Hub transport's counters."""
    return {
        "requests": {**hub["requests"], **arxiv["requests"]},
        "bytes": {**hub["bytes"], **arxiv["bytes"]},
        **{k: arxiv[k] + hub[k] for k in ("retries", "status_429", "status_5xx")},
        "transport_errors": arxiv["transport_errors"],
    }


def run_papers_step(
    wh: Warehouse,
    settings: PapersSettings,
    crawl_date: str,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Fetch the cited papers that are new or due (arXiv query API and the Hub papers API); the cost goes
    to core.crawl_runs (scope `papers`: Hub paper pages under requests_api, arXiv requests in `detail`)."""
    started = datetime.now(UTC)
    arxiv = ArxivClient(base_url=settings.arxiv_endpoint, min_interval=settings.arxiv_min_interval)
    hub = HubPapersClient(
        endpoint=settings.hub_endpoint.rstrip("/"),
        min_interval=settings.hub_min_interval,
        token=settings.hub_token,
    )
    counter = SessionCounter()
    counter.wrap(arxiv.session, "arxiv")
    # The Hub paper pages are Hub requests: the Hub's limiters and counters (as the Hub steps install them).
    quotas = default_quotas(bool(settings.hub_token)) if settings.hub_rate_limit else None
    shared = quota_folder(settings.hub_quota_dir, wh.state)
    hub_stats = install(quotas, token=settings.hub_token, shared_dir=shared).begin()
    try:
        result = run_papers(wh.raw, crawl_date, arxiv=arxiv, hub=hub, progress=progress)
    finally:
        arxiv.close()
        hub.close()
    cost = _merged(counter.as_dict(), hub_stats.as_dict())
    summary = CrawlSummary(crawl_date=crawl_date, cost=cost)
    record_run(
        wh,
        summary,
        started,
        step="papers",
        endpoint=settings.account_endpoint(crawl_date),
        authors=settings.authors,
        detail={
            **result,
            "requests_arxiv": cost["requests"].get("arxiv", 0),
            "transport_errors": cost["transport_errors"],
        },
    )
    return {**result, **cost}
