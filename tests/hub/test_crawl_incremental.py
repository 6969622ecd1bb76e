"""The daily crawl is incremental: READMEs only for changed commits, re-runs are no-ops (against the mirror)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.hub.step import run_crawl
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import SAMPLE, has_readme, heads_as_of, raw_fingerprint, settings

DAYS = ["2023-07-17", "2023-09-24", "2023-09-28", "2023-10-12", "2024-02-19", "2025-04-15"]


def _resolve_targets(requests: list[dict]) -> set[tuple[str, str]]:
    """(repo, revision) of every README resolve request in a mirror log."""
    out = set()
    for r in requests:
        path = (
            r["path"].split("/as-of/", 1)[-1].split("/", 1)[-1] if "/as-of/" in r["path"] else r["path"][1:]
        )
        if "/resolve/" in path and path.endswith("/README.md"):
            repo, rest = path.split("/resolve/", 1)
            out.add((repo, rest.split("/", 1)[0]))
    return out


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """Crawl the sample corpus day by day; keep each day's mirror log."""
    wh = Warehouse(tmp_path_factory.mktemp("wh"))
    logs = {}
    with MirrorServer(SAMPLE) as srv:
        for day in DAYS:
            srv.reset_log()
            run_crawl(wh, settings(srv.url), day, now=datetime(2026, 1, 1, tzinfo=UTC))
            logs[day] = srv.requests
    return wh, logs


def test_readmes_are_fetched_only_for_changed_commits(replay):
    _, logs = replay
    seen: set[tuple[str, str]] = set()
    for day in DAYS:
        heads = set(heads_as_of(SAMPLE, day).items())
        changed = {(r, s) for r, s in heads - seen if has_readme(SAMPLE, r, s)}
        assert _resolve_targets(logs[day]) == changed, day
        seen |= heads
    # Later crawls saw most repos unchanged: they cost no README request at all.
    assert len(_resolve_targets(logs[DAYS[-1]])) < len(heads_as_of(SAMPLE, DAYS[-1]))


def test_listing_stops_at_the_watermark(replay):
    _, logs = replay
    for day in DAYS:
        listing = [r for r in logs[day] if r["path"].endswith("/api/models")]
        assert len(listing) >= 1
        assert all(r["status"] == 200 for r in listing)


def test_rerunning_a_partition_is_a_no_op(replay, tmp_path):
    wh, _ = replay
    before = raw_fingerprint(wh)
    files_before = {p: p.read_bytes() for p in wh.raw.root.rglob("*.parquet")}
    with MirrorServer(SAMPLE) as srv:
        run_crawl(wh, settings(srv.url), DAYS[2], now=datetime(2026, 1, 2, tzinfo=UTC))
        assert srv.requests == [], "a completed partition must not ask the Hub again"
    files_after = {p: p.read_bytes() for p in wh.raw.root.rglob("*.parquet") if "crawl_run" not in str(p)}
    assert {p: b for p, b in files_before.items() if "crawl_run" not in str(p)} == files_after
    assert raw_fingerprint(wh) == before


def test_raw_layer_has_no_duplicate_readmes(replay):
    wh, _ = replay
    rows = raw_fingerprint(wh)["hub_readme"]
    keys = [(r[0], r[1]) for r in rows]
    assert len(keys) == len(set(keys))


def test_each_readme_costs_one_resolver_call(replay):
    _, logs = replay
    for day in DAYS:
        resolves = [r for r in logs[day] if "/resolve/" in r["path"]]
        assert all(r["method"] == "GET" for r in resolves), day  # no HEAD before the GET
        assert len(resolves) == len(_resolve_targets(logs[day])), day  # and no second read of a README
