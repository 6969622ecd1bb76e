"""The one build runner: every table of the registry (pipelines/tables.py) built by its step.

Each step brings the tables it writes up to date with the raw layer in one of two modes of the same
code: incremental (only the raw files not read yet, only the repos they touch, their rows replaced) or
full (everything from the whole raw layer). tests/history/test_incremental.py proves the two modes give
the same tables after every replayed day. The Dagster assets call `run_step` one step per asset; tests
and benchmarks call `build_all`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import duckdb

from pipelines.incremental.code import update_code
from pipelines.incremental.crawl_runs import update_crawl_runs
from pipelines.incremental.marts import update_marts
from pipelines.incremental.metrics import update_release_metrics
from pipelines.incremental.normalise import update_releases, update_revisions
from pipelines.incremental.scoring import update_datasets, update_release_papers, update_scores
from pipelines.storage.warehouse import Warehouse, sql_text
from pipelines.tables import steps, tables_of_step


def _releases(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """core.repo_presence and core.releases, then core.release_metrics (the usage counts the same listing
    captures hold, ids followed through renames as core.revisions records them)."""
    result = update_releases(wh, con, full=full)
    metrics = update_release_metrics(wh, con, full=full)
    return {**result, **{k: v for k, v in metrics.items() if k != "seconds"}}


def _marts(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """marts.monthly_usage (sql/marts/monthly_usage.sql: a few rows a month, so always written whole; first,
    as it reads no other mart), then the monthly marts."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE OR REPLACE TABLE marts.monthly_usage AS {sql_text('marts/monthly_usage.sql')}")  # noqa: S608
    return update_marts(wh, con, full=full)


# Step name (the `step` of the registry's tables) -> its builder: (wh, con, *, full) -> what it did.
STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "revisions": update_revisions,
    "releases": _releases,
    "crawl_runs": update_crawl_runs,
    "datasets": update_datasets,
    "papers": update_release_papers,
    "code": update_code,
    "scores": update_scores,
    "marts": _marts,
}


class StepNotReady(RuntimeError):
    """A build step whose input tables no earlier step has written yet; the message is one line saying
    what to run first."""


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()
    return {r[0] for r in rows}


def nothing_crawled(wh: Warehouse) -> bool:
    """True when the raw layer holds no capture at all (a fresh warehouse, or one whose raw/ was removed)."""
    return wh.raw.is_empty()


def missing_inputs(name: str, con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse tables step `name` reads (pipelines/tables.py `reads`) that do not exist yet."""
    written = {t.name for t in tables_of_step(name)}
    reads = {r for t in tables_of_step(name) for r in t.reads if not r.startswith("raw.")} - written
    existing = _existing_tables(con)
    return sorted(r for r in reads if r not in existing)


CRAWL_FIRST = (
    "nothing is crawled yet ({raw} is empty): run the daily crawl first (`openness demo` replays the bundled "
    "mirror; or the daily_listing, daily_shards and daily_extras jobs in `openness ui`)"
)


def not_ready(name: str, wh: Warehouse, con: duckdb.DuckDBPyConnection, error: str) -> StepNotReady | None:
    """The one-line StepNotReady for a step that failed with `error` because its inputs do not exist yet (an
    earlier step never ran, or nothing is crawled), or None when that is not why it failed."""
    missing = missing_inputs(name, con)
    empty = nothing_crawled(wh)
    crawl = CRAWL_FIRST.format(raw=wh.raw.url) if empty else ""
    if missing:
        order = steps()
        return StepNotReady(
            f"build step {name!r} reads {', '.join(missing)}, which no build has written yet: "
            f"{crawl + ', then ' if crawl else ''}build every step in order (the build_tables job, or "
            f"pipelines.runner.build_all; the steps before {name!r}: {', '.join(order[: order.index(name)])})"
        )
    if empty:
        first = error.strip().splitlines()[0] if error.strip() else "failed"
        return StepNotReady(f"build step {name!r} found nothing to build ({first}): {crawl}")
    return None


def run_step(
    name: str, wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False, **options: Any
) -> dict[str, Any]:
    """Run one build step in incremental (default) or full mode; returns what it did. `options` go to the
    step's builder (`progress=` for revisions and scores, `batch=` for revisions, `rubric=` for scores). A step that fails because a table it
    reads does not exist yet (an earlier step never ran, nothing is crawled) raises StepNotReady, one line
    saying what to run first."""
    if name not in STEPS:
        raise KeyError(f"no build step {name!r}; known: {', '.join(STEPS)}")
    try:
        return STEPS[name](wh, con, full=full, **options)
    except duckdb.CatalogException as exc:
        try:
            translated = not_ready(name, wh, con, str(exc))
        except duckdb.Error:  # the connection cannot answer (an aborted transaction): the original error
            translated = None
        if translated is None:
            raise
        raise translated from exc


def build_all(
    wh: Warehouse,
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every table of the registry, step by step in the registry's order; per step, what it did and its
    seconds. `progress` gets the revisions and scores steps' lines (one per committed batch of a rebuild:
    a first build killed half-way resumes from its last batch when run again)."""
    out: dict[str, Any] = {}
    for name in steps():
        started = time.perf_counter()
        options = {"progress": progress} if progress and name in ("revisions", "scores") else {}
        result = run_step(name, wh, con, full=full, **options)
        out[name] = {**result, "seconds": round(time.perf_counter() - started, 3)}
    return out
