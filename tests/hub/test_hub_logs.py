"""huggingface_hub's retry and rate-limit warnings reach the Dagster event log of the run (dagster.yaml
`python_logs`), once each; and the crawl assets carry a RetryPolicy for outages longer than a step's retries."""

from __future__ import annotations

import shutil
import time
from urllib.parse import urlencode

import dagster as dg
import httpx2
import pytest

from assets.definitions import defs
from assets.hub import LISTING, outages_retried
from pipelines.hub.client import LISTING_EXPAND, CrawlError
from pipelines.mirror.server import FaultConfig, MirrorServer
from tests.conftest import ROOT
from tests.small_mirror import make_small_mirror

DAY = "2024-03-31"
CRAWL_ASSETS = (
    ("raw", "hub_listing"),
    ("raw", "hub_readmes"),
    ("raw", "hub_history"),
    ("raw", "hub_datasets"),
    ("raw", "papers"),
)


def _first_listing_request_faulted() -> int:
    """The first seed that faults the listing's first request and not its retry. The mirror draws faults
    from the request target, which holds the listing's `expand` fields: the seed follows LISTING_EXPAND."""
    query = [("sort", "lastModified"), ("direction", "-1"), *[("expand", e) for e in LISTING_EXPAND]]
    target = f"/as-of/{DAY}/api/models?" + urlencode([*query, ("limit", "1000")])
    for seed in range(1000):
        faults = FaultConfig(seed=seed, rate_5xx=0.5, paths=r"/api/models$")
        if faults.decide("GET", target, 0) and not faults.decide("GET", target, 1):
            return seed
    raise AssertionError("no seed faults only the first listing request")


def test_huggingface_hub_retry_warnings_reach_the_run_event_log(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")  # the instance config the deployment uses
    # A seed whose draw gives the listing's first request a 5xx and lets the retry through (one 1 s wait).
    faults = FaultConfig(seed=_first_listing_request_faulted(), rate_5xx=0.5, paths=r"/api/models$")
    with (
        MirrorServer(make_small_mirror(tmp_path / "mirror"), faults=faults) as srv,
        dg.DagsterInstance.from_config(str(home)) as instance,
    ):
        monkeypatch.setenv("OPENNESS_WAREHOUSE", str(tmp_path / "wh"))
        monkeypatch.setenv("OPENNESS_HUB_ENDPOINT", srv.url)
        monkeypatch.setenv("OPENNESS_HUB_REPLAY", "true")
        monkeypatch.setenv("OPENNESS_HUB_RATE_LIMIT", "false")
        monkeypatch.setenv("OPENNESS_HUB_SCOPE_FILE", "")
        job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={LISTING})
        result = job.execute_in_process(instance=instance, partition_key=DAY)
        faulted = [r for r in srv.requests if r["fault"]]
        records = instance.all_logs(result.run_id)
    assert result.success and faulted, faulted
    warnings = [r.user_message for r in records if "thrown while requesting GET" in r.user_message]
    assert len(warnings) == len(faulted), warnings  # one event per retried request, not two
    assert all(r.level == 30 for r in records if "thrown while requesting GET" in r.user_message)
    assert any(r.user_message.startswith("Retrying in") for r in records)


def test_the_crawl_assets_retry_a_failed_step_with_backoff():
    for path in CRAWL_ASSETS:
        policy = defs.get_assets_def(dg.AssetKey(list(path))).op.retry_policy
        assert policy is not None and policy.max_retries >= 1, path
        assert policy.backoff == dg.Backoff.EXPONENTIAL and policy.delay >= 30, path


def test_a_bad_setting_fails_a_crawl_step_at_once_without_the_retries(monkeypatch):
    """The RetryPolicy is for outages: a malformed setting cannot get better by waiting 2 and 4 minutes."""
    monkeypatch.setenv("OPENNESS_HUB_RATE_LIMIT", "maybe")
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={LISTING})
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.monotonic()
        result = job.execute_in_process(instance=instance, partition_key=DAY, raise_on_error=False)
        elapsed = time.monotonic() - started
    assert not result.success and elapsed < 60
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "expected true or false, got 'maybe'" in failure.step_failure_data.error.message
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]


def test_an_outage_is_left_to_the_retry_policy_and_anything_else_bypasses_it():
    cut = httpx2.RemoteProtocolError("peer closed connection without sending complete message body")
    with pytest.raises(httpx2.RemoteProtocolError), outages_retried():
        raise cut
    with pytest.raises(CrawlError), outages_retried():
        raise CrawlError("listing page is not valid JSON after 3 attempts")
    with pytest.raises(dg.Failure) as failure, outages_retried():
        raise ValueError("expected true or false, got 'maybe'")
    assert failure.value.allow_retries is False
    assert failure.value.description == "ValueError: expected true or false, got 'maybe'"
