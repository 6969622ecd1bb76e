"""Validation in batches of whole repos: the same outcome as one pass over the table, with bounded memory."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipelines.quality.gx_run import run_suite
from pipelines.quality.ledger import Ledger, checked_columns, delta_allowed
from pipelines.quality.suites import SUITES, suite_for
from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import build_all, crawl


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    wh = Warehouse(tmp_path_factory.mktemp("batches"))
    crawl(wh, ["2025-04-15"], history=True)
    build_all(wh)
    return wh, datetime.now(UTC)


@pytest.fixture
def wh(built, tmp_path):
    copy = Warehouse(tmp_path / "wh")
    shutil.copytree(built[0].root, copy.root)
    return copy


def _by_repo(con) -> list[str]:
    """The suites validated in batches of repos (the others always take one pass)."""
    now = datetime.now(UTC)
    out = []
    for name, suite in SUITES.items():
        columns = checked_columns(con.sql(suite.query).columns, suite, suite.checks(now))
        if delta_allowed(suite, suite.checks(now), columns):
            out.append(name)
    return out


def _outcomes(result: dict) -> dict:
    return {
        c["check"]: (
            c["success"],
            c["unexpected_count"],
            None if c["unexpected_percent"] is None else round(c["unexpected_percent"], 9),
            c["error"],
        )
        for c in result["checks"]
    }


def test_batches_of_repos_give_the_outcome_of_one_pass(wh, built):
    now = built[1]
    with wh.connect() as con:
        tables = _by_repo(con)
        assert {"revisions", "releases", "disclosures", "openness", "transitions"} <= set(tables), tables
        for table in tables:
            one = run_suite(con, table, now=now, batch_rows=0)
            rows = one["rows"]
            sql = f"SELECT count(DISTINCT repo_id) FROM {suite_for(table).table}"  # noqa: S608
            repos = con.execute(sql).fetchall()[0][0]
            batched = run_suite(con, table, now=now, batch_rows=max(1, rows // 3))
            assert one["success"] and batched["success"], (table, one["failed"], batched["failed"])
            assert "batches" not in one["timings"]
            if repos > 1:  # more than one repo: several batches
                assert batched["timings"]["batches"] > 1, table
                assert "batches of whole repos" in batched["description"]
            for key in ("rows", "evaluated", "successful"):
                assert batched[key] == one[key], (table, key)
            assert _outcomes(batched) == _outcomes(one), table


def test_defects_in_several_batches_are_all_counted(wh, built):
    now = built[1]
    with duckdb.connect(str(wh.work_db)) as con:
        repos = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT repo_id FROM core.openness WHERE valid_to IS NOT NULL ORDER BY repo_id"
            ).fetchall()
        ]
        assert len(repos) >= 3, repos
        broken = [repos[0], repos[-1]]  # the first and the last batch
        con.execute(
            "UPDATE core.openness SET valid_to = valid_from - INTERVAL 1 DAY "
            "WHERE valid_to IS NOT NULL AND repo_id IN (?, ?)",
            broken,
        )
        inverted = con.execute("SELECT count(*) FROM core.openness WHERE valid_to < valid_from").fetchall()[
            0
        ][0]
        # A revision whose release is gone, in a third repo: an orphan in the revisions suite.
        orphan = repos[len(repos) // 2]
        con.execute("DELETE FROM core.releases WHERE repo_id = ?", [orphan])
        orphans = con.execute("SELECT count(*) FROM core.revisions WHERE repo_id = ?", [orphan]).fetchall()[
            0
        ][0]
    with wh.connect() as con:
        for table, check, count, repos_shown in (
            ("openness", "order:valid_from<valid_to", inverted, set(broken)),
            ("revisions", "references:releases", orphans, {orphan}),
        ):
            one = run_suite(con, table, now=now, batch_rows=0)
            batched = run_suite(con, table, now=now, batch_rows=max(1, one["rows"] // 4))
            assert batched["timings"]["batches"] > 2
            assert not one["success"] and not batched["success"]
            assert check in batched["metadata"]["failed"]
            assert _outcomes(batched) == _outcomes(one), table
            failure = batched["metadata"]["failures"][check]
            assert failure["unexpected_count"] == count
            assert 0 < len(failure["examples"]) <= 5
            shown = {e.get("repo_id") for e in failure["examples"]}
            assert shown <= repos_shown and shown, (shown, repos_shown)
            if len(repos_shown) > 1 and count <= 5:  # examples come from every failing batch
                assert shown == repos_shown


def test_suites_without_repo_keys_take_one_pass(wh, built):
    with wh.connect() as con:
        for table in ("licenses", "crawl_runs", "papers", "datasets"):
            result = run_suite(con, table, now=built[1], batch_rows=1)
            assert "batches" not in result["timings"], table


def test_the_monthly_mart_is_validated_month_by_month(wh, built):
    """The mart has no repo_id; at Hub scale it is too large for one pandas copy (87.7M rows at 3,000,000
    models), so it is validated in batches of whole months: a duplicate key (which always shares its month)
    and a bad value are found as in one pass."""
    now = built[1]
    with wh.connect() as con:
        months = con.execute("SELECT count(DISTINCT month) FROM marts.monthly_openness").fetchall()[0][0]
        one = run_suite(con, "monthly_openness", now=now, batch_rows=0)
        batched = run_suite(con, "monthly_openness", now=now, batch_rows=max(1, one["rows"] // 4))
    assert months > 2 and one["success"] and batched["success"]
    assert batched["timings"]["batches"] > 2 and "batches" not in one["timings"]
    assert _outcomes(batched) == _outcomes(one)
    with duckdb.connect(str(wh.work_db)) as con:
        con.execute(
            "INSERT INTO marts.monthly_openness SELECT * FROM marts.monthly_openness "
            "WHERE month = (SELECT max(month) FROM marts.monthly_openness) LIMIT 1"
        )
        con.execute(
            "UPDATE marts.monthly_openness SET releases = 0 "
            "WHERE month = (SELECT min(month) FROM marts.monthly_openness)"
        )
    with wh.connect() as con:
        one = run_suite(con, "monthly_openness", now=now, batch_rows=0)
        batched = run_suite(con, "monthly_openness", now=now, batch_rows=max(1, one["rows"] // 4))
    assert batched["timings"]["batches"] > 2
    failed = set(batched["metadata"]["failed"])
    assert {"unique:month,breakdown,group_value,metric,value", "between:releases"} <= failed, failed
    assert _outcomes(batched) == _outcomes(one)


def test_changed_repos_are_validated_in_batches_too(wh, built):
    now = built[1]
    with wh.connect() as con:
        first = run_suite(con, "revisions", now=now, ledger=Ledger(wh.quality), reuse=True)
    assert first["success"]
    with duckdb.connect(str(wh.work_db)) as con:
        # Change every revision of half the repos, and delete the release of one of them.
        repos = [
            r[0] for r in con.execute("SELECT DISTINCT repo_id FROM core.revisions ORDER BY 1").fetchall()
        ]
        changed = repos[::2]
        con.execute(
            "UPDATE core.revisions SET card_bytes = coalesce(card_bytes, 0) + 1 WHERE list_contains(?, repo_id)",
            [changed],
        )
        con.execute("DELETE FROM core.releases WHERE repo_id = ?", [changed[-1]])
        rows = con.execute(
            "SELECT count(*) FROM core.revisions WHERE list_contains(?, repo_id)", [changed]
        ).fetchall()[0][0]
        orphans = con.execute(
            "SELECT count(*) FROM core.revisions WHERE repo_id = ?", [changed[-1]]
        ).fetchall()[0][0]
    with wh.connect() as con:
        result = run_suite(
            con,
            "revisions",
            now=now + timedelta(hours=1),
            ledger=Ledger(wh.quality),
            reuse=True,
            batch_rows=max(1, rows // 4),
        )
    assert result["delta"]["changed_repos"] == len(changed) and result["delta"]["validated_rows"] == rows
    assert result["timings"]["batches"] > 1
    assert not result["success"]
    assert result["metadata"]["failures"]["references:releases"]["unexpected_count"] == orphans


def test_rows_without_a_repo_are_validated_in_their_own_batch(wh, built):
    with duckdb.connect(str(wh.work_db)) as con:
        con.execute(
            "INSERT INTO core.openness SELECT * REPLACE (NULL AS repo_id) FROM core.openness "
            "ORDER BY repo_id, revision LIMIT 2"
        )
    with wh.connect() as con:
        one = run_suite(con, "openness", now=built[1], batch_rows=0)
        batched = run_suite(con, "openness", now=built[1], batch_rows=max(1, one["rows"] // 5))
    assert batched["timings"]["batches"] > 1
    assert batched["rows"] == one["rows"]
    assert batched["metadata"]["failures"]["not_null:repo_id"]["unexpected_count"] == 2
    assert _outcomes(batched) == _outcomes(one)


def test_a_pass_leaves_no_pandas_copy_behind(wh, built):
    """Each GX pass works on a pandas copy of its rows; the pass's objects form reference cycles that held
    the copy after the pass (Python's collector seldom reached them: at 3,000,000 models the passes of one
    suite piled up to 21 GB). With automatic collection off, no copy survives a batched suite's passes."""
    import gc

    import pandas as pd

    def copies() -> int:
        return sum(isinstance(o, pd.DataFrame) for o in gc.get_objects())

    with wh.connect() as con:
        rows = run_suite(con, "disclosures", now=built[1], batch_rows=0)["rows"]
        gc.collect()
        before = copies()
        gc.disable()
        try:
            result = run_suite(con, "disclosures", now=built[1], batch_rows=max(1, rows // 4))
            left = copies()
        finally:
            gc.enable()
    assert result["success"] and result["timings"]["batches"] > 2
    assert left == before
