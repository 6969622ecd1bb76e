"""Compare two demo warehouses table by table and row by row, and their latest snapshots file by file.

A redesign must not change what the demo produces: run `make demo WAREHOUSE=/tmp/before` on the old code,
`make demo WAREHOUSE=/tmp/after` on the new, then

    .venv/bin/python -m tests.demo_compare /tmp/before /tmp/after

It prints one line per table (rows, and the first differing rows if any) and exits 1 on any difference.
Run-time columns (when a run started, how long it took, the Dagster run it came from) are left out: they
differ between any two runs of the same code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import polars as pl

# Columns that record when or how long a run ran, not what it found.
RUN_TIME = {
    "crawl_runs": {"started_at", "finished_at", "seconds", "run_key"},
    "papers": {"fetched_at"},
    "code_repos": {"observed_at"},
    "license_files": {"observed_at"},
    "snapshots": {"published_at", "manifest"},
    "schema_migrations": {"applied_at"},
    "incremental": {"value"},
}
SKIP_SCHEMAS = {"meta"}  # bookkeeping of the pipeline itself (migrations applied, state ids, snapshots)


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows if r[0].split(".")[0] not in SKIP_SCHEMAS]


def _frame(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    drop = [c for c in RUN_TIME.get(table.split(".")[-1], ()) if c in frame.columns]
    frame = frame.drop(drop)
    # The mirror listens on a free port chosen per run (crawl endpoints, API URLs kept in evidence).
    text = [c for c, t in frame.schema.items() if t == pl.String]
    frame = frame.with_columns(pl.col(text).str.replace_all(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"))
    # Lists and structs sort through their JSON text; the order rows are stored in is not behaviour.
    key = [pl.col(c).cast(pl.String) if frame.schema[c].is_numeric() else pl.col(c) for c in frame.columns]
    try:
        return frame.sort(key, nulls_last=True)
    except Exception:  # noqa: BLE001 - nested types: fall back to their text form
        text = frame.with_columns(pl.all().map_elements(lambda v: json.dumps(v, default=str), pl.String))
        order = text.with_row_index("_i").sort(text.columns).get_column("_i")
        return frame[order]


def compare_frames(name: str, before: pl.DataFrame, after: pl.DataFrame) -> list[str]:
    """Differences between two versions of one table (empty when equal)."""
    before, after = _frame(before, name), _frame(after, name)
    if before.columns != after.columns:
        return [f"{name}: columns differ: {before.columns} vs {after.columns}"]
    if before.schema != after.schema:
        return [f"{name}: types differ: {dict(before.schema)} vs {dict(after.schema)}"]
    if before.equals(after):
        return []
    gone, new = (
        before.join(after, on=before.columns, how="anti", nulls_equal=True),
        after.join(before, on=before.columns, how="anti", nulls_equal=True),
    )
    return [
        f"{name}: {before.height} vs {after.height} rows; only before: {gone.head(3)}; only after: {new.head(3)}"
    ]


def compare_warehouses(before: Path, after: Path) -> tuple[list[str], list[str]]:
    """(lines to print, differences) for two warehouse folders (their serving files and latest snapshots)."""
    lines, diffs = [], []
    a = duckdb.connect(str(before / "openness.duckdb"), read_only=True)
    b = duckdb.connect(str(after / "openness.duckdb"), read_only=True)
    ta, tb = _tables(a), _tables(b)
    if ta != tb:
        diffs.append(
            f"tables differ: only before {sorted(set(ta) - set(tb))}, only after {sorted(set(tb) - set(ta))}"
        )
    for table in sorted(set(ta) & set(tb)):
        fa, fb = a.sql(f"SELECT * FROM {table}").pl(), b.sql(f"SELECT * FROM {table}").pl()  # noqa: S608
        found = compare_frames(table, fa, fb)
        diffs += found
        lines.append(f"{table:<28} {fa.height:>7} rows  {'DIFFERENT' if found else 'same'}")
    snap_a = before / "snapshots" / (before / "snapshots" / "LATEST").read_text().strip()
    snap_b = after / "snapshots" / (after / "snapshots" / "LATEST").read_text().strip()
    # Each table is a folder of Parquet files: compare the file names, then each table's rows.
    pa, pb = (
        sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*.parquet")) for snap in (snap_a, snap_b)
    )
    if pa != pb:
        diffs.append(f"snapshot files differ: {pa} vs {pb}")
    for name in sorted({p.split("/")[0] for p in pa} & {p.split("/")[0] for p in pb}):
        fa, fb = pl.read_parquet(snap_a / name / "*.parquet"), pl.read_parquet(snap_b / name / "*.parquet")
        found = compare_frames(name, fa, fb)
        diffs += found
        lines.append(f"snapshot {name:<19} {fa.height:>7} rows  {'DIFFERENT' if found else 'same'}")
    ma, mb = (json.loads((s / "manifest.json").read_text()) for s in (snap_a, snap_b))
    for key in ("schema_version", "rubric_version", "crawl_window"):
        if ma.get(key) != mb.get(key):
            diffs.append(f"manifest {key}: {ma.get(key)} vs {mb.get(key)}")
    rows_a = {k: v["rows"] for k, v in ma["tables"].items()}
    rows_b = {k: v["rows"] for k, v in mb["tables"].items()}
    if rows_a != rows_b:
        diffs.append(f"manifest rows: {rows_a} vs {rows_b}")
    return lines, diffs


def main(argv: list[str]) -> int:
    """Compare two warehouse folders; exit 1 on any difference."""
    if len(argv) != 2:
        print("usage: python -m tests.demo_compare BEFORE_WAREHOUSE AFTER_WAREHOUSE", file=sys.stderr)
        return 2
    lines, diffs = compare_warehouses(Path(argv[0]), Path(argv[1]))
    print("\n".join(lines))
    print("\n".join(diffs) if diffs else "no differences (run-time columns excluded)")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
