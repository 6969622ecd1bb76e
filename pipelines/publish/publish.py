"""Publishing one snapshot version from the working warehouse, then refreshing the serving file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.publish.report_html import render_report
from pipelines.publish.snapshot import previous_snapshot, write_snapshot
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
    and definition (pipelines/quality/ledger.py) is not validated again; the manifest says which were reused.
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
) -> Path:
    """Check, then write a new snapshot version (named after the last crawl date) and refresh the serving file.

    The suites and the gates (against the previous snapshot) run first; if any fails, and no recorded
    override covers it, nothing is written and PublishBlocked carries the report.
    """
    window = crawl_window(con)
    if window["to"] is None:
        raise RuntimeError("nothing to publish: no crawl has been recorded in this warehouse")
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
    meta = {"crawl_window": window, "quarantine": quarantine_counts(con), "checks": checks, **(extra or {})}
    html = render_report(con, meta)
    folder = write_snapshot(
        con,
        wh.snapshots,
        window["to"],
        extra=meta,
        documents={"QUALITY.md": report, "report.html": html, **(documents or {})},
    )
    # Copying the working file while the snapshot is written gained nothing on 2 cores (the copy competes
    # with the Parquet encoding; docs/benchmarks.md, "The daily cycle at 300,000 models"): after it.
    wh.publish_serving(con)
    return folder
