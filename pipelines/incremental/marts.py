"""marts.monthly_openness kept up to date by difference; marts.monthly_transitions by its SQL.

The mart counts, per month, breakdown, group, metric and value, the releases whose openness interval holds
at the month's end, and sums their OSAI scores. Counts and exact (decimal) sums add up, so the build keeps
the mart as parts (count, sum, count of scores per key) in the state, with one span per openness row
(sql/marts/monthly_openness_spans.sql): a day subtracts the old spans of the repos whose openness or release
rows changed, adds their new spans, and, when the last month moves, adds the new months of every span still
open at the end (sql/marts/monthly_openness_parts.sql). Only the changed repos' months are expanded, not the
3 million repos'. The mart is then written from the parts (sql/marts/monthly_openness.sql), and
tests/history/test_incremental.py compares it with tests/history/monthly_openness_reference.sql, the same
rule over core.openness in one query, after every replayed day.
"""

from __future__ import annotations

import time
from typing import Any

import duckdb

from pipelines.incremental import state
from pipelines.openness.rubric import load_rubric, open_families
from pipelines.storage.warehouse import Warehouse, sql_text, transaction
from pipelines.tables import tables_of_step

PARTS_DDL = """CREATE TABLE IF NOT EXISTS incr.mart_parts (k INTEGER, breakdown VARCHAR, group_raw VARCHAR,
    metric VARCHAR, value VARCHAR, n BIGINT, s DECIMAL(38, 18), c BIGINT)"""
MART_KEY = ("month", "breakdown", "group_value", "metric", "value")
# Two parts are the same key when every key column matches, NULL values included.
SAME_PART = (
    "d.k = p.k AND d.breakdown = p.breakdown AND d.group_raw IS NOT DISTINCT FROM p.group_raw "
    "AND d.metric = p.metric AND d.value IS NOT DISTINCT FROM p.value"
)


def _add_parts(
    con: duckdb.DuckDBPyConnection, into: str, spans: str, *, cap: int, sign: int, lo_min: int | None = None
) -> None:
    """Insert into `into` the signed parts of `spans` (a query over span rows) over months [lo, least(k1, cap))."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW mart_input AS {spans}")
    try:
        con.execute(
            f"INSERT INTO {into} {sql_text('marts/monthly_openness_parts.sql')}",  # noqa: S608 - fixed SQL
            {"lo_min": lo_min, "cap": cap, "sign": sign},
        )
    finally:
        con.execute("DROP VIEW IF EXISTS mart_input")


def _write_mart(con: duckdb.DuckDBPyConnection, *, rewrite: bool) -> None:
    """marts.monthly_openness from the parts: the rows of the keys in `mart_delta` only (a mart row is one
    part; a NULL value and 'unknown' are two parts that show the same key), or the whole table when asked,
    when it is missing, or when a run died before writing it."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    exists = bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND "
            "schema_name = 'marts' AND table_name = 'monthly_openness'"
        ).fetchall()[0][0]
    )
    has_delta = bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mart_delta' AND temporary"
        ).fetchall()[0][0]
    )
    mart = sql_text("marts/monthly_openness.sql")
    try:
        if rewrite or not exists or not has_delta:
            con.execute("CREATE OR REPLACE TEMP VIEW mart_source AS SELECT * FROM incr.mart_parts")
            con.execute(f"CREATE OR REPLACE TABLE marts.monthly_openness AS {mart}")
        else:
            con.execute("""CREATE OR REPLACE TEMP TABLE mart_keys AS SELECT DISTINCT k, breakdown, group_raw, metric,
                           coalesce(value, 'unknown') AS shown FROM mart_delta""")
            on = " AND ".join(f"m.{c} = k.{c}" for c in MART_KEY)
            shown_keys = (
                "SELECT make_date((k // 12)::INTEGER, (k % 12 + 1)::INTEGER, 1) AS month, breakdown, "
                "coalesce(group_raw, 'all') AS group_value, metric, shown AS value FROM mart_keys"
            )
            # The rows to write: the merged parts of the moved keys, and their untouched NULL/'unknown' twins.
            con.execute(f"""CREATE OR REPLACE TEMP VIEW mart_source AS
                SELECT * FROM mart_merged WHERE n <> 0
                UNION ALL SELECT * FROM incr.mart_parts p WHERE (p.value IS NULL OR p.value = 'unknown')
                    AND NOT EXISTS (SELECT 1 FROM mart_delta d WHERE {SAME_PART})
                    AND EXISTS (SELECT 1 FROM mart_keys d WHERE p.k = d.k AND p.breakdown = d.breakdown
                        AND p.group_raw IS NOT DISTINCT FROM d.group_raw AND p.metric = d.metric
                        AND coalesce(p.value, 'unknown') = d.shown)""")  # noqa: S608 - fixed SQL
            with transaction(con):
                con.execute(f"DELETE FROM marts.monthly_openness m USING ({shown_keys}) k WHERE {on}")  # noqa: S608
                con.execute(f"INSERT INTO marts.monthly_openness {mart}")  # noqa: S608 - fixed SQL
    finally:
        con.execute("DROP VIEW IF EXISTS mart_source")
        for table in ("mart_scope", "mart_delta", "mart_merged", "mart_keys"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    state.set_meta(con, "mart_table", "written")


def _last_month(con: duckdb.DuckDBPyConnection) -> int | None:
    return con.execute(
        "SELECT max(year(valid_from AT TIME ZONE 'UTC') * 12 + month(valid_from AT TIME ZONE 'UTC') - 1) "
        "FROM core.openness"
    ).fetchall()[0][0]


def update_marts(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """marts.monthly_openness (by difference, or from all spans), marts.monthly_transitions and the time to
    openness (core.time_to_openness, marts.time_to_openness_summary: whole, from their SQL)."""
    started = time.perf_counter()
    state.attach(wh, con)
    con.execute(PARTS_DDL)
    last = _last_month(con)
    before = state.get_meta(con, "mart_last_month")
    spans_exist = bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'incr' AND table_name = 'mart_spans'"
        ).fetchall()[0][0]
    )
    reason = (
        "full rebuild asked for"
        if full
        else "scores or releases were rebuilt"
        if state.get_meta(con, "full_marts") != "done" or not spans_exist
        else "the last month moved back"
        if before is not None and last is not None and last < int(before)
        else None
    )
    cap = (last if last is not None else 0) + 1
    spans = sql_text("marts/monthly_openness_spans.sql")
    touched = None
    stale = state.get_meta(con, "mart_table") == "stale"  # a run died between the parts and the table
    with transaction(con):
        if reason:
            con.execute(f"CREATE OR REPLACE TABLE incr.mart_spans AS {spans}")
            con.execute("DELETE FROM incr.mart_parts")
            if last is not None:
                _add_parts(con, "incr.mart_parts", "SELECT * FROM incr.mart_spans", cap=cap, sign=1)
        else:
            con.execute("""CREATE OR REPLACE TEMP TABLE mart_scope AS
                           SELECT DISTINCT repo_id FROM incr.pending WHERE consumer = 'marts'""")
            touched = con.execute("SELECT count(*) FROM mart_scope").fetchall()[0][0]
            scope = "WHERE repo_id IN (SELECT repo_id FROM mart_scope)"
            con.execute(
                "CREATE OR REPLACE TEMP TABLE mart_delta_parts AS SELECT * FROM incr.mart_parts LIMIT 0"
            )
            if before is not None:  # the old spans of the changed repos, taken away
                _add_parts(
                    con,
                    "mart_delta_parts",
                    f"SELECT * FROM incr.mart_spans {scope}",  # noqa: S608 - fixed SQL
                    cap=int(before) + 1,
                    sign=-1,
                )
            _add_parts(con, "mart_delta_parts", f"SELECT * FROM ({spans}) {scope}", cap=cap, sign=1)  # noqa: S608
            if before is not None and last is not None and last > int(before):
                # A new last month: the spans still open at the old one go on into the new months.
                _add_parts(
                    con,
                    "mart_delta_parts",
                    "SELECT * FROM incr.mart_spans WHERE repo_id NOT IN (SELECT repo_id FROM mart_scope)",
                    cap=cap,
                    sign=1,
                    lo_min=int(before) + 1,
                )
            con.execute(
                "CREATE OR REPLACE TEMP TABLE mart_delta AS SELECT k, breakdown, group_raw, metric, value, "
                "sum(n) AS n, sum(s)::DECIMAL(38, 18) AS s, sum(c) AS c FROM mart_delta_parts GROUP BY ALL"
            )
            con.execute("DROP TABLE mart_delta_parts")
            # Merge the difference into the parts (keys match on NULL values too).
            con.execute(f"""CREATE OR REPLACE TEMP TABLE mart_merged AS
                SELECT k, breakdown, group_raw, metric, value, sum(n) AS n, sum(s)::DECIMAL(38, 18) AS s, sum(c) AS c
                FROM (SELECT * FROM incr.mart_parts p WHERE EXISTS (SELECT 1 FROM mart_delta d WHERE {SAME_PART})
                      UNION ALL SELECT * FROM mart_delta)
                GROUP BY ALL""")  # noqa: S608 - fixed SQL
            con.execute(
                f"DELETE FROM incr.mart_parts p WHERE EXISTS (SELECT 1 FROM mart_delta d WHERE {SAME_PART})"  # noqa: S608
            )
            con.execute("INSERT INTO incr.mart_parts SELECT * FROM mart_merged WHERE n <> 0")
            con.execute(f"DELETE FROM incr.mart_spans {scope}")  # noqa: S608 - fixed SQL
            con.execute(f"INSERT INTO incr.mart_spans SELECT * FROM ({spans}) {scope}")  # noqa: S608
        con.execute("DELETE FROM incr.pending WHERE consumer = 'marts'")
        if last is None:
            con.execute("DELETE FROM incr.meta WHERE key = 'mart_last_month'")
        else:
            state.set_meta(con, "mart_last_month", str(last))
        state.set_meta(con, "full_marts", "done")
        # The mart table is written after this commit (another database): until then it is stale.
        state.set_meta(con, "mart_table", "stale")
    _write_mart(con, rewrite=bool(reason) or touched is None or stale)
    con.execute(
        f"CREATE OR REPLACE TABLE marts.monthly_transitions AS {sql_text('marts/monthly_transitions.sql')}"
    )
    # Time to openness: whole, from the scored revisions (one scan of core.openness and the three components).
    con.execute(
        f"CREATE OR REPLACE TABLE core.time_to_openness AS {sql_text('core/time_to_openness.sql')}",
        {"open_families": open_families(load_rubric())},
    )
    con.execute(
        "CREATE OR REPLACE TABLE marts.time_to_openness_summary AS "
        + sql_text("marts/time_to_openness_summary.sql")
    )
    counts = {
        t.short: con.execute(f"SELECT count(*) FROM {t.name}").fetchall()[0][0]  # noqa: S608 - registry names
        for t in tables_of_step("marts")
    }
    return {
        "mode": "full" if reason else "incremental",
        **({"reason": reason} if reason else {}),
        "touched_repos": touched,
        **counts,
        "seconds": round(time.perf_counter() - started, 3),
    }
