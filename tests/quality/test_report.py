"""The Markdown quality report: what was checked, the gates, what was held, and the verdict."""

from __future__ import annotations

import duckdb

from pipelines.quality.gates import GateThresholds, evaluate_gates
from pipelines.quality.gx_run import quarantine_counts, run_suite
from pipelines.quality.report import render_quality_report
from tests.quality.conftest import NOW


def test_clean_run_reads_pass(con: duckdb.DuckDBPyConnection) -> None:
    results = {t: run_suite(con, t, now=NOW) for t in ("releases", "quarantine")}
    con.execute("DROP TABLE core.transitions")
    results["transitions"] = run_suite(con, "transitions", now=NOW)
    gates = evaluate_gates(con, None, thresholds=GateThresholds(), crawl_complete=True, override=None)
    text = render_quality_report(results, gates, quarantine_counts(con))
    assert "**Verdict: PASS**: 2 suites passed, all 3 gates passed." in text
    assert "| core.releases | 4 | 11 | 11 | 0 |" in text
    assert "| core.transitions | | | | | not present (skipped) |" in text
    assert "| invalid_identifier | 1 | yes |" in text and "| malformed_yaml | 1 | yes |" in text
    assert "## Snapshot gates" in text and "| release_drop | passed |" in text


def test_failures_gates_and_unknown_quarantine_reasons_are_shown(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO core.quarantine VALUES ('hub_listing', 'ref', NULL, 'cosmic_ray', NULL, NULL)")
    con.execute("UPDATE core.revisions SET gated = 'some|times' WHERE repo_id = 'org-a/model-2'")
    results = {t: run_suite(con, t, now=NOW) for t in ("revisions", "quarantine")}
    override = {"reason": "known outage", "by": "ops", "gates": ["crawl_incomplete"]}
    gates = evaluate_gates(
        con,
        {"tables": {"releases": {"rows": 100}}},
        thresholds=GateThresholds(),
        crawl_complete=False,
        override=override,
    )
    text = render_quality_report(results, gates, quarantine_counts(con))
    assert text.startswith(
        "# Data quality report\n\n**Verdict: FAIL**: suites failed: revisions, quarantine; "
        "gates failed: release_drop."
    )
    assert "`in_set:gated`" in text and "some\\|times" in text  # the example, escaped for the table syntax
    assert "`in_set:reason`" in text and "| cosmic_ray | 1 | **no** |" in text
    assert "| release_drop | **FAILED** | 0.96 | 0.05 |" in text
    assert "| crawl_incomplete | passed (override) |" in text
    assert 'Override by ops for crawl_incomplete: "known outage". Applied to: crawl_incomplete.' in text


def test_override_verdict_and_empty_quarantine() -> None:
    results = {
        "releases": {
            "table": "core.releases",
            "present": True,
            "success": True,
            "rows": 1,
            "evaluated": 1,
            "successful": 1,
            "failed": [],
            "elapsed_seconds": 0.1,
        }
    }
    gates = {
        "passed": True,
        "override": {"reason": "r", "by": "b", "gates": ["release_drop"], "applied": ["release_drop"]},
        "gates": [
            {
                "name": "release_drop",
                "passed": True,
                "overridden": True,
                "value": 0.5,
                "threshold": 0.05,
                "reason": "releases dropped",
                "examples": [],
            }
        ],
    }
    text = render_quality_report(results, gates, {})
    assert "**Verdict: PASS (with override)**: 1 suites passed; gates overridden: release_drop." in text
    assert "Nothing was quarantined." in text
