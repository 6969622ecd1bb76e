"""Per-release lookup: the `openness show` command.

For each repository id asked for: the release's current verdicts (the `core.openness` row in force, the
one with no `valid_to`): spectrum level, effective and declared licence, MOF class, OSAID, European Open
Source AI Index score and Solaiman's release level, with the evidence (the verdicts' evidence and the
Model Openness Framework components of that revision, with their URLs), then the release's timeline of
transitions (`core.transitions`). Text for people (one aligned block per release) or JSON lines for
programs (one object per release; the keys are listed in docs/snapshots.md, "Looking up a release").

The same SQL reads either the warehouse's serving database (`openness.duckdb`, opened read-only) or a
snapshot folder (its Parquet files, as the manifest lists them, behind views of the same names). A value
the pipeline could not decide is `unknown` in the text and `null` in JSON: never absent, never false.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import duckdb

from pipelines.publish.snapshot import is_safe_file_name, read_latest
from pipelines.storage.warehouse import Warehouse
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
            if not is_safe_file_name(path) or not (folder / path).is_file():
                raise ShowError(f"--snapshot {folder}: the {name} table's file {path!r} is missing")
            # `name` is one of SHOW_TABLES; the file's path is a literal with its quotes doubled.
            literal = str(folder.resolve() / path).replace("'", "''")
            con.execute(f"CREATE VIEW core.{name} AS SELECT * FROM read_parquet('{literal}')")  # noqa: S608
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


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
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
        row = source.con.execute(
            "SELECT repo_id FROM core.releases WHERE repo_id = ? OR list_contains(previous_ids, ?) "
            "ORDER BY repo_id = ? DESC, last_seen DESC NULLS LAST LIMIT 1",
            [asked, asked, asked],
        ).fetchone()
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
    candidates = [
        r[0]
        for r in source.con.execute(
            "SELECT repo_id FROM core.releases WHERE lower(repo_id) = ? OR lower(org) = ? OR lower(name) = ? "
            "OR levenshtein(lower(repo_id), ?) <= greatest(2, length(?) // 4) LIMIT 1000",
            [asked.lower(), org, name or org, asked.lower(), asked],
        ).fetchall()
    ]
    by_lower = {c.lower(): c for c in candidates}
    ranked = difflib.get_close_matches(asked.lower(), list(by_lower), n=SUGGESTIONS, cutoff=0.6)
    return [by_lower[c] for c in ranked]


def release_record(source: Source, repo_id: str) -> dict[str, Any]:
    """The lookup of one release (it must exist): the object one JSON line holds."""
    con = source.con
    release = _rows(con, "SELECT * FROM core.releases WHERE repo_id = ?", [repo_id])[0]
    current = _rows(
        con,
        "SELECT * FROM core.openness WHERE repo_id = ? ORDER BY valid_to IS NULL DESC, valid_from DESC NULLS LAST "
        "LIMIT 1",
        [repo_id],
    )
    scored = current[0] if current else {}
    revision = scored.get("revision")
    components = (
        _rows(
            con,
            "SELECT component, component_id, included, is_open, license_id, method, evidence "
            "FROM core.disclosures WHERE repo_id = ? AND revision = ? ORDER BY component_id, component",
            [repo_id, revision],
        )
        if revision
        else []
    )
    transitions = _rows(
        con,
        "SELECT changed_at, dimension, from_value, to_value, direction, short_lived, from_revision, to_revision, "
        "evidence_url FROM core.transitions WHERE repo_id = ? ORDER BY changed_at, to_revision, dimension",
        [repo_id],
    )
    evidence = _json_field(scored.get("evidence"))
    conflict_evidence = _json_field(scored.get("license_conflict_evidence"))
    commit_url = f"https://huggingface.co/{repo_id}/commit/{revision}" if revision else None
    record: dict[str, Any] = {
        "repo_id": repo_id,
        "source": {"kind": source.kind, "path": str(source.path), "version": source.version},
        "previous_ids": list(release.get("previous_ids") or []),
        "org": release.get("org"),
        "created_at": _iso(release.get("created_at")),
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
            }
            for t in transitions
        ],
    }
    return record


def lookup(source: Source, repo_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The records of the asked releases, in the order asked (an id asked twice is shown once)."""
    resolved = resolve_ids(source, list(dict.fromkeys(repo_ids)))
    return [release_record(source, repo_id) for repo_id in dict.fromkeys(resolved.values())]


# Text rendering ---------------------------------------------------------------------------------------


def _shown(value: object) -> str:
    """A value as the text shows it: unknown for null, yes/no for booleans."""
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _spectrum_names() -> dict[int, str]:
    from pipelines.openness.rubric import load_rubric

    with suppress(Exception):  # a name is a nicety: the level alone still answers
        return {int(lvl["level"]): str(lvl.get("name", "")) for lvl in load_rubric()["spectrum_levels"]}
    return {}


def _licence_text(lic: dict[str, Any]) -> str:
    if lic["id"] is None and lic["family"] is None:
        return UNKNOWN
    text = f"{_shown(lic['id'])} ({_shown(lic['family'])})"
    if lic["source"]:
        text += f", from the {'licence files' if lic['source'] == 'files' else lic['source']}"
    if lic["status"] and lic["status"] != "mapped":
        text += f", {lic['status']}"
    return text


def render_text(record: dict[str, Any], spectrum_names: dict[int, str] | None = None) -> str:
    """One release as an aligned block of text (verdicts, evidence, timeline)."""
    names = _spectrum_names() if spectrum_names is None else spectrum_names
    lic, mof, osai = record["license"], record["mof"], record["osai_index"]
    level = record["spectrum_level"]
    level_text = _shown(level) + (f" ({names[level]})" if level in names else "")
    declared = (
        "none declared"
        if record["license"]["declared_family"] == "none"
        else f"{_shown(lic['declared_id'])} ({_shown(lic['declared_family'])})"
    )
    files = f"{_shown(lic['file_id'])} ({_shown(lic['file_family'])})" if lic["file_id"] else "none read"
    progress = ", ".join(
        f"{n}: {UNKNOWN if p is None else f'{round(p, 1):g}%'}" for n, p in mof["progress"].items()
    )
    mof_text = (
        UNKNOWN if mof["class"] is None else f"{mof['class']} ({_shown(mof['label'])}); progress {progress}"
    )
    osaid = record["osaid"]
    osaid_text = _shown(osaid["verdict"])
    if osaid["unmet"]:
        osaid_text += f"; unmet: {', '.join(osaid['unmet'])}"
    score = osai["score"]
    index_text = (
        UNKNOWN
        if score is None
        else f"{score:.3f} over {_shown(osai['decided'])} of {len(osai['criteria'])} criteria decided"
    )
    revision = record["revision"]
    rev_text = UNKNOWN if revision is None else f"{revision[:12]} of {_date(record['committed_at'])}"
    rows: list[tuple[str, str]] = [
        ("revision", rev_text + (f"  {record['revision_url']}" if record["revision_url"] else "")),
    ]
    if record["previous_ids"]:
        rows.append(("formerly", ", ".join(record["previous_ids"])))
    if record["deleted_at"]:
        rows.append(("deleted", _date(record["deleted_at"])))
    rows += [
        ("spectrum level", level_text),
        ("licence", _licence_text(lic)),
        ("  declared", declared),
        ("  licence files", files),
    ]
    if lic["inherited_id"]:
        rows.append(("  base model's", lic["inherited_id"]))
    if lic["conflict"]:
        rows.append(("  conflict", "the card and the licence files disagree"))
    rows += [
        ("MOF class", mof_text),
        ("OSAID", osaid_text),
        ("OSAI Index score", index_text),
        ("release level", _shown(record["release_level"])),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{record['repo_id']}"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    criteria = record["osai_index"]["criteria"]
    lines.append("  OSAI Index criteria")
    cwidth = max(len(n) for n in OSAI_CRITERIA.values())
    lines += [f"    {OSAI_CRITERIA['osai_' + k]:<{cwidth}}  {_shown(v)}" for k, v in criteria.items()]
    lines.append("  evidence (Model Openness Framework components of this revision)")
    if record["components"]:
        cw = max(len(c["component"]) for c in record["components"])
        for c in record["components"]:
            state = "included" if c["included"] else ("not included" if c["included"] is False else UNKNOWN)
            if c["included"] and c["is_open"] is None and c["license_id"] is None:
                state += ", licence unknown"
            elif c["included"]:
                openness = {True: "open", False: "not open"}.get(c["is_open"], "openness unknown")
                state += f", {openness} ({c['license_id'] or 'licence unknown'})"
            urls = "  " + " ".join(c["urls"]) if c["urls"] else ""
            lines.append(f"    {c['component']:<{cw}}  {state}{urls}")
    else:
        lines.append(f"    {UNKNOWN} (the revision is not scored)")
    timeline = record["timeline"]
    lines.append(f"  timeline ({len(timeline)} transition{'' if len(timeline) == 1 else 's'})")
    if not timeline:
        lines.append("    no change since the first observed revision")
    dw = max((len(t["dimension"]) for t in timeline), default=0)
    last_commit = None
    for t in timeline:
        if t["to_revision"] != last_commit:
            last_commit = t["to_revision"]
            lines.append(f"    {_date(t['changed_at'])}  {t['evidence_url'] or _shown(last_commit)}")
        note = ", short-lived" if t["short_lived"] else ""
        lines.append(
            f"      {t['dimension']:<{dw}}  {_shown(t['from'])} -> {_shown(t['to'])}  ({t['direction']}{note})"
        )
    return "\n".join(lines)


def _date(value: object) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM` (UTC); unknown for null."""
    if not isinstance(value, str):
        return UNKNOWN
    return value[:16].replace("T", " ")


def run_show(
    repo_ids: list[str],
    *,
    as_json: bool = False,
    warehouse: Path | None = None,
    snapshot: Path | None = None,
    out: IO[str] = sys.stdout,
    err: IO[str] = sys.stderr,
) -> int:
    """The `openness show` command: 0 when every release was found, 1 for an unknown id (nothing printed
    but the one-line error), 2 when the source cannot be read."""
    try:
        source = open_source(warehouse, snapshot)
    except ShowError as exc:
        print(f"openness show: error: {exc}", file=err)
        return 2
    try:
        records = lookup(source, repo_ids)
    except UnknownRelease as exc:
        print(f"openness show: error: {exc}", file=err)
        return 1
    except duckdb.Error as exc:  # a damaged file or a table of another schema
        print(f"openness show: error: cannot read {source.label}: {str(exc).splitlines()[0]}", file=err)
        return 2
    finally:
        source.close()
    if as_json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False, sort_keys=False), file=out)
        return 0
    names = _spectrum_names()
    print(f"From {source.label}", file=out)
    for record in records:
        print("", file=out)
        print(render_text(record, names), file=out)
    return 0
