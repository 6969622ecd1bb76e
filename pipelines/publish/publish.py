"""Publishing one snapshot version from the working warehouse, then refreshing the serving file.

The serving file holds views over the new version's Parquet files (`serving_views`), not a copy of the
working database (pipelines/storage/warehouse.py, `Warehouse.publish_serving`).
The order is the commit protocol (docs/snapshots.md, "Publish order"): the version folder is renamed into
place, `LATEST` is staged, the serving file is replaced (it names its version in `meta.serving`), and
renaming `LATEST` into place commits. A kill or a full disk before that last rename leaves `LATEST` and the
serving file on the previous version (a finished but unnamed version folder is kept; versions are never
rewritten). Only a kill between the two renames leaves the serving file one version ahead; the next publish
finds it (a complete version the serving file holds, newer than `LATEST`) and moves `LATEST` forward before
anything else.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.publish.cleanup import remove_stale_temporaries
from pipelines.publish.provenance import data_source
from pipelines.publish.report_html import render_report
from pipelines.publish.snapshot import (
    PUBLIC_TABLES,
    VERSION,
    commit_latest,
    manifest_entries,
    previous_snapshot,
    publish_lock,
    read_latest,
    set_latest,
    stage_latest,
    unchanged_since,
    verify_snapshot,
    version_key,
    write_version,
)
from pipelines.quality.gates import GateThresholds, evaluate_gates
from pipelines.quality.gx_run import quarantine_counts, run_all
from pipelines.quality.ledger import Ledger
from pipelines.quality.report import render_quality_report
from pipelines.storage.warehouse import Warehouse


def crawl_window(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """The first and last crawl dates that fed the warehouse."""
    first, last = con.execute(
        "SELECT min(crawl_date)::VARCHAR, max(crawl_date)::VARCHAR FROM core.crawl_runs"
    ).fetchone()
    return {"from": first, "to": last}


# progress(event, detail): "removed" <path>, "latest-recovered" <version>, "writing" <day>,
# "version-written" <version>, "serving" <version> (the serving file's write starts), "served" <version>,
# "latest" <version>, "unchanged" <version> (nothing published: the content is that version's;
# `describe_progress` words it).
Progress = Callable[[str, str], None]


def describe_progress(event: str, detail: str) -> str:
    """One log line for a progress event."""
    if event == "unchanged":
        return f"no change since {detail}: nothing published"
    return f"publish: {event} {detail}"


class PublishBlocked(RuntimeError):
    """A quality suite or a snapshot gate failed: nothing was published. `report` says why."""

    def __init__(self, message: str, report: str, checks: dict) -> None:
        super().__init__(message)
        self.report, self.checks = report, checks


def quality_gate(
    wh: Warehouse,
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    override: dict | None = None,
    thresholds: GateThresholds | None = None,
    reuse_checks: bool = True,
) -> tuple[dict, str]:
    """Run every suite and every snapshot gate; return (checks for the manifest, the Markdown report).

    With `reuse_checks`, a suite whose passing result the build's checks recorded for exactly this content
    and definition (pipelines/quality/ledger.py) is not validated again; the manifest says which were reused
    and how (`reused_by`).
    """
    previous_manifest, previous_folder = previous_snapshot(wh.snapshots)
    gates = evaluate_gates(
        con,
        previous_manifest,
        thresholds=thresholds or GateThresholds(),
        crawl_complete=True,
        override=override,
        previous_folder=previous_folder,
    )
    results = run_all(con, now=now, ledger=Ledger(wh.quality), reuse=reuse_checks)
    report = render_quality_report(results, gates, quarantine_counts(con))
    checks = {
        "passed": bool(gates["passed"]) and all(r["success"] for r in results.values()),
        "suites": {
            t: {
                **{k: r.get(k) for k in ("success", "present", "evaluated", "successful")},
                "validated_at": (r.get("reused") or {}).get("validated_at", now.isoformat()),
                # How a recorded pass was known to hold: "file" (the working file untouched since it was
                # recorded), "content" (the same fingerprint); null when the gate validated the suite.
                "reused_by": (r.get("reused") or {}).get("by"),
            }
            for t, r in results.items()
        },
        "gates": gates,
    }
    return checks, report


def publish(
    wh: Warehouse,
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime | None = None,
    override: dict | None = None,
    thresholds: GateThresholds | None = None,
    documents: dict[str, str] | None = None,
    extra: dict | None = None,
    reuse_checks: bool = True,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Check, then write a new snapshot version (named after the last crawl date) and refresh the serving file.

    What killed publishes left is settled first (`recover`), so the gates compare with what was published.
    The suites and the gates (against the previous snapshot) run next; if any fails, and no recorded
    override covers it, nothing is written and PublishBlocked carries the report. When the public tables
    hold what the version `LATEST` names holds, but for run bookkeeping (snapshot.py, `RUN_BOOKKEEPING`),
    nothing new is published (the "unchanged" progress event) and that version's folder is returned, unless
    `force`.
    """
    window = crawl_window(con)
    if window["to"] is None:
        raise RuntimeError("nothing to publish: no crawl has been recorded in this warehouse")
    recover(wh, progress)
    checks, report = quality_gate(
        wh,
        con,
        now=now or datetime.now(UTC),
        override=override,
        thresholds=thresholds,
        reuse_checks=reuse_checks,
    )
    if not checks["passed"]:
        failed = [g["name"] for g in checks["gates"]["gates"] if not g["passed"]]
        failed += [f"{t} suite" for t, r in checks["suites"].items() if not r["success"]]
        raise PublishBlocked(f"publishing blocked by: {', '.join(failed)}", report, checks)
    meta = {
        "crawl_window": window,
        "source": data_source(wh, con),
        "quarantine": quarantine_counts(con),
        "checks": checks,
        **(extra or {}),
    }
    html = render_report(con, meta)
    return publish_version(
        wh,
        con,
        window["to"],
        extra=meta,
        documents={"QUALITY.md": report, "report.html": html, **(documents or {})},
        progress=progress,
        skip_unchanged=not force,
    )


def serving_views(folder: Path) -> dict[str, list[Path]]:
    """The warehouse table (`core.<table>`) -> the absolute paths of its Parquet files in a version folder.

    The files are the manifest's entries, grouped by table: `<table>.parquet` (one file) or
    `<table>/<part>.parquet` (a table split into parts); the other entries (the card, the changelog) are
    not tables. A Parquet entry that is no public table, or a path that leaves the folder, is an error.
    """
    folder = Path(folder).resolve()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files: dict[str, list[Path]] = defaultdict(list)
    for entry in manifest_entries(manifest):
        relative = str(entry["path"])
        if not relative.endswith(".parquet"):
            continue
        path = (folder / relative).resolve()
        if folder not in path.parents:
            raise ValueError(f"{folder.name}: manifest path escapes the version: {relative!r}")
        head, sep, _part = relative.partition("/")
        name = head if sep else relative.removesuffix(".parquet")
        if name not in PUBLIC_TABLES:
            raise ValueError(f"{folder.name}: {relative!r} is not a file of a public table")
        files[PUBLIC_TABLES[name]].append(path)
    return {table: sorted(paths) for table, paths in sorted(files.items())}


def recover_latest(wh: Warehouse) -> str | None:
    """Finish a publish killed between its two renames: when the serving file holds a complete, verified
    version newer than the one `LATEST` names, point `LATEST` at it; return it (None when nothing was done)."""
    try:
        served = wh.serving_version()
    except duckdb.Error:  # an unreadable serving file: nothing to finish, the publish replaces it
        return None
    latest = read_latest(wh.snapshots)
    if served is None or served == latest or not VERSION.match(served):
        return None
    if latest is not None and VERSION.match(latest) and version_key(latest) > version_key(served):
        return None
    folder = wh.snapshots / served
    if not (folder / "manifest.json").is_file():
        return None
    try:
        verify_snapshot(folder)
    except (OSError, ValueError):  # not a version to point readers at; the publish that follows replaces both
        return None
    set_latest(wh.snapshots, served)
    return served


def _served(wh: Warehouse) -> str | None:
    try:
        return wh.serving_version()
    except duckdb.Error:  # an unreadable serving file: the publish replaces it
        return None


def recover(wh: Warehouse, progress: Progress | None = None) -> None:
    """Under the snapshots lock, remove what killed publishes left and finish one killed between its renames."""
    with publish_lock(wh.snapshots):
        _recover_locked(wh, progress or (lambda _event, _detail: None))


def _recover_locked(wh: Warehouse, say: Progress) -> None:
    for path in remove_stale_temporaries(wh):
        say("removed", str(path))
    recovered = recover_latest(wh)
    if recovered:
        say("latest-recovered", recovered)


def publish_version(
    wh: Warehouse,
    con: duckdb.DuckDBPyConnection,
    day: str,
    *,
    extra: dict | None = None,
    documents: dict[str, str] | None = None,
    progress: Progress | None = None,
    skip_unchanged: bool = False,
) -> Path:
    """Write a version, replace the serving file, then move `LATEST` (the commit point); return the folder.

    Holding the snapshots lock, it first removes what killed publishes left (cleanup.py) and finishes one
    killed between its last two steps (`recover_latest`). With `skip_unchanged`, when the content is the
    one of the version `LATEST` names (`unchanged_since`), it writes nothing and returns that version.
    """
    say = progress or (lambda _event, _detail: None)
    with publish_lock(wh.snapshots):
        _recover_locked(wh, say)
        same = unchanged_since(con, wh.snapshots) if skip_unchanged else None
        if same is not None and _served(wh) == same:
            say("unchanged", same)
            return wh.snapshots / same
        say("writing", day)
        folder = write_version(con, wh.snapshots, day, extra=extra, documents=documents)
        version = folder.name
        say("version-written", version)
        # Staged before the serving file, so that once it is replaced only a rename is left to do.
        staged = stage_latest(wh.snapshots, version)
        try:
            views = serving_views(folder)
            say("serving", version)
            wh.publish_serving(con, version, views)
            say("served", version)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        commit_latest(wh.snapshots, staged)
        say("latest", version)
    return folder
