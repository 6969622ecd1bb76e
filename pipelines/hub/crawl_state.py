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

from pipelines.depth import USAGE
from pipelines.storage import crawl_index
from pipelines.storage.crawl_index import View
from pipelines.storage.raw import RawStore


def _first_seen(keys: list[str]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def reduce(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.group_by(keys).agg(pl.col("crawl_date").min())

    return reduce


def _listing(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("repo_id", "sha", "last_modified", "crawl_date")


def _readmes(frame: pl.DataFrame) -> pl.DataFrame:
    # An `error` outcome is a record of a failed attempt, not a capture: the next crawl asks again.
    return frame.filter(pl.col("status") != "error").select("repo_id", "revision", "blob_id", "capture_id")


def _readmes_reduce(frame: pl.DataFrame) -> pl.DataFrame:
    # One row per (repo, revision): a README read in full (with its blob id, the same for every capture of
    # the revision) before an outcome without one; the first capture file holding it (hash joins, no sort).
    keys = ["repo_id", "revision"]
    full = (
        frame.filter(pl.col("blob_id").is_not_null())
        .group_by(keys)
        .agg(pl.col("blob_id").min(), pl.col("capture_id").min())
    )
    other = (
        frame.filter(pl.col("blob_id").is_null())
        .join(full, on=keys, how="anti", nulls_equal=True)
        .group_by(keys)
        .agg(pl.col("blob_id").first(), pl.col("capture_id").min())
    )
    return pl.concat([full, other])


def _commits(frame: pl.DataFrame) -> pl.DataFrame:
    rows = [
        (repo_id, c.get("id"))
        for repo_id, text in frame.filter(pl.col("status") == "ok").select("repo_id", "commits").iter_rows()
        for c in json.loads(text)
        if isinstance(c, dict)
    ]
    return pl.DataFrame(rows, schema={"repo_id": pl.String, "commit": pl.String}, orient="row")


def _unique(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.unique()


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
    return frame.group_by("dataset_id").agg(pl.col("crawl_date").max())


def _file_lists(repo_type: str, id_column: str, text_column: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The licence and policy files (pipelines/hub/licences.py `licence_siblings`, as JSON) of each revision
    whose captured file list names one, with the crawl date of the capture."""

    def project(frame: pl.DataFrame) -> pl.DataFrame:
        from pipelines.hub.ids import is_commit_sha, is_dataset_id, is_valid_repo_id
        from pipelines.hub.licences import NAME_HINT, _field, licence_siblings

        keep = pl.col(text_column).str.contains(NAME_HINT)
        if "status" in frame.columns:
            keep = keep & (pl.col("status") == "ok")
        rows = []
        for row in frame.filter(keep).iter_rows(named=True):
            repo_id, text = row[id_column], row[text_column]
            sha = row["sha"] if "sha" in row else row.get("revision")
            if repo_type == "dataset":
                sha = _field(text, "sha")
                if not is_dataset_id(repo_id) or not is_commit_sha(sha):
                    continue
            elif not is_valid_repo_id(repo_id) or not is_commit_sha(sha):
                continue
            files = licence_siblings(_field(text, "siblings"))
            if files is not None:
                rows.append((repo_type, repo_id, str(sha), json.dumps(files), row["crawl_date"]))
        schema = {c: pl.String for c in ("repo_type", "repo_id", "revision", "files", "crawl_date")}
        return pl.DataFrame(rows, schema=schema, orient="row")

    return project


def _licence_outcomes(frame: pl.DataFrame) -> pl.DataFrame:
    from pipelines.hub.licences import FINAL_STATUSES

    columns = ["repo_type", "repo_id", "revision", "path", "status", "blob_sha"]
    return frame.filter(pl.col("status").is_in(FINAL_STATUSES)).select(columns)


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


_FILES_KEY = ["repo_type", "repo_id", "revision", "files"]
LISTING_LICENCE_FILES = View(
    "hub_listing_licence_files",
    "hub_listing",
    ("repo_id", "sha", "item", "crawl_date"),
    _file_lists("model", "repo_id", "item"),
    _first_seen(_FILES_KEY),
)
REVISION_LICENCE_FILES = View(
    "hub_revision_licence_files",
    "hub_revision",
    ("repo_id", "revision", "status", "info", "crawl_date"),
    _file_lists("model", "repo_id", "info"),
    _first_seen(_FILES_KEY),
)
DATASET_LICENCE_FILES = View(
    "hub_dataset_licence_files",
    "hub_dataset",
    ("dataset_id", "status", "info", "crawl_date"),
    _file_lists("dataset", "dataset_id", "info"),
    _first_seen(_FILES_KEY),
)
LICENCE_OUTCOMES = View(
    "hub_license_files_captured",
    "hub_license_files",
    ("repo_type", "repo_id", "revision", "path", "status", "blob_sha"),
    _licence_outcomes,
    _unique,
)
VIEWS = (
    LISTING,
    READMES,
    COMMITS,
    REVISIONS,
    LISTING_DATASETS,
    REVISION_DATASETS,
    DATASETS_FETCHED,
    LISTING_LICENCE_FILES,
    REVISION_LICENCE_FILES,
    DATASET_LICENCE_FILES,
    LICENCE_OUTCOMES,
    USAGE,  # declared by pipelines/depth.py (read by the history walk and the code crawl)
)


crawl_index.register(*VIEWS)


def record(raw: RawStore, source: str, path: object, frame: pl.DataFrame | None = None) -> None:
    """After appending `frame` as the new capture file `path` of `source` (None: nothing new was written;
    `frame` None: read the file back): write the deltas of its views (pipelines/storage/crawl_index.py)."""
    crawl_index.record(raw, source, path, frame)


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
    return crawl_index.values(raw, (LISTING_DATASETS, REVISION_DATASETS), "dataset_id", until)


def datasets_fetched(raw: RawStore) -> dict[str, str]:
    """Each dataset id captured -> the last crawl date that captured it."""
    return dict(crawl_index.read(raw, DATASETS_FETCHED).iter_rows())


def licence_file_lists(raw: RawStore, until: str | None = None) -> dict:
    """(repo_type, repo_id, revision) -> its licence and policy files (path, kind, blob id or None): from the
    listing items (the first seen), the history walk's infos (which win when they give blob ids) and the
    dataset infos; with `until`, only from the captures of that crawl date and before."""
    out: dict = {}
    for view in (LISTING_LICENCE_FILES, REVISION_LICENCE_FILES, DATASET_LICENCE_FILES):
        frame = crawl_index.read(raw, view)
        if until is not None:
            frame = frame.filter(pl.col("crawl_date") <= until)
        for repo_type, repo_id, revision, text, _ in frame.iter_rows():
            files = [tuple(f) for f in json.loads(text)]
            key = (repo_type, repo_id, revision)
            if view is REVISION_LICENCE_FILES:
                if key not in out or any(b is not None for _, _, b in files):
                    out[key] = files
            else:
                out.setdefault(key, files)
    return out


def licence_outcomes(raw: RawStore) -> pl.DataFrame:
    """(repo_type, repo_id, revision, path, status, blob_sha) of every licence-file capture with a final
    outcome (an `error` is asked again)."""
    return crawl_index.read(raw, LICENCE_OUTCOMES)
