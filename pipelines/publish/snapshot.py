"""Publishing versioned, checksummed Parquet snapshots of the public tables.

A snapshot is written into a hidden temporary folder next to its final place and renamed into place
in one step, so a reader never sees half a version; a version that exists is never rewritten (a
republish makes a new version). `LATEST` names the newest version and is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.storage.warehouse import SCHEMA_VERSION, checked_table

# The dataset's contract (DESIGN.md, "Public tables"): snapshot file name -> warehouse table.
PUBLIC_TABLES = {
    "releases": "core.releases",
    "revisions": "core.revisions",
    "disclosures": "core.disclosures",
    "openness": "core.openness",
    "transitions": "core.transitions",
    "licenses": "core.licenses",
    "datasets": "core.datasets",
    "papers": "core.papers",
    "release_papers": "core.release_papers",
    "crawl_runs": "core.crawl_runs",
}
VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}\.\d+$")
MANIFEST_FORMAT = "openness-snapshot/1"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def next_version(snapshots: Path, day: str) -> str:
    """The next free version for a day: `YYYY-MM-DD.N`."""
    taken = [int(p.name.rsplit(".", 1)[1]) for p in snapshots.glob(f"{day}.*") if VERSION.match(p.name)]
    return f"{day}.{max(taken, default=0) + 1}"


def existing_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The public tables that exist in this warehouse."""
    present = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    return {name: table for name, table in PUBLIC_TABLES.items() if table in present}


def write_snapshot(con: duckdb.DuckDBPyConnection, snapshots: Path, day: str, *, extra: dict | None = None,
                   documents: dict[str, str] | None = None) -> Path:
    """Write every public table to a new version folder atomically and return its path."""
    snapshots.mkdir(parents=True, exist_ok=True)
    version = next_version(snapshots, day)
    tmp = snapshots / f".tmp-{version}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        files = {}
        for name, table in existing_tables(con).items():
            path = tmp / f"{name}.parquet"
            qualified = checked_table(con, table)
            # COPY cannot take the file name as a bound parameter; it is built from a fixed table name.
            con.execute(f"COPY (SELECT * FROM {qualified}) TO '{path.as_posix()}' "  # noqa: S608
                        "(FORMAT parquet, COMPRESSION zstd)")
            rows = con.execute(f"SELECT count(*) FROM {qualified}").fetchone()[0]  # noqa: S608
            files[name] = {"path": path.name, "rows": rows, "bytes": path.stat().st_size,
                           "sha256": sha256_file(path)}
        for doc_name, text in (documents or {}).items():
            (tmp / doc_name).write_text(text, encoding="utf-8")
        manifest = {
            "format": MANIFEST_FORMAT,
            "version": version,
            "schema_version": SCHEMA_VERSION,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": files,
            "documents": {d: {"path": d, "sha256": sha256_file(tmp / d), "bytes": (tmp / d).stat().st_size}
                          for d in sorted(documents or {})},
            **(extra or {}),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")
        final = snapshots / version
        os.rename(tmp, final)  # atomic on one filesystem; fails rather than overwrite an existing version
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    set_latest(snapshots, version)
    return final


def set_latest(snapshots: Path, version: str) -> None:
    """Point `LATEST` at a version (atomic replace)."""
    tmp = snapshots / f".LATEST.{os.getpid()}.tmp"
    tmp.write_text(version + "\n")
    os.replace(tmp, snapshots / "LATEST")


def verify_snapshot(folder: Path) -> dict:
    """Check every file listed in a snapshot's manifest against its size and sha256; raise on mismatch."""
    manifest = json.loads((folder / "manifest.json").read_text())
    entries = list(manifest.get("tables", {}).values()) + list(manifest.get("documents", {}).values())
    for entry in entries:
        path = (folder / entry["path"]).resolve()
        if folder.resolve() not in path.parents:
            raise ValueError(f"manifest path escapes the snapshot: {entry['path']!r}")
        if not path.exists():
            raise FileNotFoundError(f"{entry['path']} listed in the manifest is missing")
        if path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            raise ValueError(f"checksum mismatch for {entry['path']}")
    return manifest
