"""The papers step of a crawl: arXiv metadata and Hub paper pages for the papers the cards cite."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import polars as pl

from pipelines.hub.backfill import REVISION_RAW_SCHEMA
from pipelines.hub.crawl import LISTING_RAW_SCHEMA
from pipelines.papers.arxiv import ArxivClient
from pipelines.papers.hf_papers import HubPapersClient
from pipelines.papers.normalise import (
    ARXIV_RAW_SCHEMA,
    HF_RAW_SCHEMA,
    arxiv_captures,
    hf_captures,
    papers_frame,
    papers_to_refresh,
)
from pipelines.storage.raw import RawStore


def cited_arxiv_ids(raw: RawStore) -> list[str]:
    """Every arXiv id an `arxiv:` tag of a captured model info names (the Hub derives them from card links)."""
    ids: set[str] = set()
    texts = raw.scan("hub_listing", LISTING_RAW_SCHEMA).select("item").collect().get_column("item").to_list()
    texts += (
        raw.scan("hub_revision", REVISION_RAW_SCHEMA).select("info").collect().get_column("info").to_list()
    )
    for text in texts:
        try:
            tags = json.loads(text).get("tags") or []
        except (ValueError, AttributeError):
            continue
        ids.update(t[6:] for t in tags if isinstance(t, str) and t.startswith("arxiv:") and len(t) > 6)
    return sorted(ids)


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
    frame = arxiv_captures(result.responses)
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
