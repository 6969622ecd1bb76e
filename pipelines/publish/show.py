"""Per-release lookup: the records `openness show` prints (pipelines/publish/show_text.py prints them).

For each repository id asked for: the release's current verdicts (the `core.openness` row in force, the
one with no `valid_to`): spectrum level, effective and declared licence, MOF class, OSAID, European Open
Source AI Index score and Solaiman's release level, with the evidence (the verdicts' evidence and the
Model Openness Framework components of that revision, with their URLs), then the release's timeline of
transitions (`core.transitions`). The keys of a record are listed in docs/snapshots.md, "Looking up a
release"; the queries are in `sql/show/`.

The same SQL reads either the warehouse's serving database (`openness.duckdb`, opened read-only) or a
snapshot folder (its Parquet files, as the manifest lists them, behind views of the same names). A value
the pipeline could not decide is `null` in a record (`unknown` in the text): never absent, never false.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.publish.snapshot import is_safe_file_name, read_latest, table_files
from pipelines.storage.warehouse import Warehouse, sql_text
from pipelines.tables import table

# The public tables the lookup reads (registered in pipelines/tables.py), as `core.<name>` in both sources.
# `table` raises at import when one is renamed in the registry, and each is public (a file of every snapshot).
SHOW_TABLES = tuple(table(name).short for name in ("releases", "openness", "transitions", "disclosures"))
UNKNOWN = "unknown"
SUGGESTIONS = 3  # close matches named by an unknown id's error
# The European Open Source AI Index criteria of core.openness, in the registry's order, with the names its
# column meanings give them ("... criterion 'Base Model Data': ...").
OSAI_CRITERIA = {
    column: re.search(r"'([^']+)'", doc).group(1)
    for column, doc in table("core.openness").columns.items()
    if column.startswith("osai_") and re.search(r"criterion '[^']+'", doc)
}


class ShowError(Exception):
    """A lookup that cannot run or answer: the message is one line for the user."""


class UnknownRelease(ShowError):
    """Repository ids that name no release of the source."""


@dataclass
class Source:
    """An open, read-only view of the public tables: a warehouse's serving database or a snapshot."""

    con: duckdb.DuckDBPyConnection
    kind: str  # warehouse or snapshot
    path: Path  # the serving database or the snapshot folder
    version: str | None  # the snapshot version it holds (None: not recorded)

    @property
    def label(self) -> str:
        """How messages name the source: `the warehouse PATH (snapshot VERSION)`."""
        held = f" (snapshot {self.version})" if self.version else ""
        return f"the {self.kind} {self.path}{held}"

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


def _connect(database: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(database, read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")  # timestamps print and serialise in UTC
    return con


def _check_tables(con: duckdb.DuckDBPyConnection, where: str) -> None:
    present = {
        r[0]
        for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'core'").fetchall()
    }
    present |= {
        r[0]
        for r in con.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'core'").fetchall()
    }
    missing = [t for t in SHOW_TABLES if t not in present]
    if missing:
        raise ShowError(f"{where} has no {', '.join(missing)} table; publish or download a complete snapshot")


def open_warehouse(folder: Path) -> Source:
    """The serving database of a warehouse folder (`<folder>/openness.duckdb`), opened read-only."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ShowError(
            f"--warehouse {folder} is not a folder; give a warehouse folder (the one `openness demo` "
            "fills) or a snapshot with --snapshot"
        )
    wh = Warehouse(folder)
    if not wh.serving_db.is_file():
        raise ShowError(
            f"--warehouse {folder} has no serving database {wh.serving_db.name} (nothing published yet); "
            "run `openness demo` or give a snapshot with --snapshot"
        )
    try:
        version = wh.serving_version()
        con = _connect(str(wh.serving_db), read_only=True)
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        raise ShowError(f"cannot open {wh.serving_db} read-only: {message}") from exc
    try:
        _check_tables(con, f"the warehouse {wh.serving_db}")
    except BaseException:
        con.close()
        raise
    return Source(con, "warehouse", wh.serving_db, version)


def _snapshot_folder(folder: Path) -> Path:
    """A version folder: `folder` itself when it has a manifest, else the version its `LATEST` names."""
    if (folder / "manifest.json").is_file():
        return folder
    latest = read_latest(folder) if folder.is_dir() else None
    if latest and is_safe_file_name(latest) and (folder / latest / "manifest.json").is_file():
        return folder / latest
    if not folder.is_dir():
        raise ShowError(
            f"--snapshot {folder} is not a folder; give a snapshot version folder (with manifest.json), "
            "e.g. the one `openness download` made"
        )
    raise ShowError(
        f"--snapshot {folder} has no manifest.json (and no LATEST naming a version); give a snapshot "
        "version folder, e.g. the one `openness download` made"
    )


def open_snapshot(folder: Path) -> Source:
    """A snapshot version folder (or a snapshots root, for the version its `LATEST` names): its public
    tables as views `core.<table>` over the Parquet files its manifest lists."""
    folder = _snapshot_folder(Path(folder))
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ShowError(f"--snapshot {folder}: manifest.json cannot be read ({exc})") from exc
    tables = manifest.get("tables") if isinstance(manifest, dict) else None
    if not isinstance(tables, dict):
        raise ShowError(f"--snapshot {folder}: manifest.json lists no tables")
    con = _connect(":memory:", read_only=False)
    try:
        con.execute("CREATE SCHEMA core")
        for name in SHOW_TABLES:
            entry = tables.get(name)
            path = entry.get("path") if isinstance(entry, dict) else None
            if path is None:
                continue  # reported by _check_tables
            paths = table_files(folder.resolve(), manifest, name)
            if not paths:
                raise ShowError(f"--snapshot {folder}: a file of the {name} table ({path!r}) is missing")
            # `name` is one of SHOW_TABLES; each file's path is a literal with its quotes doubled.
            literals = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
            con.execute(f"CREATE VIEW core.{name} AS SELECT * FROM read_parquet([{literals}])")  # noqa: S608
        _check_tables(con, f"the snapshot {folder}")
    except BaseException:
        con.close()
        raise
    version = manifest.get("version") if isinstance(manifest.get("version"), str) else None
    return Source(con, "snapshot", folder, version)


def open_source(warehouse: Path | None = None, snapshot: Path | None = None) -> Source:
    """The snapshot folder when given, else the warehouse folder."""
    if snapshot is not None:
        return open_snapshot(snapshot)
    if warehouse is None:
        raise ShowError("give a --warehouse folder or a --snapshot folder")
    return open_warehouse(warehouse)


SYNTHETIC = "synthetic-commit-id"


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: list) -> list[dict[str, Any]]:
    """The rows of a query of `sql/` (e.g. `show/release.sql`) as dicts."""
    cur = con.execute(sql_text(query), params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _iso(value: object) -> object:
    """Timestamps as ISO 8601 text (UTC), everything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value


def _json_field(text: object) -> object:
    """A JSON text column parsed; kept as text when it is not JSON; null stays null."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _urls(value: object) -> list[str]:
    """Every `url` in a parsed evidence value, in order, once each."""
    found: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for key, item in v.items():
                if key == "url" and isinstance(item, str) and item not in found:
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return found


def resolve_ids(source: Source, repo_ids: Iterable[str]) -> dict[str, str]:
    """Each asked id -> the release's current repo id (a renamed repository is found by a former id).

    Raises UnknownRelease naming every id that matches no release, with close matches where there are.
    """
    resolved: dict[str, str] = {}
    unknown: list[str] = []
    for asked in repo_ids:
        row = source.con.execute(sql_text("show/find_release.sql"), [asked]).fetchone()
        if row:
            resolved[asked] = row[0]
        else:
            unknown.append(asked)
    if unknown:
        parts = []
        for asked in unknown:
            close = close_matches(source, asked)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            parts.append(f"{asked}{hint}")
        noun = "release" if len(unknown) == 1 else "releases"
        raise UnknownRelease(f"no {noun} {', '.join(parts)} in {source.label}")
    return resolved


def close_matches(source: Source, asked: str) -> list[str]:
    """Up to SUGGESTIONS repo ids close to `asked`: the same id in another case, the same organisation or
    name, or a few edits away (DuckDB narrows the candidates, difflib ranks them)."""
    org, _, name = asked.lower().partition("/")
    params = [asked.lower(), org, name or org]
    candidates = [r[0] for r in source.con.execute(sql_text("show/close_matches.sql"), params).fetchall()]
    by_lower = {c.lower(): c for c in candidates}
    ranked = difflib.get_close_matches(asked.lower(), list(by_lower), n=SUGGESTIONS, cutoff=0.6)
    return [by_lower[c] for c in ranked]


def release_record(source: Source, repo_id: str) -> dict[str, Any]:
    """The lookup of one release (it must exist): the object one JSON line holds."""
    con = source.con
    release = _rows(con, "show/release.sql", [repo_id])[0]
    current = _rows(con, "show/current_verdicts.sql", [repo_id])
    scored = current[0] if current else {}
    revision = scored.get("revision")
    components = _rows(con, "show/components.sql", [repo_id, revision]) if revision else []
    transitions = _rows(con, "show/timeline.sql", [repo_id])
    evidence = _json_field(scored.get("evidence"))
    conflict_evidence = _json_field(scored.get("license_conflict_evidence"))
    # A commit id a recording made up (X-Mirror-Reconstructed: synthetic-commit-id) is not on the Hub: no link.
    made_up = {t["to_revision"] for t in transitions if SYNTHETIC in (t.get("reconstructed") or "")}
    commit_url = (
        f"https://huggingface.co/{repo_id}/commit/{revision}"
        if revision and revision not in made_up
        else None
    )
    record: dict[str, Any] = {
        "repo_id": repo_id,
        "source": {"kind": source.kind, "path": str(source.path), "version": source.version},
        "previous_ids": list(release.get("previous_ids") or []),
        "org": release.get("org"),
        "created_at": _iso(release.get("created_at")),  # null where a hub mirror only bounds it
        "existed_by": _iso(release.get("existed_by")),
        "first_seen": _iso(release.get("first_seen")),
        "last_seen": _iso(release.get("last_seen")),
        "deleted_at": _iso(release.get("deleted_at")),
        "modality": release.get("modality"),
        "pipeline_tag": release.get("pipeline_tag"),
        "revision_count": release.get("revision_count"),
        "revision": revision,
        "revision_url": commit_url,
        "committed_at": _iso(scored.get("committed_at")),
        "valid_from": _iso(scored.get("valid_from")),
        "rubric_version": scored.get("rubric_version"),
        "method": scored.get("method"),
        "spectrum_level": scored.get("spectrum_level"),
        "license": {
            "id": scored.get("license_id"),
            "family": scored.get("license_family"),
            "status": scored.get("license_status"),
            "source": scored.get("license_source"),
            "declared_id": scored.get("declared_license_id"),
            "declared_family": scored.get("declared_license_family"),
            "file_id": scored.get("file_license_id"),
            "file_family": scored.get("file_license_family"),
            "inherited_id": scored.get("inherited_license_id"),
            "conflict": scored.get("license_conflict"),
            "conflict_evidence": conflict_evidence,
        },
        "mof": {
            "class": scored.get("mof_class"),
            "label": scored.get("mof_class_label"),
            "progress": {str(n): scored.get(f"mof_progress_{n}") for n in (1, 2, 3)},
        },
        "osaid": {
            "verdict": scored.get("osaid"),
            "unmet": list(scored["osaid_unmet"]) if scored.get("osaid_unmet") is not None else None,
        },
        "osai_index": {
            "score": scored.get("osai_score"),
            "decided": scored.get("osai_decided"),
            "criteria": {column.removeprefix("osai_"): scored.get(column) for column in OSAI_CRITERIA},
        },
        "release_level": scored.get("release_level"),
        "evidence": evidence,
        "components": [
            {
                "component": c["component"],
                "component_id": c["component_id"],
                "included": c["included"],
                "is_open": c["is_open"],
                "license_id": c["license_id"],
                "method": c["method"],
                "urls": _urls(_json_field(c["evidence"])),
                "evidence": _json_field(c["evidence"]),
            }
            for c in components
        ],
        "timeline": [
            {
                "changed_at": _iso(t["changed_at"]),
                "dimension": t["dimension"],
                "from": t["from_value"],
                "to": t["to_value"],
                "direction": t["direction"],
                "short_lived": t["short_lived"],
                "from_revision": t["from_revision"],
                "to_revision": t["to_revision"],
                "evidence_url": t["evidence_url"],
                "reconstructed": t.get("reconstructed"),
            }
            for t in transitions
        ],
    }
    return record


def lookup(source: Source, repo_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The records of the asked releases, in the order asked (an id asked twice is shown once)."""
    resolved = resolve_ids(source, list(dict.fromkeys(repo_ids)))
    return [release_record(source, repo_id) for repo_id in dict.fromkeys(resolved.values())]
