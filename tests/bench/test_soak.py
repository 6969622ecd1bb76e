"""The soak harness on a few days: faults and a SIGKILL leave the same warehouse as a clean run.

The same code as `make bench` (benchmarks/soak.py, 60 crawl dates there) on 6 crawl dates of the sample
corpus, with 2 shards and lower fault rates on the Hub requests only so that it stays around a minute: real
HTTP to the hub mirror, real crawl processes, real DuckDB files.
"""

from __future__ import annotations

import signal

import pytest

from benchmarks.soak import run_soak, soak_dates

pytestmark = pytest.mark.slow

# Faults on the Hub crawler's requests only (every one goes under /as-of/): the paper clients back off at
# least 1 s per failed answer, which the 60-date benchmark can afford and this test cannot.
FAULTS = {
    "seed": 3,
    "429": 0.01,
    "5xx": 0.03,
    "stall": 0.005,
    "truncate": 0.02,
    "stall_seconds": 2.0,
    "paths": "^/as-of/",
}


@pytest.fixture(scope="module")
def soak(tmp_path_factory) -> dict:
    return run_soak(
        6,
        kill_day=3,
        work=tmp_path_factory.mktemp("soak"),
        shards=2,
        faults=FAULTS,
        client={"timeout": 1.0},
        progress=False,
    )


def test_faults_were_injected_and_the_crawl_was_killed(soak):
    f = soak["figures"]
    assert sum(f["faults"].values()) > 0 and f["faults"]["5xx"] > 0 and f["faults"]["truncate"] > 0, f[
        "faults"
    ]
    assert f["faulty_repeated_requests"] > 0  # the faults cost retries...
    assert f["days_failed"] == 0  # ...and no day stayed failed
    kill = soak["faulty"]["kill"]
    assert kill["status"] == "killed" and kill["exitcode"] == -signal.SIGKILL, kill
    assert kill["day"] == 3 and kill["date"] == soak["dates"][2]
    # killed mid-crawl: some steps had finished and saved files, the day's rerun still had work to do
    assert kill["steps_completed"] and kill["saved_files"] and kill["rerun_requests"] > 0, kill
    assert f["kill_saved_then_refetched"] == 0  # nothing saved before the kill was fetched again


def test_faulty_warehouse_equals_the_clean_one(soak):
    tables = soak["analysis"]["tables"]
    compared = {n: t for n, t in tables.items() if t["equal"] is not None}
    assert {
        "core.revisions",
        "core.releases",
        "core.openness",
        "core.papers",
        "marts.monthly_openness",
    } <= set(compared)
    assert all(t["equal"] for t in compared.values()), {n: t for n, t in compared.items() if not t["equal"]}
    assert tables["core.revisions"]["clean_rows"] > 0 and tables["core.papers"]["clean_rows"] > 0
    assert all(soak["analysis"]["raw_equal"].values()), soak["analysis"]["raw_equal"]


def test_no_duplicates_and_a_rerun_adds_nothing(soak):
    tables = soak["analysis"]["tables"]
    assert all(t["clean_duplicates"] == 0 and t["faulty_duplicates"] == 0 for t in tables.values()), tables
    for label, sources in soak["analysis"]["raw"].items():
        assert all(s["duplicate_payloads"] == 0 and s["captured_twice"] == 0 for s in sources.values()), (
            label,
            sources,
        )
    rerun = soak["rerun"]
    assert rerun["status"] == "ok" and rerun["requests"] == 0, rerun
    assert rerun["data_files_before"] == rerun["data_files_after"] > 0
    assert set(rerun["added"]) <= {"crawl_run"}  # only the accounts of the rerun's own steps


def test_memory_is_measured_every_day_and_the_scheduler_keeps_nothing(soak):
    days = soak["faulty"]["days"]
    assert len(days) == 6 and all(
        d["peak_rss_mb"] and d["parent_rss_mb"] and d["mirror_rss_mb"] for d in days
    )
    # the parent (the scheduler's analogue) holds one small record per day: its RSS stays put
    assert abs(soak["figures"]["parent_rss"]["growth_mb"]) < 5, soak["figures"]["parent_rss"]


def test_dates_cover_every_commit_day_of_the_sample():
    dates = soak_dates(60)
    assert len(dates) == len(set(dates)) == 60 and dates[0] == "2021-06-14" and dates[-1] == "2025-04-15"
    assert (
        soak_dates(6)[0] == dates[0] and soak_dates(6)[-1] == dates[-1] and set(soak_dates(6)) <= set(dates)
    )
    # beyond the commit days come quiet days after the last commit (only the number of dates grows)
    assert soak_dates(63) == [*dates, "2025-04-16", "2025-04-17", "2025-04-18"]
