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

The publish gate reuses a recorded result only when both match and the result was validated at a time no
later than the gate's `now` (the only time-dependent checks are "not in the future" upper bounds, which a
later `now` can only loosen). Anything else (no record, a failed record, another fingerprint, a changed
definition, an unreadable record) runs the suite again. Records live in `warehouse/quality/<suite>.json`,
one per suite, replaced atomically; deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
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


def fingerprint(con: duckdb.DuckDBPyConnection, suite: Suite, columns: list[str]) -> dict[str, Any]:
    """Row count and order-independent content hash of `columns` of the suite's query (one DuckDB scan)."""
    if not columns:
        raise LookupError(f"{suite.table} has none of the columns its checks read")
    # Identifiers only (the query's own column names, quoted); the query is the suite's static SQL.
    row_hash = f"hash({', '.join(_quote(c) for c in columns)})"
    rows, digest = con.sql(suite.query).aggregate(
        f"count(*) AS n, coalesce(sum({row_hash}::HUGEINT), 0)::VARCHAR AS h").fetchall()[0]
    return {"columns": columns, "rows": int(rows), "hash": digest}


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
    checks = [{"name": c.name, "expectation": c.expectation, "kwargs": c.kwargs} for c in suite.checks(_SENTINEL_NOW)]
    payload = {"format": LEDGER_FORMAT, "suite": suite.name, "query": suite.query, "checks": checks,
               "derived": _expression(suite, columns),
               "versions": {d: _version(d) for d in ("great-expectations", "duckdb", "polars")}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class Ledger:
    """The folder of validation records of one warehouse."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, suite: Suite) -> Path:
        return self.folder / f"{suite.name}.json"

    def record(self, suite: Suite, *, content: dict, digest: str, now: datetime, result: dict) -> None:
        """Keep a passing result (a failing one removes any earlier record: it must never be reused)."""
        path = self._path(suite)
        if not result.get("success"):
            path.unlink(missing_ok=True)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = {"format": LEDGER_FORMAT, "suite": suite.name, "table": suite.table, "content": content,
                 "definition": digest, "validated_at": now.isoformat(), "recorded_at": datetime.now(UTC).isoformat(),
                 "result": result}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry, default=str), encoding="utf-8")
        os.replace(tmp, path)

    def lookup(self, suite: Suite, *, content: dict, digest: str, now: datetime) -> dict | None:
        """The recorded passing result for exactly this content and definition, validated no later than `now`."""
        try:
            entry = json.loads(self._path(suite).read_text(encoding="utf-8"))
            validated_at = datetime.fromisoformat(entry["validated_at"])
            matches = (entry.get("format") == LEDGER_FORMAT and entry["content"] == content
                       and entry["definition"] == digest and validated_at <= now
                       and entry["result"].get("success") is True)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no record, or one that cannot be read: validate again
        return {**entry["result"], "reused": {"validated_at": entry["validated_at"],
                                              "recorded_at": entry.get("recorded_at")}} if matches else None
