"""marts.monthly_openness kept up to date by difference; marts.monthly_transitions by its SQL.

`sql/marts/monthly_openness.sql` expands every validity interval into the months it covers (up to the
last month with a commit, or the release's deletion) and counts releases and sums OSAI scores per month,
breakdown, group, metric and value. Counts and exact (decimal) sums add up, so the mart is kept as parts
(count, sum, count of scores per key) in the state, with one span per openness row: a day subtracts the
old spans of the repos whose openness or release rows changed, adds their new spans, and, when the last
month moves, adds the new months of every span still open at the end. Only the changed repos' months are
expanded, not the 3 million repos'. The mart is then written from the parts, with the SQL's own
formulas, and tests/history/test_incremental.py compares it with the SQL after every replayed day.
"""

from __future__ import annotations

import time
from typing import Any

import duckdb

from pipelines.incremental import state
from pipelines.storage.warehouse import Warehouse, sql_text

BIG = 2**31 - 1


def _month(column: str) -> str:
    return f"(year({column} AT TIME ZONE 'UTC') * 12 + month({column} AT TIME ZONE 'UTC') - 1)"


# One span per openness row: its first month and the month it ends (interval end or deletion, uncapped).
SPANS_SQL = f"""
SELECT o.repo_id, o.spectrum_level::VARCHAR AS spectrum_level, o.license_family, o.mof_class::VARCHAR AS mof_class,
       o.osai_score::DECIMAL(38, 18) AS osai, r.org, r.modality,
       coalesce(lower(regexp_extract(split_part(r.base_models[1], '/', 2), '^([A-Za-z]+)', 1)), '(none)')
           AS base_family,
       {_month("o.valid_from")} AS k0,
       least(coalesce({_month("o.valid_to")}, {BIG}), coalesce({_month("r.deleted_at")}, {BIG})) AS k1
FROM core.openness o JOIN core.releases r USING (repo_id)
"""  # noqa: S608 - fixed SQL
PARTS_DDL = """CREATE TABLE IF NOT EXISTS incr.mart_parts (k INTEGER, breakdown VARCHAR, group_raw VARCHAR,
    metric VARCHAR, value VARCHAR, n BIGINT, s DECIMAL(38, 18), c BIGINT)"""


def _expand(spans: str, lo: str, hi: str, sign: int) -> str:
    """SQL: the signed parts of `spans` over months k in [lo, hi) (expressions over a span's columns)."""
    return f"""
    WITH months AS (
        SELECT unnest(range(({lo})::BIGINT, ({hi})::BIGINT)) AS k, * FROM ({spans}) WHERE ({hi}) > ({lo})
    ), long AS (
        SELECT k, org, modality, base_family, 'spectrum_level' AS metric, spectrum_level AS value, osai FROM months
        UNION ALL SELECT k, org, modality, base_family, 'license_family', license_family, osai FROM months
        UNION ALL SELECT k, org, modality, base_family, 'mof_class', mof_class, osai FROM months
    ), keyed AS (
        SELECT k, 'all' AS breakdown, NULL::VARCHAR AS group_raw, metric, value, osai FROM long
        UNION ALL SELECT k, 'org', org, metric, value, osai FROM long
        UNION ALL SELECT k, 'modality', modality, metric, value, osai FROM long
        UNION ALL SELECT k, 'base_family', base_family, metric, value, osai FROM long
    )
    SELECT k::INTEGER AS k, breakdown, group_raw, metric, value, {sign} * count(*) AS n,
           ({sign} * coalesce(sum(osai), 0))::DECIMAL(38, 18) AS s, {sign} * count(osai) AS c
    FROM keyed GROUP BY ALL
    """  # noqa: S608 - fixed SQL


MART_ROWS = """
SELECT make_date((k // 12)::INTEGER, (k % 12 + 1)::INTEGER, 1) AS month, breakdown,
       coalesce(group_raw, 'all') AS group_value, metric, coalesce(value, 'unknown') AS value, n AS releases,
       s::DOUBLE / nullif(c, 0) AS avg_osai_score
FROM incr.mart_parts WHERE n <> 0
"""
MART_SQL = MART_ROWS + "ORDER BY month, breakdown, group_value, metric, value"
MART_KEY = ("month", "breakdown", "group_value", "metric", "value")


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
    try:
        if rewrite or not exists or not has_delta:
            con.execute(f"CREATE OR REPLACE TABLE marts.monthly_openness AS {MART_SQL}")
        else:
            same = (
                "p.k = d.k AND p.breakdown = d.breakdown AND p.group_raw IS NOT DISTINCT FROM d.group_raw "
                "AND p.metric = d.metric AND p.value IS NOT DISTINCT FROM d.value"
            )
            con.execute("""CREATE OR REPLACE TEMP TABLE mart_keys AS SELECT DISTINCT k, breakdown, group_raw, metric,
                           coalesce(value, 'unknown') AS shown FROM mart_delta""")
            on = " AND ".join(f"m.{c} = k.{c}" for c in MART_KEY)
            shown_keys = (
                "SELECT make_date((k // 12)::INTEGER, (k % 12 + 1)::INTEGER, 1) AS month, breakdown, "
                "coalesce(group_raw, 'all') AS group_value, metric, shown AS value FROM mart_keys"
            )
            # The rows to write: the merged parts of the moved keys, and their untouched NULL/'unknown' twins.
            parts = f"""FROM (
                SELECT * FROM mart_merged WHERE n <> 0
                UNION ALL SELECT * FROM incr.mart_parts p WHERE (p.value IS NULL OR p.value = 'unknown')
                    AND NOT EXISTS (SELECT 1 FROM mart_delta d WHERE {same})
                    AND EXISTS (SELECT 1 FROM mart_keys d WHERE p.k = d.k AND p.breakdown = d.breakdown
                        AND p.group_raw IS NOT DISTINCT FROM d.group_raw AND p.metric = d.metric
                        AND coalesce(p.value, 'unknown') = d.shown))"""  # noqa: S608 - fixed SQL
            rows = MART_ROWS.replace("FROM incr.mart_parts WHERE n <> 0", parts)
            con.execute("BEGIN")
            try:
                con.execute(f"DELETE FROM marts.monthly_openness m USING ({shown_keys}) k WHERE {on}")  # noqa: S608
                con.execute(f"INSERT INTO marts.monthly_openness {rows}")  # noqa: S608 - fixed SQL
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
    finally:
        for table in ("mart_scope", "mart_delta", "mart_merged", "mart_keys"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    state.set_meta(con, "mart_table", "written")


def _last_month(con: duckdb.DuckDBPyConnection) -> int | None:
    return con.execute(f"SELECT max({_month('valid_from')}) FROM core.openness").fetchall()[0][0]  # noqa: S608


def update_marts(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """marts.monthly_openness (by difference, or from all spans) and marts.monthly_transitions (its SQL)."""
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
    cap = f"least(k1, {(last if last is not None else 0) + 1})"
    touched = None
    stale = state.get_meta(con, "mart_table") == "stale"  # a run died between the parts and the table
    con.execute("BEGIN")
    try:
        if reason:
            con.execute(f"CREATE OR REPLACE TABLE incr.mart_spans AS {SPANS_SQL}")
            con.execute("DELETE FROM incr.mart_parts")
            if last is not None:
                everything = _expand("SELECT * FROM incr.mart_spans", "k0", cap, 1)
                con.execute(f"INSERT INTO incr.mart_parts {everything}")
        else:
            con.execute("""CREATE OR REPLACE TEMP TABLE mart_scope AS
                           SELECT DISTINCT repo_id FROM incr.pending WHERE consumer = 'marts'""")
            touched = con.execute("SELECT count(*) FROM mart_scope").fetchall()[0][0]
            old_cap = f"least(k1, {int(before) + 1})" if before is not None else "k0"
            deltas = [
                _expand(
                    "SELECT * FROM incr.mart_spans WHERE repo_id IN (SELECT repo_id FROM mart_scope)",
                    "k0",
                    old_cap,
                    -1,
                ),
                _expand(
                    f"SELECT * FROM ({SPANS_SQL}) WHERE repo_id IN (SELECT repo_id FROM mart_scope)",  # noqa: S608
                    "k0",
                    cap,
                    1,
                ),
            ]
            if before is not None and last is not None and last > int(before):
                # A new last month: the spans still open at the old one go on into the new months.
                deltas.append(
                    _expand(
                        "SELECT * FROM incr.mart_spans WHERE repo_id NOT IN (SELECT repo_id FROM mart_scope)",
                        str(int(before) + 1),
                        cap,
                        1,
                    )
                )
            union = " UNION ALL ".join(f"({d})" for d in deltas)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE mart_delta AS SELECT k, breakdown, group_raw, metric, value, "  # noqa: S608
                f"sum(n) AS n, sum(s)::DECIMAL(38, 18) AS s, sum(c) AS c FROM ({union}) GROUP BY ALL"
            )
            # Merge the difference into the parts (keys match on NULL values too).
            con.execute("""CREATE OR REPLACE TEMP TABLE mart_merged AS
                SELECT k, breakdown, group_raw, metric, value, sum(n) AS n, sum(s)::DECIMAL(38, 18) AS s, sum(c) AS c
                FROM (SELECT * FROM incr.mart_parts p WHERE EXISTS (SELECT 1 FROM mart_delta d WHERE d.k = p.k
                          AND d.breakdown = p.breakdown AND d.group_raw IS NOT DISTINCT FROM p.group_raw
                          AND d.metric = p.metric AND d.value IS NOT DISTINCT FROM p.value)
                      UNION ALL SELECT * FROM mart_delta)
                GROUP BY ALL""")
            con.execute("""DELETE FROM incr.mart_parts p WHERE EXISTS (SELECT 1 FROM mart_delta d WHERE d.k = p.k
                           AND d.breakdown = p.breakdown AND d.group_raw IS NOT DISTINCT FROM p.group_raw
                           AND d.metric = p.metric AND d.value IS NOT DISTINCT FROM p.value)""")
            con.execute("INSERT INTO incr.mart_parts SELECT * FROM mart_merged WHERE n <> 0")
            con.execute("DELETE FROM incr.mart_spans WHERE repo_id IN (SELECT repo_id FROM mart_scope)")
            con.execute(
                f"INSERT INTO incr.mart_spans SELECT * FROM ({SPANS_SQL}) "  # noqa: S608 - fixed SQL
                "WHERE repo_id IN (SELECT repo_id FROM mart_scope)"
            )
        con.execute("DELETE FROM incr.pending WHERE consumer = 'marts'")
        if last is None:
            con.execute("DELETE FROM incr.meta WHERE key = 'mart_last_month'")
        else:
            state.set_meta(con, "mart_last_month", str(last))
        state.set_meta(con, "full_marts", "done")
        # The mart table is written after this commit (another database): until then it is stale.
        state.set_meta(con, "mart_table", "stale")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    _write_mart(con, rewrite=bool(reason) or touched is None or stale)
    con.execute(
        f"CREATE OR REPLACE TABLE marts.monthly_transitions AS {sql_text('marts/monthly_transitions.sql')}"
    )
    counts = {
        name: con.execute(f"SELECT count(*) FROM marts.{name}").fetchall()[0][0]  # noqa: S608
        for name in ("monthly_openness", "monthly_transitions")
    }
    return {
        "mode": "full" if reason else "incremental",
        **({"reason": reason} if reason else {}),
        "touched_repos": touched,
        **counts,
        "seconds": round(time.perf_counter() - started, 3),
    }
