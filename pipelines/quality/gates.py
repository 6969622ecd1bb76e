"""Snapshot gates: warehouse-wide comparisons with the previous snapshot that stop a bad publish.

A suite checks rows; a gate checks the whole against yesterday: a sharp drop in releases (a truncated
listing or a bad rebuild), a rubric that moved a large share of releases along the spectrum (a scoring
bug, or a rubric change someone must sign off), or a crawl that did not finish. An operator may publish
anyway with an override that names the gates and says why; the reason is recorded in the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

GATE_NAMES = ("release_drop", "spectrum_flip", "crawl_incomplete")
MAX_EXAMPLES = 5

# The latest row per repo on each side (the open interval, else the newest), joined on repo_id.
SPECTRUM_FLIPS = """
WITH cur AS (
    SELECT repo_id, spectrum_level FROM core.openness
    QUALIFY row_number() OVER (PARTITION BY repo_id
                               ORDER BY valid_to IS NULL DESC, valid_from DESC NULLS LAST, revision DESC) = 1),
prev AS (
    SELECT repo_id, spectrum_level FROM read_parquet(?)
    QUALIFY row_number() OVER (PARTITION BY repo_id
                               ORDER BY valid_to IS NULL DESC, valid_from DESC NULLS LAST, revision DESC) = 1)
SELECT count(*) AS compared,
       count(*) FILTER (WHERE c.spectrum_level IS DISTINCT FROM p.spectrum_level) AS changed,
       (list({'repo_id': c.repo_id, 'before': p.spectrum_level, 'after': c.spectrum_level} ORDER BY c.repo_id)
            FILTER (WHERE c.spectrum_level IS DISTINCT FROM p.spectrum_level))[1:5] AS examples
FROM cur c JOIN prev p USING (repo_id)"""
# The latest crawl date's runs; a rerun of a scope supersedes its earlier attempts that day.
LATEST_CRAWL = """SELECT run_key, scope, status, watermark, reached_watermark FROM core.crawl_runs
WHERE crawl_date = (SELECT max(crawl_date) FROM core.crawl_runs)
QUALIFY row_number() OVER (PARTITION BY scope ORDER BY started_at DESC, run_key DESC) = 1
ORDER BY run_key"""


@dataclass(frozen=True)
class GateThresholds:
    """Shares (0..1) beyond which a gate fails."""

    release_drop: float = 0.05  # releases lost since the previous snapshot
    spectrum_flip: float = 0.20  # releases (present in both) whose latest spectrum level changed


def _gate(
    name: str,
    passed: bool,
    value: float | int | None,
    threshold: float | int | None,
    reason: str,
    examples: list | None = None,
) -> dict:
    return {
        "name": name,
        "passed": passed,
        "value": value,
        "threshold": threshold,
        "reason": reason,
        "examples": examples or [],
        "overridden": False,
    }


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
        ).fetchone()[0]
        > 0
    )


def release_drop(con: duckdb.DuckDBPyConnection, previous: dict | None, threshold: float) -> dict:
    """Fails when core.releases lost more than `threshold` of the previous snapshot's rows."""
    now = con.execute("SELECT count(*) FROM core.releases").fetchone()[0]
    before = ((previous or {}).get("tables") or {}).get("releases", {}).get("rows")
    if not before:
        return _gate(
            "release_drop", True, None, threshold, f"no previous release count to compare ({now} now)"
        )
    drop = (before - now) / before
    passed = drop <= threshold
    word = "dropped" if drop > 0 else "changed"
    return _gate(
        "release_drop",
        passed,
        round(drop, 4),
        threshold,
        f"releases {word} from {before} to {now} ({drop:+.1%} lost; limit {threshold:.0%})",
    )


def _table_files(folder: Path, manifest: dict, name: str) -> list[Path] | None:
    """The Parquet files of one table of a published version, from its manifest: every `files` entry of the
    table (`<table>/<part>.parquet`), or the one `<table>.parquet` of an older version; None when the table
    is not listed or a file is missing or outside the folder."""
    entry = (manifest.get("tables") or {}).get(name)
    if not isinstance(entry, dict):
        return None
    if "files" in manifest:
        listed = [
            e.get("path")
            for e in (manifest.get("files") or {}).values()
            if isinstance(e, dict) and e.get("table") == name
        ]
    else:
        listed = [entry.get("path")]
    root = folder.resolve()
    paths = [folder / p for p in listed if isinstance(p, str)]
    if not paths or len(paths) != len(listed):
        return None
    if not all(p.is_file() and root in p.resolve().parents for p in paths):
        return None
    return sorted(paths)


def spectrum_flip(
    con: duckdb.DuckDBPyConnection, previous_folder: Path | None, previous: dict | None, threshold: float
) -> dict:
    """Fails when more than `threshold` of releases changed their latest spectrum level since the previous one."""
    if not _has_table(con, "core", "openness"):
        return _gate("spectrum_flip", True, None, threshold, "core.openness not present: nothing to compare")
    paths = (
        _table_files(Path(previous_folder), previous, "openness") if previous_folder and previous else None
    )
    if not paths:
        return _gate("spectrum_flip", True, None, threshold, "the previous snapshot has no openness table")
    try:
        compared, changed, examples = con.execute(SPECTRUM_FLIPS, [[str(p) for p in paths]]).fetchall()[0]
    except duckdb.Error as exc:  # fail closed: a gate that cannot compare does not wave a snapshot through
        return _gate("spectrum_flip", False, None, threshold, f"cannot compare spectrum levels: {exc}")
    if not compared:
        return _gate("spectrum_flip", True, None, threshold, "no release is in both snapshots")
    share = changed / compared
    return _gate(
        "spectrum_flip",
        share <= threshold,
        round(share, 4),
        threshold,
        f"{changed} of {compared} releases changed spectrum level ({share:.1%}; limit {threshold:.0%})",
        list(examples or []),
    )


def crawl_incomplete(con: duckdb.DuckDBPyConnection, crawl_complete: bool) -> dict:
    """Fails when the latest crawl date has an unfinished run or a listing not read back to its watermark."""
    runs = con.execute(LATEST_CRAWL).fetchall()
    problems = (
        [] if crawl_complete else [{"run_key": None, "problem": "the caller reported the crawl incomplete"}]
    )
    if not runs:
        problems.append({"run_key": None, "problem": "no crawl run recorded"})
    for key, scope, status, watermark, reached in runs:
        if status != "complete":
            problems.append({"run_key": key, "problem": f"status {status!r}"})
        # A listing with a watermark is incremental: it must have read back to it, or releases changed
        # since then were never seen. No watermark means a first (full) crawl.
        elif (scope or "").startswith("listing:") and watermark is not None and not reached:
            problems.append({"run_key": key, "problem": f"listing stopped before its watermark {watermark}"})
    detail = "; ".join(f"{p['run_key'] or 'crawl'}: {p['problem']}" for p in problems[:MAX_EXAMPLES])
    reason = (
        f"{len(problems)} problem(s) on the latest crawl date: {detail}"
        if problems
        else f"all {len(runs)} run(s) of the latest crawl date complete"
    )
    return _gate("crawl_incomplete", not problems, len(problems), 0, reason, problems[:MAX_EXAMPLES])


def check_override(override: dict | None) -> dict | None:
    """Validate an operator override; raise ValueError if it has no reason or names unknown gates."""
    if override is None:
        return None
    reason = str(override.get("reason") or "").strip()
    if not reason:
        raise ValueError("an override must give a reason")
    gates = list(override.get("gates") or [])
    unknown = [g for g in gates if g not in GATE_NAMES]
    if not gates or unknown:
        raise ValueError(f"an override must name gates among {', '.join(GATE_NAMES)}; got {gates}")
    return {"reason": reason, "by": override.get("by"), "gates": gates, "applied": []}


def evaluate_gates(
    con: duckdb.DuckDBPyConnection,
    previous_manifest: dict | None,
    *,
    thresholds: GateThresholds = GateThresholds(),
    crawl_complete: bool,  # noqa: B008 - frozen
    override: dict | None = None,
    previous_folder: Path | None = None,
) -> dict:
    """Every snapshot gate against the previous snapshot; `passed` is False if any gate fails unoverridden."""
    record = check_override(override)  # refused before anything is evaluated
    gates = [
        release_drop(con, previous_manifest, thresholds.release_drop),
        spectrum_flip(con, previous_folder, previous_manifest, thresholds.spectrum_flip),
        crawl_incomplete(con, crawl_complete),
    ]
    for gate in gates:
        if record and not gate["passed"] and gate["name"] in record["gates"]:
            gate.update(
                passed=True, overridden=True, override_reason=record["reason"], override_by=record["by"]
            )
            record["applied"].append(gate["name"])
    return {"passed": all(g["passed"] for g in gates), "gates": gates, "override": record}
