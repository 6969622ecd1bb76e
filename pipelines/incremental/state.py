"""The incremental build's own state: a DuckDB file beside the warehouse, attached to the work connection.

It lives in `warehouse/state/incremental.duckdb` (attached as `incr`), not in `work.duckdb`, so that the
serving copy users open and the snapshots never carry it. DuckDB lets one transaction write to one
attached database only, so a step commits its state first, then the core tables, then marks its work
done; every core update is an idempotent delete-and-insert per repo, so a step killed between two
commits is finished by the next run (the pending tables below say what is left). A rebuild of the state
(the first build, a full one) is marked `rebuild = running` in `meta` until its tables are written: it
commits its index, then its parsed candidates batch by batch, then core.revisions batch by batch (its
place in the work file's `meta.incremental`, key `derive`), so a rebuild killed half-way is resumed by the
next run (`state_problem` says `UNFINISHED`), which parses only the keys no committed batch holds and
derives only the batches not committed.

Tables (schema `incr`):
- `meta(key, value)`: the code versions the state was built with, the id shared with `work.duckdb`, and
  `rebuild = running` while a rebuild is not finished.
- `files(source, path, crawl_date, rows)`: the ledger of raw files already read (raw files are immutable
  and content-addressed, so a file read once never changes).
- `captures`: one row per captured model info (listing item or history revision info): its key, its
  order among captures and where it is (`path`, `row_nr`); `readmes`: one row per README outcome.
- `candidates`: one row per (listed id, commit): the parsed revision (every `core.revisions` column), its
  collapse signature and its quarantine row, before the collapse rule and rename following.
- `listing_seen`, `presence`, `listing_days`: what `core.releases` and `observed_at` need from the raw layer.
- `pending_components(listed_id)`: ids whose revisions must be derived again; `pending(consumer, repo_id)`:
  repos whose scores (`scoring`) or paper links (`release_papers`) must be recomputed;
  `pending_refs(consumer, kind, ref_id)`: datasets and papers whose rows changed.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import duckdb
import polars as pl

from pipelines.storage.warehouse import Warehouse, transaction

ALIAS = "incr"
STATE_FILE = "incremental.duckdb"
ROOT = Path(__file__).resolve().parents[1]
# The code whose output the state holds: a change of any of these files rebuilds the state from the raw layer.
NORMALISER_CODE = [
    "hub/parse.py",
    "hub/cards.py",
    "hub/ids.py",
    "hub/schema.py",
    "code_links.py",
    "card_text.py",
    "arxiv_ids.py",  # the arXiv id grammar the card links and tags go through
    "incremental/normalise.py",
    "incremental/state.py",
]
# The code and data behind the scores: a change re-scores every revision (no crawl, no re-parse).
SCORING_CODE = [
    "openness/*.py",
    "openness/*.yml",
    "openness/*.csv",
    "history/dimensions.py",
    "history/transitions.py",
    "history/build.py",
    "incremental/scoring.py",
    "papers/parse.py",
]

DDL = """
CREATE TABLE IF NOT EXISTS incr.meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS incr.files (source VARCHAR, path VARCHAR, crawl_date VARCHAR, rows BIGINT);
CREATE TABLE IF NOT EXISTS incr.captures (ckey VARCHAR, repo_id VARCHAR, sha VARCHAR, crawl_date VARCHAR,
    rank INTEGER, page_index INTEGER, item_index INTEGER, path VARCHAR, row_nr BIGINT);
CREATE TABLE IF NOT EXISTS incr.readmes (ckey VARCHAR, repo_id VARCHAR, revision VARCHAR, status VARCHAR,
    path VARCHAR, row_nr BIGINT);
CREATE TABLE IF NOT EXISTS incr.listing_seen (repo_id VARCHAR, crawl_date DATE, created_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS incr.listing_days (crawl_date VARCHAR, applied BOOLEAN);
CREATE TABLE IF NOT EXISTS incr.presence (checked_at TIMESTAMPTZ, repo_id VARCHAR, present BOOLEAN, how VARCHAR,
    crawl_date VARCHAR);
CREATE TABLE IF NOT EXISTS incr.pending_components (listed_id VARCHAR);
CREATE TABLE IF NOT EXISTS incr.pending (consumer VARCHAR, repo_id VARCHAR);
CREATE TABLE IF NOT EXISTS incr.pending_refs (consumer VARCHAR, kind VARCHAR, ref_id VARCHAR);
"""
# The candidates table is created from its first frame (it has every core.revisions column).
STATE_TABLES = [
    "files",
    "captures",
    "readmes",
    "candidates",
    "listing_seen",
    "listing_days",
    "presence",
    "pending_components",
    "pending",
    "pending_refs",
]


def code_version(patterns: list[str]) -> str:
    """sha256 over the named source files (globs under pipelines/), in a stable order."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def pending_refs(consumer: str, kind: str, ref_ids: set[str] | list[str]) -> pl.DataFrame:
    """Rows of incr.pending_refs: the ids of one kind (dataset, paper, repo_id) that `consumer` must revisit."""
    return pl.DataFrame(
        {"consumer": consumer, "kind": kind, "ref_id": sorted(ref_ids)},
        schema={"consumer": pl.String, "kind": pl.String, "ref_id": pl.String},
    )


def state_path(wh: Warehouse) -> Path:
    """Where the state file of a warehouse lives."""
    return wh.state / STATE_FILE


def attach(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> None:
    """Attach the state file to a work connection (created on first use) and create its tables."""
    wh.state.mkdir(parents=True, exist_ok=True)
    attached = {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
    if ALIAS not in attached:
        path = str(state_path(wh)).replace("'", "''")
        con.execute(f"ATTACH '{path}' AS {ALIAS}")
    with transaction(con):
        con.execute(DDL)
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute("CREATE TABLE IF NOT EXISTS meta.incremental (key VARCHAR PRIMARY KEY, value VARCHAR)")


def get_meta(con: duckdb.DuckDBPyConnection, key: str, table: str = "incr.meta") -> str | None:
    """A value of the state's (or the work file's) meta table."""
    rows = con.execute(f"SELECT value FROM {table} WHERE key = ?", [key]).fetchall()  # noqa: S608 - fixed names
    return rows[0][0] if rows else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str, table: str = "incr.meta") -> None:
    """Set a value (inside the caller's transaction, if any)."""
    con.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", [key, value])  # noqa: S608 - fixed names


UNFINISHED = "a rebuild was interrupted: it resumes"


def state_problem(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the state cannot be used as it is (None when it can): empty, another code version, a rebuild
    not finished (`UNFINISHED`: resumed, not started over), or not the state of this work file (the work
    file was replaced or removed since)."""
    state_id = get_meta(con, "state_id")
    if state_id is None:
        return "no incremental state yet"
    if get_meta(con, "normaliser_version") != code_version(NORMALISER_CODE):
        return "the normalisation code changed"
    if get_meta(con, "rebuild") == "running":
        return UNFINISHED
    if get_meta(con, "state_id", "meta.incremental") != state_id:
        return "the state does not belong to this work database"
    return None


def reset(con: duckdb.DuckDBPyConnection) -> str:
    """Empty every state table and start a new state id, marked as a rebuild running; returns the id. The
    work file learns the id when its core tables are written (`claim`)."""
    with transaction(con):
        for name in STATE_TABLES:
            con.execute(f"DROP TABLE IF EXISTS incr.{name}")
        con.execute("DELETE FROM incr.meta")
    with transaction(con):
        con.execute(DDL)
        state_id = uuid.uuid4().hex
        set_meta(con, "state_id", state_id)
        set_meta(con, "normaliser_version", code_version(NORMALISER_CODE))
        set_meta(con, "rebuild", "running")
    return state_id


def claim(con: duckdb.DuckDBPyConnection) -> None:
    """Record in the work file (inside the caller's transaction) that its tables follow this state."""
    set_meta(con, "state_id", get_meta(con, "state_id") or "", "meta.incremental")
