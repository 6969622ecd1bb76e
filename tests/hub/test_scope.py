"""Crawl scope: organisations, a watchlist file, thresholds and top-N, through the mirror."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from pipelines.hub.scope import DEFAULT_WATCHLIST, item_filter, load_watchlist
from pipelines.hub.step import run_crawl
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import SAMPLE, heads_as_of, settings

DAY = "2025-04-15"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _listed(wh: Warehouse) -> set[str]:
    return set(wh.raw.scan("hub_listing").collect().get_column("repo_id").to_list())


def test_the_default_watchlist_loads_and_names_the_indexed_organisations():
    orgs, repos = load_watchlist(DEFAULT_WATCHLIST)
    assert {"meta-llama", "mistralai", "allenai", "EleutherAI", "google", "Qwen"} <= set(orgs)
    assert repos == ()


def test_a_malformed_watchlist_is_a_clear_error(tmp_path):
    bad = tmp_path / "w.yml"
    bad.write_text("organisations: [ok]\nrepos: ['../etc/passwd']\n")
    with pytest.raises(ValueError, match="not repo ids"):
        load_watchlist(bad)
    bad.write_text("orgs: [typo]\n")
    with pytest.raises(ValueError, match="expected keys"):
        load_watchlist(bad)


def test_item_filter_applies_orgs_repos_and_thresholds():
    keep = item_filter(("acme",), ("beta/one",), min_downloads=10)
    assert keep({"id": "acme/x", "downloads": 10})
    assert keep({"id": "beta/one", "downloads": 50})
    assert not keep({"id": "beta/two", "downloads": 50})
    assert not keep({"id": "acme/y", "downloads": 9})
    assert not keep({"id": "acme/z"})  # unknown downloads do not pass a threshold


def test_organisation_and_repo_scope(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(SAMPLE) as srv:
        run_crawl(wh, settings(srv.url, authors=("mistralai",), repos=("Qwen/Qwen-7B",)), DAY, now=NOW)
        listings = [r for r in srv.requests if r["path"].endswith("/api/models")]
    expected = {r for r in heads_as_of(SAMPLE, DAY) if r.startswith("mistralai/") or r == "Qwen/Qwen-7B"}
    assert _listed(wh) == expected
    by_sort = {}
    for r in listings:
        by_sort.setdefault(r["query"]["sort"][0], []).extend(r["query"].get("author") or [])
    # One listing per organisation to the watermark, and one page of its most-downloaded models.
    assert sorted(by_sort["lastModified"]) == ["Qwen", "mistralai"]
    assert sorted(by_sort["downloads"]) == ["Qwen", "mistralai"]


def test_top_n_by_downloads(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(SAMPLE) as srv:
        run_crawl(wh, settings(srv.url, top_n=5), DAY, now=NOW)
    frame = wh.raw.scan("hub_listing").collect()
    assert frame.height == 5
    downloads = frame.select(pl.col("item").str.json_path_match("$.downloads").cast(pl.Int64)).to_series()
    assert downloads.to_list() == sorted(downloads.to_list(), reverse=True)
