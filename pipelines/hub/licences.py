"""Licence and use-policy files of model and dataset revisions: which to read, and reading each blob once.

A revision's file list (its siblings: from the listing, or from the history walk's
`/revision/{sha}?blobs=true`) names its files; `licence_file_kind` picks the licence files (LICENSE,
LICENCE, COPYING, MODEL_LICENSE, `*LICENSE*.txt|md`) and the use policies (USE_POLICY.md,
ACCEPTABLE_USE_POLICY*). Each is read through the Hub's resolver, but never twice for the same git blob:
the blob id comes from the file list (`blobId`, when the history walk read the revision with blobs) or
else from a HEAD of the resolve URL (the Hub's ETag of a file stored in git is its blob id), and a blob
already captured costs no GET. A revision whose file list is unknown gets no rows (unknown, not absent).
Dataset repos: the revision of each dataset info the datasets step read (its `sha` and siblings).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from pipelines.hub import crawl_state
from pipelines.hub.client import HubClient
from pipelines.hub.ids import git_blob_sha1
from pipelines.hub.raw import (
    LICENSE_FILE_RAW_SCHEMA,
)
from pipelines.hub.shards import in_shard
from pipelines.licence_names import MAX_FILE_BYTES, licence_file_kind
from pipelines.storage.raw import RawStore

BATCH = 100
# A cheap pre-filter on the stored JSON text: a file list entry whose name contains what every name
# licence_file_kind accepts contains (licence tags such as `license:mit` do not match).
NAME_HINT = r'"rfilename": ?"[^"]*(?i:licen[cs]e|copying|polic(y|ies))'
# Outcomes that are a capture; `error` is a record of a failed attempt, asked again by the next crawl.
FINAL_STATUSES = ("ok", "missing", "gated", "repo_missing", "revision_missing", "too_large")


@dataclass(frozen=True)
class PlannedFile:
    """One licence or policy file of one revision to capture, with its blob id when the file list has it."""

    repo_id: str
    revision: str
    path: str
    file_kind: str
    blob_id: str | None
    repo_type: str = "model"


def licence_siblings(siblings: object) -> list[tuple[str, str, str | None]] | None:
    """(path, kind, blobId or None) of the licence and policy files in a file list; None if it is unknown."""
    if not isinstance(siblings, list):
        return None
    out = []
    for sibling in siblings:
        if not isinstance(sibling, dict) or not isinstance(sibling.get("rfilename"), str):
            continue
        path = sibling["rfilename"]
        kind = licence_file_kind(path)
        if kind is None:
            continue
        blob = sibling.get("blobId")
        out.append((path, kind, blob.lower() if isinstance(blob, str) and len(blob) == 40 else None))
    return sorted(out)


FileLists = dict[tuple[str, str, str], list[tuple[str, str, str | None]]]


def revision_file_lists(raw: RawStore, until: str | None = None) -> FileLists:
    """(repo_type, repo_id, revision) -> its licence and policy files, for every captured model revision
    whose file list is known (listing items and history-walk infos; the latter's blob ids win) and every
    captured dataset info's revision; with `until`, only from the captures of that crawl date and before (a
    date run again after later dates were crawled must not ask for revisions it could not know yet: as of
    that date they answer 404, and the file would be recorded as missing for good)."""
    # From the crawl-state index (pipelines/hub/crawl_state.py), not from every capture.
    return crawl_state.licence_file_lists(raw, until=until)


def _field(text: str | None, name: str) -> object:
    try:
        body = json.loads(text) if text else None
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def licence_capture_state(raw: RawStore) -> tuple[set[tuple[str, str, str, str]], set[str]]:
    """What is captured: (repo_type, repo_id, revision, path) with a final outcome, and the blob ids already
    read."""
    rows = crawl_state.licence_outcomes(raw)
    done = set(
        rows.filter(pl.col("status").is_in(FINAL_STATUSES))
        .select("repo_type", "repo_id", "revision", "path")
        .iter_rows()
    )
    seen = set(
        rows.filter(pl.col("status").is_in(["ok", "too_large"]) & pl.col("blob_sha").is_not_null())
        .get_column("blob_sha")
        .to_list()
    )
    return done, seen


def plan_licence_files(
    file_lists: FileLists,
    done: set[tuple[str, str, str, str]],
    *,
    repo_type: str = "model",
    shard: int = 0,
    shards: int = 1,
) -> list[PlannedFile]:
    """The licence and policy files of known file lists of one repo type not captured yet, for one shard of
    repos."""
    plan = [
        PlannedFile(repo_id, revision, path, kind, blob, kind_of_repo)
        for (kind_of_repo, repo_id, revision), files in file_lists.items()
        if kind_of_repo == repo_type and in_shard(repo_id, shard, shards)
        for path, kind, blob in files
        if (kind_of_repo, repo_id, revision, path) not in done
    ]
    return sorted(plan, key=lambda p: (p.repo_id, p.revision, p.path))


def fetch_licence_files(
    client: HubClient,
    raw: RawStore,
    crawl_date: str,
    plan: list[PlannedFile],
    seen: set[str],
    *,
    now: datetime,
    max_bytes: int = MAX_FILE_BYTES,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Capture each planned file: its blob id (file list or HEAD), and its bytes only for a blob not in `seen`
    (which grows as blobs are read). Appends the rows in batches; returns counts per outcome, with `read`
    (GETs) and `same_blob` (blobs already held: no GET)."""
    counts: dict[str, int] = {}
    batch: list[dict] = []

    def flush() -> None:
        if batch:
            frame = pl.DataFrame(batch, schema=LICENSE_FILE_RAW_SCHEMA)
            payload = ["repo_type", "repo_id", "revision", "path", "status", "blob_sha", "content"]
            path, written = raw.append("hub_license_files", crawl_date, frame, payload=payload)
            crawl_state.record(raw, "hub_license_files", path if written else None, frame)
            batch.clear()

    def count(key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    for n, item in enumerate(plan, start=1):
        row = _capture(client, item, seen, max_bytes, count)
        count(row["status"])
        batch.append({"fetched_at": now, **row})
        if len(batch) >= BATCH:
            flush()
        if on_progress:
            on_progress(n, len(plan))
    flush()
    return counts


def _capture(
    client: HubClient, item: PlannedFile, seen: set[str], max_bytes: int, count: Callable[[str], None]
) -> dict:
    row = {
        "repo_type": item.repo_type,
        "repo_id": item.repo_id,
        "revision": item.revision,
        "path": item.path,
        "file_kind": item.file_kind,
        "status": "ok",
        "detail": None,
        "blob_sha": item.blob_id,
        "blob_source": "file_list" if item.blob_id else None,
        "size": None,
        "content": None,
    }
    if item.blob_id is None:
        head = client.file_blob(item.repo_id, item.revision, item.path, repo_type=item.repo_type)
        count("head")
        if head.status != "ok":
            return {**row, "status": head.status, "detail": head.detail}
        if head.detail:
            row.update(blob_sha=head.detail, blob_source="etag")
    if row["blob_sha"] is not None and row["blob_sha"] in seen:
        count("same_blob")
        return {**row, "detail": "same blob as captured before"}
    res = client.read_file(
        item.repo_id, item.revision, item.path, repo_type=item.repo_type, max_bytes=max_bytes
    )
    count("read")
    if res.status != "ok" or res.content is None:
        return {**row, "status": res.status, "detail": res.detail, "blob_sha": None, "blob_source": None}
    if len(res.content) > max_bytes:
        if row["blob_sha"] is not None:
            seen.add(row["blob_sha"])
        return {**row, "status": "too_large", "detail": f"more than {max_bytes} bytes: not kept"}
    blob = git_blob_sha1(res.content)
    if blob in seen:  # the ETag was not a git blob id, but the content is a blob already held
        return {**row, "blob_sha": blob, "blob_source": "content", "size": len(res.content)}
    seen.add(blob)
    source = row["blob_source"] if row["blob_sha"] == blob else "content"
    return {
        **row,
        "detail": f"{len(res.content)} bytes",
        "blob_sha": blob,
        "blob_source": source,
        "size": len(res.content),
        "content": res.content,
    }
