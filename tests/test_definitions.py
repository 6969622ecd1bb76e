"""A snapshot of the Definitions: asset keys, groups, checks, jobs and schedules (changes must be deliberate)."""

from __future__ import annotations

import importlib

import dagster as dg


def _defs() -> dg.Definitions:
    return importlib.import_module("assets.definitions").defs


def test_asset_keys_and_groups():
    repo = _defs().get_repository_def()
    groups = {
        "/".join(k.path): repo.asset_graph.get(k).group_name for k in repo.asset_graph.get_all_asset_keys()
    }
    assert groups == {
        "raw/hub_listing": "raw",
        "raw/hub_readmes": "raw",
        "raw/hub_history": "raw",
        "raw/hub_datasets": "raw",
        "raw/papers": "raw",
        "core/papers": "core",
        "core/licenses": "core",
        "core/disclosures": "core",
        "core/openness": "core",
        "core/transitions": "core",
        "core/derivatives": "core",
        "marts/monthly_openness": "marts",
        "marts/monthly_transitions": "marts",
        "core/time_to_openness": "core",
        "marts/time_to_openness_summary": "marts",
        "marts/monthly_usage": "marts",
        "core/datasets": "core",
        "core/revisions": "core",
        "core/releases": "core",
        "core/crawl_runs": "core",
        # Registered since the table registry: every warehouse table has an asset key.
        "core/quarantine": "core",
        "core/release_papers": "core",
        "core/repo_presence": "core",
        "core/reconstructions": "core",
        "core/release_metrics": "core",
        # The code repositories source (issue "Code and licence evidence").
        "raw/code_repos": "raw",
        "core/license_files": "core",
        "core/code_repos": "core",
        "core/code_license_history": "core",
        "core/release_code": "core",
        "publish/snapshot": "publish",
    }


def test_every_asset_has_a_description_that_states_its_grain():
    repo = _defs().get_repository_def()
    for key in repo.asset_graph.get_all_asset_keys():
        description = repo.asset_graph.get(key).description or ""
        assert len(description) > 40, key


def test_jobs_schedules_and_checks():
    defs = _defs()
    repo = defs.get_repository_def()
    assert {j.name for j in repo.get_all_jobs() if not j.name.startswith("__")} == {
        "daily_listing",
        "daily_shards",
        "daily_extras",
        "build_tables",
        "publish_snapshot",
    }
    assert {s.name for s in repo.schedule_defs} == {"daily_listing_schedule"}
    assert {s.name for s in repo.sensor_defs} == {
        "shards_after_listing",
        "extras_after_shards",
        "build_after_crawl",
        "publish_after_checks",
        # Operations (docs/operations.md): freshness checks and alerts.
        "freshness_checks",
        "alert_on_run_failure",
        "alert_on_stale_data",
        # Killed runs (docs/operations.md): their slots freed.
        "free_slots_of_dead_runs",
    }
    checks = {c.name for c in repo.asset_graph.asset_check_keys}
    assert {"revisions_keys", "releases_cover_revisions"} <= checks
    freshness = {
        c.asset_key.to_user_string() for c in repo.asset_graph.asset_check_keys if c.name == "freshness_check"
    }
    assert freshness == {"raw/hub_listing", "raw/code_repos", "publish/snapshot"}


def test_daily_schedule_targets_the_day_it_runs():
    """The partition key is the crawl date: the day the crawl reads the Hub (end_offset=1)."""
    import datetime as dt

    defs = _defs()
    schedule = defs.resolve_schedule_def("daily_listing_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 22, 2, 15, tzinfo=dt.UTC)
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-22"
