"""Depth by usage: the history backfill walks the most-downloaded repos first and stops at the crawl date's
budget of API calls; the repos left are walked by the next crawl dates, none skipped for good."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from pipelines.depth import HUB_MODELS, by_usage, hub_daily_budget, plan_tiers
from pipelines.hub.backfill import backfill_outlook
from pipelines.hub.settings import HubSettings
from pipelines.hub.step import run_crawl, run_history
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import raw_fingerprint, settings
from tests.small_mirror import make_small_mirror

DAYS = ["2024-03-06", "2024-03-07", "2024-03-08", "2024-03-09", "2024-03-10"]
NOW = datetime(2024, 3, 6, 12, tzinfo=UTC)
_COMMITS = re.compile(r"/api/models/([^/]+/[^/]+)/commits/")


def test_by_usage_puts_the_most_used_first_unknown_last_ties_by_id() -> None:
    usage = {"b/x": 5, "a/y": 5, "c/z": 900, "d/w": 0, "e/v": None}
    assert by_usage(["e/v", "f/u", "d/w", "b/x", "a/y", "c/z"], usage) == [
        "c/z",
        "a/y",
        "b/x",
        "d/w",
        "e/v",
        "f/u",
    ]


def test_budget_defaults_and_bad_values() -> None:
    assert HubSettings(token="t").daily_history_budget() == 144_000  # half of 1,000 API calls per 5 minutes
    assert HubSettings().daily_history_budget() == 72_000
    assert HubSettings(endpoint="http://127.0.0.1:9", token="t").daily_history_budget() == 0  # a mirror
    assert HubSettings(history_budget=500).daily_history_budget() == 500
    with pytest.raises(ValueError, match="history_budget must not be negative"):
        HubSettings(history_budget=-1)
    with pytest.raises(ValueError, match="budget must be a positive"):
        plan_tiers([True], 0)
    assert hub_daily_budget(0, "https://huggingface.co", True) == 0


def test_history_walks_most_downloaded_first_and_carries_the_rest_over(tmp_path) -> None:
    wh, full = Warehouse(tmp_path / "budgeted"), Warehouse(tmp_path / "full")
    walked, deferred = [], []
    with MirrorServer(make_small_mirror(tmp_path / "mirror", metrics=True)) as srv:
        for target in (wh, full):
            run_crawl(target, settings(srv.url), DAYS[0], now=NOW)
        outlook = [backfill_outlook(wh.raw, 1, api_per_model=2.0, tiers=(2, None))]
        for day in DAYS:  # one API call a day: each crawl date walks one repo
            srv.reset_log()
            result = run_history(wh, settings(srv.url, history_budget=1), day, now=NOW)
            walked.append([m[1] for r in srv.requests if (m := _COMMITS.search(r["path"]))])
            deferred.append(result["repos_deferred"])
            outlook.append(backfill_outlook(wh.raw, 1, api_per_model=2.0, tiers=(2, None)))
            if day == DAYS[0]:  # the date run again (a retry): its budget is spent, it walks nothing
                srv.reset_log()
                again = run_history(wh, settings(srv.url, history_budget=1), day, now=NOW)
                assert again["repos_walked"] == 0 and again["repos_deferred"] == 3
                assert not [r for r in srv.requests if "/api/" in r["path"]]
        run_history(full, settings(srv.url), DAYS[0], now=NOW)
    # 30-day downloads as listed on 2024-03-06 (tests/small_mirror.py SMALL_METRICS): 8,000, 1,500, 500, 0;
    # by repo id, beta/card-only would come before beta/open-7b-gguf.
    assert walked == [["acme/gated-13b"], ["acme/open-7b"], ["beta/open-7b-gguf"], ["beta/card-only"], []]
    assert deferred == [3, 2, 1, 0, 0]
    # Nothing is skipped: the walk over five dates captured the same history as one unlimited walk.
    assert raw_fingerprint(wh)["hub_commits"] == raw_fingerprint(full)["hub_commits"]
    assert raw_fingerprint(wh)["hub_revision"] == raw_fingerprint(full)["hub_revision"]
    # The outlook counts what is left in each tier, most-downloaded first: the top 2 are done after day 2.
    assert [[(p.tier, p.models, p.pending, p.days) for p in o] for o in outlook[:3]] == [
        [("top 2", 2, 2, 4.0), ("all", 4, 4, 8.0)],
        [("top 2", 2, 1, 2.0), ("all", 4, 3, 6.0)],
        [("top 2", 2, 0, 0.0), ("all", 4, 2, 4.0)],
    ]
    assert [p.pending for p in outlook[-1]] == [0, 0]


def test_hub_wide_days_from_the_measured_cost() -> None:
    # 4.00845 API calls per model (docs/benchmarks.md) x the Hub's ~3,000,000 models (DESIGN.md)
    plans = plan_tiers([True] * HUB_MODELS, 144_000)
    assert [(p.tier, p.api_calls, p.days) for p in plans] == [
        ("top 100,000", 400_845, 2.8),
        ("top 1,000,000", 4_008_450, 27.8),
        ("all", 12_025_350, 83.5),
    ]


def test_depth_command_prints_the_days_and_rejects_a_bad_budget(capsys, tmp_path) -> None:
    from assets.cli import build_parser, main
    from pipelines.depth import MEASURED_API_PER_MODEL

    assert build_parser().parse_args(["depth"]).api_per_model == MEASURED_API_PER_MODEL

    assert main(["depth", "--hub", "--budget", "288000"]) == 0  # a free token's whole daily API quota
    out = capsys.readouterr().out
    assert "| all | 3,000,000 | 3,000,000 | 12,025,350 | 41.8 |" in out
    assert main(["depth", "--hub", "--budget", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "openness depth: error: --budget must be a positive number of API calls a day, got 0"
    )
    assert main(["depth", "--warehouse", str(tmp_path), "--budget", "5"]) == 2
    assert "holds no raw layer" in capsys.readouterr().err


def test_latest_downloads_reads_old_captures_from_their_item(tmp_path) -> None:
    import polars as pl

    from pipelines.depth import latest_downloads

    wh = Warehouse(tmp_path / "wh")
    t = datetime(2026, 11, 1, tzinfo=UTC)
    old = pl.DataFrame(  # a capture from before the usage columns: the count is in the item only
        {
            "fetched_at": [t, t],
            "repo_id": ["a/old", "b/newer"],
            "item": ['{"id": "a/old", "downloads": 70}', '{"id": "b/newer", "downloads": 5}'],
        },
        schema={"fetched_at": pl.Datetime("us", "UTC"), "repo_id": pl.String, "item": pl.String},
    )
    wh.raw.append("hub_listing", "2026-11-01", old, payload=["repo_id", "item"])
    new = pl.DataFrame(
        {"fetched_at": [t.replace(month=12)], "repo_id": ["b/newer"], "item": ["{}"], "downloads": [900]},
        schema={
            "fetched_at": pl.Datetime("us", "UTC"),
            "repo_id": pl.String,
            "item": pl.String,
            "downloads": pl.Int64,
        },
    )
    wh.raw.append("hub_listing", "2026-12-01", new, payload=["repo_id", "item"])
    assert latest_downloads(wh.raw) == {"a/old": 70, "b/newer": 900}
    assert latest_downloads(wh.raw, until="2026-11-30") == {"a/old": 70, "b/newer": 5}


def test_resources_pass_the_budgets(monkeypatch) -> None:
    from assets.code import CodeResource
    from assets.hub import HubResource

    monkeypatch.delenv("OPENNESS_HUB_HISTORY_BUDGET", raising=False)
    monkeypatch.delenv("OPENNESS_GITHUB_DAILY_BUDGET", raising=False)
    assert HubResource().settings().history_budget is None  # the default: half a token's quota
    assert HubResource(history_budget=0).settings().history_budget == 0
    monkeypatch.setenv("OPENNESS_HUB_HISTORY_BUDGET", "5000")
    monkeypatch.setenv("OPENNESS_GITHUB_DAILY_BUDGET", "300")
    assert HubResource().settings().history_budget == 5000
    assert HubResource(history_budget=7).settings().history_budget == 7  # the run config wins
    assert CodeResource().settings(replay=False).daily_budget == 300
    monkeypatch.setenv("OPENNESS_HUB_HISTORY_BUDGET", "lots")
    with pytest.raises(ValueError, match="OPENNESS_HUB_HISTORY_BUDGET must be a whole number"):
        HubResource().settings()
