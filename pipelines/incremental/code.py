"""Code repositories and licence files in the warehouse, from the code source's raw captures.

Writes core.license_files (one row per licence or use-policy file blob), core.code_repos (one row per
code repository, its latest state), core.code_license_history (one row per commit that changed a
repository's licence files) and core.release_code (which code repositories each release's card or cited
papers name, and their role).

Identifying a licence text with ScanCode is the only costly part (its index loads in ~7 s), so it is done
once per blob: core.license_files is the record of every blob identified, and the incremental mode
identifies only blobs it does not hold yet; the full mode identifies every blob again. The other three
tables are small (one row per repository or licence commit) and are recomputed from the raw captures in
both modes, which is what makes the two modes equal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from pipelines.code import raw as code_raw
from pipelines.code.parse import code_repo_rows, licence_history_rows
from pipelines.code.release_code import code_links as link_rows
from pipelines.code.release_code import release_code_rows, repos_to_crawl
from pipelines.code.tree import licence_file_kind
from pipelines.hub.raw import LICENSE_FILE_RAW_SCHEMA
from pipelines.incremental import state
from pipelines.incremental.normalise import _insert
from pipelines.incremental.scoring import (
    CODE_EVIDENCE_SELECT,
    _new_ledger_files,
    _write,
)
from pipelines.storage.warehouse import Warehouse, table_exists, transaction

LICENSE_FILES_SCHEMA: dict[str, pl.DataType] = {
    "host": pl.String,  # github (a code repository) | hub (a model or dataset repository)
    "repo": pl.String,
    "path": pl.String,
    "blob_sha": pl.String,
    "revision": pl.String,
    "file_kind": pl.String,
    "license_id": pl.String,
    "license_family": pl.String,
    "score": pl.Float64,
    "coverage": pl.Float64,
    "scancode_keys": pl.String,
    "matched_rules": pl.String,
    "reason": pl.String,
    "observed_at": pl.Datetime("us", "UTC"),
}
KEY = ["host", "repo", "path", "blob_sha"]


def identification_row(text: bytes | None) -> dict[str, Any]:
    """The detector's answer for one licence file's bytes, as the identification columns of
    core.license_files (`unknown`, with the reason, for a file too large to have been captured)."""
    if text is None:
        return {
            "license_id": "unknown",
            "license_family": "unknown",
            "score": 0.0,
            "coverage": 0.0,
            "scancode_keys": None,
            "matched_rules": None,
            "reason": "content not captured (too large)",
        }
    from pipelines.openness.license_files import identify_licence

    found = identify_licence(text.decode("utf-8", "replace"))
    return {
        "license_id": found.license_id,
        "license_family": found.license_family,
        "score": float(found.score),
        "coverage": float(found.text_coverage),
        "scancode_keys": ",".join(found.scancode_keys) or None,
        "matched_rules": ",".join(found.rules) or None,
        "reason": found.reason,
    }


def license_file_rows(
    files: pl.DataFrame,
    known: pl.DataFrame | None,
    *,
    hub_files: pl.DataFrame | None = None,
    identify: Callable[[bytes | None], dict] = identification_row,
) -> tuple[pl.DataFrame, int]:
    """core.license_files rows for the captured licence files: the code source's (`files`, host `github`)
    and, when `hub_files` (raw hub_license_files) is given, the Hub's (host `hub`). The rows of `known`
    (blobs identified before) are kept and each blob not in it is identified now, once whatever its host,
    repo or path. Returns the rows and how many blobs were identified now."""
    hosts = ("github", "hub") if hub_files is not None else ("github",)
    done: dict[tuple, dict] = {}
    by_blob: dict[str, dict] = {}  # one identification per blob, whatever its host or path
    if known is not None:
        for row in known.iter_rows(named=True):
            if row["host"] in hosts:
                done[tuple(row[k] for k in KEY)] = row
            if row["reason"] != "content not captured (too large)":
                by_blob.setdefault(row["blob_sha"], row)
    contents: dict[str, bytes] = {}
    for f in files.iter_rows(named=True):
        if f["content"] is not None:
            contents.setdefault(f["blob_sha"], f["content"])
    hub_first = _hub_first_rows(hub_files) if hub_files is not None else []
    for f in hub_first:
        if f["content"] is not None:
            contents.setdefault(f["blob_sha"], f["content"])
    candidates = [
        {
            "host": "github",
            "repo": f["repo"],
            "path": f["path"],
            "blob_sha": f["blob_sha"],
            "revision": f["commit_sha"],
            "file_kind": f["kind"] or licence_file_kind(f["path"]),
            "observed_at": f["fetched_at"],
        }
        for f in files.sort("fetched_at").iter_rows(named=True)
    ] + [
        {
            "host": "hub",
            "repo": hub_repo(f["repo_type"], f["repo_id"]),
            "path": f["path"],
            "blob_sha": f["blob_sha"],
            "revision": f["revision"],
            "file_kind": f["file_kind"] or licence_file_kind(f["path"]),
            "observed_at": f["fetched_at"],
        }
        for f in hub_first
    ]
    identified = 0
    for c in candidates:
        key = tuple(c[k] for k in KEY)
        if key in done:
            continue
        if c["blob_sha"] in by_blob:
            found = {k: by_blob[c["blob_sha"]][k] for k in identification_columns()}
        else:
            found = identify(contents.get(c["blob_sha"]))
            identified += 1
        row = {**c, **found}
        if c["blob_sha"] in contents:
            by_blob.setdefault(c["blob_sha"], row)
        done[key] = row
    rows = list(done.values())
    frame = (
        pl.DataFrame(rows, schema=LICENSE_FILES_SCHEMA) if rows else pl.DataFrame(schema=LICENSE_FILES_SCHEMA)
    )
    return frame.unique(KEY, keep="first").sort(KEY), identified


def _hub_first_rows(hub_files: pl.DataFrame) -> list[dict]:
    """The first capture of each (repo, path, blob) of the Hub's licence files (earliest fetch, then
    revision), with the blob's bytes from whichever row holds them."""
    read = hub_files.filter(
        pl.col("status").is_in(["ok", "too_large"]) & pl.col("blob_sha").is_not_null()
    ).with_columns(pl.col("repo_type").fill_null("model"))
    if read.is_empty():
        return []
    content = (
        read.filter(pl.col("content").is_not_null())
        .group_by("blob_sha")
        .agg(pl.col("content").first().alias("blob_content"))
    )
    first = (
        read.sort("fetched_at", "revision")
        .unique(["repo_type", "repo_id", "path", "blob_sha"], keep="first", maintain_order=True)
        .join(content, on="blob_sha", how="left")
        .with_columns(pl.col("blob_content").alias("content"))
        .drop("blob_content")
    )
    return list(first.iter_rows(named=True))


def hub_repo(repo_type: str | None, repo_id: str) -> str:
    """The `repo` of a Hub repository in core.license_files: the model id, or `datasets/<id>` for a dataset
    (as in the Hub's URLs), so that a model and a dataset of the same name never share a row."""
    return f"datasets/{repo_id}" if repo_type == "dataset" else repo_id


REVISION_LICENCE_SCHEMA: dict[str, pl.DataType] = {
    "repo_type": pl.String,
    "repo_id": pl.String,
    "revision": pl.String,
    "path": pl.String,
    "file_kind": pl.String,
    "status": pl.String,
    "blob_sha": pl.String,
    "license_id": pl.String,
    "license_family": pl.String,
    "score": pl.Float64,
    "coverage": pl.Float64,
    "matched_rule": pl.String,
}


def revision_licence_files(
    raw_rows: pl.DataFrame, license_files: pl.DataFrame, *, repo_type: str | None = "model"
) -> pl.DataFrame:
    """Per Hub (repo_type, repo_id, revision), its licence and policy files with their identification.

    `raw_rows` are raw hub_license_files captures, `license_files` is core.license_files; `repo_type` keeps
    the model repos' revisions (the default, what the scoring takes) or the datasets' (None: both). One row per
    (repo_type, repo_id, revision, path): its latest final outcome (`status`; a failed attempt only when nothing better
    was captured) and, for a file read (`ok`), what its blob was identified as: license_id,
    license_family, score, coverage and matched_rule (ScanCode rule ids, comma-separated). A file that
    could not be read (gated, missing, too large) has null identification. A revision whose file list is
    unknown has no rows, and so has one whose file list names no licence file: core.revisions' `files`
    tells the two apart.
    """
    raw_rows = raw_rows.with_columns(pl.col("repo_type").fill_null("model"))
    if repo_type is not None:
        raw_rows = raw_rows.filter(pl.col("repo_type") == repo_type)
    if raw_rows.is_empty():
        return pl.DataFrame(schema=REVISION_LICENCE_SCHEMA)
    final = pl.col("status") != "error"
    latest = (
        raw_rows.sort([final, pl.col("fetched_at")], nulls_last=False)
        .unique(["repo_type", "repo_id", "revision", "path"], keep="last")
        .select("repo_type", "repo_id", "revision", "path", "file_kind", "status", "blob_sha")
    )
    ident = (
        license_files.filter(pl.col("blob_sha").is_not_null())
        .sort(pl.col("host") != "hub", "repo", "path")  # a Hub row first, then any host: same blob, same text
        .unique("blob_sha", keep="first", maintain_order=True)
        .select(
            "blob_sha",
            "license_id",
            "license_family",
            "score",
            "coverage",
            pl.col("matched_rules").alias("matched_rule"),
        )
    )
    out = latest.join(ident, on="blob_sha", how="left").with_columns(
        [
            pl.when(pl.col("status") == "ok").then(pl.col(c)).otherwise(None).alias(c)
            for c in ("license_id", "license_family", "score", "coverage", "matched_rule")
        ]
    )
    return (
        out.select(list(REVISION_LICENCE_SCHEMA))
        .cast(REVISION_LICENCE_SCHEMA)
        .sort("repo_type", "repo_id", "revision", "path")
    )


def identification_columns() -> list[str]:
    """The columns of core.license_files that come from the detector."""
    return ["license_id", "license_family", "score", "coverage", "scancode_keys", "matched_rules", "reason"]


def code_links(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(repo_id, url, linked_via) for every code URL named by a release's latest card (`card`) or by a
    paper it cites (`paper`), from the warehouse's tables."""
    schema = {"repo_id": pl.String, "url": pl.String, "linked_via": pl.String}
    if not table_exists(con, "core.revisions"):
        return pl.DataFrame(schema=schema)
    revisions = con.sql("SELECT repo_id, committed_at, code_urls FROM core.revisions").pl()
    papers = pl.DataFrame(schema={"arxiv_id": pl.String, "code_urls": pl.List(pl.String)})
    release_papers = pl.DataFrame(schema={"repo_id": pl.String, "arxiv_id": pl.String})
    if table_exists(con, "core.papers") and table_exists(con, "core.release_papers"):
        papers = con.sql("SELECT arxiv_id, code_urls FROM core.papers").pl()
        release_papers = con.sql("SELECT repo_id, arxiv_id FROM core.release_papers").pl()
    return link_rows(revisions, papers, release_papers)


def code_repos_to_crawl(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The GitHub repositories (`owner/name`) that releases' cards and cited papers name."""
    return repos_to_crawl(code_links(con))


def _evidence_rows(
    con: duckdb.DuckDBPyConnection,
    release_code: str = "core.release_code",
    code_repos: str = "core.code_repos",
) -> set[tuple]:
    """Every release's code evidence as the scoring reads it (`code_evidence` in
    pipelines/incremental/scoring.py, the same SELECT), as a set of rows starting with the release's repo_id."""
    sql = CODE_EVIDENCE_SELECT.format(release_code=release_code, code_repos=code_repos)
    return set(con.execute(sql).fetchall())


def update_code(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """Bring core.license_files, core.code_repos, core.code_license_history and core.release_code up to date
    with the code source's raw captures and the releases' links (full: identify every licence blob again)."""
    repos = code_raw.scan(wh.raw, "github_repo")
    trees = code_raw.scan(wh.raw, "github_tree")
    files = code_raw.scan(wh.raw, "github_file")
    commits = code_raw.scan(wh.raw, "github_file_commits")
    hub_files = wh.raw.scan("hub_license_files", LICENSE_FILE_RAW_SCHEMA).collect()
    known = None
    if not full and table_exists(con, "core.license_files"):
        known = con.sql("SELECT * FROM core.license_files").pl()
    licence_files, identified = license_file_rows(files, known, hub_files=hub_files)
    by_text = _identified_texts(files, licence_files)

    def identify(text: str) -> str | None:
        found = by_text.get(text)
        return None if not found or found == "unknown" else found

    code_repos = code_repo_rows(repos, trees, files, identify=identify)
    history = licence_history_rows(commits, files, identify=identify)
    release_code = release_code_rows(code_links(con))
    state.attach(wh, con)
    # The releases whose code evidence changed are rescored by the scores step: marked pending first (in
    # the state database: one transaction writes one database), so a run killed before the tables are
    # written rescores them anyway, which is harmless.
    before = _evidence_rows(con) if table_exists(con, "core.release_code") else set()
    con.register("new_release_code", release_code)
    con.register("new_code_repos", code_repos)
    try:
        changed = sorted({r[0] for r in before ^ _evidence_rows(con, "new_release_code", "new_code_repos")})
    finally:
        con.unregister("new_release_code")
        con.unregister("new_code_repos")
    # So are the models with new licence-file captures (raw files the state has not seen; a blob is
    # identified once, so an identification never changes afterwards).
    fresh = _new_ledger_files(wh, con, ("hub_license_files",))
    if fresh.height:
        new_rows = wh.raw.scan("hub_license_files", LICENSE_FILE_RAW_SCHEMA, with_file=True).collect()
        paths = {str(wh.raw.path(p)) for p in fresh["path"]}
        touched = new_rows.filter(
            pl.col("raw_file").is_in(sorted(paths)) & (pl.col("repo_type").fill_null("model") == "model")
        )
        changed = sorted(set(changed) | set(touched["repo_id"].to_list()))
    if changed:
        with transaction(con):
            con.executemany("INSERT INTO incr.pending VALUES ('scoring', ?)", [[r] for r in changed])
    with transaction(con):
        _write(con, "core.license_files", licence_files, None)
        _write(con, "core.code_repos", code_repos, None)
        _write(con, "core.code_license_history", history, None)
        _write(con, "core.release_code", release_code, None)
    if fresh.height:
        with transaction(con):
            _insert(con, "incr.files", fresh)
    return {
        "mode": "full" if full else "incremental",
        "licence_blobs_identified": identified,
        "license_files": licence_files.height,
        "code_repos": code_repos.height,
        "code_license_history": history.height,
        "release_code": release_code.height,
        "releases_with_changed_code_evidence": len(changed),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _identified_texts(files: pl.DataFrame, licence_files: pl.DataFrame) -> dict[str, str]:
    """Licence text (as the parser decodes it) -> the catalogue id identified for its blob."""
    by_blob = {
        r["blob_sha"]: r["license_id"]
        for r in licence_files.filter(pl.col("host") == "github").iter_rows(named=True)
    }
    out: dict[str, str] = {}
    for f in files.iter_rows(named=True):
        if f["content"] is not None and f["blob_sha"] in by_blob:
            out[f["content"].decode("utf-8", "replace")] = by_blob[f["blob_sha"]]
    return out
