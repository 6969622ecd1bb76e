"""The validation ledger: which content of each table a suite last passed on, so that it is not validated twice.

The build's blocking checks validate every public table; the publish gate then needs the same verdict on
the same tables. Running every Great Expectations suite a second time is the largest single cost of a
daily cycle at scale (docs/benchmarks.md, "Daily cycle"). So each passing suite result is recorded with

- the content fingerprint of the frame the suite validated: the row count and the order-independent sum
  of DuckDB's `hash()` of each row of exactly the columns the checks read (the suite's query, so the
  orphan columns computed from joined tables are covered too); and
- the definition digest: every check (name, expectation, arguments), each derived column's Polars
  expression (serialised with its literals, e.g. the licence catalogue), the suite's query, and the
  versions of Great Expectations, DuckDB and Polars.

A recorded result is the base of the next validation only when its definition digest matches and it was
validated at a time no later than the new `now` (the only time-dependent checks are "not in the future"
upper bounds, which a later `now` can only loosen). Then:

- the same content fingerprint: the recorded pass is reused (nothing is validated again);
- a table with a `repo_id` column whose checks are all row-level or uniqueness over keys that include
  `repo_id` (`delta_allowed`): the ledger also keeps one fingerprint per repo (`repo_id`, rows, hash), and
  only the rows of the repos whose fingerprint changed or that are new are validated. Every other row is
  the very content that passed before, and no check of such a suite can pass on each repo's rows and fail
  on their union (a duplicate key has one `repo_id`, so both copies are in the changed repo's rows);
- anything else (no record, a failed record, another definition, other columns, an unreadable record):
  the whole table is validated.

Before any of that, the cheapest proof of all: each record also keeps the identity of the DuckDB file it
was validated on (path, device and inode, size and modification time of the file and of its write-ahead
log), taken before the suite read anything and kept only if it was the same after. A later validation
that finds the very same file identity, outside any open transaction of its connection, reuses the pass
without reading a row (the publish gate right after the build's checks: nothing wrote to the file
since). Any write to the file changes its modification time, so the content route above decides.

Records live in `warehouse/quality/<suite>.json` (and `<suite>.<token>.repos.parquet`), one per suite,
replaced atomically; deleting the folder is always safe (the next run validates everything).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.quality.suites import Check, Suite

LEDGER_FORMAT = 1
# The checks are built with this sentinel in place of `now`, so that the digest does not change every day.
_SENTINEL_NOW = datetime(9999, 12, 31, tzinfo=UTC)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def checked_columns(columns: list[str], suite: Suite, checks: list[Check]) -> list[str]:
    """The columns of the suite's query that its checks, examples and derived columns read, in query order."""
    wanted = {c for check in checks for c in check.columns()} | set(suite.key)
    wanted |= {c for d in suite.derived for c in d.inputs}
    return [c for c in columns if c in wanted]


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


# Checks that hold for a table when they hold for each repo's rows (uniqueness only over keys with repo_id).
ROW_LEVEL = {
    "ExpectColumnValuesToNotBeNull",
    "ExpectColumnValuesToBeNull",
    "ExpectColumnValuesToBeInSet",
    "ExpectColumnValuesToBeBetween",
    "ExpectColumnPairValuesAToBeGreaterThanB",
}
UNIQUENESS = {"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"}


def delta_allowed(suite: Suite, checks: list[Check], columns: list[str]) -> bool:
    """Whether validating only the changed repos' rows decides the whole table (see the module docstring)."""
    return batch_allowed(checks, columns, "repo_id")


def batch_allowed(checks: list[Check], columns: list[str], key: str) -> bool:
    """Whether the rows can be validated in batches of whole `key` values, each batch on its own: every
    check is row-level, or a uniqueness whose columns include the key (duplicates share their key)."""
    if key not in columns:
        return False
    for check in checks:
        if "mostly" in check.kwargs:  # a share of rows: depends on the rows not validated again
            return False
        if check.expectation in UNIQUENESS and key in check.columns():
            continue
        if check.expectation not in ROW_LEVEL:
            return False
    return True


def _row_hash(columns: list[str]) -> str:
    # Identifiers only (the query's own column names, quoted).
    return f"hash({', '.join(_quote(c) for c in columns)})::HUGEINT"


def fingerprint(con: duckdb.DuckDBPyConnection, suite: Suite, columns: list[str]) -> dict[str, Any]:
    """Row count and order-independent content hash of `columns` of the suite's query (one DuckDB scan)."""
    if not columns:
        raise LookupError(f"{suite.table} has none of the columns its checks read")
    rows, digest = (
        con.sql(suite.query)
        .aggregate(f"count(*) AS n, coalesce(sum({_row_hash(columns)}), 0)::VARCHAR AS h")
        .fetchall()[0]
    )
    return {"columns": columns, "rows": int(rows), "hash": digest}


@dataclass
class RepoPrints:
    """The per-repo fingerprints of a table, held in a temporary DuckDB table of the connection."""

    con: duckdb.DuckDBPyConnection
    name: str
    content: dict[str, Any]

    def changed_since(self, base: Path, into: str) -> int:
        """Into temporary table `into`: the repo ids whose rows differ from `base` (a repos file) or are new."""
        # A temporary view: validating must never write to the database file (its identity is the proof).
        literal = "'" + str(base).replace("'", "''") + "'"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {into}_base AS SELECT * FROM read_parquet({literal})")  # noqa: S608
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {into} AS SELECT c.repo_id FROM {self.name} c
            WHERE NOT EXISTS (SELECT 1 FROM {into}_base b WHERE b.repo_id IS NOT DISTINCT FROM c.repo_id
                              AND b.n = c.n AND b.h = c.h)""")  # noqa: S608 - generated identifiers only
        self.con.execute(f"DROP VIEW {into}_base")
        return self.con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0]  # noqa: S608

    def write(self, path: Path) -> None:
        self.con.table(self.name).write_parquet(str(path), compression="zstd")


def repo_fingerprints(con: duckdb.DuckDBPyConnection, suite: Suite, columns: list[str]) -> RepoPrints:
    """One (repo_id, rows, hash) per repo of the suite's query, in a temporary table, and the table's totals
    (the same `content` as `fingerprint`: the totals are the sums of the per-repo figures)."""
    name = f"_ledger_{suite.name}_repos"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT repo_id, count(*)::BIGINT AS n, "  # noqa: S608
        f"sum({_row_hash(columns)}) AS h FROM ({suite.query}) GROUP BY repo_id"
    )
    rows, digest = con.execute(
        f"SELECT coalesce(sum(n), 0), coalesce(sum(h), 0)::VARCHAR FROM {name}"  # noqa: S608
    ).fetchall()[0]
    con.execute(f"ALTER TABLE {name} ALTER h TYPE VARCHAR")
    return RepoPrints(con, name, {"columns": columns, "rows": int(rows), "hash": digest})


def _expression(suite: Suite, columns: list[str]) -> list[str]:
    out = []
    for derived in suite.derived:
        present = [c for c in derived.inputs if c in columns]
        if derived.inputs[0] not in present:
            continue
        expr = derived.expr(pl.DataFrame(schema={c: pl.String for c in present}))
        try:
            out.append(expr.meta.serialize(format="json"))
        except Exception:  # noqa: BLE001 - an expression Polars cannot serialise is described by its text
            out.append(str(expr))
    return out


def definition_digest(suite: Suite, columns: list[str]) -> str:
    """A digest of everything besides the data that decides the suite's verdict (see the module docstring)."""
    checks = [
        {"name": c.name, "expectation": c.expectation, "kwargs": c.kwargs}
        for c in suite.checks(_SENTINEL_NOW)
    ]
    payload = {
        "format": LEDGER_FORMAT,
        "suite": suite.name,
        "query": suite.query,
        "checks": checks,
        "derived": _expression(suite, columns),
        "versions": {d: _version(d) for d in ("great-expectations", "duckdb", "polars")},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def file_identity(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """What identifies the bytes of the connection's database file now (see the module docstring); None for
    an in-memory database, or inside an open transaction (its uncommitted changes are not in the file)."""
    # Outside a transaction every statement has a transaction id of its own; inside one they share it.
    (first,) = con.execute("SELECT txid_current()").fetchall()[0]
    path, second = con.execute(
        "SELECT path, txid_current() FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0]
    if first == second or not path:
        return None
    try:
        st = os.stat(path)
        wal = os.stat(f"{path}.wal") if os.path.exists(f"{path}.wal") else None
    except OSError:
        return None
    return {
        "path": str(Path(path).resolve()),
        "device": st.st_dev,
        "inode": st.st_ino,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "wal": [wal.st_size, wal.st_mtime_ns] if wal else None,
    }


@dataclass
class Base:
    """A recorded passing result that a new validation may build on."""

    content: dict[str, Any]
    validated_at: str
    recorded_at: str | None
    result: dict
    repos: Path | None  # the per-repo fingerprints file, if the table has them
    file: dict | None = None  # the identity of the database file it was validated on

    def reused(self, by: str = "content") -> dict:
        """The recorded result, marked as reused (when it was validated and recorded, and how it was known to
        be the same: `file`, the same database file untouched since, or `content`, the same fingerprint)."""
        return {
            **self.result,
            "reused": {"validated_at": self.validated_at, "recorded_at": self.recorded_at, "by": by},
        }


class Ledger:
    """The folder of validation records of one warehouse."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, suite: Suite) -> Path:
        return self.folder / f"{suite.name}.json"

    def _repo_files(self, suite: Suite) -> list[Path]:
        return sorted(self.folder.glob(f"{suite.name}.*.repos.parquet"))

    def forget(self, suite: Suite) -> None:
        """Remove the suite's record (after a failure: it must never be built on)."""
        self._path(suite).unlink(missing_ok=True)
        for old in self._repo_files(suite):
            old.unlink(missing_ok=True)

    def record(
        self,
        suite: Suite,
        *,
        content: dict,
        digest: str,
        now: datetime,
        result: dict,
        repos: RepoPrints | None = None,
        file: dict | None = None,
    ) -> None:
        """Keep a passing result (with the per-repo fingerprints, if any); a failing one removes the record."""
        if not result.get("success"):
            self.forget(suite)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        keep = None
        if repos is not None:
            keep = self.folder / f"{suite.name}.{uuid.uuid4().hex}.repos.parquet"
            repos.write(keep)
        entry = {
            "format": LEDGER_FORMAT,
            "suite": suite.name,
            "table": suite.table,
            "content": content,
            "definition": digest,
            "validated_at": now.isoformat(),
            "recorded_at": datetime.now(UTC).isoformat(),
            "repos": keep.name if keep else None,
            "file": file,
            "result": result,
        }
        self._write(suite, entry)  # the record now names the new repos file; the older ones can go
        for old in self._repo_files(suite):
            if keep is None or old != keep:
                old.unlink(missing_ok=True)

    def same_file(self, suite: Suite, file: dict) -> None:
        """Note in the suite's record that its content, found unchanged, is also in this database file now."""
        path = self._path(suite)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        entry["file"] = file
        self._write(suite, entry)

    def _write(self, suite: Suite, entry: dict) -> None:
        """Replace the suite's record atomically (a reader sees the old record or the new one, never half)."""
        path = self._path(suite)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry, default=str), encoding="utf-8")
        os.replace(tmp, path)

    def base(self, suite: Suite, *, digest: str, now: datetime) -> Base | None:
        """The recorded pass for this definition, validated no later than `now`; None if there is none."""
        try:
            entry = json.loads(self._path(suite).read_text(encoding="utf-8"))
            usable = (
                entry.get("format") == LEDGER_FORMAT
                and entry["definition"] == digest
                and datetime.fromisoformat(entry["validated_at"]) <= now
                and entry["result"].get("success") is True
            )
            repos = self.folder / entry["repos"] if entry.get("repos") else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no record, or one that cannot be read: validate again
        if not usable:
            return None
        if repos is not None and (repos.parent != self.folder or not repos.is_file()):
            repos = None
        file = entry.get("file") if isinstance(entry.get("file"), dict) else None
        return Base(
            entry["content"], entry["validated_at"], entry.get("recorded_at"), entry["result"], repos, file
        )

    def lookup(self, suite: Suite, *, content: dict, digest: str, now: datetime) -> dict | None:
        """The recorded passing result for exactly this content and definition, validated no later than `now`."""
        base = self.base(suite, digest=digest, now=now)
        if base is None or base.content != content:
            return None
        return base.reused()
