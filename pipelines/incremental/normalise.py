"""core.revisions and core.quarantine, kept up to date from the raw files not read yet.

The rule: one parsed row per (listed id, commit) from its earliest capture (a listing before a history
backfill, then crawl date, page and item order) and its README outcome; rows re-keyed to the repo's
newest id through the stable `_id`; a commit that changed neither card, files, licence tags nor gate gets
no row; `observed_at` is the first crawl date on or after the commit's day. Here the parsed rows
("candidates") are kept in the state, so a day's files cost what they hold:

1. New raw files (not in the ledger) are indexed: every capture's key and order, every README outcome.
2. For the keys they touch, the winning capture and README outcome are chosen again (the same order as
   rule above); a key whose choice changed is parsed again (`parse_capture`, the one parser of
   captures), reading only the raw rows it needs.
3. The listed ids of the re-parsed keys, closed over shared `_id`s (renames), are the touched
   components: their rows in core.revisions are derived again from all their candidates with the
   rule's functions (`follow_renames`, the collapse rule, `first_crawl_after_commit`) and
   replaced; so are their quarantine rows. A new crawl date can move the `observed_at` of revisions of
   other repos (those committed between the previous crawl date and it): those rows are updated too.
4. A quarantine row is kept per data defect of a candidate (a mistyped arXiv id, a mapping as licence,
   a `..` dataset, a self base model: the revision is stored, the defect flagged); the repos whose newest
   revisions name each other as base models (a cycle) are flagged from the whole table after every run.

An empty state, a change of the normalisation code, or the full mode rebuilds the state from the whole
raw layer (the same code with every file new), in bounded memory.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path, PurePath
from typing import Any

import duckdb
import polars as pl

from pipelines.hub.ids import is_commit_sha, is_valid_repo_id
from pipelines.hub.parse import (
    QUARANTINE_SCHEMA,
    _signature,
    first_crawl_after_commit,
    follow_renames,
    revision_row_and_flags,
)
from pipelines.hub.raw import LISTING_RAW_SCHEMA, PRESENCE_RAW_SCHEMA, README_RAW_SCHEMA, REVISION_RAW_SCHEMA
from pipelines.hub.schema import REVISIONS_SCHEMA
from pipelines.incremental import state
from pipelines.incremental.reconstructions import update_reconstructions
from pipelines.quality.suites import EARLIEST as EARLIEST_COMMIT
from pipelines.storage.raw import RawStore
from pipelines.storage.warehouse import Warehouse, sql_text, transaction

SOURCES = {"hub_listing": 0, "hub_revision": 1, "hub_readme": None, "hub_presence": None}
PARSE_WORKERS = max(1, min(2, os.cpu_count() or 1))
PARALLEL_FROM = 4000  # keys to parse before worker processes pay off
PARSE_SLICE = 50_000  # keys whose Python objects (texts, pickles, parsed dicts) exist at once while parsing
CONTENT_BUDGET = 2_000_000_000  # bytes of items + READMEs held at once when parsing many keys
DERIVE_BATCH = 400_000  # candidates per derive batch in a rebuild
# Keys parsed and committed together in a rebuild (a batch): what a kill can lose, and the unit of its progress
# lines. About a minute of parsing on 2 cores; a rebuild of 1,000,000 models has ~4 million keys.
BUILD_BATCH = 100_000
# Raw files a rebuild indexes and commits at a time (with their ledger rows): the index of the whole Hub
# (~15M captures and ~12M README outcomes at 3M models) is never held in memory at once, and a rebuild killed
# while indexing resumes with the files no committed part holds.
INDEX_PART_FILES = 2_000
# A candidate holds its quarantine rows column-wise: one list per core.quarantine column (empty: none).
Q_COLS = {f"q_{k}": pl.List(v) for k, v in QUARANTINE_SCHEMA.items()}
# The candidates' quarantine rows, one per list element, in core.quarantine's column order.
Q_ROWS = (
    "SELECT * FROM (SELECT "  # noqa: S608 - column names from the schema
    + ", ".join(f"unnest({q}) AS {q[2:]}" for q in Q_COLS)
    + " FROM incr.candidates WHERE len(q_reason) > 0)"
)
# The sources of the quarantine rows the candidates carry (the base-model cycles, source
# `hub_base_models`, are rewritten apart from the whole table: flag_circular_base_models).
Q_SOURCES = "source IN ('hub_listing', 'hub_readme', 'hub_card')"
UTC_TS = pl.Datetime("us", "UTC")


def _ckey(repo: pl.Expr, sha: pl.Expr) -> pl.Expr:
    """One text key per (listed id, commit) that also tells nulls apart (captures() keys on both)."""
    return pl.concat_str([repo.fill_null("\x00"), pl.lit("\x1f"), sha.fill_null("\x00")])


def _rel(wh: Warehouse, path: PurePath) -> str:
    return wh.raw.relative(path)


def listing_presence(listing: pl.DataFrame) -> pl.DataFrame:
    """(repo_id, crawl_date, created_at) for every listing capture: when each repo was seen."""
    return listing.select(
        "repo_id",
        pl.col("crawl_date").str.to_date(),
        pl.col("item")
        .str.json_path_match("$.createdAt")
        .str.to_datetime(time_zone="UTC", strict=False)
        .alias("created_at"),
    )


# ---- 1. the ledger and the index ------------------------------------------------------------------
def new_files(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, list[PurePath]]:
    """Per source, the committed raw files not in the ledger (sorted like RawStore.files)."""
    out = {}
    for source in SOURCES:
        known = {
            r[0] for r in con.execute("SELECT path FROM incr.files WHERE source = ?", [source]).fetchall()
        }
        out[source] = [p for p in wh.raw.files(source) if _rel(wh, p) not in known]
    return out


def _read(raw: RawStore, path: PurePath, columns: list[str], schema: dict) -> pl.DataFrame:
    present = raw.columns(path)
    frame = raw.read(path, columns=[c for c in columns if c in present])
    return frame.with_columns(
        pl.lit(None, dtype=schema[c]).alias(c) for c in columns if c not in frame.columns
    )


def index_files(wh: Warehouse, files: dict[str, list[PurePath]]) -> dict[str, pl.DataFrame]:
    """The index rows of new files: captures, README outcomes, listing sightings, presence checks, ledger."""
    caps, readmes, seen, presence, ledger = [], [], [], [], []
    for source, paths in files.items():
        for path in paths:
            day, rel = path.parent.name.split("=", 1)[1], _rel(wh, path)
            if source == "hub_listing":
                f = _read(
                    wh.raw, path, ["repo_id", "sha", "page_index", "item_index", "item"], LISTING_RAW_SCHEMA
                )
                f = f.with_columns(pl.lit(day).alias("crawl_date"))
                seen.append(listing_presence(f))
                caps.append(
                    f.select(
                        "repo_id",
                        "sha",
                        "crawl_date",
                        pl.lit(0, pl.Int32).alias("rank"),
                        "page_index",
                        "item_index",
                        pl.lit(rel).alias("path"),
                        pl.int_range(pl.len(), dtype=pl.Int64).alias("row_nr"),
                    )
                )
            elif source == "hub_revision":
                f = _read(wh.raw, path, ["repo_id", "revision", "status"], REVISION_RAW_SCHEMA)
                f = f.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("row_nr")).filter(
                    pl.col("status") == "ok"
                )
                caps.append(
                    f.select(
                        "repo_id",
                        pl.col("revision").alias("sha"),
                        pl.lit(day).alias("crawl_date"),
                        pl.lit(1, pl.Int32).alias("rank"),
                        pl.lit(0, pl.Int32).alias("page_index"),
                        pl.lit(0, pl.Int32).alias("item_index"),
                        pl.lit(rel).alias("path"),
                        "row_nr",
                    )
                )
            elif source == "hub_readme":
                f = _read(wh.raw, path, ["repo_id", "revision", "status"], README_RAW_SCHEMA)
                readmes.append(
                    f.select(
                        "repo_id",
                        "revision",
                        "status",
                        pl.lit(rel).alias("path"),
                        pl.int_range(pl.len(), dtype=pl.Int64).alias("row_nr"),
                    )
                )
            else:
                f = _read(wh.raw, path, list(PRESENCE_RAW_SCHEMA), PRESENCE_RAW_SCHEMA)
                presence.append(f.with_columns(pl.lit(day).alias("crawl_date")))
            ledger.append((source, rel, day, f.height))
    caps_schema = {
        "repo_id": pl.String,
        "sha": pl.String,
        "crawl_date": pl.String,
        "rank": pl.Int32,
        "page_index": pl.Int32,
        "item_index": pl.Int32,
        "path": pl.String,
        "row_nr": pl.Int64,
    }
    rd_schema = {
        "repo_id": pl.String,
        "revision": pl.String,
        "status": pl.String,
        "path": pl.String,
        "row_nr": pl.Int64,
    }

    def cat(parts: list[pl.DataFrame], schema: dict) -> pl.DataFrame:
        return pl.concat([p.cast(schema) for p in parts]) if parts else pl.DataFrame(schema=schema)

    captures = cat(caps, caps_schema)
    captures = captures.select(_ckey(pl.col("repo_id"), pl.col("sha")).alias("ckey"), *caps_schema)
    readme_rows = cat(readmes, rd_schema)
    readme_rows = readme_rows.select(_ckey(pl.col("repo_id"), pl.col("revision")).alias("ckey"), *rd_schema)
    return {
        "captures": captures,
        "readmes": readme_rows,
        "listing_seen": cat(seen, {"repo_id": pl.String, "crawl_date": pl.Date, "created_at": UTC_TS}),
        "presence": cat(presence, {**PRESENCE_RAW_SCHEMA, "crawl_date": pl.String}),
        "files": pl.DataFrame(
            ledger,
            schema={"source": pl.String, "path": pl.String, "crawl_date": pl.String, "rows": pl.Int64},
            orient="row",
        ),
    }


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.height:
        con.register("incoming_frame", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_frame")  # noqa: S608 - fixed names
        finally:
            con.unregister("incoming_frame")


def _store_index(con: duckdb.DuckDBPyConnection, index: dict[str, pl.DataFrame]) -> None:
    """Insert index rows (`index_files`) into the state, with the listing days they add (no transaction of
    its own)."""
    for name in ("captures", "readmes", "listing_seen", "presence", "files"):
        _insert(con, f"incr.{name}", index[name])
    days = index["captures"].filter(pl.col("rank") == 0).select(pl.col("crawl_date").unique())
    con.register("new_days", days)
    con.execute(
        "INSERT INTO incr.listing_days SELECT crawl_date, false FROM new_days "
        "WHERE crawl_date NOT IN (SELECT crawl_date FROM incr.listing_days)"
    )
    con.unregister("new_days")


def _file_parts(files: dict[str, list[PurePath]], size: int) -> list[dict[str, list[PurePath]]]:
    """`files` (per source) cut into parts of at most `size` files, in their order."""
    flat = [(source, path) for source, paths in files.items() for path in paths]
    parts = []
    for start in range(0, len(flat), size):
        part: dict[str, list[PurePath]] = {}
        for source, path in flat[start : start + size]:
            part.setdefault(source, []).append(path)
        parts.append(part)
    return parts


# ---- 2. choosing and parsing -----------------------------------------------------------------------
def _needs(con: duckdb.DuckDBPyConnection, keys_table: str) -> pl.DataFrame:
    """For the keys in `keys_table`: the winning capture and README outcome, where they differ from the
    candidate stored (or there is none). The order is the rule's (module docstring):
    earliest crawl date, listing before history, page and item; the last non-error README outcome in the
    raw layer's file order (else the last error)."""
    has_candidates = _has_candidates(con)
    stored = (
        "LEFT JOIN incr.candidates c ON c.ckey = w.ckey"
        if has_candidates
        else "LEFT JOIN (SELECT NULL::VARCHAR AS ckey, NULL::VARCHAR AS item_path, NULL::BIGINT AS item_row, "
        "NULL::VARCHAR AS rd_path, NULL::BIGINT AS rd_row) c ON FALSE"
    )
    query = f"""
        WITH w AS (
            SELECT c.* FROM incr.captures c SEMI JOIN {keys_table} k ON c.ckey = k.ckey
            QUALIFY row_number() OVER (PARTITION BY c.ckey ORDER BY c.crawl_date, c.rank, c.page_index,
                                       c.item_index, c.path, c.row_nr) = 1
        ), r AS (
            SELECT r.* FROM incr.readmes r SEMI JOIN {keys_table} k ON r.ckey = k.ckey
            QUALIFY row_number() OVER (PARTITION BY r.ckey ORDER BY (r.status <> 'error') DESC, r.path DESC,
                                       r.row_nr DESC) = 1
        )
        SELECT w.ckey, w.repo_id, w.sha, w.crawl_date, w.rank, w.page_index, w.item_index,
               w.path AS item_path, w.row_nr AS item_row, r.status AS rd_status, r.path AS rd_path,
               r.row_nr AS rd_row
        FROM w LEFT JOIN r USING (ckey) {stored}
        WHERE c.ckey IS NULL OR c.item_path IS DISTINCT FROM w.path OR c.item_row IS DISTINCT FROM w.row_nr
              OR c.rd_path IS DISTINCT FROM r.path OR c.rd_row IS DISTINCT FROM r.row_nr
    """  # noqa: S608 - table names are fixed in this module
    return con.sql(query).pl()


def _candidate_count(con: duckdb.DuckDBPyConnection) -> int:
    if not _has_candidates(con):
        return 0
    return con.execute("SELECT count(*) FROM incr.candidates").fetchall()[0][0]


def _has_candidates(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'incr' AND table_name = 'candidates'"
        ).fetchall()[0][0]
    )


def _gather_items(raw: RawStore, needs: pl.DataFrame, keep: tuple[str, ...] = ("ckey",)) -> pl.DataFrame:
    """(ckey, item): the info text of each key's winning capture, each raw file read once."""
    parts = []
    for (path, rank), group in needs.group_by("item_path", "rank"):
        column = "item" if rank == 0 else "info"
        text = raw.read(raw.path(path), columns=[column]).get_column(column)
        parts.append(group.select(*keep, pl.Series("item", text.gather(group.get_column("item_row")))))
    return (
        pl.concat(parts)
        if parts
        else needs.select(*keep).clear().with_columns(pl.lit(None, pl.String).alias("item"))
    )


def _gather_readmes(raw: RawStore, needs: pl.DataFrame, keep: tuple[str, ...] = ("ckey",)) -> pl.DataFrame:
    """(ckey, content, sha256) of each key's chosen README outcome, each raw file read once."""
    parts = []
    for (path,), group in needs.filter(pl.col("rd_path").is_not_null()).group_by("rd_path"):
        f = raw.read(raw.path(path), columns=["content", "sha256"])
        rows = group.get_column("rd_row")
        parts.append(
            group.select(
                *keep,
                pl.Series("content", f.get_column("content").gather(rows)),
                pl.Series("sha256", f.get_column("sha256").gather(rows)),
            )
        )
    if parts:
        return pl.concat(parts)
    return (
        needs.select(*keep)
        .clear()
        .with_columns(pl.lit(None, pl.Binary).alias("content"), pl.lit(None, pl.String).alias("sha256"))
    )


def content_parts(needs: pl.DataFrame, max_keys: int | None = None) -> int:
    """How many parts `_contents` yields for `needs`: enough to fit CONTENT_BUDGET, and to hold at most
    `max_keys` keys each (about that many: keys are spread over parts by a hash)."""
    if needs.height == 0:
        return 0
    estimate = needs.height * 1500 + needs.filter(pl.col("rd_path").is_not_null()).height * 4000
    by_keys = math.ceil(needs.height / max_keys) if max_keys else 1
    return max(1, math.ceil(estimate / CONTENT_BUDGET), by_keys)


def _contents(
    raw: RawStore, needs: pl.DataFrame, tmp: Path | None = None, max_keys: int | None = None
) -> Iterator[pl.DataFrame]:
    """`needs` with their raw texts (item, content, sha256), in `content_parts` parts (CONTENT_BUDGET, and
    `max_keys` keys at most). One part: each raw file read once. Several (a rebuild): the needed rows are
    first spread over shards by key (so that every raw file is still read once), then each shard is put
    together and yielded."""
    shards = content_parts(needs, max_keys)
    if shards == 0:
        return
    if shards == 1:
        yield needs.join(_gather_items(raw, needs), on="ckey", how="left").join(
            _gather_readmes(raw, needs), on="ckey", how="left"
        )
        return
    (tmp or Path(tempfile.gettempdir())).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=CONTENTS_PREFIX, dir=tmp))
    try:
        needs = needs.with_columns((pl.col("ckey").hash(seed=7) % shards).alias("_shard"))
        for what, col, gather in (
            ("items", "item_path", _gather_items),
            ("readmes", "rd_path", _gather_readmes),
        ):
            subset = needs.filter(pl.col(col).is_not_null())
            paths = subset.get_column(col).unique().sort().to_list()
            for g in range(0, len(paths), 400):
                part = gather(raw, subset.filter(pl.col(col).is_in(paths[g : g + 400])), ("ckey", "_shard"))
                for (shard,), frame in part.group_by("_shard"):
                    folder = work / what / str(shard)
                    folder.mkdir(parents=True, exist_ok=True)
                    frame.drop("_shard").write_parquet(folder / f"{g}.parquet")
        for shard in range(shards):
            part = needs.filter(pl.col("_shard") == shard).drop("_shard")
            for what, empty in (
                ("items", {"item": pl.String}),
                ("readmes", {"content": pl.Binary, "sha256": pl.String}),
            ):
                folder = work / what / str(shard)
                found = (
                    pl.read_parquet(folder / "*.parquet")
                    if folder.exists()
                    else pl.DataFrame(schema={"ckey": pl.String, **empty})
                )
                part = part.join(found, on="ckey", how="left")
            yield part
    finally:
        shutil.rmtree(work, ignore_errors=True)


CONTENTS_PREFIX = "incr-contents-"


def _remove_stale_contents(tmp: Path) -> None:
    """Remove the shard folders of a rebuild killed before it could remove them itself (one build of a
    warehouse runs at a time: DuckDB locks its work file)."""
    for folder in tmp.glob(CONTENTS_PREFIX + "*"):
        shutil.rmtree(folder, ignore_errors=True)


def parse_capture(
    repo_id: Any,
    sha: Any,
    crawl_date: str,
    item_text: Any,
    source: str,
    readme: tuple[str, bytes | None, str | None] | None,
) -> tuple[dict | None, str | None, list[dict]]:
    """One capture parsed: (revision row or None, collapse signature, its quarantine rows)."""
    ref = f"hub_{'listing' if source == 'listing' else 'revision'}/crawl_date={crawl_date}"
    if not is_valid_repo_id(repo_id) or not is_commit_sha(sha):
        return (
            None,
            None,
            [
                {
                    "source": "hub_listing",
                    "reference": ref,
                    "repo_id": str(repo_id)[:200],
                    "reason": "invalid_identifier",
                    "detail": f"id={str(repo_id)[:100]!r} sha={sha!r}",
                    "crawl_date": crawl_date,
                }
            ],
        )
    try:
        info = json.loads(item_text)
    except (ValueError, TypeError) as exc:
        return (
            None,
            None,
            [
                {
                    "source": "hub_listing",
                    "reference": ref,
                    "repo_id": repo_id,
                    "reason": "malformed_item",
                    "detail": str(exc)[:300],
                    "crawl_date": crawl_date,
                }
            ],
        )
    status, content, digest = readme or ("not_fetched", None, None)
    observed = datetime.fromisoformat(crawl_date).replace(tzinfo=UTC)
    row, flags = revision_row_and_flags(info, status, content if status == "ok" else None, observed, source)
    if status != "ok":
        row["readme_status"] = status
    row["card_sha256"] = digest
    if row["committed_at"] is None or row["committed_at"] < EARLIEST_COMMIT:
        # A revision without a plausible date cannot be placed in history (the Hub hosts no commit older
        # than EARLIEST_COMMIT): held, so that one such item does not fail the revisions suite for all.
        absent = row["committed_at"] is None
        return (
            None,
            None,
            [
                {
                    "source": "hub_listing",
                    "reference": ref,
                    "repo_id": repo_id,
                    "reason": "missing_field" if absent else "implausible_date",
                    "detail": "lastModified absent or not a date"
                    if absent
                    else f"lastModified {row['committed_at'].isoformat()} is before {EARLIEST_COMMIT:%Y-%m-%d}",
                    "crawl_date": crawl_date,
                }
            ],
        )
    quarantine = []
    if row["readme_status"] in ("malformed_yaml", "non_utf8", "oversized"):
        quarantine.append(
            {
                "source": "hub_readme",
                "reference": f"{repo_id}@{sha}",
                "repo_id": repo_id,
                "reason": row["readme_status"],
                "detail": (row["card_yaml_error"] or "")[:300],
                "crawl_date": crawl_date,
            }
        )
    # Data defects of the card or tags: the row is kept as stored, the defect flagged beside it.
    quarantine += [
        {
            "source": "hub_card",
            "reference": f"{repo_id}@{sha}",
            "repo_id": repo_id,
            "reason": reason,
            "detail": detail,
            "crawl_date": crawl_date,
        }
        for reason, detail in flags
    ]
    return row, _signature(row, sha), quarantine


def _parse_rows(rows: list[tuple]) -> list[tuple[dict | None, str | None, list[dict]]]:
    return [
        parse_capture(r, s, d, i, src, None if st is None else (st, c, h))
        for r, s, d, i, src, st, c, h in rows
    ]


def parse_frame(
    frame: pl.DataFrame, workers: int = 1, pool: ProcessPoolExecutor | None = None
) -> pl.DataFrame:
    """Candidate rows (every core.revisions column, the signature, the quarantine row) for `needs` with texts.

    The rows are parsed PARSE_SLICE at a time: a slice's Python objects (its texts as tuples, the pickles
    sent to the workers, the parsed dicts) are gone before the next slice is taken, so what parsing holds
    beside the frame does not grow with the part (a rebuild's parts hold up to CONTENT_BUDGET of texts).
    `pool`: worker processes of the caller's, kept across its parts (else started here when worth it)."""
    own = pool is None
    cols = frame.select(
        "repo_id",
        "sha",
        "crawl_date",
        "item",
        pl.when(pl.col("rank") == 0).then(pl.lit("listing")).otherwise(pl.lit("backfill")),
        "rd_status",
        "content",
        "sha256",
    )
    if own:
        pool = _pool(workers) if frame.height >= PARALLEL_FROM else None
    try:
        parts = [
            _parse_slice(frame.slice(i, PARSE_SLICE), cols.slice(i, PARSE_SLICE), pool, workers)
            for i in range(0, max(frame.height, 1), PARSE_SLICE)
        ]
    finally:
        if own and pool is not None:
            pool.shutdown()
    return pl.concat(parts) if len(parts) > 1 else parts[0]


def _pool(workers: int) -> ProcessPoolExecutor | None:
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None


def _parse_slice(
    frame: pl.DataFrame, cols: pl.DataFrame, pool: ProcessPoolExecutor | None, workers: int
) -> pl.DataFrame:
    rows = list(cols.iter_rows())
    if pool is not None and len(rows) >= PARALLEL_FROM:
        size = max(500, math.ceil(len(rows) / (workers * 8)))
        parsed = [
            x
            for part in pool.map(_parse_rows, [rows[i : i + size] for i in range(0, len(rows), size)])
            for x in part
        ]
    else:
        parsed = _parse_rows(rows)
    del rows
    revs = pl.DataFrame([p[0] or {} for p in parsed], schema=REVISIONS_SCHEMA)
    quarantine = pl.DataFrame({q: [[r[q[2:]] for r in p[2]] for p in parsed] for q in Q_COLS}, schema=Q_COLS)
    meta = frame.select(
        "ckey",
        pl.col("repo_id").alias("raw_repo_id"),
        pl.col("sha").alias("raw_sha"),
        pl.col("crawl_date").alias("capture_date"),
        "rank",
        "page_index",
        "item_index",
        "item_path",
        "item_row",
        "rd_path",
        "rd_row",
    )
    return pl.concat(
        [
            meta,
            revs,
            pl.DataFrame(
                {"_sig": [p[1] for p in parsed], "keep": [p[0] is not None for p in parsed]},
                schema={"_sig": pl.String, "keep": pl.Boolean},
            ),
            quarantine,
        ],
        how="horizontal",
    )


def _store_candidates(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> None:
    if not _has_candidates(con):
        con.register("incoming_frame", frame)
        try:
            con.execute("CREATE TABLE incr.candidates AS SELECT * FROM incoming_frame")
        finally:
            con.unregister("incoming_frame")
        return
    con.register("incoming_frame", frame)
    try:
        con.execute("DELETE FROM incr.candidates WHERE ckey IN (SELECT ckey FROM incoming_frame)")
        con.execute("INSERT INTO incr.candidates BY NAME SELECT * FROM incoming_frame")
    finally:
        con.unregister("incoming_frame")


# ---- 3. deriving core.revisions ------------------------------------------------------------------
def _listing_days(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql("SELECT DISTINCT crawl_date FROM incr.listing_days ORDER BY crawl_date").pl()


def derive(con: duckdb.DuckDBPyConnection, listed_ids: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    """core.revisions rows of the components `listed_ids` (whole components), from their candidates."""
    if not _has_candidates(con):  # nothing captured yet (a fresh deployment): no rows
        return pl.DataFrame(schema=REVISIONS_SCHEMA)
    con.register("wanted_ids", listed_ids)
    try:
        cands = con.sql(f"""
            SELECT {", ".join(f'c."{c}"' for c in REVISIONS_SCHEMA)}, c._sig FROM incr.candidates c
            SEMI JOIN wanted_ids w ON c.listed_as = w.listed_id
            WHERE c.keep
            ORDER BY c.capture_date, c.rank, c.page_index, c.item_index, c.raw_repo_id, c.raw_sha
        """).pl()  # noqa: S608 - column names from the schema
    finally:
        con.unregister("wanted_ids")
    if cands.height == 0:
        return pl.DataFrame(schema=REVISIONS_SCHEMA)
    revisions = _typed(cands, {**REVISIONS_SCHEMA, "_sig": pl.String})
    # The rule's tail, on whole components (rows of one repo never span two calls).
    revisions = follow_renames(revisions).sort("repo_id", "committed_at", "revision")
    changed = pl.col("_sig") != pl.col("_sig").shift(1).over("repo_id")
    revisions = revisions.filter(changed.fill_null(True)).drop("_sig")
    return first_crawl_after_commit(revisions, days)


def _typed(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame read back from DuckDB with the exact Polars types of `schema` (timestamps in UTC)."""
    out = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime) and isinstance(frame.schema[name], pl.Datetime):
            col = (
                col.dt.convert_time_zone("UTC")
                if frame.schema[name].time_zone
                else col.dt.replace_time_zone("UTC")
            )
        out.append(col.cast(dtype).alias(name))
    return frame.select(out)


def components(con: duckdb.DuckDBPyConnection, listed: list[str]) -> list[str]:
    """Every listed id linked to `listed` through a shared `_id` (renames), transitively."""
    ids = set(listed)
    frontier = set(listed)
    while frontier:
        con.register(
            "frontier_ids", pl.DataFrame({"listed_id": sorted(frontier)}, schema={"listed_id": pl.String})
        )
        try:
            found = {r[0] for r in con.execute(sql_text("core/revisions_rename_step.sql")).fetchall()}
        finally:
            con.unregister("frontier_ids")
        frontier = found - ids
        ids |= found
    return sorted(ids)


def component_labels(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(listed_id, label) for every listed id with a kept candidate: ids sharing a component share a label."""
    edges = con.sql("SELECT DISTINCT listed_as, repo_uid FROM incr.candidates WHERE keep").pl()
    ids = edges.select(pl.col("listed_as").unique()).with_columns(pl.col("listed_as").alias("label"))
    linked = edges.filter(pl.col("repo_uid").is_not_null())
    while True:
        uid_label = linked.join(ids, on="listed_as").group_by("repo_uid").agg(pl.col("label").min())
        new = (
            ids.join(
                linked.join(uid_label, on="repo_uid")
                .group_by("listed_as")
                .agg(pl.col("label").min().alias("_via")),
                on="listed_as",
                how="left",
            )
            .with_columns(pl.min_horizontal("label", "_via").alias("label"))
            .drop("_via")
        )
        if new.join(ids, on="listed_as").filter(pl.col("label") != pl.col("label_right")).height == 0:
            return new.rename({"listed_as": "listed_id"})
        ids = new


# ---- the step ---------------------------------------------------------------------------------------
def update_revisions(
    wh: Warehouse,
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    workers: int = PARSE_WORKERS,
    progress: Any = None,
    batch: int | None = None,
) -> dict[str, Any]:
    """Bring core.revisions and core.quarantine up to date with the raw layer; returns what was done.

    `full` (or an unusable state: empty, other code version, another work file) rebuilds the state and
    both tables from every raw file; otherwise only the files not read yet are read. A rebuild commits its
    index first, then its parsed keys `batch` at a time (default BUILD_BATCH), saying so through
    `progress` (one line a batch); a rebuild interrupted (killed) is resumed by the next run not asking for
    `full`: it parses only the keys no committed batch holds, to the same tables as an uninterrupted one.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 3)
        if progress:
            progress(f"revisions: {name} {timings[name]} s")
        return now

    state.attach(wh, con)
    problem = "full rebuild asked for" if full else state.state_problem(con)
    resumed = problem == state.UNFINISHED
    if problem and not resumed:
        state.reset(con)
    mode = "full" if problem else "incremental"
    if mode == "full":
        _remove_stale_contents(wh.state)
    t = time.perf_counter()
    files = new_files(wh, con)
    index = None
    if mode == "full":
        # A rebuild indexes its files part by part, each part committed with its ledger rows (the files a
        # killed rebuild had indexed are not read again: `new_files` leaves them out).
        parts = _file_parts(files, INDEX_PART_FILES)
        indexed, total_files = 0, sum(len(v) for v in files.values())
        for number, part in enumerate(parts, start=1):
            with transaction(con):
                _store_index(con, index_files(wh, part))
            indexed += sum(len(v) for v in part.values())
            if progress:
                progress(
                    f"revisions: index part {number}/{len(parts)} committed: {indexed:,} of {total_files:,} files"
                )
    else:
        index = index_files(wh, files)
    t = lap("index", t)
    # State transaction: the index, the re-chosen and re-parsed candidates, what is left to derive (a
    # rebuild commits after each part of candidates, see below: why this block is not `transaction()`).
    con.execute("BEGIN")
    try:
        if mode == "full":
            # A rebuild: the index and its ledger committed first, then the keys parsed in batches. Its keys
            # are every indexed key, those of files read by an interrupted run of it too (the candidates
            # its committed batches hold are not chosen again by _needs: nothing is parsed twice). They stay
            # in DuckDB (a temporary table it may spill), not in a frame.
            con.execute(
                "CREATE OR REPLACE TEMP TABLE touched_keys AS "
                "SELECT ckey FROM incr.captures UNION SELECT ckey FROM incr.readmes"
            )
            needs = _needs(con, "touched_keys")
            con.execute("DROP TABLE touched_keys")
        else:
            _store_index(con, index)
            keys = pl.concat([index["captures"].select("ckey"), index["readmes"].select("ckey")]).unique()
            con.register("touched_keys", keys)
            needs = _needs(con, "touched_keys")
            con.unregister("touched_keys")
        t = lap("choose", t)
        parsed = 0
        old_q: set[str] = set()
        touched: set[str] = set()
        if needs.height and _has_candidates(con):
            con.register("needed", needs.select("ckey"))
            for listed, q_id in con.execute(
                "SELECT listed_as, q_repo_id FROM incr.candidates WHERE ckey IN (SELECT ckey FROM needed)"
            ).fetchall():
                touched.update([listed] if listed is not None else [])
                old_q.update(i for i in q_id or [] if i is not None)
            con.unregister("needed")
        new_q: set[str] = set()
        max_keys = (batch or BUILD_BATCH) if mode == "full" else None
        total = content_parts(needs, max_keys)
        earlier = _candidate_count(con) if resumed else 0
        pool = _pool(workers) if needs.height >= PARALLEL_FROM else None
        try:
            for done, part in enumerate(_contents(wh.raw, needs, wh.state, max_keys), start=1):
                cands = parse_frame(part, workers=workers, pool=pool)
                _store_candidates(con, cands)
                parsed += cands.height
                touched.update(cands.get_column("listed_as").drop_nulls().to_list())
                new_q.update(cands.get_column("q_repo_id").explode().drop_nulls().to_list())
                if mode == "full":
                    # A rebuild commits batch by batch: its candidates and nothing else, in the state file
                    # (DuckDB also holds a transaction's rows in memory until it commits: ~1.6 KB a
                    # candidate, 6.5 GB at 1M models in one transaction). The work file claims the new
                    # state only once its tables are written (`_rebuild_tables`); until then the state
                    # says `rebuild = running`, and a run after a kill resumes from the last commit.
                    con.execute("COMMIT")
                    con.execute("BEGIN")
                    if progress:
                        progress(
                            f"revisions: batch {done}/{total} committed: {parsed:,} of {needs.height:,} keys "
                            f"parsed by this run"
                            + (f" ({earlier:,} committed by the interrupted one)" if resumed else "")
                        )
        finally:
            if pool is not None:
                pool.shutdown()
        t = lap("parse", t)
        if mode == "incremental":
            _insert(
                con,
                "incr.pending_components",
                pl.DataFrame({"listed_id": sorted(touched)}, schema={"listed_id": pl.String}),
            )
            # Ids seen in a listing or a presence check today: their releases' first/last seen may move.
            seen = pl.concat([index["listing_seen"].select("repo_id"), index["presence"].select("repo_id")])
            _insert(
                con,
                "incr.pending",
                seen.unique().drop_nulls().select(pl.lit("releases_listed").alias("consumer"), "repo_id"),
            )
            # Quarantine ids whose rows must be rewritten (old and new).
            _insert(
                con,
                "incr.pending_refs",
                state.pending_refs("quarantine", "repo_id", old_q | new_q),
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    t = lap("state", t)
    if mode == "full":
        result = _rebuild_tables(con, progress, restart=bool(parsed or sum(len(v) for v in files.values())))
    else:
        result = _apply_pending(con)
    result["circular_base_models"] = flag_circular_base_models(con)
    lap("derive", t)
    return {
        "mode": mode,
        **({"reason": problem} if problem else {}),
        "new_files": sum(len(v) for v in files.values()),
        "parsed": parsed,
        **({"batches": total, "resumed_after": earlier} if mode == "full" else {}),
        **result,
        "seconds": round(time.perf_counter() - started, 3),
        "timings": timings,
    }


# Each repo's base models as its newest revision names them (the graph whose cycles are flagged).
_BASE_EDGES = """SELECT repo_id, unnest(base_models) AS base FROM (
    SELECT repo_id, base_models FROM core.revisions
    QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY committed_at DESC, revision DESC) = 1)
WHERE len(base_models) > 0"""


def circular_base_models(edges: pl.DataFrame) -> dict[str, list[str]]:
    """Repos on a cycle of two or more base models (A names B, B names A), each with its cycle's members.

    `edges` is (repo_id, base). A self-reference is not a cycle here (it is flagged `self_base_model`)."""
    edges = edges.filter(pl.col("repo_id") != pl.col("base")).unique()
    while True:  # only a repo with both a base and a derivative can be on a cycle: prune the rest
        kept = edges.filter(
            pl.col("base").is_in(edges.get_column("repo_id").implode())
            & pl.col("repo_id").is_in(edges.get_column("base").implode())
        )
        if kept.height == edges.height:
            break
        edges = kept
    graph: dict[str, list[str]] = {}
    for repo, base in edges.iter_rows():
        graph.setdefault(repo, []).append(base)
    # Tarjan's strongly connected components, without recursion.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: dict[str, list[str]] = {}
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, []))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            step = next(successors, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.get(step, [])))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    for member in members:
                        out[member] = sorted(members)
    return out


def flag_circular_base_models(con: duckdb.DuckDBPyConnection) -> int:
    """Rewrite the `circular_base_model` rows of core.quarantine from the whole of core.revisions (the
    repos stay as they are, flagged); returns how many repos are on a cycle."""
    edges = con.sql(_BASE_EDGES).pl()
    cycles = circular_base_models(edges) if edges.height else {}
    day = con.execute("SELECT max(crawl_date) FROM incr.listing_days").fetchall()[0][0]
    rows = pl.DataFrame(
        [
            {
                "source": "hub_base_models",
                "reference": repo,
                "repo_id": repo,
                "reason": "circular_base_model",
                "detail": ("base models form a cycle among: " + ", ".join(members))[:300],
                "crawl_date": day,
            }
            for repo, members in sorted(cycles.items())
        ],
        schema=QUARANTINE_SCHEMA,
    )
    with transaction(con):
        con.execute("DELETE FROM core.quarantine WHERE source = 'hub_base_models'")
        _insert(con, "core.quarantine", rows)
    return rows.height


def _rebuild_tables(
    con: duckdb.DuckDBPyConnection, progress: Any = None, *, restart: bool = True
) -> dict[str, Any]:
    """Every row of core.revisions and core.quarantine from the candidates, in batches of whole components,
    each batch committed with its place in the work file's meta (`derive`): at Hub scale one transaction of
    every batch held its rows in memory (24 GB at 8M revisions). A rebuild killed while deriving goes on at
    the first batch not committed, unless `restart` (this run read new files or parsed keys: the candidates
    or the listing days may have changed) or the candidates are not the ones the recorded batches came from.
    Until the last batch the work file's core.revisions is partial; the state stays `rebuild = running`,
    so no step trusts it. `progress` gets a line a batch."""
    days = _listing_days(con)
    labels = (
        component_labels(con)
        if _has_candidates(con)
        else pl.DataFrame(schema={"listed_id": pl.String, "label": pl.String})
    )
    total = (
        con.execute("SELECT count(*) FROM incr.candidates").fetchall()[0][0] if _has_candidates(con) else 0
    )
    batches = max(1, math.ceil(total / DERIVE_BATCH))
    labels = labels.with_columns((pl.col("label").hash(seed=3) % batches).alias("_batch"))
    plan = {"state_id": state.get_meta(con, "state_id"), "candidates": total, "batches": batches}
    recorded = state.get_meta(con, "derive", "meta.incremental")
    done = json.loads(recorded) if recorded else {}
    start = done.get("done", 0) if not restart and {k: done.get(k) for k in plan} == plan else 0
    if start == 0:
        with transaction(con):
            con.execute("DELETE FROM core.revisions")
            state.set_meta(con, "derive", json.dumps({**plan, "done": 0}), "meta.incremental")
    rows = con.execute("SELECT count(*) FROM core.revisions").fetchall()[0][0] if start else 0
    for b in range(start, batches):
        ids = labels.filter(pl.col("_batch") == b).select("listed_id")
        frame = derive(con, ids, days)
        with transaction(con):
            _insert(con, "core.revisions", frame)
            state.set_meta(con, "derive", json.dumps({**plan, "done": b + 1}), "meta.incremental")
        rows += frame.height
        if progress:
            progress(
                f"revisions: derive {b + 1}/{batches} committed: {rows:,} revisions"
                + (f" (batches 1-{start} committed by the interrupted run)" if start else "")
            )
    with transaction(con):
        con.execute(f"DELETE FROM core.quarantine WHERE {Q_SOURCES}")  # noqa: S608 - fixed SQL
        if _has_candidates(con):
            con.execute(f"INSERT INTO core.quarantine {Q_ROWS}")
        con.execute("DELETE FROM meta.incremental WHERE key = 'derive'")
        state.claim(con)
    repos = [r[0] for r in con.execute("SELECT DISTINCT repo_id FROM core.revisions").fetchall()]
    with transaction(con):
        con.execute("UPDATE incr.listing_days SET applied = true")
        con.execute("DELETE FROM incr.pending")
        state.set_meta(con, "full_releases", "pending")
        state.set_meta(con, "full_scoring", "pending")
        state.set_meta(con, "full_release_papers", "pending")
        con.execute("DELETE FROM incr.meta WHERE key = 'rebuild'")  # finished: the next run is incremental
    return {
        "revisions": rows,
        "derive_resumed_at": start,
        "repos": len(repos),
        "touched_repos": len(repos),
        "quarantined": con.execute("SELECT count(*) FROM core.quarantine").fetchall()[0][0],
    }


def _apply_pending(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Derive the pending components again, fix observed_at for a new crawl date, rewrite quarantine rows."""
    pending = [r[0] for r in con.execute("SELECT DISTINCT listed_id FROM incr.pending_components").fetchall()]
    comp = components(con, pending) if pending else []
    ids = pl.DataFrame({"listed_id": comp}, schema={"listed_id": pl.String})
    days = _listing_days(con)
    new_days = [
        r[0] for r in con.execute("SELECT crawl_date FROM incr.listing_days WHERE NOT applied").fetchall()
    ]
    q_ids = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT ref_id FROM incr.pending_refs WHERE consumer = 'quarantine'"
        ).fetchall()
    ]
    con.register("comp_ids", ids)
    try:
        old_repos = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT repo_id FROM core.revisions "
                "WHERE listed_as IN (SELECT listed_id FROM comp_ids)"
            ).fetchall()
        }
        frame = derive(con, ids, days) if comp else pl.DataFrame(schema=REVISIONS_SCHEMA)
        moved = _observed_moves(con, days, new_days) if new_days else pl.DataFrame()
        with transaction(con):
            con.execute("DELETE FROM core.revisions WHERE listed_as IN (SELECT listed_id FROM comp_ids)")
            _insert(con, "core.revisions", frame)
            if moved.height:
                con.register("moved", moved)
                con.execute(
                    "UPDATE core.revisions r SET observed_at = m.observed_at FROM moved m "
                    "WHERE r.repo_id = m.repo_id AND r.revision = m.revision"
                )
                con.unregister("moved")
            if q_ids:
                con.register("q_ids", pl.DataFrame({"repo_id": q_ids}))
                con.execute(
                    f"DELETE FROM core.quarantine WHERE {Q_SOURCES} "  # noqa: S608 - fixed SQL
                    "AND repo_id IN (SELECT repo_id FROM q_ids)"
                )
                con.execute(
                    f"INSERT INTO core.quarantine {Q_ROWS} "  # noqa: S608 - fixed SQL
                    "WHERE repo_id IN (SELECT repo_id FROM q_ids)"
                )
                con.unregister("q_ids")
            state.claim(con)
    finally:
        con.unregister("comp_ids")
    new_repos = set(frame.get_column("repo_id").to_list()) if frame.height else set()
    repos = sorted(
        old_repos | new_repos | (set(moved.get_column("repo_id").to_list()) if moved.height else set())
    )
    with transaction(con):
        for consumer in ("scoring", "release_papers", "releases"):
            _insert(
                con,
                "incr.pending",
                pl.DataFrame(
                    {"consumer": consumer, "repo_id": repos},
                    schema={"consumer": pl.String, "repo_id": pl.String},
                ),
            )
        con.execute("DELETE FROM incr.pending_components")
        con.execute("DELETE FROM incr.pending_refs WHERE consumer = 'quarantine'")
        con.execute("UPDATE incr.listing_days SET applied = true")
    return {
        "revisions_written": frame.height,
        "components": len(comp),
        "touched_repos": len(repos),
        "observed_moved": moved.height if moved.height else 0,
    }


def _observed_moves(con: duckdb.DuckDBPyConnection, days: pl.DataFrame, new_days: list[str]) -> pl.DataFrame:
    """Revisions (outside the derived components) whose `observed_at` a new crawl date changes: those
    committed after the crawl date before it, up to it; recomputed as `first_crawl_after_commit` does."""
    all_days = days.get_column("crawl_date").to_list()
    ranges = []
    for day in new_days:
        before = [d for d in all_days if d < day]
        ranges.append((before[-1] if before else None, day))
    # A day of margin either side of each range; the exact test is first_crawl_after_commit's, below.
    conds = " OR ".join(
        f"(d >= DATE '{lo}' AND d <= DATE '{hi}' + 1)" if lo else f"(d <= DATE '{hi}' + 1)"
        for lo, hi in ranges
    )
    rows = con.sql(f"""
        SELECT repo_id, revision, committed_at, observed_at FROM (
            SELECT *, (committed_at AT TIME ZONE 'UTC')::DATE AS d FROM core.revisions
            WHERE listed_as NOT IN (SELECT listed_id FROM comp_ids))
        WHERE {conds}
    """).pl()  # noqa: S608 - dates are crawl dates from the state (YYYY-MM-DD)
    if rows.height == 0:
        return rows
    rows = _typed(
        rows, {"repo_id": pl.String, "revision": pl.String, "committed_at": UTC_TS, "observed_at": UTC_TS}
    )
    fixed = first_crawl_after_commit(rows, days)
    return (
        fixed.join(
            rows.select("repo_id", "revision", pl.col("observed_at").alias("_old")),
            on=["repo_id", "revision"],
        )
        .filter(pl.col("observed_at") != pl.col("_old"))
        .select("repo_id", "revision", "observed_at")
    )


def update_releases(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """core.repo_presence, and core.releases (sql/core/releases.sql) for the repos whose revisions, listing
    sightings or presence checks changed (every repo after a rebuild of the state, or when asked)."""
    state.attach(wh, con)
    full = full or state.get_meta(con, "full_releases") != "done"
    # First the repos resting on a reconstruction: a createdAt the mirror only bounds is no created_at.
    reconstructed = update_reconstructions(wh, con, full=full)
    sql = sql_text("core/releases.sql")
    scoped = sql.replace("FROM core.revisions", "FROM scoped_revisions").replace(
        "FROM core.repo_presence", "FROM scoped_presence"
    )
    if (scoped.count("scoped_revisions"), scoped.count("scoped_presence")) != (2, 1):
        full = True  # the SQL no longer reads its inputs as expected: the whole table, never a wrong subset
    con.execute("""CREATE OR REPLACE TEMP VIEW current_ids AS
                   SELECT DISTINCT listed_as, repo_id AS current_id FROM core.revisions""")
    repos = None
    if not full:
        con.execute("""CREATE OR REPLACE TEMP TABLE release_scope AS
            SELECT repo_id FROM incr.pending WHERE consumer = 'releases'
            UNION SELECT coalesce(i.current_id, p.repo_id) FROM incr.pending p
                  LEFT JOIN current_ids i ON i.listed_as = p.repo_id WHERE p.consumer = 'releases_listed'""")
        repos = con.execute("SELECT count(*) FROM release_scope").fetchall()[0][0]
    where = "" if full else "WHERE repo_id IN (SELECT repo_id FROM release_scope)"
    seen = (
        "SELECT * FROM (SELECT coalesce(i.current_id, l.repo_id) AS repo_id, l.crawl_date, l.created_at "
        "FROM incr.listing_seen l LEFT JOIN current_ids i ON i.listed_as = l.repo_id) "
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW listing_seen AS {seen}{where}")  # noqa: S608 - fixed SQL
    con.execute(f"CREATE OR REPLACE TEMP VIEW scoped_revisions AS SELECT * FROM core.revisions {where}")  # noqa: S608
    con.execute(f"CREATE OR REPLACE TEMP VIEW scoped_presence AS SELECT * FROM core.repo_presence {where}")  # noqa: S608
    try:
        with transaction(con):
            con.execute("DELETE FROM core.repo_presence")
            # DISTINCT: the same check repeated on one date (a rerun of the date before such repeats were
            # skipped at capture, pipelines/storage/raw.py append_new) is one row.
            con.execute("""INSERT INTO core.repo_presence BY NAME
                           SELECT DISTINCT coalesce(i.current_id, p.repo_id) AS repo_id, p.present, p.how,
                                  p.crawl_date::DATE AS crawl_date
                           FROM incr.presence p LEFT JOIN current_ids i ON i.listed_as = p.repo_id""")
            con.execute(f"DELETE FROM core.releases {where}")  # noqa: S608 - fixed SQL
            con.execute(f"INSERT INTO core.releases BY NAME {sql if full else scoped}")
    finally:
        for view in ("listing_seen", "scoped_revisions", "scoped_presence", "current_ids"):
            con.execute(f"DROP VIEW IF EXISTS {view}")
    with transaction(con):
        if full:
            state.set_meta(con, "full_marts", "pending")
        else:  # the monthly mart follows these repos' release rows (deletion, modality, base family)
            con.execute("INSERT INTO incr.pending SELECT 'marts', repo_id FROM release_scope")
        con.execute("DROP TABLE IF EXISTS release_scope")
        con.execute("DELETE FROM incr.pending WHERE consumer IN ('releases', 'releases_listed')")
        state.set_meta(con, "full_releases", "done")
    return {
        "mode": "full" if full else "incremental",
        "touched_repos": repos,
        "releases": con.execute("SELECT count(*) FROM core.releases").fetchall()[0][0],
        **reconstructed,
    }
