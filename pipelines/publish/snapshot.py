"""Publishing versioned, checksummed Parquet snapshots of the public tables.

A snapshot is written into a hidden temporary folder next to its final place and renamed into place
in one step, so a reader never sees half a version; a version that exists is never rewritten (a
republish makes a new version). `LATEST` names the newest version and is replaced atomically: it is
staged (written and fsynced as `.LATEST.<pid>.tmp`) before and renamed after the rest of a publish, so
moving it needs no free space (pipelines/publish/publish.py, `publish_version`).
Each public table is a folder of Parquet files (`table_layout`: by month, by a hash of `repo_id`, or one file),
and a new version writes only the files whose content changed since the previous version: the others are hard
links to the previous version's files (`_write_tables`). Besides the Parquet files a version carries its
dataset card (`README.md`), its changelog against the previous version (`CHANGELOG.md`) and `manifest.json`,
which lists every file with its size and sha256.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from pipelines.incremental.crawl_runs import COST_COLUMNS
from pipelines.publish.card import render_dataset_card
from pipelines.publish.changelog import compare_snapshots, parquet_columns, render_diff
from pipelines.storage.warehouse import SCHEMA_VERSION, checked_table, fsync_path
from pipelines.tables import BY_NAME, TABLES, public_tables

try:  # POSIX only; without it concurrent publishers on one folder are not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

# The dataset's contract (DESIGN.md, "Public tables"): snapshot file name -> warehouse table.
PUBLIC_TABLES = public_tables()
VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}\.\d+$")
MANIFEST_FORMAT = "openness-snapshot/2"
# Each public table is a folder of files `<table>/<part>.parquet` (`table_layout`): by the month of a time
# column for the tables appended over time, by a stable hash of `repo_id` for the other big ones, else one
# file `<table>/0.parquet`.
BUCKET_COLUMN = "repo_id"
ROWS_PER_FILE = 250_000
MAX_BUCKETS = 1024
# The most rows a version sorts in one temporary table: the parts to write are taken in groups up to this
# many rows (a part larger than it alone). At 3,000,000 models one table of every part (a first version:
# 200M rows of disclosures) filled the 33 GB left on the disk with DuckDB's spill.
SORT_GROUP_ROWS = 20_000_000
# Tables whose rows are appended over time (`snapshot_split` ("month", column) in pipelines/tables.py): once
# they outgrow one file, one file per month of that column, so a day's new rows go to the newest month's file
# and the older months' files stay byte-identical.
MONTH_COLUMNS = {
    t.short: t.snapshot_split[1]
    for t in TABLES
    if t.public and t.snapshot_split and t.snapshot_split[0] == "month"
}
# ("month", column, table): the month column is the one of the row's own row in that other table, joined on
# the other table's key (`_split_source`); it decides the file and is not written to it.
MONTH_JOINS = {
    t.short: t.snapshot_split[2]
    for t in TABLES
    if t.public and t.snapshot_split and t.snapshot_split[0] == "month" and len(t.snapshot_split) > 2
}
# Interval tables (("closed", column)): a row closed (its end set) never changes again, so closed rows go to a
# file per month of their end, and the open rows (one per release) to `open-<b>` files by a hash of `repo_id`.
CLOSED_COLUMNS = {
    t.short: t.snapshot_split[1]
    for t in TABLES
    if t.public and t.snapshot_split and t.snapshot_split[0] == "closed"
}
UNDATED = "undated"
BUCKET_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,31}$")
RUBRIC_FILE = Path(__file__).resolve().parents[1] / "openness" / "rubric.yml"
# A file of a version is a plain name in its folder: no separators, no "..", nothing hidden or reserved.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
RESERVED_NAMES = frozenset({"manifest.json", "LATEST"})
# Columns that record how a run went (when, how long, what it cost), not what it found: a publish whose
# tables differ from the latest version's only in these publishes nothing (`content_fingerprint`). A crawl
# step run again for a date adds its cost to the same `crawl_runs` row; the replayed mirror's port changes.
RUN_BOOKKEEPING = {
    "crawl_runs": frozenset({"run_key", "started_at", "finished_at", "endpoint", "detail", *COST_COLUMNS}),
}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_safe_path(name: object) -> bool:
    """Whether a manifest path stays inside its version folder: a plain file name (`is_safe_file_name`) or
    one plain folder name and a plain file name (`revisions/3.parquet`)."""
    if not isinstance(name, str):
        return False
    parts = name.split("/")
    return len(parts) <= 2 and all(is_safe_file_name(p) for p in parts)


def is_safe_file_name(name: object) -> bool:
    """Whether a manifest path is a plain file name that stays inside its version folder."""
    return (
        isinstance(name, str)
        and bool(SAFE_NAME.match(name))
        and ".." not in name
        and not name.endswith(".part")
        and name not in RESERVED_NAMES
    )


def version_key(version: str) -> tuple[str, int]:
    """Sort key of a version `YYYY-MM-DD.N` (N compares as a number: .10 after .9)."""
    day, n = version.rsplit(".", 1)
    return day, int(n)


def next_version(snapshots: Path, day: str) -> str:
    """The next free version for a day: `YYYY-MM-DD.N`."""
    taken = [int(p.name.rsplit(".", 1)[1]) for p in snapshots.glob(f"{day}.*") if VERSION.match(p.name)]
    return f"{day}.{max(taken, default=0) + 1}"


def read_latest(snapshots: Path) -> str | None:
    """The version `LATEST` names, if any."""
    path = snapshots / "LATEST"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def published_versions(snapshots: Path) -> list[str]:
    """Complete versions (a folder with a manifest) in a snapshots folder, oldest first."""
    if not snapshots.is_dir():
        return []
    found = [p.name for p in snapshots.iterdir() if VERSION.match(p.name) and (p / "manifest.json").is_file()]
    return sorted(found, key=version_key)


def previous_version(snapshots: Path) -> str | None:
    """The version a new one is compared with: the one `LATEST` names, else the highest complete one."""
    latest = read_latest(snapshots)
    if latest and VERSION.match(latest) and (snapshots / latest / "manifest.json").is_file():
        return latest
    versions = published_versions(snapshots)
    return versions[-1] if versions else None


def previous_snapshot(snapshots: Path) -> tuple[dict | None, Path | None]:
    """The manifest and folder of the snapshot a new one is compared with (None, None if there is none)."""
    version = previous_version(Path(snapshots))
    if version is None:
        return None, None
    folder = Path(snapshots) / version
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8")), folder


def existing_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The public tables (tables or views) that exist in this warehouse."""
    present = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views()"
        ).fetchall()
    }
    return {name: table for name, table in PUBLIC_TABLES.items() if table in present}


def rubric_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The rubric version(s) that scored the published rows, else the current rubric file's version."""
    if "openness" in existing_tables(con):
        try:
            rows = con.execute(
                "SELECT DISTINCT rubric_version::VARCHAR FROM core.openness "
                "WHERE rubric_version IS NOT NULL ORDER BY 1"
            ).fetchall()
        except duckdb.Error:  # an openness table without the column: fall back to the rubric file
            rows = []
        if rows:
            return ",".join(r[0] for r in rows)
    if RUBRIC_FILE.is_file():
        found = (yaml.safe_load(RUBRIC_FILE.read_text(encoding="utf-8")) or {}).get("rubric_version")
        return None if found is None else str(found)
    return None


def content_fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Public table -> sha256 of its columns (names and types), its row count and an order-free sum of its
    rows' hashes, leaving out the run-bookkeeping columns (`RUN_BOOKKEEPING`).

    Two warehouses with the same published content have the same fingerprint whatever order their rows are
    stored in (the fingerprint depends on DuckDB's `hash`, so a DuckDB upgrade may change it once). The
    snapshot writer derives the same value from its per-file sums (`_write_tables`) instead of a second pass.
    """
    return {
        name: _table_content(con, name, checked_table(con, table))
        for name, table in sorted(existing_tables(con).items())
    }


def _table_content(con: duckdb.DuckDBPyConnection, name: str, qualified: str) -> str:
    """One table's `content_fingerprint`, read from the warehouse."""
    columns = [
        (c, t)
        for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM {qualified}").fetchall()  # noqa: S608
        if c not in RUN_BOOKKEEPING.get(name, ())
    ]
    select = ", ".join('"' + c.replace('"', '""') + '"' for c, _ in columns) or "NULL"
    ((rows, hashes),) = con.execute(
        f"SELECT count(*), coalesce(sum(hash(r)), 0)::VARCHAR FROM (SELECT {select} FROM {qualified}) r"  # noqa: S608
    ).fetchall()
    return _content_hash(columns, rows, hashes)


def _content_hash(columns: list, rows: int, hashes: str) -> str:
    text = json.dumps({"columns": columns, "rows": rows, "hashes": hashes})
    return hashlib.sha256(text.encode()).hexdigest()


def unchanged_since(con: duckdb.DuckDBPyConnection, snapshots: Path) -> str | None:
    """The version `LATEST` names when the warehouse's public content is the same as that version's
    (`content_fingerprint`, and the same schema and rubric versions), else None."""
    manifest, _folder = previous_snapshot(snapshots)
    if manifest is None or manifest.get("version") != read_latest(snapshots):
        return None
    same = (
        manifest.get("content") == content_fingerprint(con)
        and manifest.get("schema_version") == SCHEMA_VERSION
        and manifest.get("rubric_version") == rubric_version(con)
    )
    return manifest["version"] if same else None


@contextmanager
def publish_lock(snapshots: Path) -> Iterator[None]:
    """Hold the snapshots folder's lock (`.publish.lock`): one publisher at a time picks a version, cleans
    temporary files and moves `LATEST`."""
    # Two publishers on one folder would otherwise pick the same next version.
    snapshots.mkdir(parents=True, exist_ok=True)
    with open(snapshots / ".publish.lock", "a") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def bucket_count(rows: int, previous: int | None = None) -> int:
    """How many bucket files a table of `rows` rows is split into: a power of two near
    `rows / ROWS_PER_FILE` (at least 1, at most `MAX_BUCKETS`). The previous version's count is kept while
    its files hold between a quarter and four times `ROWS_PER_FILE` rows each, so file names and contents
    stay stable as a table grows; only a table that grew (or shrank) fourfold is bucketed anew."""
    if previous and previous >= 1 and (previous & (previous - 1)) == 0 and previous <= MAX_BUCKETS:
        per_file = rows / previous
        if previous == 1 and rows <= ROWS_PER_FILE * 4:
            return 1
        if ROWS_PER_FILE / 4 <= per_file <= ROWS_PER_FILE * 4:
            return previous
    if rows <= ROWS_PER_FILE:
        return 1
    return min(MAX_BUCKETS, 1 << round(math.log2(rows / ROWS_PER_FILE)))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_plan(con: duckdb.DuckDBPyConnection, name: str, qualified: str) -> tuple[list, str]:
    """(columns with types, ORDER BY clause) of one public table."""
    columns = con.execute(f"DESCRIBE SELECT * FROM {qualified}").fetchall()  # noqa: S608
    names = [c for c, *_ in columns]
    registered = BY_NAME.get(PUBLIC_TABLES[name])
    key = [c for c in (registered.key if registered else ()) if c in names]
    order = ", ".join(_quote(c) for c in key) if key else "ALL"
    return [(c, t) for c, t, *_ in columns], order


def table_layout(
    name: str, columns: list, rows: int, previous: dict | None = None, open_rows: int = 0
) -> tuple[str, str | None, int]:
    """How a table is split into files: (`layout`, the column that decides a row's file, hash bucket count).

    `month`: a table whose rows are appended over time (`MONTH_COLUMNS`) with more than `ROWS_PER_FILE` rows
    (or a quarter of that once it was split by month): one file per month of that column (`2024-03`), and
    `undated` for rows without one; a day's new rows go to the newest month's file (for a table split by a
    joined column, `MONTH_JOINS`, `columns` lists that column too: `_split_source`). `hash`: a table with
    `repo_id` and more than `ROWS_PER_FILE` rows: `bucket_count` files by a stable hash of `repo_id`. `one`:
    every other table, one file `0`. `closed`: an interval table (`CLOSED_COLUMNS`) over `ROWS_PER_FILE` rows:
    its closed rows by the month of their end, its `open_rows` in `bucket_count` files `open-<b>` by hash."""
    types = dict(columns)
    previous = previous or {}
    end = CLOSED_COLUMNS.get(name)
    if end in types and str(types[end]).startswith("TIMESTAMP") and BUCKET_COLUMN in types and rows > 0:
        was_closed = previous.get("layout") == "closed"
        if rows > ROWS_PER_FILE or (was_closed and rows > ROWS_PER_FILE // 4):
            before = previous.get("buckets_open") if was_closed else None
            return "closed", end, bucket_count(open_rows, before)
    month = MONTH_COLUMNS.get(name)
    if month in types and str(types[month]).startswith("TIMESTAMP") and rows > 0:
        was_month = previous.get("layout") == "month"
        if rows > ROWS_PER_FILE or (was_month and rows > ROWS_PER_FILE // 4):
            return "month", month, 0
    if BUCKET_COLUMN in types:
        before = previous.get("buckets") if previous.get("layout") == "hash" else None
        buckets = bucket_count(rows, before or (1 if previous.get("layout") == "one" else None))
        if buckets > 1:
            return "hash", BUCKET_COLUMN, buckets
    return "one", None, 1


def _bucket_sql(
    layout: str, column: str | None, buckets: int, dtype: str = "", ref: str | None = None
) -> str:
    """The SQL expression of a row's file name (without `.parquet`) in a layout (`table_layout`); `ref` is
    the SQL of the column's value when it is not the column itself (an aggregate: `_split_source`)."""
    if layout == "hash":  # md5, not DuckDB's hash(): a repo stays in its file across DuckDB versions.
        return f"(md5_number_lower(coalesce({_quote(column)}, '')) % {buckets})::VARCHAR"
    if column is None:
        return "'0'"
    ref = ref or _quote(column)
    value = f"timezone('UTC', {ref})" if "TIME ZONE" in dtype else ref
    if layout == "month":  # the month in UTC, whatever the session's time zone
        return f"coalesce(strftime({value}, '%Y-%m'), '{UNDATED}')"
    if layout == "closed":
        repo = f"(md5_number_lower(coalesce({_quote(BUCKET_COLUMN)}, '')) % {buckets})::VARCHAR"
        return (
            f"CASE WHEN {_quote(column)} IS NULL THEN 'open-' || {repo} ELSE strftime({value}, '%Y-%m') END"
        )
    return "'0'"


def _file_fingerprint(columns: list, layout: str, rows: int, hashes: str) -> str:
    # v2: `hashes` sums the hashes of the rows' own columns only (v1 hashed the file name with each row).
    text = json.dumps(
        {
            "columns": columns,
            "layout": layout,
            "rows": rows,
            "hashes": hashes,
            "duckdb": duckdb.__version__,
            "v": 2,
        }
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _split_source(
    con: duckdb.DuckDBPyConnection, name: str, qualified: str, columns: list, parts: list[str] | None = None
) -> tuple[str, str | None, str | None]:
    """The FROM clause of a table's rows as `r`: (clause, SQL of a row's file name, the joined column's type).

    For a table split by the month of another table's column (`MONTH_JOINS`), the clause joins that table
    (one row per key: the month of the earliest value, computed once per key before the join) on its key
    as `j`; without that table, its key or its column in this warehouse, the table is split as if it had
    none (None, None). With `parts` (month names, checked plain names, not `undated`), only the rows of
    those months: an inner join with the other table's keys of those months."""
    base = f"(SELECT * FROM {qualified}) r"  # noqa: S608
    other, column = MONTH_JOINS.get(name), MONTH_COLUMNS.get(name)
    registered = BY_NAME.get(other) if other else None
    names = {c for c, _ in columns}
    if registered is None or not registered.key or not set(registered.key) <= names:
        return base, None, None
    try:
        other_q = checked_table(con, other)
    except ValueError:
        return base, None, None
    types = dict((c, t) for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM {other_q}").fetchall())  # noqa: S608
    if column not in types or not set(registered.key) <= set(types):
        return base, None, None
    keys = ", ".join(_quote(k) for k in registered.key)
    on = " AND ".join(f"r.{_quote(k)} = j.{_quote(k)}" for k in registered.key)
    month = _bucket_sql("month", column, 0, str(types[column]), f"min({_quote(column)})")
    other_rows = f"(SELECT {keys}, {month} AS _part FROM {other_q} GROUP BY ALL)"  # noqa: S608
    part = f"coalesce(j._part, '{UNDATED}')"  # a row without its revision: undated
    if parts is not None:
        wanted = ", ".join(f"'{p}'" for p in parts)
        return (
            f"{base} JOIN (SELECT * FROM {other_rows} WHERE _part IN ({wanted})) j ON {on}",  # noqa: S608
            part,
            str(types[column]),
        )
    return f"{base} LEFT JOIN {other_rows} j ON {on}", part, str(types[column])


def _carry(old: Path, new: Path) -> None:
    """Carry an unchanged file over from the previous version: a hard link, or a copy across devices."""
    try:
        os.link(old, new)
    except OSError:
        shutil.copyfile(old, new)


def _write_tables(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    previous: dict | None = None,
    previous_folder: Path | None = None,
    fingerprints: dict[str, str] | None = None,
) -> tuple[dict[str, dict], dict[str, dict]]:
    """Write every public table as files `<table>/<part>.parquet` (`table_layout`); return the manifest's
    `tables` and `files`, and fill `fingerprints` (when given) with each table's `content_fingerprint`.

    A file whose content fingerprint (columns, layout, rows and the sum of its rows' hashes) equals the
    previous version's file of the same name is carried over (`_carry`) instead of written again. The
    whole-table fingerprint is the per-file sums added up (the same value as `content_fingerprint`).
    """
    old_files = (previous or {}).get("files") or {}
    old_tables = (previous or {}).get("tables") or {} if old_files else {}
    tables: dict[str, dict] = {}
    files: dict[str, dict] = {}
    for name, table in existing_tables(con).items():
        qualified = checked_table(con, table)
        columns, order = _table_plan(con, name, qualified)
        total = con.execute(f"SELECT count(*) FROM {qualified}").fetchone()[0]  # noqa: S608
        end = CLOSED_COLUMNS.get(name)
        open_rows = (
            con.execute(f"SELECT count(*) FROM {qualified} WHERE {_quote(end)} IS NULL").fetchone()[0]  # noqa: S608
            if end in dict(columns)
            else 0
        )
        source, ref, ref_type = _split_source(con, name, qualified, columns)
        split_columns = columns + [(MONTH_COLUMNS[name], ref_type)] if ref else columns
        layout, column, buckets = table_layout(name, split_columns, total, old_tables.get(name), open_rows)
        if layout != "month":
            source, ref = f"(SELECT * FROM {qualified}) r", None  # noqa: S608
        bucket = ref or _bucket_sql(layout, column, buckets, dict(split_columns).get(column, ""))
        # hash(r): the row's own columns (the struct `content_fingerprint` hashes), not the file name.
        found = con.execute(
            f"SELECT b, count(*), coalesce(sum(h), 0)::VARCHAR FROM "  # noqa: S608
            f"(SELECT {bucket} AS b, hash(r) AS h FROM {source}) GROUP BY b"
        ).fetchall()
        stats = {b: (n, h) for b, n, h in found}
        if sum(n for n, _ in stats.values()) != total:
            raise ValueError(f"{name}: its files would hold other rows than the table's {total}")
        if fingerprints is not None:
            fingerprints[name] = (
                _table_content(con, name, qualified)
                if name in RUN_BOOKKEEPING
                else _content_hash(columns, total, str(sum(int(h) for _, h in stats.values())))
            )
        # Hash buckets all have a file (an empty one holds the schema); months only those with rows.
        if layout == "hash":
            parts = [str(b) for b in range(buckets)]
        elif layout == "closed":
            parts = [f"open-{b}" for b in range(buckets)] + sorted(
                p for p in stats if not p.startswith("open-")
            )
        elif layout == "month":
            parts = sorted(stats)
        else:
            parts = ["0"]
        bad = [p for p in parts if not BUCKET_NAME.match(p)]
        if bad:
            raise ValueError(f"{name}: file names {bad!r} are not plain bucket names")
        (folder / name).mkdir()
        to_write = []
        for part in parts:
            rows, hashes = stats.get(part, (0, "0"))
            path = f"{name}/{part}.parquet"
            content = _file_fingerprint(
                columns, f"{layout}:{buckets}" if layout == "hash" else layout, rows, hashes
            )
            old = old_files.get(path)
            if (
                old
                and previous_folder is not None
                and old.get("content") == content
                and (previous_folder / path).is_file()
                and (previous_folder / path).stat().st_size == old.get("bytes")
            ):
                _carry(previous_folder / path, folder / path)
                files[path] = {**old, "path": path}
            else:
                to_write.append(part)
                files[path] = {"path": path, "table": name, "rows": rows, "content": content}
        if ref is not None and to_write and UNDATED not in to_write:  # the written months' rows only
            source = _split_source(con, name, qualified, columns, to_write)[0]
        _copy_buckets(
            con,
            source,
            folder,
            name,
            order,
            bucket if layout != "one" else None,
            to_write,
            {p: stats.get(p, (0, "0"))[0] for p in to_write},
        )
        for part in to_write:
            entry, path = files[f"{name}/{part}.parquet"], folder / name / f"{part}.parquet"
            entry.update(bytes=path.stat().st_size, sha256=sha256_file(path))
        mine = [files[f"{name}/{part}.parquet"] for part in parts]
        tables[name] = {
            "path": f"{name}/*.parquet",
            "rows": total,
            "bytes": sum(e["bytes"] for e in mine),
            "layout": layout,
            "bucket_by": column,
            "buckets": len(parts),
            **({"buckets_open": buckets} if layout == "closed" else {}),
            "written": len(to_write),
        }
    return tables, files


def _copy_buckets(
    con: duckdb.DuckDBPyConnection,
    source: str,
    folder: Path,
    name: str,
    order: str,
    bucket: str | None,
    to_write: list[str],
    rows: dict[str, int] | None = None,
) -> list[int]:
    """COPY the rows of these parts to their files (`bucket` None: the whole table to one), each in the
    table's key order (the same rows give the same bytes); `source` is the FROM clause of the table's rows
    as `r` (`_split_source`); `rows` the parts' row counts. Returns the rows of each temporary table sorted
    (one per group of parts, at most SORT_GROUP_ROWS unless one part holds more). zstd level 1: ~15% less
    encoding time than the default level 3 for about the same size (docs/benchmarks.md, snapshot
    profile); the COPY's encoding is most of a snapshot's time."""
    options = "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
    if not to_write:
        return []
    if bucket is None:
        path = (folder / name / f"{to_write[0]}.parquet").as_posix()
        # COPY cannot take the file name as a bound parameter; it is built from a fixed table name.
        con.execute(f"COPY (SELECT r.* FROM {source} ORDER BY {order}) TO '{path}' {options}")  # noqa: S608
        return []
    groups: list[list[str]] = [[]]
    in_group = 0
    for part in to_write:
        size = (rows or {}).get(part, 0)
        if groups[-1] and in_group + size > SORT_GROUP_ROWS:
            groups.append([])
            in_group = 0
        groups[-1].append(part)
        in_group += size
    sorted_rows = []
    sort = "ALL" if order == "ALL" else f"_bucket, {order}"
    try:
        for group in groups:
            # One pass over the table per group: the group's rows, sorted by part and then by key once, so
            # each COPY below reads only its own row groups, in order (DuckDB keeps insertion order). The
            # part names are checked plain names (BUCKET_NAME).
            wanted = ", ".join(f"'{p}'" for p in group)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _snapshot_rows AS SELECT * FROM "  # noqa: S608
                f"(SELECT {bucket} AS _bucket, r.* FROM {source}) WHERE _bucket IN ({wanted}) ORDER BY {sort}"
            )
            sorted_rows.append(con.execute("SELECT count(*) FROM _snapshot_rows").fetchall()[0][0])
            for part in group:
                path = (folder / name / f"{part}.parquet").as_posix()
                select = f"SELECT * EXCLUDE (_bucket) FROM _snapshot_rows WHERE _bucket = '{part}'"  # noqa: S608
                con.execute(f"COPY ({select}) TO '{path}' {options}")  # noqa: S608
    finally:
        con.execute("DROP TABLE IF EXISTS _snapshot_rows")
    return sorted_rows


def _fsync_folder(folder: Path) -> None:
    # The rename must not publish files whose bytes are still only in the page cache.
    for path in folder.iterdir():
        if path.is_dir():
            _fsync_folder(path)
        else:
            fsync_path(path)
    fsync_path(folder)


def write_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshots: Path,
    day: str,
    *,
    extra: dict | None = None,
    documents: dict[str, str] | None = None,
) -> Path:
    """Write a new version (`write_version`) and point `LATEST` at it; return its folder."""
    with publish_lock(snapshots):
        final = write_version(con, snapshots, day, extra=extra, documents=documents)
        set_latest(snapshots, final.name)
    return final


def write_version(
    con: duckdb.DuckDBPyConnection,
    snapshots: Path,
    day: str,
    *,
    extra: dict | None = None,
    documents: dict[str, str] | None = None,
) -> Path:
    """Write every public table, the card and the changelog to a new version folder atomically; return it.

    `LATEST` is not moved; the caller holds `publish_lock(snapshots)`.
    """
    snapshots.mkdir(parents=True, exist_ok=True)
    version = next_version(snapshots, day)
    previous = previous_version(snapshots)
    tmp = snapshots / f".tmp-{version}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    final = snapshots / version
    try:
        old_manifest = (
            json.loads((snapshots / previous / "manifest.json").read_text(encoding="utf-8"))
            if previous
            else None
        )
        content: dict[str, str] = {}
        tables, files = _write_tables(
            con, tmp, old_manifest, snapshots / previous if previous else None, content
        )
        diff = compare_snapshots(tmp, snapshots / previous if previous else None)
        # The caller's extras (crawl window, checks, quarantine) never replace the core fields.
        manifest = {
            "rubric_version": rubric_version(con),
            "crawl_window": {"from": None, "to": day},
            **(extra or {}),
            "format": MANIFEST_FORMAT,
            "version": version,
            "schema_version": SCHEMA_VERSION,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "previous_version": previous,
            "changes": diff.summary(),
            "tables": tables,
            "files": dict(sorted(files.items())),
            "content": dict(sorted(content.items())),
        }
        schemas = {name: parquet_columns(con, tmp / entry["path"]) for name, entry in tables.items()}
        docs = {
            "README.md": render_dataset_card(manifest, schemas),
            "CHANGELOG.md": render_diff(diff, version),
            **(documents or {}),
        }
        for doc_name, text in docs.items():
            if not is_safe_file_name(doc_name):
                raise ValueError(f"document name {doc_name!r} is not a plain file name")
            (tmp / doc_name).write_text(text, encoding="utf-8")
        manifest["documents"] = {
            d: {"path": d, "sha256": sha256_file(tmp / d), "bytes": (tmp / d).stat().st_size}
            for d in sorted(docs)
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
        _fsync_folder(tmp)
        os.rename(tmp, final)  # atomic on one filesystem; fails rather than overwrite an existing version
        fsync_path(snapshots)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def stage_latest(snapshots: Path, version: str) -> Path:
    """Write `.LATEST.<pid>.tmp` naming a version and flush it; `commit_latest` renames it to `LATEST`."""
    tmp = snapshots / f".LATEST.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(version + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:  # a full disk: nothing half-written stays
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def commit_latest(snapshots: Path, staged: Path) -> None:
    """Rename a staged `LATEST` into place (atomic, and no new bytes to write) and flush the folder."""
    os.replace(staged, snapshots / "LATEST")
    fsync_path(snapshots)


def set_latest(snapshots: Path, version: str) -> None:
    """Point `LATEST` at a version (atomic replace)."""
    commit_latest(snapshots, stage_latest(snapshots, version))


def manifest_entries(manifest: dict) -> list[dict]:
    """Every file a manifest lists (the tables' files, then documents), each with `path`, `bytes` and `sha256`.

    A version of format `openness-snapshot/2` lists its table files under `files` (`<table>/<n>.parquet`);
    an older one lists one file per table under `tables` (`<table>.parquet`).
    """
    data = manifest.get("files") if "files" in manifest else manifest.get("tables", {})
    return list((data or {}).values()) + list(manifest.get("documents", {}).values())


def table_files(folder: Path, manifest: dict, name: str) -> list[Path] | None:
    """The files of one table of a version folder as its manifest lists them (None when it lists no such
    table, or a listed file is missing or its path leaves the folder). `read_parquet` reads them as a list,
    or `folder / manifest["tables"][name]["path"]` as one glob."""
    entry = (manifest.get("tables") or {}).get(name)
    if not isinstance(entry, dict):
        return None
    if "files" in manifest:
        paths = [e.get("path") for e in (manifest.get("files") or {}).values() if e.get("table") == name]
    else:
        paths = [entry.get("path")]
    if not paths or not all(is_safe_path(p) and (folder / p).is_file() for p in paths):
        return None
    return [folder / p for p in sorted(paths)]


def verify_snapshot(folder: Path) -> dict:
    """Check every file listed in a snapshot's manifest against its size and sha256; raise on mismatch."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest_entries(manifest):
        path = (folder / entry["path"]).resolve()
        if folder.resolve() not in path.parents:
            raise ValueError(f"manifest path escapes the snapshot: {entry['path']!r}")
        if not path.exists():
            raise FileNotFoundError(f"{entry['path']} listed in the manifest is missing")
        if path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            raise ValueError(f"checksum mismatch for {entry['path']}")
    return manifest
