"""A crawl date run again (after a kill, by hand, by a retry) keeps the bookkeeping of one clean run: one
account per step in core.crawl_runs, no commit list or presence check captured twice on a date."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime

import polars as pl

from pipelines.hub.datasets import due_datasets, named_datasets
from pipelines.hub.raw import COMMITS_RAW_SCHEMA, PRESENCE_RAW_SCHEMA
from pipelines.hub.step import run_crawl, run_history, run_license_files, run_listing
from pipelines.mirror.server import MirrorServer
from pipelines.runner import run_step
from pipelines.storage.raw import RawStore
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import SAMPLE, settings
from tests.small_mirror import make_small_mirror

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = "2024-03-05"


def _accounts(wh: Warehouse) -> list[tuple]:
    with wh.connect() as con:
        run_step("crawl_runs", wh, con, full=True)
        return con.execute(
            "SELECT crawl_date, scope, requests_api, readmes_fetched, detail FROM core.crawl_runs ORDER BY ALL"
        ).fetchall()


def test_a_crawl_date_run_twice_has_one_account_per_step(tmp_path):
    mirror = make_small_mirror(tmp_path / "mirror")
    once, twice = Warehouse(tmp_path / "once"), Warehouse(tmp_path / "twice")
    with MirrorServer(mirror) as srv:
        conf = settings(srv.url)
        for wh, runs in ((once, 1), (twice, 2)):
            for _ in range(runs):
                run_crawl(wh, conf, DAY, now=NOW)
                run_history(wh, conf, DAY, now=NOW)
    clean, rerun = _accounts(once), _accounts(twice)
    attempts = twice.raw.scan("crawl_run").collect()
    assert attempts.height == 2 * len(clean)  # the raw layer keeps every attempt (append-only)
    assert [r[:2] for r in rerun] == [r[:2] for r in clean]  # one row per (crawl date, scope)
    for (*_, api, fetched, detail), (*_, clean_api, clean_fetched, _) in zip(rerun, clean, strict=True):
        # The cost is that of both attempts (the second reads the listing again, fetches no README).
        assert api >= clean_api and fetched == clean_fetched
        assert json.loads(detail)["attempts"] == 2
    listing = attempts.filter(pl.col("scope") == "listing:hub")
    merged = next(r for r in rerun if r[1] == "listing:hub")
    assert merged[2] == listing.get_column("requests_api").sum()


def test_a_rerun_does_not_capture_a_commit_list_or_presence_check_again(tmp_path):
    mirror = make_small_mirror(tmp_path / "mirror")
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        run_crawl(wh, settings(srv.url), DAY, now=NOW)
    # One listed repo is gone when its history is walked: its commit list is recorded as missing, with a
    # presence check, and it is walked again on every run of the date (its history is not known).
    gone = tmp_path / "gone"
    shutil.copytree(mirror, gone)
    shutil.rmtree(gone / "models" / "beta" / "card-only")
    with MirrorServer(gone) as srv:
        first = run_history(wh, settings(srv.url), DAY, now=NOW)
        again = run_history(wh, settings(srv.url), DAY, now=NOW)
    assert first["repos_walked"] == 4 and again["repos_walked"] == 1 and again["repos_missing"] == 1
    commits = wh.raw.scan("hub_commits", COMMITS_RAW_SCHEMA).collect()
    presence = wh.raw.scan("hub_presence", PRESENCE_RAW_SCHEMA).collect()
    assert commits.group_by("repo_id", "status").len().get_column("len").to_list() == [1] * 4
    assert presence.select("repo_id", "how").rows() == [("beta/card-only", "commits_404")]


def test_append_new_stores_only_rows_not_captured_on_that_date(tmp_path):
    raw = RawStore(tmp_path / "raw")
    schema = PRESENCE_RAW_SCHEMA
    payload = ["repo_id", "present", "how"]

    def frame(*repos: str) -> pl.DataFrame:
        return pl.DataFrame(
            [{"checked_at": NOW, "repo_id": r, "present": False, "how": "sweep_404"} for r in repos],
            schema=schema,
        )

    assert raw.append_new("hub_presence", DAY, frame("a/x", "b/y", "a/x"), payload)[1] == 2
    assert raw.append_new("hub_presence", DAY, frame("b/y", "c/z"), payload)[1] == 1
    assert raw.append_new("hub_presence", DAY, frame("c/z"), payload) == (None, 0)
    assert raw.append_new("hub_presence", "2024-03-06", frame("a/x"), payload)[1] == 1  # another date
    rows = raw.scan("hub_presence", schema).collect().sort("crawl_date", "repo_id")
    assert rows.select("crawl_date", "repo_id").rows() == [
        (DAY, "a/x"),
        (DAY, "b/y"),
        (DAY, "c/z"),
        ("2024-03-06", "a/x"),
    ]


def test_a_presence_check_repeated_on_a_date_is_one_repo_presence_row(tmp_path):
    # A warehouse written before repeats were skipped at capture: two files repeat a check of the same date.
    mirror = make_small_mirror(tmp_path / "mirror")
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        run_crawl(wh, settings(srv.url), DAY, now=NOW)
    rows = [
        {"checked_at": NOW, "repo_id": "beta/card-only", "present": False, "how": "commits_404"},
        {"checked_at": NOW, "repo_id": "acme/open-7b", "present": True, "how": "sweep_present"},
    ]
    for batch in (rows[:1], rows):
        wh.raw.append(
            "hub_presence",
            DAY,
            pl.DataFrame(batch, schema=PRESENCE_RAW_SCHEMA),
            ["repo_id", "present", "how"],
        )
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
        presence = con.execute("SELECT repo_id, present, how FROM core.repo_presence ORDER BY ALL").fetchall()
    assert presence == [("acme/open-7b", True, "sweep_present"), ("beta/card-only", False, "commits_404")]


def test_an_earlier_date_run_again_walks_only_the_repos_listed_by_then(tmp_path):
    # A demo killed in the last date's history replays the first date with the last date's listing saved:
    # the first date must not walk the repos listed later (as of that date they answer 404: "deleted").
    mirror = make_small_mirror(tmp_path / "mirror")
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        conf = settings(srv.url)
        run_crawl(wh, conf, "2024-01-10", now=NOW)
        assert run_history(wh, conf, "2024-01-10", now=NOW)["repos_walked"] == 1
        run_listing(wh, conf, DAY, now=NOW)
        replay = run_history(wh, conf, "2024-01-10", now=NOW)
    assert (replay["repos_considered"], replay["repos_walked"], replay["repos_missing"]) == (1, 0, 0)
    assert not wh.raw.files("hub_presence")
    assert wh.raw.scan("hub_commits", COMMITS_RAW_SCHEMA).collect().height == 1


def test_an_earlier_date_run_again_asks_only_for_licence_files_and_datasets_known_by_then(tmp_path):
    # A later date's listing and history are saved, then the earlier date is run again: its licence-file and
    # dataset steps must not ask, as of that date, for revisions and datasets only the later date knows
    # (they would answer 404, recorded as missing for good, or for a month).
    wh = Warehouse(tmp_path / "wh")
    early, late = "2024-01-15", "2025-06-01"
    with MirrorServer(SAMPLE) as srv:
        conf = settings(srv.url)
        run_crawl(wh, conf, early, now=NOW)
        run_history(wh, conf, early, now=NOW)
        run_license_files(wh, conf, early, now=NOW)
        run_listing(wh, conf, late, now=NOW)
        run_history(wh, conf, late, now=NOW)
        replay = run_license_files(wh, conf, early, now=NOW)
        assert replay["licence_files_planned"] == 0
        later_only = named_datasets(wh.raw) - named_datasets(wh.raw, until=early)
        assert later_only and later_only.isdisjoint(due_datasets(wh.raw, date.fromisoformat(early)))
        assert run_license_files(wh, conf, late, now=NOW)["licence_files_planned"] > 0
