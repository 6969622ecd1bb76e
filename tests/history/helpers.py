"""Helpers of the history tests: crawl the sample mirror for a list of dates and build every table."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from pipelines.hub.step import run_crawl, run_datasets, run_history
from pipelines.mirror.server import MirrorServer
from pipelines.papers.step import run_papers_step
from pipelines.runner import build_all as run_all
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import SAMPLE, commits_of, papers_settings, settings

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# Order-free comparisons leave out the run log and the columns that record when a capture was made.
CAPTURE_TIME = {"crawl_runs": None, "datasets": ["observed_at"], "papers": ["fetched_at"]}
TABLES = [
    "releases",
    "revisions",
    "disclosures",
    "openness",
    "transitions",
    "licenses",
    "datasets",
    "derivatives",
    "quarantine",
    "reconstructions",
]


def commit_days() -> list[str]:
    """Every day on which a sample repo has a commit."""
    return sorted({c["date"][:10] for commits in commits_of(SAMPLE).values() for c in commits})


def crawl(wh: Warehouse, days: list[str], *, history: bool) -> None:
    """Run the daily crawl for each day (in the order given): listing and READMEs, the history walk if
    asked, then the named datasets and cited papers, as the daily jobs do."""
    with MirrorServer(SAMPLE) as srv:
        conf = settings(srv.url, token="hf_test")
        papers_conf = papers_settings(conf, srv.arxiv_url)
        for day in days:
            run_crawl(wh, conf, day, now=NOW)
            if history:
                run_history(wh, conf, day, now=NOW)
            run_datasets(wh, conf, day, now=NOW)
            run_papers_step(wh, papers_conf, day)


def build_all(wh: Warehouse) -> None:
    """Every core table and mart from the whole raw layer: the one build runner in full mode."""
    with wh.connect() as con:
        run_all(wh, con, full=True)


def table(wh: Warehouse, name: str) -> pl.DataFrame:
    """A core table, sorted on every column, for comparisons."""
    with wh.connect() as con:
        frame = con.sql(f"SELECT * FROM core.{name}").pl()  # noqa: S608 - fixed table names
    drop = CAPTURE_TIME.get(name) or []
    frame = frame.drop(drop)
    sortable = [c for c, t in frame.schema.items() if not isinstance(t, pl.List | pl.Struct)]
    return frame.sort(sortable, nulls_last=True)
