"""Raw captures of the code repositories source: what GitHub answered, append-only in the raw store.

Four raw sources, registered with the raw store here:
- `github_repo`: one row per look at a repository (200, 304, gone, empty); written last for a repo,
  so a repo with a row on a crawl date is done for that date (a killed crawl resumes after it).
- `github_tree`: the recursive tree of the default branch head, once per (repo, head commit).
- `github_file`: a licence or use-policy file's bytes, once per (repo, path, blob sha).
- `github_file_commits`: the commits touching a licence file, each with the file's blob at that
  commit (null: the commit deleted it), once per (repo, path, commit).
No column holds a credential: the endpoint is stored as an API base URL without user information.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from pipelines.storage import crawl_index
from pipelines.storage.raw import RawStore, register

UTC_TIME = pl.Datetime("us", "UTC")
TREE_ENTRY = pl.Struct(
    {"path": pl.String, "mode": pl.String, "type": pl.String, "sha": pl.String, "size": pl.Int64}
)

REPO_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,  # the key asked for: owner/name, lower-case
    "full_name": pl.String,  # as GitHub answered (after a move: the new name)
    "fetched_at": UTC_TIME,
    "endpoint": pl.String,
    "status": pl.String,  # ok | not_modified | moved | gone | empty
    "http_status": pl.Int64,
    "etag": pl.String,
    "pushed_at": pl.String,
    "default_branch": pl.String,
    "head_sha": pl.String,  # the head commit whose tree and licence files were read now (else null)
    "body": pl.String,  # the JSON body as received (null for 304)
}
TREE_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,
    "commit_sha": pl.String,
    "committed_at": pl.String,
    "tree_sha": pl.String,
    "truncated": pl.Boolean,
    "entries": pl.List(TREE_ENTRY),
    "fetched_at": UTC_TIME,
}
FILE_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,
    "path": pl.String,
    "kind": pl.String,  # licence | policy
    "blob_sha": pl.String,
    "commit_sha": pl.String,  # the commit it was read at
    "size": pl.Int64,
    "content": pl.Binary,  # the bytes (null above the size limit)
    "fetched_at": UTC_TIME,
}
FILE_COMMITS_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,
    "path": pl.String,
    "commit_sha": pl.String,
    "committed_at": pl.String,
    "author_name": pl.String,
    "message": pl.String,
    "blob_sha": pl.String,  # the file's blob after this commit; null: the commit deleted the file
    "fetched_at": UTC_TIME,
}
SCHEMAS = {
    "github_repo": REPO_SCHEMA,
    "github_tree": TREE_SCHEMA,
    "github_file": FILE_SCHEMA,
    "github_file_commits": FILE_COMMITS_SCHEMA,
}
for _source, _schema in SCHEMAS.items():
    register(_source, _schema)
# What makes a capture new: a second look with the same payload is not written again.
PAYLOAD = {
    "github_repo": list(REPO_SCHEMA),
    "github_tree": ["repo", "commit_sha", "tree_sha"],
    "github_file": ["repo", "path", "blob_sha"],
    "github_file_commits": ["repo", "path", "commit_sha", "blob_sha"],
}


def append(store: RawStore, source: str, crawl_date: str, rows: list[dict]) -> bool:
    """Append rows of one raw source (no-op for no rows); True if a new file was written."""
    if not rows:
        return False
    frame = pl.DataFrame(rows, schema=SCHEMAS[source])
    path, written = store.append(source, crawl_date, frame, PAYLOAD[source])
    # The crawl-state index's deltas (pipelines/storage/crawl_index.py) of a new capture file.
    crawl_index.record(store, source, path if written else None, frame)
    return written


def scan(store: RawStore, source: str) -> pl.DataFrame:
    """Every capture of one raw source (with `crawl_date`)."""
    return store.scan(source, SCHEMAS[source]).collect()


def as_time(value: str | None) -> datetime | None:
    """An ISO 8601 time from GitHub (`...Z`) as an aware datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
