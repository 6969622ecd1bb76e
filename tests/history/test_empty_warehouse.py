"""A build on a warehouse with no captures yet (a fresh deployment) gives empty tables, not a crash."""

from __future__ import annotations

import pytest

from pipelines.runner import StepNotReady, run_step
from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import build_all

TABLES = [
    "core.revisions",
    "core.releases",
    "core.disclosures",
    "core.openness",
    "core.transitions",
    "core.derivatives",
    "marts.monthly_openness",
    "marts.monthly_transitions",
]


def _schemas(wh: Warehouse) -> dict[str, list[tuple[str, str]]]:
    with wh.connect(read_only=True) as con:
        return {
            t: [
                (c, str(d))
                for c, d in zip(
                    con.sql(f"SELECT * FROM {t}").columns,  # noqa: S608 - fixed names
                    con.sql(f"SELECT * FROM {t}").dtypes,  # noqa: S608 - fixed names
                    strict=True,
                )
            ]
            for t in TABLES
        }


def test_an_empty_warehouse_builds_empty_tables_with_the_full_schema(tmp_path, warehouse):
    empty = Warehouse(tmp_path / "empty")
    build_all(empty)
    with empty.connect(read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}  # noqa: S608
    assert counts == dict.fromkeys(TABLES, 0)
    # the same columns (names and types) as a build over the sample corpus
    populated, bare = _schemas(warehouse), _schemas(empty)
    for t in TABLES:
        assert [c for c, _ in bare[t]] == [c for c, _ in populated[t]], t
    mismatched = {t: [(a, b) for a, b in zip(bare[t], populated[t], strict=True) if a != b] for t in TABLES}
    assert not any(mismatched.values()), mismatched


def test_a_step_run_before_anything_is_crawled_or_built_says_what_to_run(tmp_path):
    # A fresh warehouse, and one step asked for alone (as materialising one asset in the UI does): the
    # tables it reads were never written, and nothing is crawled.
    wh = Warehouse(tmp_path / "fresh")
    with wh.connect() as con, pytest.raises(StepNotReady) as refused:
        run_step("marts", wh, con)
    message = str(refused.value)
    assert "\n" not in message
    assert message == (
        "build step 'marts' reads core.disclosures, core.openness, core.transitions, which no build has written yet: "
        f"nothing is crawled yet ({wh.raw.root} is empty): run the daily crawl first (`openness demo` replays "
        "the bundled mirror; or the daily_listing, daily_shards and daily_extras jobs in `openness ui`), then "
        "build every step in order (the build_tables job, or pipelines.runner.build_all; the steps before "
        "'marts': revisions, releases, crawl_runs, datasets, papers, code, scores)"
    )
