"""Running a quality suite on a warehouse table: DuckDB -> Polars -> pandas -> Great Expectations.

GX has no Polars datasource and its SQL route is broken on DuckDB 2.0 (stack-notes 4.2), so each suite's
frame is read with DuckDB, converted to pandas and validated in an ephemeral GX context (no files, no
data docs, no progress bars). GX is imported on first use only: the import alone takes ~5 s.
The result is a plain dict; its `metadata` is JSON-safe and maps 1:1 onto a Dagster AssetCheckResult.
"""

from __future__ import annotations

import gc
import math
import os
import time
import warnings
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import polars as pl

from pipelines.quality.ledger import (
    Ledger,
    _quote,
    batch_allowed,
    checked_columns,
    definition_digest,
    delta_allowed,
    file_identity,
    fingerprint,
    repo_fingerprints,
)
from pipelines.quality.suites import SUITES, Check, Suite, suite_for

MAX_EXAMPLES = 5
# The rows validated in one GX pass. A suite whose checks are row-level or keyed by repo
# (`ledger.delta_allowed`) is validated in batches of whole repos, a batch starting every this many rows
# (it ends with the repo that crosses the mark, so one large repo makes a larger batch): memory stays
# bounded whatever the table's size (the pandas copy and GX's own frames take ~0.5 KB a row; the 20M rows
# of core.disclosures at 300,000 models peaked at 11 GB in one pass). Other suites take one pass.
# This is the default; callers pass `batch_rows` (the Dagster checks take it from the quality resource's
# field of the same name: more memory, fewer passes; 0: one pass whatever the size).
BATCH_ROWS = 4_000_000
_GX: dict[str, Any] = {}  # the imported GX modules, once per process


def _gx() -> dict[str, Any]:
    # Set on every call, before any import: GX must never decide on its own to report usage.
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    if not _GX:
        started = time.perf_counter()
        import great_expectations as gx
        import great_expectations.expectations as gxe

        _GX.update(gx=gx, gxe=gxe, import_seconds=round(time.perf_counter() - started, 3))
    return _GX


def present_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """`schema.name` of every table and view in the warehouse."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views()"
    ).fetchall()
    return {r[0] for r in rows}


def json_safe(value: Any) -> Any:
    """A value as JSON can carry it (timestamps as ISO text, NaN/NaT as null, numpy scalars unboxed)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else (value if math.isfinite(value) else str(value))
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars, np.datetime64
        return json_safe(value.item())
    return str(value)


def _load(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    checks: list[Check],
    only: str | None = None,
    key: str = "repo_id",
) -> pl.DataFrame:
    """The suite's frame, only the columns its checks and examples read (list columns never reach pandas);
    with `only` (a temporary table of `key` values, repo ids by default), only those values' rows."""
    rel = con.sql(suite.query)
    columns = checked_columns(rel.columns, suite, checks)
    if not columns:
        raise LookupError(f"{suite.table} has none of the columns its checks read")
    if only is not None:
        # IN, not a semi join: DuckDB then filters before the query's own joins (3x faster per batch).
        # A null repo_id never matches IN, so the rows without one are asked for apart.
        k = _quote(key)
        nulls = con.execute(f"SELECT count(*) FROM {only} WHERE {k} IS NULL").fetchall()[0][0] > 0  # noqa: S608
        rel = con.sql(
            f"SELECT q.* FROM ({suite.query}) q WHERE q.{k} IN (SELECT {k} FROM {only})"  # noqa: S608
            + (f" OR q.{k} IS NULL" if nulls else "")
        )
    frame = rel.select(*['"' + c.replace('"', '""') + '"' for c in columns]).pl()
    for derived in suite.derived:
        if derived.inputs[0] in frame.columns:
            frame = frame.with_columns(derived.expr(frame).alias(derived.column))
    return frame


def _missing(check: Check, frame: pl.DataFrame, suite: Suite) -> list[str]:
    """Columns a check needs that the table lacks (a derived column is reported by its input)."""
    inputs = {d.column: d.inputs[0] for d in suite.derived}
    return [inputs.get(c, c) for c in check.columns() if c not in frame.columns]


def _examples(raw: dict, frame: pl.DataFrame, suite: Suite, check: Check) -> list[dict]:
    """Up to MAX_EXAMPLES distinct failing rows: their key and the checked columns, read back from the frame."""
    inputs = {d.column: d.inputs[0] for d in suite.derived}
    shown = [*suite.key, *[inputs.get(c, c) for c in check.columns() if inputs.get(c, c) not in suite.key]]
    rows = [
        int(i)
        for i in raw.get("partial_unexpected_index_list") or []
        if hasattr(i, "__index__") and 0 <= int(i) < frame.height
    ]
    if not rows:  # no row positions reported: fall back to GX's own sample of values
        return [{"value": json_safe(v)} for v in (raw.get("partial_unexpected_list") or [])[:MAX_EXAMPLES]]
    out: list[dict] = []
    for i in rows:
        row = frame.row(i, named=True)
        example = {c: json_safe(row[c]) for c in shown if c in row}
        if example not in out:
            out.append(example)
        if len(out) == MAX_EXAMPLES:
            break
    return out


def _error(info: dict | None) -> str | None:
    # GX reports either {exception_message, ...} or {metric_id: {exception_message, ...}}.
    if not info:
        return None
    if info.get("raised_exception") or info.get("exception_message"):
        return info.get("exception_message")
    found = [
        v.get("exception_message")
        for v in info.values()
        if isinstance(v, dict) and v.get("exception_message")
    ]
    return "; ".join(found) or None


def _validate(suite: Suite, checks: list[Check], frame: pl.DataFrame) -> tuple[list[dict], dict[str, float]]:
    """Run the checks through GX on the pandas copy of `frame`; one outcome per check."""
    timings: dict[str, float] = {}
    lib = _gx()
    gx, gxe = lib["gx"], lib["gxe"]
    started = time.perf_counter()
    data = frame.to_pandas()
    timings["to_pandas"] = time.perf_counter() - started
    started = time.perf_counter()
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    expectations = [
        getattr(gxe, c.expectation)(**c.kwargs, description=c.description, meta={"check": c.name})
        for c in checks
    ]
    batch = (
        ctx.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("all")
    )
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(
            name=suite.name,
            data=batch,
            suite=ctx.suites.add(gx.ExpectationSuite(name=suite.name, expectations=expectations)),
        )
    )
    with warnings.catch_warnings():
        # GX's pair expectations read tz-aware columns through Series.values (pandas 3.1 deprecates it);
        # both sides are UTC, so the comparison is unaffected.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
        result = definition.run(batch_parameters={"dataframe": data}, result_format="SUMMARY")
    timings["validate"] = time.perf_counter() - started
    by_name = {r.expectation_config.meta.get("check"): r for r in result.results}
    outcomes = []
    for check in checks:
        r = by_name[check.name]
        raw = r.result or {}
        outcomes.append(
            json_safe(
                {
                    "check": check.name,
                    "expectation": r.expectation_config.type,
                    "columns": list(check.columns()),
                    "description": check.description,
                    "success": bool(r.success),
                    "unexpected_count": raw.get("unexpected_count"),
                    "unexpected_percent": raw.get("unexpected_percent"),
                    "examples": [] if r.success else _examples(raw, frame, suite, check),
                    "error": _error(r.exception_info),
                    "_counted": (raw.get("element_count"), raw.get("missing_count")),
                }
            )
        )
    # GX's objects of a pass form reference cycles that keep its pandas copy alive, and Python's collector
    # seldom reaches them (the copy's memory does not count towards its thresholds): ~150 MB stayed resident
    # per pass of 1M rows, and at 3,000,000 models the 51 passes of core.disclosures grew to 21 GB and
    # the next suite was stopped by the OOM killer. Collected here, after every pass.
    del result, by_name, definition, batch, ctx, data
    gc.collect()
    return outcomes, timings


def _merge(parts: list[list[dict]]) -> list[dict]:
    """One outcome per check from the outcomes of several batches of whole repos: it passes when every batch
    passed; the unexpected rows are summed (their share recomputed over all rows, as GX computes it: of the
    non-missing values), the examples are the first batches' and the first error is kept."""
    merged = []
    for same in zip(*parts, strict=True):
        first = same[0]
        counts = [o["unexpected_count"] for o in same if o["unexpected_count"] is not None]
        elements = [o["_counted"] for o in same]
        unexpected = sum(counts) if counts else None
        percent = None
        if unexpected is not None and all(e is not None and m is not None for e, m in elements):
            denominator = sum(e - m for e, m in elements)
            percent = 100.0 * unexpected / denominator if denominator else None  # GX: no values, no share
        elif unexpected is not None:  # no counts reported: weigh each batch's share by its rows
            shares = [
                (o["unexpected_percent"], e)
                for o, (e, _) in zip(same, elements, strict=True)
                if o["unexpected_percent"] is not None and e
            ]
            total = sum(e for _, e in shares)
            percent = sum(p * e for p, e in shares) / total if total else None
        examples: list[dict] = []
        for outcome in same:
            for example in outcome["examples"]:
                if example not in examples and len(examples) < MAX_EXAMPLES:
                    examples.append(example)
        errors = [o["error"] for o in same if o["error"]]
        merged.append(
            {
                **first,
                "success": all(o["success"] for o in same),
                "unexpected_count": unexpected,
                "unexpected_percent": percent,
                "examples": examples,
                "error": errors[0] if errors else None,
                "_counted": (sum(e or 0 for e, _ in elements), sum(m or 0 for _, m in elements)),
            }
        )
    return merged


def _plan(
    con: duckdb.DuckDBPyConnection, suite: Suite, counts: str, batch_rows: int, key: str = "repo_id"
) -> int:
    """Assign the repos of `counts` (repo_id, n), in repo order, to batches of whole repos, a batch starting
    every `batch_rows` rows (it ends with the repo that crosses the mark), in a temporary table
    `_gx_<suite>_plan(repo_id, batch)`; returns the number of batches."""
    plan = f"_gx_{suite.name}_plan"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {plan} AS
        WITH c AS (SELECT {_quote(key)}, n,
                   sum(n) OVER (ORDER BY {_quote(key)} NULLS FIRST ROWS UNBOUNDED PRECEDING) - n AS before
                   FROM {counts})
        SELECT {_quote(key)}, dense_rank() OVER (ORDER BY before // {int(batch_rows)}) - 1 AS batch FROM c""")  # noqa: S608
    return con.execute(f"SELECT coalesce(max(batch) + 1, 0) FROM {plan}").fetchall()[0][0]  # noqa: S608


def _validate_batches(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    checks: list[Check],
    batches: int,
    timings: dict[str, float],
    key: str = "repo_id",
) -> tuple[pl.DataFrame, int, list[dict]]:
    """Validate the repos of `_gx_<suite>_plan` batch by batch; returns an empty frame with the columns read
    (they decide which checks can run), the rows validated and the merged outcomes."""
    plan, only = f"_gx_{suite.name}_plan", f"_gx_{suite.name}_batch"
    first: pl.DataFrame | None = None
    rows = 0
    parts: list[list[dict]] = []
    runnable: list[Check] = []
    for batch in range(batches):
        step = time.perf_counter()
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {only} AS SELECT {_quote(key)} FROM {plan} WHERE batch = ?",  # noqa: S608
            [batch],
        )
        frame = _load(con, suite, checks, only=only, key=key)
        timings["load"] = timings.get("load", 0.0) + time.perf_counter() - step
        if first is None:
            first = frame.clear()  # its columns only: no batch is held beyond its own validation
            runnable = [c for c in checks if not _missing(c, frame, suite)]
        rows += frame.height
        if runnable:
            outcomes, gx_timings = _validate(suite, runnable, frame)
            parts.append(outcomes)
            for name, seconds in gx_timings.items():
                timings[name] = timings.get(name, 0.0) + seconds
        del frame
    timings["batches"] = batches
    assert first is not None  # noqa: S101 - batches >= 1
    return first, rows, _merge(parts) if parts else []


def _result(
    suite: Suite,
    *,
    present: bool,
    rows: int,
    outcomes: list[dict],
    started: float,
    timings: dict[str, float],
    error: str | None = None,
    extra: dict | None = None,
) -> dict:
    failed = [o for o in outcomes if not o["success"]]
    ok = len(outcomes) - len(failed)
    success = error is None and not failed
    elapsed = round(time.perf_counter() - started, 3)
    if not present:
        description = f"{suite.table} not present: skipped"
    elif error:
        description = f"{suite.table} could not be read: {error}"
    else:
        description = f"GX: {ok}/{len(outcomes)} expectations passed on {rows} rows of {suite.table}"
    metadata = {
        "table": suite.table,
        "present": present,
        "rows": rows,
        "evaluated": len(outcomes),
        "successful": ok,
        "failed": [o["check"] for o in failed],
        "failures": {
            o["check"]: {
                "description": o["description"],
                "unexpected_count": o["unexpected_count"],
                "examples": o["examples"],
                "error": o["error"],
            }
            for o in failed
        },
        "elapsed_seconds": elapsed,
        **({"error": error} if error else {}),
        **(extra or {}),
    }
    return {
        "name": suite.name,
        "table": suite.table,
        "present": present,
        "skipped": not present,
        "reason": None if present else "not present",
        "success": success,
        "rows": rows,
        "evaluated": len(outcomes),
        "successful": ok,
        "failed": failed,
        "checks": outcomes,
        "error": error,
        "elapsed_seconds": elapsed,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "description": description,
        "metadata": json_safe(metadata),
        **(extra or {}),
    }


def _reused(suite: Suite, result: dict, started: float) -> dict:
    """A recorded passing result for the same content and definition (pipelines/quality/ledger.py), marked so."""
    when = result["reused"]["validated_at"]
    elapsed = round(time.perf_counter() - started, 3)
    same = (
        "this same database file, unchanged since"
        if result["reused"].get("by") == "file"
        else "this same content"
    )
    description = (
        f"GX: {result['successful']}/{result['evaluated']} expectations passed on {result['rows']} rows "
        f"of {suite.table} (validated at {when} on {same}; reused)"
    )
    metadata = {**result["metadata"], "reused_from": when, "elapsed_seconds": elapsed}
    return {
        **result,
        "description": description,
        "metadata": metadata,
        "elapsed_seconds": elapsed,
        "timings": {"fingerprint": elapsed},
    }


def run_suite(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    now: datetime,
    ledger: Ledger | None = None,
    reuse: bool = False,
    batch_rows: int | None = None,
) -> dict:
    """Validate one public table with its GX suite; a table that does not exist yet is skipped (passed).

    With a `ledger`, a passing result is recorded with the content it validated (pipelines/quality/
    ledger.py). With `reuse` as well, the recorded pass of the same definition is built on: the same
    content is not validated again (the result's `reused` says when it was), and for a table whose checks
    allow it only the rows of the repos whose content changed are validated (the result's `delta`).
    A table whose checks allow it is validated in batches of whole repos (`BATCH_ROWS`, or `batch_rows`),
    so that memory does not grow with the table; the result is the same as one pass's (timings `batches`).
    """
    name = suite_for(table).name
    try:
        return _run_suite(
            con,
            table,
            now=now,
            ledger=ledger,
            reuse=reuse,
            batch_rows=BATCH_ROWS if batch_rows is None else batch_rows,
        )
    finally:  # the temporary tables of the fingerprints and the batches, whatever happened
        for temp in (
            f"_ledger_{name}_repos",
            f"_ledger_{name}_changed",
            f"_gx_{name}_counts",
            f"_gx_{name}_plan",
            f"_gx_{name}_batch",
        ):
            try:
                con.execute(f"DROP TABLE IF EXISTS {temp}")
            except duckdb.Error:
                pass


def _batches(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    repos: Any,
    delta: dict | None,
    batch_rows: int,
    key: str = "repo_id",
) -> int:
    """How many batches of whole repos the rows to validate take (1: validate them in one pass); with more
    than one, the plan is in `_gx_<suite>_plan`. The rows per repo come from the ledger's fingerprints
    when they were taken, else from one count over the suite's query."""
    counts = f"_gx_{suite.name}_counts"
    if repos is not None:
        source = f"SELECT repo_id, n FROM {repos.name}"  # noqa: S608 - generated names
    else:
        k = _quote(key)
        source = f"SELECT {k}, count(*)::BIGINT AS n FROM ({suite.query}) GROUP BY {k}"  # noqa: S608
    if delta:
        source = (
            f"SELECT s.repo_id, s.n FROM ({source}) s SEMI JOIN {delta['table']} d "  # noqa: S608
            "ON s.repo_id IS NOT DISTINCT FROM d.repo_id"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {counts} AS {source}")  # noqa: S608 - static SQL, generated names
    total = con.execute(f"SELECT coalesce(sum(n), 0) FROM {counts}").fetchall()[0][0]  # noqa: S608
    if total <= batch_rows:
        return 1
    return _plan(con, suite, counts, batch_rows, key)


def _run_suite(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    now: datetime,
    ledger: Ledger | None,
    reuse: bool,
    batch_rows: int,
) -> dict:
    started = time.perf_counter()
    suite = suite_for(table)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    present = present_tables(con)
    if suite.table not in present:
        return _result(suite, present=False, rows=0, outcomes=[], started=started, timings={})
    checks = suite.checks(now)
    absent_joins = [t for t in suite.joins if t not in present]
    timings: dict[str, float] = {}
    repos = delta = None
    try:
        if absent_joins:
            raise LookupError(f"referenced table(s) missing: {', '.join(absent_joins)}")
        # The content of exactly what _load reads (before the derived columns, which the digest covers).
        columns = checked_columns(con.sql(suite.query).columns, suite, checks)
        by_repo = delta_allowed(suite, checks, columns)
        if ledger is not None:
            step = time.perf_counter()
            identity = file_identity(con)  # before anything is read
            digest = definition_digest(suite, columns)
            base = ledger.base(suite, digest=digest, now=now) if reuse else None
            if base is not None and identity is not None and base.file == identity:
                return _reused(suite, base.reused(by="file"), started)
            if by_repo:
                repos = repo_fingerprints(con, suite, columns)
                content = repos.content
            else:
                content = fingerprint(con, suite, columns)
            if base is not None and base.content == content:
                if identity is not None and base.file != identity and file_identity(con) == identity:
                    ledger.same_file(suite, identity)  # the next look at this same file needs no fingerprint
                return _reused(suite, base.reused(), started)
            if (
                base is not None
                and repos is not None
                and base.repos is not None
                and base.content.get("columns") == columns
            ):
                changed = f"_ledger_{suite.name}_changed"
                delta = {
                    "changed_repos": repos.changed_since(base.repos, changed),
                    "table": changed,
                    "base_validated_at": base.validated_at,
                    "base_rows": base.content.get("rows"),
                }
            timings["fingerprint"] = time.perf_counter() - step
        # Batches of whole repos, or of whole `batch_key` values for a table without repo_id.
        key = (
            "repo_id"
            if by_repo
            else suite.batch_key
            if suite.batch_key and batch_allowed(checks, columns, suite.batch_key)
            else None
        )
        batches = (
            _batches(con, suite, repos if by_repo else None, delta, batch_rows, key)
            if key and batch_rows > 0
            else 1
        )
        if batches > 1:
            import_before = bool(_GX)
            frame, validated, outcomes = _validate_batches(con, suite, checks, batches, timings, key)
        else:
            step = time.perf_counter()
            frame = _load(con, suite, checks, only=delta["table"] if delta else None)
            timings["load"] = time.perf_counter() - step
    except (duckdb.Error, LookupError) as exc:
        return _result(
            suite,
            present=True,
            rows=0,
            outcomes=[],
            started=started,
            timings={},
            error=f"{type(exc).__name__}: {exc}",
        )
    runnable = [c for c in checks if not _missing(c, frame, suite)]
    if batches == 1:
        import_before = bool(_GX)
        outcomes, gx_timings = _validate(suite, runnable, frame) if runnable else ([], {})
        timings.update(gx_timings)
        validated = frame.height
    if not import_before and _GX:
        timings["gx_import"] = _GX["import_seconds"]
    by_name = {o["check"]: {k: v for k, v in o.items() if k != "_counted"} for o in outcomes}
    # A check whose column is missing fails (the table breaks the published contract) without running.
    ordered = [
        by_name.get(c.name)
        or {
            "check": c.name,
            "expectation": c.expectation,
            "columns": list(c.columns()),
            "description": c.description,
            "success": False,
            "unexpected_count": None,
            "unexpected_percent": None,
            "examples": [],
            "error": f"column(s) missing from {suite.table}: {', '.join(_missing(c, frame, suite))}",
        }
        for c in checks
    ]
    extra = {"quarantine": quarantine_counts(con)} if suite.name == "quarantine" else None
    if delta:
        delta = {
            "changed_repos": delta["changed_repos"],
            "validated_rows": validated,
            "base_validated_at": delta["base_validated_at"],
            "base_rows": delta["base_rows"],
        }
        extra = {**(extra or {}), "delta": delta}
    result = _result(
        suite,
        present=True,
        rows=content["rows"] if delta else validated,
        outcomes=ordered,
        started=started,
        timings=timings,
        extra=extra,
    )
    if delta:
        ok = result["successful"]
        result["description"] = (
            f"GX: {ok}/{len(ordered)} expectations passed on the {validated} rows of the "
            f"{delta['changed_repos']} repos whose content changed, of {content['rows']} rows of {suite.table} "
            f"(the other repos' rows are unchanged since the pass at {delta['base_validated_at']})"
        )
    if batches > 1:
        result["description"] += f" (in {batches} batches of whole repos)"
    if ledger is not None:
        # The file's identity only if nothing wrote to it while the suite read it.
        same_file = identity if identity is not None and file_identity(con) == identity else None
        ledger.record(
            suite, content=content, digest=digest, now=now, result=result, repos=repos, file=same_file
        )
    return result


def quarantine_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows held in core.quarantine per reason."""
    rows = con.execute(
        "SELECT reason, count(*) FROM core.quarantine GROUP BY reason ORDER BY reason"
    ).fetchall()
    return {reason: n for reason, n in rows}


def run_all(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    tables: list[str] | None = None,
    ledger: Ledger | None = None,
    reuse: bool = False,
    batch_rows: int | None = None,
) -> dict[str, dict]:
    """Run every registered suite (or the named ones); results keyed by public table name."""
    return {
        name: run_suite(con, name, now=now, ledger=ledger, reuse=reuse, batch_rows=batch_rows)
        for name in (tables or list(SUITES))
    }
