"""The DuckDB warehouse: the pipeline's working file, its migrations, and the serving copy users open.

DuckDB allows one writing process per file and a reader blocks a writer, so users never open the
working file: after each successful build the working file is copied and atomically renamed to
`openness.duckdb`, which users open read-only (an open session keeps the version it opened).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from pipelines.storage.raw import RawStore

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
SCHEMA_VERSION = 1


def sql_text(relative: str) -> str:
    """The text of a SQL file under `sql/` (e.g. `core/releases.sql`)."""
    path = (SQL_DIR / relative).resolve()
    if SQL_DIR.resolve() not in path.parents:
        raise ValueError(f"SQL path escapes sql/: {relative!r}")
    return path.read_text(encoding="utf-8")


class Warehouse:
    """The folders and files of one warehouse (default `warehouse/`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.work_db = self.root / "work.duckdb"
        self.serving_db = self.root / "openness.duckdb"
        self.raw = RawStore(self.root / "raw")
        self.snapshots = self.root / "snapshots"
        self.state = self.root / "state"
        self.quality = self.root / "quality"  # the validation ledger (pipelines/quality/ledger.py)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the working database, migrated to the current schema."""
        self.root.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.work_db), read_only=read_only)
        try:
            if not read_only:
                migrate(con)
            yield con
        finally:
            con.close()

    def publish_serving(self, con: duckdb.DuckDBPyConnection) -> Path:
        """Checkpoint the working file and copy it to the serving file by an atomic rename."""
        return self.start_serving_copy(con).commit()

    def start_serving_copy(self, con: duckdb.DuckDBPyConnection) -> ServingCopy:
        """Checkpoint the working file and start copying it to a temporary file beside the serving file, in a
        thread (the kernel copies; the caller goes on, reading the same file, e.g. to write the snapshot).
        `commit()` waits for it and renames it into place atomically; `abandon()` throws it away."""
        con.execute("CHECKPOINT")
        return ServingCopy(self.work_db, self.serving_db, self.root / f".openness.duckdb.{os.getpid()}.tmp")


class ServingCopy:
    """A copy of the working file on its way to becoming the serving file (Warehouse.start_serving_copy).

    Nothing may write to the working file meanwhile; `commit` checks that its size and modification time
    are those it had when the copy started, and copies it again if not."""

    def __init__(self, source: Path, target: Path, tmp: Path) -> None:
        self.source, self.target, self.tmp = source, target, tmp
        self._stat = self._identity()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._copy, name="serving-copy", daemon=True)
        self._thread.start()

    def _identity(self) -> tuple[int, int]:
        st = self.source.stat()
        return st.st_size, st.st_mtime_ns

    def _copy(self) -> None:
        try:
            shutil.copyfile(self.source, self.tmp)
            with open(self.tmp, "rb") as fh:
                os.fsync(fh.fileno())
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that commits
            self._error = exc

    def commit(self) -> Path:
        """Wait for the copy, check the source did not change meanwhile (else copy again), rename it into place."""
        self._thread.join()
        if self._error is not None:
            self.tmp.unlink(missing_ok=True)
            raise self._error
        if self._identity() != self._stat:  # written to during the copy: the copy may be torn
            self._copy()
            if self._error is not None:
                self.tmp.unlink(missing_ok=True)
                raise self._error
        os.replace(self.tmp, self.target)
        return self.target

    def abandon(self) -> None:
        """Wait for the copy and remove it; the serving file stays as it was."""
        self._thread.join()
        self.tmp.unlink(missing_ok=True)


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations in `sql/migrations/` that have not run yet; returns those applied."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute("CREATE TABLE IF NOT EXISTS meta.schema_migrations (name VARCHAR PRIMARY KEY, "
                "applied_at TIMESTAMPTZ DEFAULT now())")
    done = {r[0] for r in con.execute("SELECT name FROM meta.schema_migrations").fetchall()}
    applied = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        if path.name in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO meta.schema_migrations (name) VALUES (?)", [path.name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(path.name)
    return applied


def checked_table(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """`schema.name` if that table or view exists in the catalog (identifiers are never user input)."""
    schema, _, name = table.partition(".")
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                        [schema, name]).fetchone()[0]
    found += con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
                         [schema, name]).fetchone()[0]
    if not found:
        raise ValueError(f"unknown table {table!r}")
    return f'"{schema}"."{name}"'


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Replace a table's contents with `frame` in one transaction (columns matched by name)."""
    qualified = checked_table(con, table)
    con.execute("BEGIN")
    try:
        con.execute(f"DELETE FROM {qualified}")  # noqa: S608 - identifier checked against the catalog
        con.register("incoming_frame", frame)
        con.execute(f"INSERT INTO {qualified} BY NAME SELECT * FROM incoming_frame")  # noqa: S608
        con.unregister("incoming_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return frame.height


def table_counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    """Row counts of the given tables."""
    return {t: con.execute(f"SELECT count(*) FROM {checked_table(con, t)}").fetchone()[0]  # noqa: S608
            for t in tables}
