"""The build runner's incremental mode gives exactly the tables of its full mode, after every replayed day.

Two warehouses share one raw layer: one is built incrementally (`build_all`, its state carried from day
to day), the other in full mode from scratch (`tests/history/helpers.build_all`). After each day every
core table and mart must be equal row for row (row order aside), and the monthly mart, kept by difference,
must equal the same rule stated in one query over core.openness (monthly_openness_reference.sql). The days cover the daily listing, the
history backfill inserting older commits on a later day, partitions crawled out of order (a new crawl date
between two known ones moves `observed_at` of other repos), a re-crawled partition, a rename (same `_id`,
new id) and a deletion, and a synthetic Hub with derivatives of generated bases.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from benchmarks.rawgen import generate_day, generate_raw
from pipelines.hub.step import run_crawl
from pipelines.incremental import normalise, scoring, state
from pipelines.mirror.server import MirrorServer
from pipelines.runner import build_all as build_incremental
from pipelines.storage.warehouse import Warehouse
from pipelines.tables import TABLES as REGISTRY
from tests.history.helpers import NOW, build_all, commit_days, crawl
from tests.hub.crawl_helpers import settings
from tests.hub.test_lifecycle import FIRST, SWEEP, _write

# Every table of the registry: a table added there is compared here too.
TABLES = [t.name for t in REGISTRY]


def _sorted(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    frame = con.sql(f"SELECT * FROM {table}").pl()  # noqa: S608 - fixed table names
    keys = [c for c, t in frame.schema.items() if not isinstance(t, pl.List | pl.Struct)]
    return frame.sort(keys, nulls_last=True)


def assert_same_tables(incremental: Warehouse, pure: Warehouse, label: str) -> None:
    """Every table of both warehouses, equal row for row (order aside)."""
    with (
        duckdb.connect(str(incremental.work_db), read_only=True) as a,
        duckdb.connect(str(pure.work_db), read_only=True) as b,
    ):
        for table in TABLES:
            x, y = _sorted(a, table), _sorted(b, table)
            assert x.columns == y.columns, f"{label}: {table} columns"
            assert x.height == y.height, f"{label}: {table} has {x.height} rows, the pure rebuild {y.height}"
            assert x.equals(y), f"{label}: {table} differs: " + str(
                x.join(y, on=x.columns, how="anti", nulls_equal=True).head(3)
                if not any(isinstance(t, pl.List) for t in x.schema.values())
                else [c for c in x.columns if not x.get_column(c).equals(y.get_column(c))]
            )


def twin(tmp: Path, name: str) -> tuple[Warehouse, Warehouse]:
    """An incremental warehouse and a pure one reading the same raw layer."""
    inc = Warehouse(tmp / f"{name}-incremental")
    (inc.root / "raw").mkdir(parents=True)
    pure = Warehouse(tmp / f"{name}-pure")
    pure.root.mkdir(parents=True)
    (pure.root / "raw").symlink_to(inc.root / "raw")
    return inc, pure


REFERENCE_MART = (Path(__file__).parent / "monthly_openness_reference.sql").read_text(encoding="utf-8")


def assert_mart_matches_reference(wh: Warehouse, label: str) -> None:
    """marts.monthly_openness equals the reference query's rows over the same core tables."""
    with duckdb.connect(str(wh.work_db), read_only=True) as con:
        mart = _sorted(con, "marts.monthly_openness")
        frame = con.sql(REFERENCE_MART).pl()
    reference = frame.sort(
        [c for c, t in frame.schema.items() if not isinstance(t, pl.List | pl.Struct)], nulls_last=True
    )
    assert mart.equals(reference), f"{label}: marts.monthly_openness differs from the reference query"


def step(inc: Warehouse, pure: Warehouse, label: str, expect: str = "incremental") -> dict:
    with inc.connect() as con:
        done = build_incremental(inc, con)
    build_all(pure)
    assert_same_tables(inc, pure, label)
    assert_mart_matches_reference(inc, label)
    assert done["revisions"]["mode"] == expect, (label, done["revisions"])
    return done


def test_daily_replay_with_a_late_backfill(tmp_path):
    """Every tenth commit day of the sample corpus, as daily crawls; the history walk switched on half-way
    (the backfill inserts the older commits of every repo on that day), then daily with history."""
    days = commit_days()[::10] + [commit_days()[-1]]
    inc, pure = twin(tmp_path, "daily")
    touched = []
    for i, day in enumerate(days):
        crawl(inc, [day], history=i >= len(days) // 2)
        done = step(inc, pure, day, "full" if i == 0 else "incremental")
        touched.append(done["revisions"]["touched_repos"])
    # Each day rewrote only the repos it touched, not the warehouse.
    with duckdb.connect(str(inc.work_db), read_only=True) as con:
        repos = con.execute("SELECT count(DISTINCT repo_id) FROM core.revisions").fetchall()[0][0]
    assert min(touched[1:]) < repos / 2


def test_partitions_out_of_order_and_a_recrawl(tmp_path):
    """Days crawled in a random order (with history), then one re-crawled: a crawl date arriving between two
    known ones moves the observed_at of revisions of repos it did not touch."""
    days = ["2023-09-24", "2023-09-28", "2023-10-12", "2024-02-19", "2025-04-15"]
    order = days[:]
    random.Random(20261123).shuffle(order)
    assert order != sorted(order)
    inc, pure = twin(tmp_path, "shuffled")
    for i, day in enumerate([*order, order[1]]):
        crawl(inc, [day], history=True)
        step(inc, pure, f"{i}:{day}", "full" if i == 0 else "incremental")


def test_rename_and_deletion(tmp_path):
    """x/old renamed x/new (same _id, one more commit) and x/gone deleted, as in tests/hub/test_lifecycle.py."""
    inc, pure = twin(tmp_path, "life")
    old = [("a" * 40, "2024-01-01T10:00:00.000Z", "mit")]
    before = {
        "x/keep": ("0" * 24, [("b" * 40, "2024-01-01T09:00:00.000Z", "mit")]),
        "x/gone": ("1" * 24, [("c" * 40, "2024-01-01T08:00:00.000Z", "apache-2.0")]),
        "x/old": ("2" * 24, old),
        "x/child": ("3" * 24, [("e" * 40, "2024-01-01T11:00:00.000Z", "apache-2.0")]),
    }
    after = {
        "x/keep": before["x/keep"],
        "x/child": before["x/child"],
        "x/new": ("2" * 24, old + [("d" * 40, "2024-01-10T10:00:00.000Z", "apache-2.0")]),
    }
    for day, repos in ((FIRST, before), (SWEEP, after)):
        mirror = tmp_path / "mirror"
        shutil.rmtree(mirror, ignore_errors=True)
        _write(mirror, repos)
        with MirrorServer(mirror) as srv:
            run_crawl(inc, settings(srv.url), day, now=NOW)
        step(inc, pure, day, "full" if day == FIRST else "incremental")
    with duckdb.connect(str(inc.work_db), read_only=True) as con:
        assert con.execute("SELECT previous_ids FROM core.releases WHERE repo_id = 'x/new'").fetchall() == [
            (["x/old"],)
        ]
        assert con.execute(
            "SELECT deleted_at IS NOT NULL FROM core.releases WHERE repo_id = 'x/gone'"
        ).fetchall() == [(True,)]
        assert not con.execute("SELECT * FROM core.openness WHERE repo_id = 'x/old'").fetchall()


def test_synthetic_hub_with_derivatives(tmp_path, monkeypatch):
    """The benchmark's generator: 300 models (a share are derivatives of generated bases), two change days.
    Small budgets make the first run take its Hub-scale paths: raw texts spread over shards, each parsed
    in slices, in worker processes where a slice is large enough, derived and scored in several batches."""
    monkeypatch.setattr(normalise, "CONTENT_BUDGET", 2_000_000)
    monkeypatch.setattr(normalise, "PARALLEL_FROM", 200)
    monkeypatch.setattr(normalise, "PARSE_SLICE", 250)
    monkeypatch.setattr(normalise, "DERIVE_BATCH", 300)
    monkeypatch.setattr(scoring, "SCORE_BATCH", 300)
    slices: list[tuple[int, bool]] = []
    parse_slice = normalise._parse_slice

    def recorded(frame, cols, pool, workers):
        slices.append((frame.height, pool is not None and frame.height >= normalise.PARALLEL_FROM))
        return parse_slice(frame, cols, pool, workers)

    monkeypatch.setattr(normalise, "_parse_slice", recorded)
    inc, pure = twin(tmp_path, "synthetic")
    generate_raw(inc.raw, 300, seed=5)
    step(inc, pure, "D0", "full")
    # Several parts, each in slices of at most 250 keys, the full slices parsed by the workers.
    assert max(h for h, _ in slices) == 250 and sum(h for h, _ in slices) > 3 * 250
    assert any(pooled for _, pooled in slices) and not all(pooled for _, pooled in slices)
    earlier: list[str] = []
    for day in ("2026-08-21", "2026-08-22"):
        generate_day(inc.raw, 300, day, seed=5, earlier=earlier, change_rate=0.05, new_rate=0.01)
        earlier.append(day)
        done = step(inc, pure, day)
        assert done["scores"]["mode"] == "incremental"
        assert 0 < done["scores"]["rescored_repos"] < 300


def test_a_changed_normaliser_or_a_lost_work_file_rebuilds(tmp_path, monkeypatch):
    inc, pure = twin(tmp_path, "versions")
    generate_raw(inc.raw, 30, seed=9)
    step(inc, pure, "first", "full")
    step(inc, pure, "nothing new")  # no new file: incremental, nothing touched
    monkeypatch.setattr(state, "NORMALISER_CODE", [*state.NORMALISER_CODE, "runner.py"])
    step(inc, pure, "code changed", "full")
    for path in inc.root.glob("work.duckdb*"):  # the work file lost: its tables cannot follow the old state
        path.unlink()
    step(inc, pure, "work file lost", "full")


def test_a_rebuild_interrupted_after_a_committed_batch_resumes(tmp_path, monkeypatch):
    """A rebuild commits its parsed candidates batch by batch; interrupted after the first batch, the next
    run (not asking for a full one) resumes it: it parses only the keys no committed batch holds, to the
    same tables."""
    monkeypatch.setattr(normalise, "CONTENT_BUDGET", 300_000)
    inc, pure = twin(tmp_path, "interrupted")
    generate_raw(inc.raw, 60, seed=11)
    step(inc, pure, "first", "full")
    generate_day(inc.raw, 60, "2026-08-21", seed=11, change_rate=0.2, new_rate=0.05)
    store = normalise._store_candidates
    stored: list[int] = []

    def dies_on_the_second_part(con, frame):
        if stored:
            raise KeyboardInterrupt("killed during the rebuild")
        store(con, frame)
        stored.append(frame.height)

    monkeypatch.setattr(normalise, "_store_candidates", dies_on_the_second_part)
    with inc.connect() as con, pytest.raises(KeyboardInterrupt):
        normalise.update_revisions(inc, con, full=True, workers=1)
    monkeypatch.setattr(normalise, "_store_candidates", store)
    with inc.connect() as con:  # the first batch was committed: the state holds only some candidates
        state.attach(inc, con)
        kept = con.execute("SELECT count(*) FROM incr.candidates").fetchall()[0][0]
        keys = con.execute("SELECT count(DISTINCT ckey) FROM incr.captures").fetchall()[0][0]
        assert kept == stored[0] > 0
        assert state.state_problem(con) == state.UNFINISHED
    done = step(inc, pure, "after the interrupted rebuild", "full")
    assert done["revisions"]["reason"] == state.UNFINISHED
    assert done["revisions"]["resumed_after"] == kept
    assert done["revisions"]["parsed"] == keys - kept  # the committed batch is not parsed again
    step(inc, pure, "the day after", "incremental")


def test_build_tables_is_incremental_and_a_run_config_forces_a_full_rebuild(tmp_path, monkeypatch):
    """The Dagster job: its first run is a full build, the next one incremental (nothing new: no repo
    touched), and `resources: {build: {config: {full_rebuild: true}}}` forces a full one."""
    import dagster as dg

    from assets.definitions import defs

    wh = Warehouse(tmp_path / "wh")
    generate_raw(wh.raw, 40, seed=3)
    for key, value in {
        "OPENNESS_WAREHOUSE": str(wh.root),
        "OPENNESS_HUB_ENDPOINT": "http://127.0.0.1:9",
        "OPENNESS_HUB_REPLAY": "true",
        "OPENNESS_HUB_RATE_LIMIT": "false",
        "OPENNESS_ARXIV_ENDPOINT": "http://127.0.0.1:9",
        "OPENNESS_HUB_SCOPE_FILE": "",
        "OPENNESS_PUBLISH_TARGETS": "",
    }.items():
        monkeypatch.setenv(key, value)
    job = defs.resolve_job_def("build_tables").get_subset(
        asset_selection={
            dg.AssetKey(["core", "revisions"]),
            dg.AssetKey(["core", "releases"]),
            # Written by the same steps (multi-assets): selected with them.
            dg.AssetKey(["core", "quarantine"]),
            dg.AssetKey(["core", "repo_presence"]),
            dg.AssetKey(["core", "release_metrics"]),
            dg.AssetKey(["core", "reconstructions"]),
        },
        asset_check_selection=set(),
    )

    def run(config: dict | None = None) -> dict:
        with dg.DagsterInstance.ephemeral() as instance:
            result = job.execute_in_process(instance=instance, run_config=config or {})
        (mat,) = [
            m
            for m in result.asset_materializations_for_node("core__revisions")
            if m.asset_key == dg.AssetKey(["core", "revisions"])
        ]
        return {k: v.value for k, v in mat.metadata.items() if k != "preview"}

    first, second = run(), run()
    assert (first["build_mode"], second["build_mode"]) == ("full", "incremental")
    assert first["full_rebuild_reason"] == "no incremental state yet" and first["touched_repos"] == 40
    assert second["touched_repos"] == 0 and second["revisions"] == first["revisions"] > 0
    forced = run({"resources": {"build": {"config": {"full_rebuild": True}}}})
    assert forced["build_mode"] == "full" and forced["full_rebuild_reason"] == "full rebuild asked for"
    assert forced["revisions"] == first["revisions"]
