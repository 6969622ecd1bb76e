"""What changed between two snapshot versions, read from their Parquet files with DuckDB (`CHANGELOG.md`).

The comparison reads only the two folders' files, never the warehouse, so it describes exactly what a
researcher who holds both versions would see: releases added and removed, transitions since the previous
crawl window, schema changes and row-count deltas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.publish.markdown import frame_to_markdown
from pipelines.storage.resources import connect as connect_duckdb

# A changelog is for reading; beyond these the full lists are one query away in the Parquet files.
MAX_LISTED_RELEASES = 1000
MAX_LISTED_TRANSITIONS = 200
TRANSITION_COLUMNS = ("repo_id", "changed_at", "dimension", "from_value", "to_value", "direction")


@dataclass
class SnapshotDiff:
    """The differences between a new snapshot folder and the previous version's folder."""

    previous_version: str | None
    since: str | None
    row_counts: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    schema_changes: list[str] = field(default_factory=list)
    releases_added: list[str] = field(default_factory=list)
    releases_removed: list[str] = field(default_factory=list)
    transitions: pl.DataFrame | None = None

    def summary(self) -> dict:
        """Counts of each kind of change, for the manifest and run metadata."""
        return {
            "previous_version": self.previous_version,
            "transitions_since": self.since,
            "releases_added": len(self.releases_added),
            "releases_removed": len(self.releases_removed),
            "transitions": None if self.transitions is None else self.transitions.height,
            "schema_changes": len(self.schema_changes),
        }


def read_manifest(folder: Path) -> dict | None:
    """A snapshot folder's manifest, or None while it has none (a version being written)."""
    path = folder / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def snapshot_tables(folder: Path) -> dict[str, Path]:
    """Table name -> its Parquet files in a snapshot folder, as a path DuckDB's `read_parquet` reads: the glob
    `<table>/*.parquet`, or one `<table>.parquet` in a version written before tables were split into files
    (from the manifest when the folder has one)."""
    manifest = read_manifest(folder)
    if manifest is not None:
        return {name: folder / entry["path"] for name, entry in sorted(manifest.get("tables", {}).items())}
    found = {p.stem: p for p in sorted(folder.glob("*.parquet"))}
    found.update(
        {p.name: p / "*.parquet" for p in sorted(folder.iterdir()) if p.is_dir() and any(p.glob("*.parquet"))}
    )
    return dict(sorted(found.items()))


def parquet_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a Parquet file, as a reader of the file sees them."""
    rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    return [(r[0], r[1]) for r in rows]


def _row_count(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    return con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]


def _schema_changes(table: str, old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[str]:
    before, after = dict(old), dict(new)
    out = [f"`{table}`: column `{c}` added ({after[c]})" for c in after if c not in before]
    out += [f"`{table}`: column `{c}` removed (was {before[c]})" for c in before if c not in after]
    out += [
        f"`{table}`: column `{c}` retyped {before[c]} -> {after[c]}"
        for c in after
        if c in before and before[c] != after[c]
    ]
    return out


def _since(previous: Path | None) -> str | None:
    """The previous version's crawl window end (else its version's day): transitions after it are new."""
    if previous is None:
        return None
    window = (read_manifest(previous) or {}).get("crawl_window") or {}
    return window.get("to") or previous.name.split(".", 1)[0]


def compare_snapshots(new: Path, previous: Path | None, *, since: str | None = None) -> SnapshotDiff:
    """Compare a new snapshot folder with the previous version's folder (None for a first version)."""
    con = connect_duckdb()
    try:
        con.execute("SET TimeZone = 'UTC'")  # day boundaries of changed_at are UTC days
        new_tables = snapshot_tables(new)
        old_tables = snapshot_tables(previous) if previous is not None else {}
        diff = SnapshotDiff(
            previous_version=previous.name if previous is not None else None, since=since or _since(previous)
        )
        new_cols = {t: parquet_columns(con, p) for t, p in new_tables.items()}
        old_cols = {t: parquet_columns(con, p) for t, p in old_tables.items()}
        for table in sorted(set(new_tables) | set(old_tables)):
            diff.row_counts[table] = (
                _row_count(con, old_tables[table]) if table in old_tables else None,
                _row_count(con, new_tables[table]) if table in new_tables else None,
            )
            if previous is None:
                continue
            if table not in old_tables:
                diff.schema_changes.append(f"table `{table}` added")
            elif table not in new_tables:
                diff.schema_changes.append(f"table `{table}` removed")
            else:
                diff.schema_changes += _schema_changes(table, old_cols[table], new_cols[table])
        if (
            previous is not None
            and _has(new_cols, "releases", "repo_id")
            and _has(old_cols, "releases", "repo_id")
        ):
            query = (
                "SELECT repo_id FROM read_parquet(?) EXCEPT SELECT repo_id FROM read_parquet(?) "
                "ORDER BY repo_id"
            )
            pair = [str(new_tables["releases"]), str(old_tables["releases"])]
            diff.releases_added = [r[0] for r in con.execute(query, pair).fetchall()]
            diff.releases_removed = [r[0] for r in con.execute(query, pair[::-1]).fetchall()]
        if _has(new_cols, "transitions", "changed_at"):
            diff.transitions = _transitions(
                con, new_tables["transitions"], new_cols["transitions"], diff.since
            )
        return diff
    finally:
        con.close()


def _has(columns: dict[str, list[tuple[str, str]]], table: str, column: str) -> bool:
    return table in columns and column in dict(columns[table])


def _transitions(
    con: duckdb.DuckDBPyConnection, path: Path, columns: list[tuple[str, str]], since: str | None
) -> pl.DataFrame:
    present = [c for c in TRANSITION_COLUMNS if c in dict(columns)]
    # Column names come from the file's own schema filtered by a fixed list, never from user input.
    select = ", ".join(f'"{c}"' for c in present)
    order = "changed_at, repo_id" if "repo_id" in present else "changed_at"
    if since is None:
        return con.sql(
            f"SELECT {select} FROM read_parquet(?) ORDER BY {order}",  # noqa: S608
            params=[str(path)],
        ).pl()
    return con.sql(
        f"SELECT {select} FROM read_parquet(?) WHERE CAST(changed_at AS DATE) > CAST(? AS DATE) "  # noqa: S608
        f"ORDER BY {order}",
        params=[str(path), since],
    ).pl()


def _names(title: str, names: list[str]) -> list[str]:
    lines = [f"## {title} ({len(names)})", ""]
    lines += [f"- `{n}`" for n in names[:MAX_LISTED_RELEASES]] or ["(none)"]
    if len(names) > MAX_LISTED_RELEASES:
        lines.append(f"- ... and {len(names) - MAX_LISTED_RELEASES} more (query `releases/*.parquet`)")
    return lines + [""]


def render_diff(diff: SnapshotDiff, version: str) -> str:
    """The Markdown changelog of a comparison."""
    if diff.previous_version is None:
        lines = [
            f"# Changelog: {version}",
            "",
            "First version: there is no previous version to compare with.",
            "",
        ]
    else:
        lines = [f"# Changelog: {version} against {diff.previous_version}", ""]
    lines += ["## Row counts", "", "| table | previous | this version | change |", "|---|---:|---:|---:|"]
    for table, (old, new) in diff.row_counts.items():
        delta = "" if old is None or new is None else f"{new - old:+d}"
        lines.append(f"| {table} | {'' if old is None else old} | {'' if new is None else new} | {delta} |")
    lines.append("")
    if diff.previous_version is not None:
        lines += ["## Schema changes", ""] + ([f"- {c}" for c in diff.schema_changes] or ["(none)"]) + [""]
        lines += _names("Releases added", diff.releases_added)
        lines += _names("Releases removed", diff.releases_removed)
    if diff.transitions is not None:
        when = f"after {diff.since}" if diff.since else "in this version"
        lines += [f"## Transitions {when} ({diff.transitions.height})", ""]
        lines.append(
            frame_to_markdown(diff.transitions, max_rows=MAX_LISTED_TRANSITIONS)
            if diff.transitions.height
            else "(none)"
        )
        lines.append("")
    return "\n".join(lines)


def render_changelog(
    new: Path, previous: Path | None, *, version: str | None = None, since: str | None = None
) -> str:
    """`CHANGELOG.md` of the snapshot folder `new` against the previous version's folder (None if first)."""
    return render_diff(compare_snapshots(new, previous, since=since), version or new.name)
