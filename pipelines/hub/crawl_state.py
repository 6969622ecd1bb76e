"""The Hub crawl's state, read from the crawl-state index (pipelines/storage/crawl_index.py) instead of every
capture: the commits listed (with their first crawl date), the READMEs read, the commit lists walked, the
revision infos read and the datasets the cards name.

Each view is what one raw source tells the next crawl; the crawl steps write its deltas as they append
captures (`record`), and every reader gets the same answer as from a scan of all captures.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import polars as pl

from pipelines.storage import crawl_index
from pipelines.storage.crawl_index import View
from pipelines.storage.raw import RawStore


def _first_seen(keys: list[str]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def reduce(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.group_by(keys).agg(pl.col("crawl_date").min()).sort(keys, nulls_last=True)

    return reduce


def _listing(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("repo_id", "sha", "last_modified", "crawl_date")


def _readmes(frame: pl.DataFrame) -> pl.DataFrame:
    # An `error` outcome is a record of a failed attempt, not a capture: the next crawl asks again.
    return frame.filter(pl.col("status") != "error").select("repo_id", "revision", "blob_id", "capture_id")


def _readmes_reduce(frame: pl.DataFrame) -> pl.DataFrame:
    # One row per (repo, revision): a README read in full (with its blob id) before an outcome without one.
    return (
        frame.sort(["repo_id", "revision", "blob_id", "capture_id"], nulls_last=True)
        .unique(["repo_id", "revision"], keep="first", maintain_order=True)
        .sort("repo_id", "revision")
    )


def _commits(frame: pl.DataFrame) -> pl.DataFrame:
    rows = [
        (repo_id, c.get("id"))
        for repo_id, text in frame.filter(pl.col("status") == "ok").select("repo_id", "commits").iter_rows()
        for c in json.loads(text)
        if isinstance(c, dict)
    ]
    return pl.DataFrame(rows, schema={"repo_id": pl.String, "commit": pl.String}, orient="row")


def _unique(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.unique().sort(frame.columns, nulls_last=True)


def _revisions(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("repo_id", "revision", "crawl_date")


def _named(column: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def project(frame: pl.DataFrame) -> pl.DataFrame:
        from pipelines.hub.datasets import _names

        rows = {}
        for text, crawl_date in frame.select(column, "crawl_date").iter_rows():
            if text is None:
                continue
            for name in _names(text):
                if name not in rows or crawl_date < rows[name]:
                    rows[name] = crawl_date
        return pl.DataFrame(
            list(rows.items()), schema={"dataset_id": pl.String, "crawl_date": pl.String}, orient="row"
        )

    return project


def _fetched(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("dataset_id").agg(pl.col("crawl_date").max()).sort("dataset_id", nulls_last=True)


LISTING = View(
    "hub_listing_commits",
    "hub_listing",
    ("repo_id", "sha", "last_modified", "crawl_date"),
    _listing,
    _first_seen(["repo_id", "sha", "last_modified"]),
)
READMES = View(
    "hub_readme_captured",
    "hub_readme",
    ("repo_id", "revision", "status", "blob_id", "crawl_date"),
    _readmes,
    _readmes_reduce,
)
COMMITS = View("hub_commits_walked", "hub_commits", ("repo_id", "status", "commits"), _commits, _unique)
REVISIONS = View(
    "hub_revision_read",
    "hub_revision",
    ("repo_id", "revision", "crawl_date"),
    _revisions,
    _first_seen(["repo_id", "revision"]),
)
LISTING_DATASETS = View(
    "hub_listing_datasets", "hub_listing", ("item", "crawl_date"), _named("item"), _first_seen(["dataset_id"])
)
REVISION_DATASETS = View(
    "hub_revision_datasets",
    "hub_revision",
    ("info", "crawl_date"),
    _named("info"),
    _first_seen(["dataset_id"]),
)
DATASETS_FETCHED = View(
    "hub_dataset_fetched",
    "hub_dataset",
    ("dataset_id", "crawl_date"),
    lambda f: f.select("dataset_id", "crawl_date"),
    _fetched,
)
VIEWS = (LISTING, READMES, COMMITS, REVISIONS, LISTING_DATASETS, REVISION_DATASETS, DATASETS_FETCHED)


def record(raw: RawStore, source: str, path: object, frame: pl.DataFrame) -> None:
    """After appending `frame` as capture file `path` of `source`: write the deltas of its views."""
    if path is not None:
        crawl_index.record(raw, VIEWS, source, path, frame)


def captures_of(raw: RawStore, source: str, crawl_date: str, columns: list[str]) -> pl.DataFrame:
    """The given columns of the captures of one source and crawl date (only that date's files are read)."""
    prefix = f"crawl_date={crawl_date}/"
    ids = [c for c in raw.capture_ids(source) if c.startswith(prefix)]
    return raw.read_captures(source, ids, [*columns, "crawl_date"]).drop("capture_id")


def listing_commits(raw: RawStore) -> pl.DataFrame:
    """Every (repo_id, sha, last_modified) the listings captured, with the first crawl date that listed it."""
    return crawl_index.read(raw, LISTING)


def captured_readmes(raw: RawStore) -> pl.DataFrame:
    """(repo_id, revision) with a README outcome other than `error`: the blob id of a README read in full
    (else null) and the capture file holding it (`raw_file`)."""
    frame = crawl_index.read(raw, READMES)
    ids = frame.get_column("capture_id").unique().to_list()
    paths = {c: str(raw.capture_path("hub_readme", c)) for c in ids}
    raw_file = pl.col("capture_id").replace_strict(paths, return_dtype=pl.String, default=None)
    return frame.with_columns(raw_file.alias("raw_file")).drop("capture_id")


def walked_commits(raw: RawStore) -> pl.DataFrame:
    """(repo_id, commit) of every commit list captured with status `ok`."""
    return crawl_index.read(raw, COMMITS)


def read_revisions(raw: RawStore) -> pl.DataFrame:
    """(repo_id, revision) of every revision info captured, with its first crawl date."""
    return crawl_index.read(raw, REVISIONS)


def named_datasets(raw: RawStore, until: str | None = None) -> set[str]:
    """Every dataset id named by a captured model info (listing items and revision infos); with `until`, by
    the captures of that crawl date and before."""
    names: set[str] = set()
    for view in (LISTING_DATASETS, REVISION_DATASETS):
        frame = crawl_index.read(raw, view)
        if until is not None:
            frame = frame.filter(pl.col("crawl_date") <= until)
        names.update(frame.get_column("dataset_id").to_list())
    return names


def datasets_fetched(raw: RawStore) -> dict[str, str]:
    """Each dataset id captured -> the last crawl date that captured it."""
    return dict(crawl_index.read(raw, DATASETS_FETCHED).iter_rows())
