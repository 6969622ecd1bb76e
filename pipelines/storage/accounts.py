"""Crawl accounts: one `crawl_run` raw row per step of a crawl date, whatever the source.

Each source's step counts what it did and what it cost (pipelines/transport.py) and records it here;
core.crawl_runs is built from these rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from pipelines.storage.raw import CRAWL_RUN_SCHEMA
from pipelines.storage.warehouse import Warehouse


@dataclass
class CrawlSummary:
    """What one crawl step did and cost."""

    crawl_date: str
    pages: int = 0  # listing pages read on the date, the usage page included
    usage_pages: int = 0  # of those, the pages of the most-downloaded models (sort=downloads)
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
            "usage_pages": self.usage_pages,
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


def record_run(
    wh: Warehouse,
    s: CrawlSummary,
    started: datetime,
    *,
    step: str,
    endpoint: str,
    authors: tuple[str, ...] = (),
    detail: dict | None = None,
) -> None:
    """Append the account of one step to the raw layer; its scope names the step and the organisations
    crawled (`hub`: the whole Hub)."""
    finished = datetime.now(UTC)
    cost = s.cost
    row = {
        "run_key": f"{step}:{s.crawl_date}@{started.isoformat()}",
        "crawl_date": s.crawl_date,
        "started_at": started,
        "finished_at": finished,
        "endpoint": endpoint,
        "scope": f"{step}:" + (",".join(authors) or "hub"),
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
