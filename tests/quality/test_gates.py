"""Snapshot gates: collapsed row counts, mass spectrum flips, incomplete crawls, and operator overrides."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.publish.snapshot import previous_snapshot, write_snapshot
from pipelines.quality.gates import GATE_NAMES, GateThresholds, evaluate_gates
from pipelines.storage.warehouse import Warehouse
from tests.quality.conftest import REPOS


def gate(result: dict, name: str) -> dict:
    """One gate's entry in an evaluate_gates result."""
    return next(g for g in result["gates"] if g["name"] == name)


def add_releases(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """`n` more releases (no revisions needed: gates count rows)."""
    con.execute(
        "INSERT INTO core.releases (repo_id, org, name, first_seen, last_seen) SELECT 'org-x/m-' || i, "
        "'org-x', 'm-' || i, '2025-01-01'::TIMESTAMPTZ, '2026-11-20'::TIMESTAMPTZ FROM range(?) t(i)",
        [n],
    )


def test_clean_warehouse_without_a_previous_snapshot_passes(con: duckdb.DuckDBPyConnection) -> None:
    result = evaluate_gates(con, None, thresholds=GateThresholds(), crawl_complete=True, override=None)
    assert result["passed"] and result["override"] is None
    assert [g["name"] for g in result["gates"]] == list(GATE_NAMES)
    for g in result["gates"]:
        assert set(g) >= {"name", "passed", "value", "threshold", "reason"} and g["passed"], g


def test_collapsed_release_count_fails(con: duckdb.DuckDBPyConnection) -> None:
    add_releases(con, 46)  # 4 + 46 = 50 releases, the previous snapshot had 100
    previous = {"tables": {"releases": {"rows": 100}}}
    result = evaluate_gates(con, previous, thresholds=GateThresholds(), crawl_complete=True, override=None)
    drop = gate(result, "release_drop")
    assert not result["passed"] and not drop["passed"]
    assert drop["value"] == 0.5 and drop["threshold"] == 0.05
    assert "100" in drop["reason"] and "50" in drop["reason"]


def test_small_drop_within_threshold_passes(con: duckdb.DuckDBPyConnection) -> None:
    add_releases(con, 92)  # 96 releases after 100: a 4% drop
    result = evaluate_gates(
        con,
        {"tables": {"releases": {"rows": 100}}},
        thresholds=GateThresholds(),
        crawl_complete=True,
        override=None,
    )
    assert gate(result, "release_drop")["passed"] and gate(result, "release_drop")["value"] == 0.04
    tight = evaluate_gates(
        con,
        {"tables": {"releases": {"rows": 100}}},
        thresholds=GateThresholds(release_drop=0.01),
        crawl_complete=True,
        override=None,
    )
    assert not gate(tight, "release_drop")["passed"]


@pytest.fixture
def published(warehouse: tuple[Warehouse, duckdb.DuckDBPyConnection]) -> tuple[dict, object]:
    """The clean warehouse published as a real snapshot: (manifest, folder) of that previous version."""
    wh, con = warehouse
    write_snapshot(con, wh.snapshots, "2026-11-23")
    manifest, folder = previous_snapshot(wh.snapshots)
    assert manifest["tables"]["openness"]["rows"] == 5
    return manifest, folder


def test_mass_flip_of_spectrum_levels_fails(con: duckdb.DuckDBPyConnection, published: tuple) -> None:
    manifest, folder = published
    unchanged = evaluate_gates(
        con, manifest, thresholds=GateThresholds(), crawl_complete=True, override=None, previous_folder=folder
    )
    assert gate(unchanged, "spectrum_flip")["passed"] and gate(unchanged, "spectrum_flip")["value"] == 0.0
    # Half of the releases now sit at another level than in the previous snapshot.
    con.execute("UPDATE core.openness SET spectrum_level = 5 WHERE repo_id IN (?, ?)", [REPOS[1], REPOS[3]])
    result = evaluate_gates(
        con, manifest, thresholds=GateThresholds(), crawl_complete=True, override=None, previous_folder=folder
    )
    flip = gate(result, "spectrum_flip")
    assert not result["passed"] and not flip["passed"]
    assert flip["value"] == 0.5 and flip["threshold"] == 0.2
    assert flip["examples"] == [
        {"repo_id": REPOS[1], "before": 2, "after": 5},
        {"repo_id": REPOS[3], "before": 0, "after": 5},
    ]


def test_flip_compares_the_latest_row_per_repo(con: duckdb.DuckDBPyConnection, published: tuple) -> None:
    manifest, folder = published
    # org-a/model-1 has two revisions: changing the closed (older) interval is history, not a flip.
    con.execute(
        "UPDATE core.openness SET spectrum_level = 0 WHERE repo_id = ? AND valid_to IS NOT NULL", [REPOS[0]]
    )
    result = evaluate_gates(
        con, manifest, thresholds=GateThresholds(), crawl_complete=True, override=None, previous_folder=folder
    )
    assert gate(result, "spectrum_flip")["value"] == 0.0


@pytest.mark.parametrize(
    ("sql", "complete", "problem"),
    [
        (
            "UPDATE core.crawl_runs SET reached_watermark = false WHERE run_key = 'listing:2026-11-23'",
            True,
            "watermark",
        ),
        (
            "UPDATE core.crawl_runs SET status = 'failed' WHERE run_key = 'readmes:2026-11-23'",
            True,
            "'failed'",
        ),
        ("SELECT 1", False, "caller reported"),
    ],
    ids=["listing short of its watermark", "failed run", "reported by the caller"],
)
def test_incomplete_crawl_fails(
    con: duckdb.DuckDBPyConnection, sql: str, complete: bool, problem: str
) -> None:
    con.execute(sql)
    result = evaluate_gates(con, None, thresholds=GateThresholds(), crawl_complete=complete, override=None)
    crawl = gate(result, "crawl_incomplete")
    assert not result["passed"] and not crawl["passed"] and crawl["value"] == 1
    assert problem in crawl["reason"]


def test_first_crawl_without_watermark_is_complete(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM core.crawl_runs WHERE crawl_date = '2026-11-23'")  # only the first, full crawl
    result = evaluate_gates(con, None, thresholds=GateThresholds(), crawl_complete=True, override=None)
    assert gate(result, "crawl_incomplete")["passed"]


def test_override_turns_named_failing_gates_into_passed(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE core.crawl_runs SET status = 'failed' WHERE run_key = 'readmes:2026-11-23'")
    previous = {"tables": {"releases": {"rows": 100}}}
    override = {
        "reason": "Hub outage truncated the listing; rerun tomorrow",
        "by": "operator@example.org",
        "gates": ["release_drop"],
    }
    result = evaluate_gates(
        con, previous, thresholds=GateThresholds(), crawl_complete=True, override=override
    )
    drop = gate(result, "release_drop")
    assert drop["passed"] and drop["overridden"] and drop["override_reason"] == override["reason"]
    assert drop["override_by"] == "operator@example.org"
    assert not gate(result, "crawl_incomplete")["passed"] and not result["passed"]  # not named: still failing
    assert result["override"]["applied"] == ["release_drop"]
    override["gates"] = ["release_drop", "crawl_incomplete"]
    result = evaluate_gates(
        con, previous, thresholds=GateThresholds(), crawl_complete=True, override=override
    )
    assert result["passed"] and result["override"]["applied"] == ["release_drop", "crawl_incomplete"]


@pytest.mark.parametrize(
    "override",
    [
        {"by": "operator", "gates": ["release_drop"]},
        {"reason": "   ", "by": "operator", "gates": ["release_drop"]},
        {"reason": "because", "gates": ["release_dorp"]},
        {"reason": "because", "gates": []},
    ],
    ids=["no reason", "blank reason", "unknown gate", "no gates"],
)
def test_invalid_override_is_refused(con: duckdb.DuckDBPyConnection, override: dict) -> None:
    with pytest.raises(ValueError):
        evaluate_gates(con, None, thresholds=GateThresholds(), crawl_complete=True, override=override)


def test_a_completed_rerun_supersedes_a_failed_attempt(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO core.crawl_runs (run_key, crawl_date, started_at, scope, status) VALUES "
        "('listing:2026-11-23@early', '2026-11-23', '2026-11-22 23:00:00+00', 'listing:hub', 'failed')"
    )
    result = evaluate_gates(con, None, thresholds=GateThresholds(), crawl_complete=True, override=None)
    assert gate(result, "crawl_incomplete")["passed"]


def test_an_openness_file_that_cannot_be_compared_fails_closed(
    con: duckdb.DuckDBPyConnection, tmp_path
) -> None:
    con.execute(
        f"COPY (SELECT 'org-a/model-1' AS repo_id, 3 AS spectrum_level) TO '{tmp_path / 'openness.parquet'}'"
        " (FORMAT parquet)"
    )  # noqa: S608 - a test file path
    manifest = {"tables": {"releases": {"rows": 4}, "openness": {"path": "openness.parquet", "rows": 1}}}
    result = evaluate_gates(
        con,
        manifest,
        thresholds=GateThresholds(),
        crawl_complete=True,
        override=None,
        previous_folder=tmp_path,
    )
    flip = gate(result, "spectrum_flip")
    assert not flip["passed"] and "cannot compare" in flip["reason"]
