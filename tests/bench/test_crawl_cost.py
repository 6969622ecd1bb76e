"""The crawl-cost harness at small scale: the real crawler against a synthetic mirror wastes no request.

The same code as `make bench` (benchmarks/crawl_cost.py) on 1,500 models, so that the targets of the
benchmark hold in every test run, not only when someone runs the benchmark.
"""

from __future__ import annotations

import math

import pytest

from benchmarks.crawl_cost import run_crawl_cost

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> dict:
    return run_crawl_cost(1_500, seed=7, work=tmp_path_factory.mktemp("crawl_cost"), shards=2)


def test_no_step_wastes_a_request(figures):
    steps = figures["steps"]
    wasted = {
        name: {k: v for k, v in step["categories"].items() if k.startswith(("wasted", "avoidable"))}
        for name, step in steps.items()
    }
    assert not any(wasted.values()), wasted
    # every step did real work, and the history step on D1 met READMEs it could skip or had to read
    assert all(step["requests"] > 0 for step in steps.values())


def test_listing_and_readme_costs_grow_with_what_changed(figures):
    f = figures["figures"]
    assert f["d0_models_listed"] == f["models"]
    # the listing is read in whole pages of 1,000, and on D1 only back to the watermark (plus one page)
    assert f["d0_listing_pages"] == math.ceil(f["d0_models_listed"] / 1000)
    assert f["d1_listing_pages"] == math.ceil(f["d1_models_listed"] / 1000)
    assert f["d1_models_listed"] < f["d1_changed"] + f["d1_new"] + 1000
    assert (f["d1_changed_seen"], f["d1_new_seen"]) == (f["d1_changed"], f["d1_new"])
    assert f["d1_changed"] > 0
    assert f["d1_resolvers_per_changed"] <= 1.0
    assert f["d1_ratio_to_naive"] <= 0.05


def test_depth_days_come_from_the_measured_backfill_cost(figures):
    f = figures["figures"]
    api = figures["steps"]["history_d0"]["buckets"]["api"]
    assert f["backfill_api_per_model"] == round(api / f["models"], 5) >= 1  # at least a commit list each
    days = f["depth_days"]
    assert list(days) == ["top 100,000", "top 1,000,000", "all"]
    assert days["all"] == round(math.ceil(3_000_000 * api / f["models"]) / f["depth_budget"], 1)
    assert 0 < days["top 100,000"] < days["top 1,000,000"] < days["all"]
