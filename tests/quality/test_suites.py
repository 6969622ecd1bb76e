"""GX suites: the clean warehouse passes; each kind of defect fails its check with the offending example."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines.quality.gx_run import run_all, run_suite
from pipelines.quality.suites import SUITES, suite_for
from tests.quality.conftest import NOW, sha


def failure(result: dict, check: str) -> dict:
    """The failed outcome of `check` in a suite result (fails the test if that check passed)."""
    found = {f["check"]: f for f in result["failed"]}
    assert check in found, f"{check} did not fail; failed: {list(found)}"
    return found[check]


def test_clean_warehouse_passes_every_suite(con: duckdb.DuckDBPyConnection) -> None:
    results = run_all(con, now=NOW)
    assert list(results) == list(SUITES)
    for name, result in results.items():
        assert result["present"], name
        assert result["success"], (name, result["failed"], result["error"])
        assert result["evaluated"] == result["successful"] > 0
        assert result["rows"] > 0
        json.dumps(result["metadata"])  # Dagster metadata must be JSON-safe as it stands
        assert result["metadata"]["failed"] == []
    assert results["quarantine"]["quarantine"] == {"invalid_identifier": 1, "malformed_yaml": 1}


# (description, SQL that injects the defect, table, failing check, text the examples must show)
DEFECTS = [
    (
        "duplicate key",
        "INSERT INTO core.openness SELECT * FROM core.openness WHERE repo_id = 'org-a/model-2'",
        "openness",
        "unique:repo_id,revision",
        "org-a/model-2",
    ),
    (
        "duplicate release",
        "CREATE OR REPLACE TABLE core.releases AS SELECT * FROM core.releases "
        "UNION ALL SELECT * FROM core.releases WHERE repo_id = 'org-b/model-3'",
        "releases",
        "unique:repo_id",
        "org-b/model-3",
    ),
    (
        # The old monthly mart showed "no licence declared" (NULL) and an unmapped licence ('unknown') both
        # as 'unknown': two rows with one key, which the charts then summed.
        "duplicate mart key",
        "INSERT INTO marts.monthly_openness VALUES ('2025-02-01', 'all', 'all', 'license_family', 'unknown', "
        "1, 0.25)",
        "monthly_openness",
        "unique:month,breakdown,group_value,metric,value",
        "unknown",
    ),
    (
        "duplicate transitions mart key",
        "INSERT INTO marts.monthly_transitions SELECT * FROM marts.monthly_transitions",
        "monthly_transitions",
        "unique:month,dimension,direction",
        "license_family",
    ),
    (
        # "No licence declared" is the family `none`, never NULL (NULL read as unknown in the marts).
        "no licence as null",
        "UPDATE core.openness SET license_family = NULL, license_status = 'missing' WHERE repo_id = 'org-b/model-4'",
        "openness",
        "not_null:license_family",
        "org-b/model-4",
    ),
    (
        "null in a key",
        "UPDATE core.openness SET revision = NULL WHERE repo_id = 'org-b/model-4'",
        "openness",
        "not_null:revision",
        "org-b/model-4",
    ),
    (
        "unknown licence id",
        "UPDATE core.openness SET license_id = 'made-up-1.0' WHERE repo_id = 'org-a/model-2'",
        "openness",
        "catalogued:license_id",
        "made-up-1.0",
    ),
    (
        "unknown member of a licence list",
        "UPDATE core.disclosures SET license_id = 'apache-2.0,nonsense' WHERE repo_id = 'org-b/model-3'",
        "disclosures",
        "catalogued:license_id",
        "apache-2.0,nonsense",
    ),
    (
        "inverted interval",
        "UPDATE core.openness SET valid_to = valid_from - INTERVAL 1 DAY WHERE valid_to IS NOT NULL",
        "openness",
        "order:valid_from<valid_to",
        "org-a/model-1",
    ),
    (
        "dangling reference",
        "INSERT INTO core.revisions (repo_id, revision, committed_at, observed_at) VALUES "
        "('org-z/ghost', 'abcdef0123456789abcdef0123456789abcdef01', '2025-03-01', '2025-03-02')",
        "revisions",
        "references:releases",
        "org-z/ghost",
    ),
    (
        "citation of an unknown paper",
        "INSERT INTO core.release_papers VALUES ('org-a/model-2', '2402.99999', NULL, NULL, NULL, 'tag')",
        "release_papers",
        "references:papers",
        "2402.99999",
    ),
    (
        "openness of an unknown revision",
        "UPDATE core.openness SET revision = 'f' || revision[2:] WHERE repo_id = 'org-b/model-3'",
        "openness",
        "references:revisions",
        "org-b/model-3@",
    ),
    (
        "transition of an unknown repo",
        "UPDATE core.transitions SET repo_id = 'org-z/ghost'",
        "transitions",
        "references:releases",
        "org-z/ghost",
    ),
    (
        "unknown gated value",
        "UPDATE core.revisions SET gated = 'sometimes' WHERE repo_id = 'org-a/model-2'",
        "revisions",
        "in_set:gated",
        "sometimes",
    ),
    (
        "commit in the future",
        "UPDATE core.revisions SET committed_at = '2027-01-01' WHERE repo_id = 'org-a/model-2'",
        "revisions",
        "between:committed_at",
        "2027-01-01",
    ),
    (
        "commit before 2015",
        "UPDATE core.revisions SET committed_at = '2014-06-01' WHERE repo_id = 'org-a/model-2'",
        "revisions",
        "between:committed_at",
        "2014-06-01",
    ),
    (
        "crawl finished before it started",
        "UPDATE core.crawl_runs SET finished_at = started_at - INTERVAL 1 HOUR "
        "WHERE run_key = 'readmes:2026-11-23'",
        "crawl_runs",
        "order:started_at<=finished_at",
        "readmes:2026-11-23",
    ),
    (
        "negative count",
        "UPDATE core.crawl_runs SET pages = -1 WHERE run_key = 'listing:2026-11-22'",
        "crawl_runs",
        "between:pages",
        "listing:2026-11-22",
    ),
    (
        "unknown quarantine reason",
        "INSERT INTO core.quarantine VALUES ('hub_listing', 'ref', NULL, 'cosmic_ray', NULL, NULL)",
        "quarantine",
        "in_set:reason",
        "cosmic_ray",
    ),
    (
        "score out of range",
        "UPDATE core.openness SET osai_score = 1.5 WHERE repo_id = 'org-a/model-2'",
        "openness",
        "between:osai_score",
        "1.5",
    ),
    (
        "spectrum level out of range",
        "UPDATE core.openness SET spectrum_level = 6 WHERE repo_id = 'org-a/model-2'",
        "openness",
        "between:spectrum_level",
        "6",
    ),
    (
        "unknown direction",
        "UPDATE core.transitions SET direction = 'sideways'",
        "transitions",
        "in_set:direction",
        "sideways",
    ),
    (
        "unknown modality",
        "UPDATE core.releases SET modality = 'smell' WHERE repo_id = 'org-a/model-1'",
        "releases",
        "in_set:modality",
        "smell",
    ),
    (
        "derivative of an unknown release",
        "UPDATE core.derivatives SET repo_id = 'org-z/ghost'",
        "derivatives",
        "references:releases",
        "org-z/ghost",
    ),
    (
        "duplicate derivative link",
        "INSERT INTO core.derivatives SELECT * FROM core.derivatives",
        "derivatives",
        "unique:repo_id,base_model",
        "org-b/model-4",
    ),
    (
        "unknown presence check",
        "UPDATE core.repo_presence SET how = 'guess' WHERE how = 'commits_404'",
        "repo_presence",
        "in_set:how",
        "guess",
    ),
    (
        "reconstruction of a commit the warehouse has no row for",
        "UPDATE core.reconstructions SET revision = 'f' || substr(revision, 2) WHERE kind = 'synthetic-commit-id'",
        "reconstructions",
        "references:revisions",
        "org-a/model-1@f",
    ),
    (
        "the same reconstruction twice at the repo grain (null revision and file)",
        "INSERT INTO core.reconstructions SELECT * FROM core.reconstructions WHERE revision IS NULL",
        "reconstructions",
        "unique:reconstruction_key",
        "org-a/model-2@/#createdAt-upper-bound",
    ),
]


@pytest.mark.parametrize(
    ("sql", "table", "check", "shown"), [d[1:] for d in DEFECTS], ids=[d[0] for d in DEFECTS]
)
def test_defect_fails_its_check_with_an_example(
    con: duckdb.DuckDBPyConnection, sql: str, table: str, check: str, shown: str
) -> None:
    con.execute(sql)
    result = run_suite(con, table, now=NOW)
    assert not result["success"]
    failed = failure(result, check)
    assert failed["unexpected_count"] >= 1
    assert 1 <= len(failed["examples"]) <= 5
    assert shown in json.dumps(failed["examples"])
    # The same failure, JSON-safe, in the metadata the Dagster asset check carries.
    assert check in result["metadata"]["failed"]
    assert shown in json.dumps(result["metadata"]["failures"][check]["examples"])


def test_examples_show_the_row_key_and_the_checked_value(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE core.openness SET license_id = 'made-up-1.0' WHERE repo_id = 'org-a/model-2'")
    example = failure(run_suite(con, "core.openness", now=NOW), "catalogued:license_id")["examples"][0]
    assert example == {
        "repo_id": "org-a/model-2",
        "revision": sha("org-a/model-2"),
        "license_id": "made-up-1.0",
    }


def test_unmapped_licences_marked_by_the_scorer_are_not_defects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "UPDATE core.openness SET license_id = 'my-own-licence', license_status = 'unmapped' "
        "WHERE repo_id = 'org-a/model-2'"
    )
    assert run_suite(con, "openness", now=NOW)["success"]
    con.execute("UPDATE core.openness SET license_status = 'mapped' WHERE repo_id = 'org-a/model-2'")
    assert "catalogued:license_id" in run_suite(con, "openness", now=NOW)["metadata"]["failed"]


def test_missing_table_is_reported_not_present(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE core.transitions")
    result = run_suite(con, "transitions", now=NOW)
    assert result["success"] and result["skipped"] and not result["present"]
    assert result["reason"] == "not present" and result["evaluated"] == 0
    assert result["metadata"]["present"] is False


def test_missing_column_fails_the_checks_that_need_it(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ALTER TABLE core.openness DROP COLUMN spectrum_level")
    result = run_suite(con, "openness", now=NOW)
    failed = failure(result, "between:spectrum_level")
    assert "spectrum_level" in failed["error"] and "missing" in failed["error"]
    assert result["metadata"]["failed"] == ["between:spectrum_level"]


def test_unknown_table_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(KeyError):
        run_suite(con, "core.nonsense", now=NOW)


def test_every_public_table_has_a_suite() -> None:
    from pipelines.publish.snapshot import PUBLIC_TABLES

    assert {suite_for(t).table for t in PUBLIC_TABLES.values()} == set(PUBLIC_TABLES.values())


def test_docs_list_every_check_and_quarantine_reason() -> None:
    from pipelines.quality.suites import QUARANTINE_REASONS
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "quality.md").read_text(encoding="utf-8")
    for suite in SUITES.values():
        section = text.split(f"### `{suite.name}` ", 1)[1].split("\n### ", 1)[0]
        for check in suite.checks(NOW):
            assert f"| `{check.name}` | {check.description} |" in section, (suite.name, check.name)
    for reason in QUARANTINE_REASONS:
        assert f"| `{reason}` |" in text, reason
