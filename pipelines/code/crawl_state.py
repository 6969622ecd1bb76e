"""The code step's state from the crawl-state index (pipelines/storage/crawl_index.py) instead of every
capture: the GitHub repositories the captured cards and papers link to, and what the raw layer knows of each
code repository crawled before (its looks without their bodies, the licence blobs and file commits stored).
"""

from __future__ import annotations

import json

import polars as pl

from pipelines.code.state import KnownCaptures, known_captures
from pipelines.storage import crawl_index
from pipelines.storage.crawl_index import View
from pipelines.storage.raw import RawStore


def _keys(text: str | None) -> list[str]:
    from pipelines.code.links import repo_keys
    from pipelines.code_links import find_code_urls

    return sorted(repo_keys(find_code_urls(text)))


def _readme_links(frame: pl.DataFrame) -> pl.DataFrame:
    # Only a text naming GitHub can cite a GitHub repository: the others cost no decoding.
    rows = [
        (
            repo_id,
            fetched_at,
            crawl_date,
            json.dumps(_keys(content.decode("utf-8", "replace")) if b"github" in content.lower() else []),
        )
        for repo_id, fetched_at, crawl_date, content in frame.filter(pl.col("content").is_not_null())
        .select("repo_id", "fetched_at", "crawl_date", "content")
        .iter_rows()
    ]
    schema = {
        "repo_id": pl.String,
        "fetched_at": pl.Datetime("us", "UTC"),
        "crawl_date": pl.String,
        "keys": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _body_links(frame: pl.DataFrame) -> pl.DataFrame:
    rows = {}
    for body, crawl_date in frame.select("body", "crawl_date").iter_rows():
        for key in _keys(body) if body else []:
            if key not in rows or crawl_date < rows[key]:
                rows[key] = crawl_date
    return pl.DataFrame(list(rows.items()), schema={"key": pl.String, "crawl_date": pl.String}, orient="row")


def _unique(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.unique()


def _first_seen(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("key").agg(pl.col("crawl_date").min())


REPO_COLUMNS = (
    "repo",
    "full_name",
    "fetched_at",
    "status",
    "etag",
    "pushed_at",
    "default_branch",
    "head_sha",
    "crawl_date",
)
README_LINKS = View(
    "code_readme_links",
    "hub_readme",
    ("repo_id", "fetched_at", "content", "crawl_date"),
    _readme_links,
    _unique,
)
ARXIV_LINKS = View("code_arxiv_links", "arxiv", ("body", "crawl_date"), _body_links, _first_seen)
HF_PAPER_LINKS = View("code_hf_paper_links", "hf_paper", ("body", "crawl_date"), _body_links, _first_seen)
REPO_LOOKS = View("code_repo_looks", "github_repo", REPO_COLUMNS, lambda f: f.select(REPO_COLUMNS), _unique)
FILE_BLOBS = View(
    "code_file_blobs",
    "github_file",
    ("repo", "path", "blob_sha"),
    lambda f: f.select("repo", "path", "blob_sha"),
    _unique,
)
FILE_COMMITS = View(
    "code_file_commits",
    "github_file_commits",
    ("repo", "path", "commit_sha"),
    lambda f: f.select("repo", "path", "commit_sha"),
    _unique,
)
VIEWS = crawl_index.register(README_LINKS, ARXIV_LINKS, HF_PAPER_LINKS, REPO_LOOKS, FILE_BLOBS, FILE_COMMITS)


def readme_keys(raw: RawStore, until: str | None = None) -> dict[str, list[str]]:
    """Each model repo -> the GitHub repositories its latest captured README links to (with `until`, the
    latest of the captures of that crawl date and before)."""
    readmes = crawl_index.read(raw, README_LINKS)
    if until is not None:
        readmes = readmes.filter(pl.col("crawl_date") <= until)
    latest = readmes.sort("fetched_at", "crawl_date", "keys").group_by("repo_id").agg(pl.col("keys").last())
    return {model: json.loads(text) for model, text in latest.iter_rows()}


def paper_keys(raw: RawStore, until: str | None = None) -> set[str]:
    """The GitHub repositories the captured paper answers (arXiv, Hub paper pages) link to."""
    return crawl_index.values(raw, (ARXIV_LINKS, HF_PAPER_LINKS), "key", until)


def cited_keys(raw: RawStore, until: str | None = None) -> list[str]:
    """The GitHub repositories that each model's latest captured README and the captured paper answers link
    to, sorted; with `until`, from the captures of that crawl date and before."""
    keys = paper_keys(raw, until)
    for linked in readme_keys(raw, until).values():
        keys.update(linked)
    return sorted(keys)


def known(raw: RawStore) -> KnownCaptures:
    """What the raw layer knows of every code repository crawled before (pipelines/code/state.py)."""
    return known_captures(
        crawl_index.read(raw, REPO_LOOKS),
        crawl_index.read(raw, FILE_BLOBS),
        crawl_index.read(raw, FILE_COMMITS),
    )
