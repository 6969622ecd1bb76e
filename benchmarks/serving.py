"""Benchmark of the serving database: the example queries on a full copy of the working database (the
serving file until issue 23) and on the serving file of views over the published version's Parquet files.

`python -m benchmarks.serving 300000` fills a synthetic working database (one release per ten revisions,
the scored tables at their real proportions: benchmarks/snapshot.py), publishes a version, then times
building each serving file and the queries on each. `python -m benchmarks.serving --warehouse DIR` does the
same on a built warehouse (the demo's `warehouse/`): its `work.duckdb` and the version `LATEST` names are
copied to a temporary folder first, so the warehouse itself is not touched.

Each query runs `REPEAT` times on one read-only connection per file, opened once; the table gives the first
run (DuckDB's caches empty; the files in the page cache) and the best of the others.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from benchmarks.snapshot import _fill, _fill_scored
from pipelines.publish.publish import publish_version, serving_views
from pipelines.publish.snapshot import read_latest
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse, migrate, sql_text

REPEAT = 5
# The queries the README, docs/history.md and sql/queries/ show users on openness.duckdb.
README_QUERIES = {
    "README: revisions LIMIT 5": "SELECT repo_id, license_raw, gated, has_weights FROM core.revisions "
    "LIMIT 5",
    "README: licences, count": "SELECT license_raw, count(*) FROM core.revisions GROUP BY ALL",
    "releases by org": "SELECT org, count(*) FROM core.releases GROUP BY org ORDER BY 2 DESC LIMIT 10",
}


def _queries(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list]]:
    """Name -> (SQL, parameters): the README's queries and every file of sql/queries/."""
    repo = con.execute("SELECT min(repo_id) FROM core.releases").fetchone()[0]
    params = {"licence_family_changes": ["2000-01-01", "2100-01-01"], "repo_timeline": [repo]}
    found = {name: (sql, []) for name, sql in README_QUERIES.items()}
    for path in sorted((Path(__file__).resolve().parents[1] / "sql" / "queries").glob("*.sql")):
        found[f"sql/queries/{path.name}"] = (sql_text(f"queries/{path.name}"), params.get(path.stem, []))
    return found


def _timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def time_queries(path: Path, queries: dict[str, tuple[str, list]]) -> dict[str, dict]:
    """Per query: the first run's and the best later run's seconds, and the rows, on a read-only file."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for name, (sql, params) in queries.items():
            runs, rows = [], None
            for _ in range(REPEAT):
                seconds, rows = _timed(lambda sql=sql, params=params: con.execute(sql, params).fetchall())
                runs.append(seconds)
            out[name] = {"first": runs[0], "best": min(runs[1:]), "rows": len(rows)}
    return out


def compare(wh: Warehouse, con: duckdb.DuckDBPyConnection, folder: Path) -> dict:
    """Build both serving files from a published version and time the example queries on each."""
    con.execute("CHECKPOINT")
    copy = wh.root / "copied.duckdb"
    copy_seconds, _ = _timed(lambda: shutil.copyfile(wh.work_db, copy))
    views_seconds, _ = _timed(lambda: wh.publish_serving(con, folder.name, serving_views(folder)))
    queries = _queries(con)
    con.close()
    before, after = time_queries(copy, queries), time_queries(wh.serving_db, queries)
    for name in queries:
        if before[name]["rows"] != after[name]["rows"]:
            raise AssertionError(
                f"{name}: {before[name]['rows']} rows on the copy, {after[name]['rows']} on views"
            )
    return {
        "build_seconds": {"copy": round(copy_seconds, 2), "views": round(views_seconds, 2)},
        "file_mb": {
            "copy": round(copy.stat().st_size / 1e6, 1),
            "views": round(wh.serving_db.stat().st_size / 1e6, 2),
        },
        "queries": {name: {"copy": before[name], "views": after[name]} for name in queries},
    }


def run_synthetic(revisions: int, work: Path) -> dict:
    """The comparison on a synthetic warehouse of `revisions` revisions (a tenth as many releases)."""
    wh = Warehouse(work / "warehouse")
    wh.root.mkdir(parents=True)
    con = duckdb.connect(str(wh.work_db))
    con.execute("SET enable_progress_bar = false")
    migrate(con)
    run_step("scores", wh, con, full=True)  # the scored tables as the real build creates them
    _fill(con, max(1, revisions // 10), revisions)
    _fill_scored(con, revisions, disclosures=False)
    con.execute(
        "INSERT INTO core.crawl_runs (run_key, crawl_date, started_at, status) "
        "VALUES ('bench', DATE '2026-11-01', TIMESTAMPTZ '2026-11-01', 'complete')"
    )
    folder = publish_version(wh, con, "2026-11-01")
    return {"warehouse": f"synthetic, {revisions:,} revisions", **compare(wh, con, folder)}


def run_warehouse(source: Path, work: Path) -> dict:
    """The comparison on a copy of a built warehouse's working file and latest version."""
    source = Path(source)
    version = read_latest(source / "snapshots")
    if not (source / "work.duckdb").is_file() or version is None:
        raise SystemExit(f"{source} has no work.duckdb or no published version (snapshots/LATEST)")
    wh = Warehouse(work / "warehouse")
    wh.snapshots.mkdir(parents=True)
    shutil.copyfile(source / "work.duckdb", wh.work_db)
    shutil.copytree(source / "snapshots" / version, wh.snapshots / version)
    con = duckdb.connect(str(wh.work_db))
    return {"warehouse": str(source), **compare(wh, con, wh.snapshots / version)}


def run_serving_bench(revisions: int) -> dict:
    """`make bench`: the comparison on a synthetic warehouse of `revisions` revisions."""
    with tempfile.TemporaryDirectory(prefix="openness-serving-bench-") as tmp:
        return run_synthetic(revisions, Path(tmp))


def table_rows(result: dict) -> list[tuple[str, object, str, str]]:
    """(figure, value, target, met?) rows for docs/benchmarks.md: the serving file's cost and each query,
    first run and best of the repeats, on the full copy and on the views."""
    from benchmarks.run import figure_row

    b, f = result["build_seconds"], result["file_mb"]
    rows = [
        figure_row("serving file: full copy (MB, s)", f"{f['copy']} MB, {b['copy']} s"),
        figure_row("serving file: views over the version (MB, s)", f"{f['views']} MB, {b['views']} s"),
    ]
    for name, q in result["queries"].items():
        c, v = q["copy"], q["views"]
        rows.append(
            figure_row(
                f"query {name}: copy / views, first / best (ms)",
                f"{c['first'] * 1e3:.1f} / {c['best'] * 1e3:.1f}; {v['first'] * 1e3:.1f} / {v['best'] * 1e3:.1f}",
            )
        )
    return rows


def render(result: dict) -> str:
    """A Markdown table of the result."""
    b, f = result["build_seconds"], result["file_mb"]
    lines = [
        f"Warehouse: {result['warehouse']}. Serving file: copy {f['copy']} MB in {b['copy']} s; "
        f"views {f['views']} MB in {b['views']} s.",
        "",
        "| query | rows | copy: first / best (ms) | views: first / best (ms) |",
        "|---|---|---|---|",
    ]
    for name, q in result["queries"].items():
        c, v = q["copy"], q["views"]
        lines.append(
            f"| {name} | {c['rows']} | {c['first'] * 1e3:.1f} / {c['best'] * 1e3:.1f} "
            f"| {v['first'] * 1e3:.1f} / {v['best'] * 1e3:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revisions", nargs="?", type=int, default=300_000, help="synthetic revisions")
    parser.add_argument("--warehouse", type=Path, help="a built warehouse folder instead of synthetic data")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="openness-serving-bench-") as tmp:
        if args.warehouse:
            result = run_warehouse(args.warehouse, Path(tmp))
        else:
            result = run_synthetic(args.revisions, Path(tmp))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
