"""Benchmark of snapshots by difference: which share of a version's files a daily change rewrites.

`python -m benchmarks.snapshot_diff RELEASES REVISIONS [CHANGED_SHARE [ROWS_PER_FILE]]` (default 300,000 /
3,000,000, 0.005 and the snapshot writer's `ROWS_PER_FILE`):
the synthetic warehouse of `benchmarks/snapshot.py`, a first version, then a day on which CHANGED_SHARE of the
releases (picked by a hash of their id) got a new revision (committed that day; the others' commit dates
spread over the three years before, `SPREAD`): a `revisions` row, its 17 `disclosures` rows, an
`openness` row (the previous one closed with `valid_to`), two `transitions` and their `releases` row updated, as
the daily build does (it rewrites a changed release's disclosures whole, with the older revisions' rows as they
were). The warehouse has 17 `disclosures` rows per revision, as the real build has.
A second version is written against the first; the result counts, per table, the files and bytes the second
version wrote and those it carried over (hard links), and the seconds of both writes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.snapshot import _fill, _fill_scored, empty_warehouse
from pipelines.publish import snapshot
from pipelines.publish.snapshot import write_snapshot

DAY = "TIMESTAMPTZ '2026-11-16 12:00:00+00'"
# The revisions' commit dates, spread evenly (by a hash of the revision) over the three years before the day,
# so that the day's month file already holds half a month of rows, as a real month file does mid-month
# (benchmarks/snapshot.py's dates cluster in a few weeks at these sizes).
SPREAD = "TIMESTAMPTZ '2023-11-16 12:00:00+00' + to_seconds(md5_number_lower(revision) % (3 * 365 * 86400))"


def _daily_change(con: duckdb.DuckDBPyConnection, share: float) -> int:
    """A new revision for `share` of the releases (picked by md5 of the id); return how many changed."""
    per_million = round(share * 1_000_000)
    con.execute(
        "CREATE TEMP TABLE changed AS SELECT repo_id FROM core.releases "
        "WHERE md5_number_lower(repo_id || '#day') % 1000000 < ?",
        [per_million],
    )
    changed = con.execute("SELECT count(*) FROM changed").fetchone()[0]
    new_rev = "lpad(md5(repo_id || '#day'), 40, '0')"
    con.execute(
        f"INSERT INTO core.revisions BY NAME SELECT * REPLACE ({new_rev} AS revision, {DAY} AS committed_at, "  # noqa: S608
        f"{DAY} AS observed_at) FROM core.revisions WHERE repo_id IN (SELECT repo_id FROM changed) "
        "QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY revision) = 1"
    )
    con.execute(
        f"INSERT INTO core.disclosures BY NAME SELECT * REPLACE ({new_rev} AS revision) "  # noqa: S608
        "FROM core.disclosures WHERE (repo_id, revision) IN (SELECT repo_id, min(revision) FROM core.disclosures "
        "WHERE repo_id IN (SELECT repo_id FROM changed) GROUP BY repo_id)"
    )
    con.execute(
        f"UPDATE core.releases SET last_seen = {DAY}, latest_revision = {new_rev}, "  # noqa: S608
        "revision_count = revision_count + 1 WHERE repo_id IN (SELECT repo_id FROM changed)"
    )
    con.execute(
        f"INSERT INTO core.openness BY NAME SELECT * REPLACE ({new_rev} AS revision, {DAY} AS valid_from, "  # noqa: S608
        "NULL AS valid_to) FROM core.openness WHERE repo_id IN (SELECT repo_id FROM changed) "
        "QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY revision) = 1"
    )
    con.execute(
        f"UPDATE core.openness SET valid_to = {DAY} WHERE repo_id IN (SELECT repo_id FROM changed) "  # noqa: S608
        f"AND revision <> {new_rev} AND valid_to IS NULL"
    )
    con.execute(
        f"INSERT INTO core.transitions BY NAME SELECT * REPLACE ({new_rev} AS to_revision, {DAY} AS changed_at) "  # noqa: S608
        "FROM core.transitions WHERE repo_id IN (SELECT repo_id FROM changed) "
        "QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY to_revision, dimension) <= 2"
    )
    return changed


def run_snapshot_diff(releases: int, revisions: int, share: float = 0.005) -> dict:
    """Write a version, change `share` of the releases, write the next version; count what it wrote."""
    with tempfile.TemporaryDirectory(prefix="openness-bench-") as tmp:
        wh, con = empty_warehouse(tmp)
        _fill(con, releases, revisions)
        _fill_scored(con, revisions, disclosures=True)
        con.execute(f"UPDATE core.revisions SET committed_at = {SPREAD}")  # noqa: S608 - a fixed expression
        # As the history build leaves it: each release's newest openness row is open (no valid_to).
        con.execute(
            "UPDATE core.openness SET valid_to = NULL WHERE (repo_id, revision) IN "
            "(SELECT repo_id, max(revision) FROM core.openness GROUP BY repo_id)"
        )
        con.execute(
            "INSERT INTO core.crawl_runs (run_key, crawl_date, started_at, status) "
            "VALUES ('bench', DATE '2026-11-01', TIMESTAMPTZ '2026-11-01', 'complete')"
        )
        con.execute("CHECKPOINT")
        started = time.perf_counter()
        before = json.loads(
            (write_snapshot(con, Path(tmp) / "snapshots", "2026-11-15") / "manifest.json").read_text()
        )
        first_seconds = time.perf_counter() - started
        changed = _daily_change(con, share)
        started = time.perf_counter()
        folder = write_snapshot(con, Path(tmp) / "snapshots", "2026-11-16")
        second_seconds = time.perf_counter() - started
        manifest = json.loads((folder / "manifest.json").read_text())
        con.close()
    old = before["files"]
    tables = {}
    for name, entry in sorted(manifest["tables"].items()):
        mine = [e for e in manifest["files"].values() if e["table"] == name]
        new_bytes = sum(e["bytes"] for e in mine if (old.get(e["path"]) or {}).get("sha256") != e["sha256"])
        tables[name] = {
            "rows": entry["rows"],
            "files": entry["buckets"],
            "written": entry["written"],
            "bytes": entry["bytes"],
            "bytes_written": new_bytes,
        }
    return {
        "releases": releases,
        "revisions": revisions,
        "rows_per_file": snapshot.ROWS_PER_FILE,
        "changed_releases": changed,
        "first_version_seconds": round(first_seconds, 1),
        "daily_version_seconds": round(second_seconds, 1),
        "files": sum(t["files"] for t in tables.values()),
        "files_written": sum(t["written"] for t in tables.values()),
        "bytes": sum(t["bytes"] for t in tables.values()),
        "bytes_written": sum(t["bytes_written"] for t in tables.values()),
        "tables": tables,
    }


def run_snapshot_diff_bench(revisions: int) -> dict:
    """`make bench`: `run_snapshot_diff` with one release per ten revisions and 0.5% of them changed."""
    return run_snapshot_diff(max(1, revisions // 10), revisions)


def table_rows(result: dict) -> list[tuple[str, Any, str, str]]:
    """(figure, value, target, met?) rows for docs/benchmarks.md."""
    from benchmarks.run import figure_row

    share = result["bytes_written"] / result["bytes"] if result["bytes"] else 0.0
    return [
        figure_row(
            "releases / revisions / releases changed by the day",
            f"{result['releases']:,} / {result['revisions']:,} / {result['changed_releases']:,}",
        ),
        figure_row("first version (s)", result["first_version_seconds"]),
        figure_row("daily version (s)", result["daily_version_seconds"]),
        figure_row("daily version: files written / files", f"{result['files_written']} / {result['files']}"),
        figure_row(
            "daily version: bytes written (the daily sync's download) / bytes",
            f"{result['bytes_written']:,} / {result['bytes']:,} ({share * 100:.2f}%)",
        ),
        figure_row(
            "files written per table",
            ", ".join(f"{k} {v['written']}/{v['files']}" for k, v in result["tables"].items()),
        ),
    ]


if __name__ == "__main__":
    args = sys.argv[1:]
    sizes = [int(a) for a in args[:2]] or [300_000, 3_000_000]
    share = float(args[2]) if len(args) > 2 else 0.005
    if len(args) > 3:
        snapshot.ROWS_PER_FILE = int(args[3])
    print(json.dumps(run_snapshot_diff(*sizes, share), indent=1))
