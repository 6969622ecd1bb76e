"""The DuckDB warehouse: the pipeline's working file, its migrations, and the serving file users open.

DuckDB allows one writing process per file and a reader blocks a writer, so users never open the
working file. After each publish a small serving file, `openness.duckdb`, is written next to it and
atomically renamed into place: it holds views over the published snapshot version's Parquet files (by
absolute path; a version is immutable, so an open session keeps reading the version it opened) and a copy
of the small tables that are not in a snapshot (the marts, `core.quarantine`, `core.repo_presence`). It
names its snapshot version in `meta.serving` (`Warehouse.serving_version`). Users open it read-only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import polars as pl

from pipelines.storage.raw import RawStore
from pipelines.storage.resources import connect as connect_duckdb

# `pipelines/sql` (a link to the top-level `sql/` in the repository, package data in a wheel): the same
# path in a source checkout, an editable install and an installed wheel.
SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
SCHEMA_VERSION = 1
# + "<pid>.tmp" (and DuckDB's "<pid>.tmp.wal" beside it): a serving file being written
SERVING_TMP_PREFIX = ".openness.duckdb."
# One row: the snapshot version whose files the serving file's views read.
SERVING_DDL = """CREATE TABLE {db}.meta.serving (
    snapshot_version VARCHAR NOT NULL, published_at TIMESTAMPTZ NOT NULL)"""
# The schemas users query on the serving file: the snapshot's tables are views, the rest is copied.
SERVED_SCHEMAS = ("core", "marts")
SERVING_ALIAS = "serving_build"  # the new serving file, attached to the working connection while written


def sql_text(relative: str) -> str:
    """The text of a SQL file under `sql/` (e.g. `core/releases.sql`)."""
    path = (SQL_DIR / relative).resolve()
    if SQL_DIR.resolve() not in path.parents:
        raise ValueError(f"SQL path escapes sql/: {relative!r}")
    return path.read_text(encoding="utf-8")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `schema.name` is a table of the connection's current database."""
    schema, _, name = table.partition(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
    )


RAW_URL_VARIABLE = "OPENNESS_RAW_URL"


def raw_location(root: Path, raw_url: str | None = None) -> str | Path:
    """Where a warehouse's raw layer lives: `raw_url` if given, else `$OPENNESS_RAW_URL` if set (a folder or
    an fsspec URL such as `s3://bucket/raw`), else `<root>/raw`."""
    chosen = raw_url or os.environ.get(RAW_URL_VARIABLE, "").strip()
    if not chosen:
        return Path(root) / "raw"
    if "://" in chosen and not chosen.startswith("file://"):
        return chosen
    return Path(chosen.removeprefix("file://")).expanduser().resolve()  # a folder: absolute, as the warehouse


class Warehouse:
    """The folders and files of one warehouse (default `warehouse/`). The DuckDB files, the state and the
    snapshots are always local; the raw layer may live elsewhere (`raw_location`)."""

    def __init__(self, root: Path, raw_url: str | None = None) -> None:
        self.root = Path(root).resolve()
        self.work_db = self.root / "work.duckdb"
        self.serving_db = self.root / "openness.duckdb"
        self.raw = RawStore(raw_location(self.root, raw_url))
        self.snapshots = self.root / "snapshots"
        self.state = self.root / "state"
        self.quality = self.root / "quality"  # the validation ledger (pipelines/quality/ledger.py)
        self.duckdb_temp = self.root / "work.duckdb.tmp"  # DuckDB's spill folder (its default name)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working database, migrated to the current schema.

        DuckDB's memory limit and threads follow the machine or the environment
        (pipelines/storage/resources.py); what does not fit in memory spills to `work.duckdb.tmp/` in the
        warehouse."""
        self.root.mkdir(parents=True, exist_ok=True)
        con = connect_duckdb(self.work_db, read_only=read_only, temp_directory=self.duckdb_temp)
        try:
            if not read_only:
                migrate(con)
            yield con
        finally:
            con.close()

    def publish_serving(
        self, con: duckdb.DuckDBPyConnection, version: str, views: dict[str, list[Path]]
    ) -> Path:
        """Write a new serving file and put it in place by an atomic rename; return its path.

        `views` maps `schema.table` to the Parquet files of the snapshot `version` that hold it: each becomes
        a view over those files (absolute paths). Every other table of the working file's `core` and `marts`
        schemas is copied (the tables a snapshot leaves out: small), and `meta.serving` names `version`.
        Nothing the size of the working file is copied. A failed write (a full disk) removes its partial
        `.openness.duckdb.<pid>.tmp` (and its `.wal`) and leaves the serving file as it was; those a killed
        process left are removed by the next publish (pipelines/publish/cleanup.py).
        """
        tmp = self.root / f"{SERVING_TMP_PREFIX}{os.getpid()}.tmp"
        wal = tmp.with_name(tmp.name + ".wal")
        try:
            tmp.unlink(missing_ok=True)  # left by an earlier process with this pid: not a database to extend
            wal.unlink(missing_ok=True)
            con.execute(f"ATTACH '{_sql_path(tmp)}' AS {SERVING_ALIAS}")
            try:
                with transaction(con):  # one commit: the file's WAL is written and synced once
                    _fill_serving(con, version, views)
                con.execute(f"CHECKPOINT {SERVING_ALIAS}")
            finally:
                with suppress(duckdb.Error):  # after a failure the error that caused it matters
                    con.execute(f"DETACH {SERVING_ALIAS}")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.serving_db)
        except BaseException:
            tmp.unlink(missing_ok=True)
            wal.unlink(missing_ok=True)
            raise
        fsync_path(self.root)  # the rename is on disk before anything that follows it (LATEST)
        return self.serving_db

    def serving_version(self) -> str | None:
        """The snapshot version the serving file holds (`meta.serving`), None without one."""
        if not self.serving_db.is_file():
            return None
        with duckdb.connect(str(self.serving_db), read_only=True) as con:
            try:
                row = con.execute("SELECT snapshot_version FROM meta.serving").fetchone()
            except duckdb.CatalogException:  # a serving file published before versions were recorded
                return None
        return row[0] if row else None


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal's body (quotes doubled)."""
    return path.resolve().as_posix().replace("'", "''")


def _quoted(table: str) -> str:
    schema, _, name = table.partition(".")
    return f'"{schema}"."{name}"'


def _fill_serving(con: duckdb.DuckDBPyConnection, version: str, views: dict[str, list[Path]]) -> None:
    """Create the serving file's schemas, views, copied tables and `meta.serving` in the attached file."""
    db = SERVING_ALIAS
    served = set(views)
    copied = [
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND list_contains(?, schema_name) ORDER BY 1, 2",
            [list(SERVED_SCHEMAS)],
        ).fetchall()
        if f"{schema}.{name}" not in served
    ]
    for schema in sorted({t.partition(".")[0] for t in [*served, *copied]} | {"meta"}):
        con.execute(f'CREATE SCHEMA {db}."{schema}"')
    for table, files in sorted(views.items()):
        if not files:
            raise ValueError(f"no Parquet file for {table} in snapshot version {version}")
        listed = ", ".join(f"'{_sql_path(f)}'" for f in files)
        # Identifiers come from the table registry and paths from the manifest, checked by the caller.
        view = f"CREATE VIEW {db}.{_quoted(table)} AS SELECT * FROM read_parquet([{listed}])"  # noqa: S608
        con.execute(view)
    for table in copied:
        con.execute(f"CREATE TABLE {db}.{_quoted(table)} AS SELECT * FROM {_quoted(table)}")  # noqa: S608
    con.execute(SERVING_DDL.format(db=db))
    con.execute(f"INSERT INTO {db}.meta.serving VALUES (?, now())", [version])  # noqa: S608 - a fixed alias


def fsync_path(path: Path) -> None:
    """Flush a file's bytes, or a folder's entries (a rename in it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN before the block, COMMIT after it; ROLLBACK and re-raise when it raises (a failed block leaves
    nothing half-written and the connection usable)."""
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        with suppress(duckdb.Error):  # the original error matters, not a failed rollback
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def migration_files(sql_dir: Path | None = None) -> list[Path]:
    """The migration files in `<sql_dir>/migrations/` (default: the package's), in the order they apply;
    raises when there are none (a package installed without its SQL files must not pass for migrated)."""
    folder = (sql_dir or SQL_DIR) / "migrations"
    files = sorted(folder.glob("*.sql"))
    if not files:
        raise FileNotFoundError(f"no migrations found in {folder}: the package's SQL files are missing")
    return files


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations in `sql/migrations/` that have not run yet; returns those applied."""
    files = migration_files()  # before touching the database: no migrations is an error, not "up to date"
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS meta.schema_migrations (name VARCHAR PRIMARY KEY, "
        "applied_at TIMESTAMPTZ DEFAULT now())"
    )
    done = {r[0] for r in con.execute("SELECT name FROM meta.schema_migrations").fetchall()}
    applied = []
    for path in files:
        if path.name in done:
            continue
        with transaction(con):
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO meta.schema_migrations (name) VALUES (?)", [path.name])
        applied.append(path.name)
    return applied


def checked_table(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """`schema.name` if that table or view exists in the catalog (identifiers are never user input)."""
    schema, _, name = table.partition(".")
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
    ).fetchone()[0]
    found += con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?", [schema, name]
    ).fetchone()[0]
    if not found:
        raise ValueError(f"unknown table {table!r}")
    return f'"{schema}"."{name}"'


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Replace a table's contents with `frame` in one transaction (columns matched by name)."""
    qualified = checked_table(con, table)
    with transaction(con):
        con.execute(f"DELETE FROM {qualified}")  # noqa: S608 - identifier checked against the catalog
        con.register("incoming_frame", frame)
        try:
            con.execute(f"INSERT INTO {qualified} BY NAME SELECT * FROM incoming_frame")  # noqa: S608
        finally:
            con.unregister("incoming_frame")
    return frame.height


def table_counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    """Row counts of the given tables."""
    return {
        t: con.execute(f"SELECT count(*) FROM {checked_table(con, t)}").fetchone()[0]  # noqa: S608
        for t in tables
    }


def preview_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], order: str, limit: int = 10
) -> pl.DataFrame:
    """The first rows of a table by `order` (newest first for timestamps), for run metadata."""
    qualified = checked_table(con, table)
    schema, _, name = table.partition(".")
    known = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    }
    if order not in known or any(c not in known for c in columns):
        raise ValueError(f"unknown columns for {table}: {columns}, {order}")
    cols = ", ".join(f'"{c}"' for c in columns)  # names checked against the catalog above
    direction = "DESC" if order.endswith("_at") else "ASC"
    query = f'SELECT {cols} FROM {qualified} ORDER BY "{order}" {direction} NULLS LAST LIMIT ?'  # noqa: S608
    return con.sql(query, params=[limit]).pl()
