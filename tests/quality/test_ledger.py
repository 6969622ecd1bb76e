"""The validation ledger: the publish gate reuses a suite's pass only for exactly the content it validated."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest

from pipelines.publish.publish import PublishBlocked, publish
from pipelines.quality.gx_run import run_all, run_suite
from pipelines.quality.ledger import Ledger, definition_digest, delta_allowed
from pipelines.quality.suites import SUITES, Check, Derived, suite_for
from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import build_all, crawl


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample corpus crawled and built, every suite validated once with the ledger (as the build's checks do)."""
    wh = Warehouse(tmp_path_factory.mktemp("built"))
    crawl(wh, ["2025-04-15"], history=True)
    build_all(wh)
    checked_at = datetime.now(UTC)  # after the crawl: papers carry the wall-clock time they were fetched
    with wh.connect() as con:
        results = run_all(con, now=checked_at, ledger=Ledger(wh.quality))
    assert all(r["success"] for r in results.values()), {t: r["failed"] for t, r in results.items()}
    return wh, checked_at


@pytest.fixture
def now(built):
    """When the build's checks of the fixture ran."""
    return built[1]


@pytest.fixture
def wh(built, tmp_path):
    copy = Warehouse(tmp_path / "wh")
    shutil.copytree(built[0].root, copy.root)
    return copy


def _present(results: dict) -> dict:
    return {t: r for t, r in results.items() if r["present"]}


def test_a_pass_is_recorded_and_reused_for_the_same_content(wh, now):
    records = {p.stem for p in wh.quality.glob("*.json")}
    with wh.connect() as con:
        again = run_all(con, now=now + timedelta(hours=1), ledger=Ledger(wh.quality), reuse=True)
        fresh = run_all(con, now=now + timedelta(hours=1))
    assert records == set(_present(fresh))  # one record per suite whose table exists
    for table, result in _present(again).items():
        assert result["reused"]["validated_at"] == now.isoformat(), table
        assert "validate" not in result["timings"], table  # GX did not run
        for key in ("success", "rows", "evaluated", "successful"):
            assert result[key] == fresh[table][key], (table, key)
        assert "reused" in result["description"] and result["metadata"]["reused_from"] == now.isoformat()


def test_changed_content_is_validated_again(wh, now):
    with duckdb.connect(str(wh.work_db)) as con:
        con.execute(
            "UPDATE core.revisions SET card_bytes = card_bytes + 1 "
            "WHERE (repo_id, revision) IN (SELECT (repo_id, revision) FROM core.revisions "
            "WHERE card_bytes IS NOT NULL ORDER BY ALL LIMIT 1)"
        )
    later = now + timedelta(hours=1)
    with wh.connect() as con:
        results = run_all(con, now=later, ledger=Ledger(wh.quality), reuse=True)
    assert "reused" not in results["revisions"] and "validate" in results["revisions"]["timings"]
    assert results["revisions"]["success"]
    # Only the changed repo's rows were validated; the result still counts the whole table.
    with duckdb.connect(str(wh.work_db), read_only=True) as con:
        repo, rows = con.execute(
            "SELECT repo_id, count(*) FROM core.revisions WHERE repo_id = (SELECT repo_id "
            "FROM core.revisions WHERE card_bytes IS NOT NULL ORDER BY ALL LIMIT 1) "
            "GROUP BY repo_id"
        ).fetchall()[0]
        total = con.execute("SELECT count(*) FROM core.revisions").fetchall()[0][0]
    assert results["revisions"]["delta"] == {
        "changed_repos": 1,
        "validated_rows": rows,
        "base_validated_at": now.isoformat(),
        "base_rows": total,
    }
    assert results["revisions"]["rows"] == total and rows < total
    assert all("reused" in r for t, r in _present(results).items() if t != "revisions")
    # The new content's pass replaced the record.
    record = json.loads((wh.quality / "revisions.json").read_text())
    assert record["validated_at"] == later.isoformat()


def test_a_defect_after_the_checks_passed_still_blocks_publishing(wh, now):
    with duckdb.connect(str(wh.work_db)) as con:
        con.execute(
            "UPDATE core.openness SET license_id = 'no-such-licence', license_status = 'mapped' "
            "WHERE repo_id = 'mistralai/Mistral-7B-v0.1'"
        )
    with wh.connect() as con, pytest.raises(PublishBlocked) as blocked:
        publish(wh, con, now=now + timedelta(hours=1))
    assert "openness suite" in str(blocked.value)
    # A failure is never kept: the earlier pass on other content is gone too.
    assert not (wh.quality / "openness.json").exists()


def test_a_pass_validated_after_now_is_not_reused(wh, now):
    with wh.connect() as con:
        result = run_suite(
            con, "revisions", now=now - timedelta(days=1), ledger=Ledger(wh.quality), reuse=True
        )
    assert "reused" not in result and result["success"]


def test_an_unreadable_record_means_validating_again(wh, now):
    (wh.quality / "releases.json").write_text("{not json", encoding="utf-8")
    with wh.connect() as con:
        result = run_suite(con, "releases", now=now, ledger=Ledger(wh.quality), reuse=True)
    assert "reused" not in result and result["success"]
    assert json.loads((wh.quality / "releases.json").read_text())["result"]["success"] is True


def test_the_definition_digest_covers_checks_derived_columns_and_the_query():
    suite = suite_for("openness")
    columns = ["repo_id", "revision", "license_id"]
    base = definition_digest(suite, columns)
    assert (
        definition_digest(suite, columns) == base
    )  # stable (and independent of the day: `now` is not in it)
    extra = dataclasses.replace(
        suite,
        checks=lambda now: [
            *suite.checks(now),
            Check(
                "not_null:osaid", "ExpectColumnValuesToNotBeNull", {"column": "osaid"}, "osaid is never null"
            ),
        ],
    )
    assert definition_digest(extra, columns) != base
    loosened = dataclasses.replace(
        suite,
        checks=lambda now: [
            dataclasses.replace(c, kwargs={**c.kwargs, "max_value": 9})
            if c.name.startswith("between:mof_class")
            else c
            for c in suite.checks(now)
        ],
    )
    assert definition_digest(loosened, columns) != base
    other_catalogue = Derived(
        "uncatalogued_license_id",
        ("license_id",),
        lambda frame: pl.when(pl.col("license_id").is_in(["mit"]).not_()).then(pl.col("license_id")),
    )
    assert definition_digest(dataclasses.replace(suite, derived=(other_catalogue,)), columns) != base
    assert definition_digest(dataclasses.replace(suite, query=suite.query + " WHERE true"), columns) != base


def test_publish_reuses_the_checks_and_says_so(wh, now):
    published_at = now + timedelta(hours=2)
    with wh.connect() as con:
        folder = publish(wh, con, now=published_at)
    manifest = json.loads((folder / "manifest.json").read_text())
    suites = manifest["checks"]["suites"]
    assert {"releases", "revisions", "disclosures", "openness", "transitions"} <= {
        t for t, s in suites.items() if s["present"]
    }
    assert set(suites) == set(SUITES)
    assert all(s["validated_at"] == now.isoformat() for s in suites.values() if s["present"])
    # A copy of the checked warehouse: another file than the records name, so the content decided.
    assert all(s["reused_by"] == "content" for s in suites.values() if s["present"])
    text = (folder / "QUALITY.md").read_text()
    assert f"by the build's check at {now.isoformat()} (the same content)" in text


def test_publish_can_be_told_to_validate_everything_again(wh, now):
    published_at = now + timedelta(hours=2)
    with wh.connect() as con:
        folder = publish(wh, con, now=published_at, reuse_checks=False)
    suites = json.loads((folder / "manifest.json").read_text())["checks"]["suites"]
    assert all(s["validated_at"] == published_at.isoformat() for s in suites.values() if s["present"])
    assert all(s["reused_by"] is None for s in suites.values())


@pytest.mark.parametrize(
    ("table", "defect", "check"),
    [
        # A duplicate key has one repo_id: both copies are in the changed repo's rows (core.releases has no
        # primary key constraint once rebuilt as a plain table, as in test_defects_block_publishing).
        (
            "releases",
            "CREATE TABLE core.r2 AS SELECT * FROM core.releases; "
            "INSERT INTO core.r2 SELECT * FROM core.releases WHERE repo_id = 'Qwen/Qwen-7B'; "
            "DROP TABLE core.releases; ALTER TABLE core.r2 RENAME TO releases",
            "unique:repo_id",
        ),
        # A change in a joined table reaches the rows that read it: the orphan column is part of the fingerprint.
        ("revisions", "DELETE FROM core.releases WHERE repo_id = 'Qwen/Qwen-7B'", "references:releases"),
        (
            "openness",
            "UPDATE core.openness SET valid_to = valid_from - INTERVAL 1 DAY "
            "WHERE valid_to IS NOT NULL AND repo_id = 'Qwen/Qwen-7B'",
            "order:valid_from<valid_to",
        ),
        (
            "releases",
            "INSERT INTO core.releases SELECT * REPLACE ('x/new-repo' AS repo_id, NULL AS latest_revision) "
            "FROM core.releases LIMIT 1",
            None,
        ),
    ],
)
def test_only_changed_repos_are_validated_and_their_defects_still_fail(wh, now, table, defect, check):
    with duckdb.connect(str(wh.work_db)) as con:
        con.execute(defect)
    with wh.connect() as con:
        result = run_suite(con, table, now=now + timedelta(hours=1), ledger=Ledger(wh.quality), reuse=True)
    assert result["delta"]["changed_repos"] == 1, result.get("delta")
    if check is None:  # a new, well-formed repo: validated alone, and the pass is recorded
        assert result["success"] and result["delta"]["validated_rows"] == 1
        assert (
            json.loads((wh.quality / f"{table}.json").read_text())["validated_at"]
            == (now + timedelta(hours=1)).isoformat()
        )
        return
    assert not result["success"]
    assert check in result["metadata"]["failed"], result["metadata"]["failed"]
    assert not (wh.quality / f"{table}.json").exists() and not list(
        wh.quality.glob(f"{table}.*.repos.parquet")
    )
    # With the record gone, the next run validates the whole table (and fails the same way).
    with wh.connect() as con:
        again = run_suite(con, table, now=now + timedelta(hours=2), ledger=Ledger(wh.quality), reuse=True)
    assert "delta" not in again and not again["success"] and check in again["metadata"]["failed"]


def test_validating_only_changed_repos_needs_row_level_checks_and_repo_keys():
    revisions = suite_for("revisions")
    columns = ["repo_id", "revision", "committed_at"]
    checks = revisions.checks(datetime.now(UTC))
    assert delta_allowed(revisions, checks, columns)
    assert not delta_allowed(revisions, checks, ["revision", "committed_at"])  # no repo_id: whole table
    mostly = [
        dataclasses.replace(c, kwargs={**c.kwargs, "mostly": 0.99}) if c.name == "not_null:revision" else c
        for c in checks
    ]
    assert not delta_allowed(revisions, mostly, columns)
    by_revision = [
        *checks,
        Check("unique:revision", "ExpectColumnValuesToBeUnique", {"column": "revision"}, ""),
    ]
    assert not delta_allowed(revisions, by_revision, columns)  # a key across repos
    table_level = [*checks, Check("rows", "ExpectTableRowCountToBeBetween", {"min_value": 1}, "")]
    assert not delta_allowed(revisions, table_level, columns)
    for table in ("datasets", "papers", "crawl_runs", "licenses", "quarantine"):  # no repo_id: whole table
        suite = suite_for(table)
        assert not delta_allowed(suite, suite.checks(datetime.now(UTC)), list(suite.key))


def test_a_record_cannot_point_outside_its_folder(wh, now):
    record = json.loads((wh.quality / "openness.json").read_text())
    record["repos"] = "../../work.duckdb"
    (wh.quality / "openness.json").write_text(json.dumps(record))
    with duckdb.connect(str(wh.work_db)) as con:
        con.execute(
            "UPDATE core.openness SET valid_from = valid_from - INTERVAL 1 SECOND "
            "WHERE repo_id = 'Qwen/Qwen-7B'"
        )
    with wh.connect() as con:
        result = run_suite(
            con, "openness", now=now + timedelta(hours=1), ledger=Ledger(wh.quality), reuse=True
        )
    assert (
        result["success"] and "delta" not in result and "reused" not in result
    )  # the whole table, validated


def test_an_untouched_database_file_is_reused_without_reading_it(wh, now):
    later = now + timedelta(hours=1)
    with wh.connect() as con:  # this copy's own pass (the records of the fixture name another file)
        first = run_all(con, now=now, ledger=Ledger(wh.quality), reuse=True)
    assert not any(r.get("reused", {}).get("by") == "file" for r in first.values())
    with wh.connect() as con:
        again = run_all(con, now=later, ledger=Ledger(wh.quality), reuse=True)
    for table, result in _present(again).items():
        assert result["reused"]["by"] == "file", table
        assert "unchanged since" in result["description"]
        for key in ("success", "rows", "evaluated", "successful"):
            assert result[key] == first[table][key], (table, key)
    # A write to the file: the content decides again, table by table (only core.openness changed).
    with duckdb.connect(str(wh.work_db)) as con:
        con.execute(
            "UPDATE core.openness SET valid_from = valid_from - INTERVAL 1 SECOND "
            "WHERE repo_id = 'Qwen/Qwen-7B'"
        )
    with wh.connect() as con:
        touched = run_all(con, now=later, ledger=Ledger(wh.quality), reuse=True)
    assert "reused" not in touched["openness"] and touched["openness"]["delta"]["changed_repos"] == 1
    for table, result in _present(touched).items():
        assert "fingerprint" in result["timings"], table
        if table not in ("openness", "disclosures"):  # disclosures reads core.openness (unmapped licences)
            assert result["reused"]["by"] == "content", table
    # ... and the records now name the file as it is: the next look reads nothing.
    with wh.connect() as con:
        last = run_all(con, now=later, ledger=Ledger(wh.quality), reuse=True)
    assert {t: r.get("reused", {}).get("by") for t, r in _present(last).items()} == dict.fromkeys(
        _present(last), "file"
    )


def test_uncommitted_changes_are_never_taken_for_the_file(wh, now):
    with wh.connect() as con:
        run_all(con, now=now, ledger=Ledger(wh.quality), reuse=True)
    with wh.connect() as con:
        con.execute("BEGIN")
        con.execute(
            "UPDATE core.openness SET valid_to = valid_from - INTERVAL 1 DAY "
            "WHERE valid_to IS NOT NULL AND repo_id = 'Qwen/Qwen-7B'"
        )
        result = run_suite(
            con, "openness", now=now + timedelta(hours=1), ledger=Ledger(wh.quality), reuse=True
        )
        con.execute("ROLLBACK")
    assert "reused" not in result and not result["success"]
    assert "order:valid_from<valid_to" in result["metadata"]["failed"]
