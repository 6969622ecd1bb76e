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
from pipelines.incremental import state
from pipelines.storage.warehouse import Warehouse, transaction

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


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, _, name = table.partition(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
    )


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("incoming_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM incoming_frame")  # noqa: S608
    finally:
        con.unregister("incoming_frame")


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
    identify: Callable[[bytes | None], dict] = identification_row,
) -> tuple[pl.DataFrame, int]:
    """core.license_files rows for the code source's captured licence files: the rows of `known` (blobs
    identified before) kept, each blob not in it identified now. Returns the rows and how many blobs were
    identified now."""
    done: dict[tuple, dict] = {}
    if known is not None:
        for row in known.filter(pl.col("host") == "github").iter_rows(named=True):
            done[tuple(row[k] for k in KEY)] = row
    by_blob: dict[str, dict] = {}  # one identification per blob, whatever its path
    for row in done.values():
        by_blob.setdefault(row["blob_sha"], row)
    identified = 0
    for f in files.sort("fetched_at").iter_rows(named=True):
        key = ("github", f["repo"], f["path"], f["blob_sha"])
        if key in done:
            continue
        if f["blob_sha"] in by_blob:
            found = {k: by_blob[f["blob_sha"]][k] for k in identification_columns()}
        else:
            found = identify(f["content"])
            identified += 1
        row = {
            "host": "github",
            "repo": f["repo"],
            "path": f["path"],
            "blob_sha": f["blob_sha"],
            "revision": f["commit_sha"],
            "file_kind": f["kind"] or licence_file_kind(f["path"]),
            **found,
            "observed_at": f["fetched_at"],
        }
        by_blob.setdefault(f["blob_sha"], row)
        done[key] = row
    rows = list(done.values())
    frame = (
        pl.DataFrame(rows, schema=LICENSE_FILES_SCHEMA) if rows else pl.DataFrame(schema=LICENSE_FILES_SCHEMA)
    )
    return frame.unique(KEY, keep="first").sort(KEY), identified


def identification_columns() -> list[str]:
    """The columns of core.license_files that come from the detector."""
    return ["license_id", "license_family", "score", "coverage", "scancode_keys", "matched_rules", "reason"]


def code_links(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(repo_id, url, linked_via) for every code URL named by a release's latest card (`card`) or by a
    paper it cites (`paper`), from the warehouse's tables."""
    schema = {"repo_id": pl.String, "url": pl.String, "linked_via": pl.String}
    if not _table_exists(con, "core.revisions"):
        return pl.DataFrame(schema=schema)
    revisions = con.sql("SELECT repo_id, committed_at, code_urls FROM core.revisions").pl()
    papers = pl.DataFrame(schema={"arxiv_id": pl.String, "code_urls": pl.List(pl.String)})
    release_papers = pl.DataFrame(schema={"repo_id": pl.String, "arxiv_id": pl.String})
    if _table_exists(con, "core.papers") and _table_exists(con, "core.release_papers"):
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
    """Every release's code evidence as the scoring reads it (pipelines/incremental/scoring.py), as a set of
    rows starting with the release's repo_id."""
    return set(
        con.execute(
            "SELECT rc.repo_id, rc.code_repo, rc.linked_via, rc.role, cr.license_id, cr.license_family, "  # noqa: S608
            "cr.github_license, cr.training_code, cr.preprocessing_code, cr.evaluation_code, cr.inference_code, "
            f"cr.evidence, cr.status FROM {release_code} rc LEFT JOIN {code_repos} cr ON cr.repo = rc.code_repo"
        ).fetchall()
    )


def update_code(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """Bring core.license_files, core.code_repos, core.code_license_history and core.release_code up to date
    with the code source's raw captures and the releases' links (full: identify every licence blob again)."""
    repos = code_raw.scan(wh.raw, "github_repo")
    trees = code_raw.scan(wh.raw, "github_tree")
    files = code_raw.scan(wh.raw, "github_file")
    commits = code_raw.scan(wh.raw, "github_file_commits")
    known = None
    if not full and _table_exists(con, "core.license_files"):
        known = con.sql("SELECT * FROM core.license_files").pl()
    licence_files, identified = license_file_rows(files, known)
    if known is not None:  # rows of other hosts are kept as they are
        others = known.filter(pl.col("host") != "github").cast(LICENSE_FILES_SCHEMA)
        licence_files = pl.concat([others, licence_files]).sort(KEY)
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
    before = _evidence_rows(con) if _table_exists(con, "core.release_code") else set()
    con.register("new_release_code", release_code)
    con.register("new_code_repos", code_repos)
    try:
        changed = sorted({r[0] for r in before ^ _evidence_rows(con, "new_release_code", "new_code_repos")})
    finally:
        con.unregister("new_release_code")
        con.unregister("new_code_repos")
    if changed:
        with transaction(con):
            con.executemany("INSERT INTO incr.pending VALUES ('scoring', ?)", [[r] for r in changed])
    with transaction(con):
        _replace(con, "core.license_files", licence_files)
        _replace(con, "core.code_repos", code_repos)
        _replace(con, "core.code_license_history", history)
        _replace(con, "core.release_code", release_code)
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
