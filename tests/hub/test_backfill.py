"""History backfill recovers each repo's past; the daily path and the backfill path agree."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from pipelines.hub.step import run_crawl, run_history
from pipelines.mirror.layout import parse_date
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import SAMPLE, commits_of, raw_fingerprint, revisions_table, settings

LAST = "2025-04-15"
DAILY = ["2023-07-17", "2023-09-24", "2023-09-28", "2023-10-12", "2024-02-19", LAST]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """A: daily replay, then history; A0: daily replay only; B: one crawl on the last day, then history."""
    a, a0, b = (Warehouse(tmp_path_factory.mktemp(n)) for n in ("a", "a0", "b"))
    with MirrorServer(SAMPLE) as srv:
        for day in DAILY:
            run_crawl(a, settings(srv.url), day, now=NOW)
            run_crawl(a0, settings(srv.url), day, now=NOW)
        run_history(a, settings(srv.url), LAST, now=NOW)
        run_crawl(b, settings(srv.url), LAST, now=NOW)
        srv.reset_log()
        run_history(b, settings(srv.url), LAST, now=NOW)
        history_log = srv.requests
    return {"a": a, "a0": a0, "b": b, "history_log": history_log}


def _multi_revision_repos() -> dict[str, list[dict]]:
    return {r: c for r, c in commits_of(SAMPLE).items() if len(c) > 1}


def test_backfill_lists_every_commit_of_multi_revision_repos(warehouses):
    raw = raw_fingerprint(warehouses["b"])["hub_commits"]
    listed = {repo: {c["id"]: c["date"] for c in __import__("json").loads(text)} for repo, text in raw}
    multi = _multi_revision_repos()
    assert len(multi) >= 12
    for repo, commits in multi.items():
        assert listed[repo] == {c["id"]: c["date"] for c in commits}, repo


def test_backfill_recovers_every_card_change_with_its_commit_date(warehouses):
    revisions = revisions_table(warehouses["b"])
    by_key = {(r, s): t for r, s, t in revisions.select("repo_id", "revision", "committed_at").iter_rows()}
    for repo, commits in _multi_revision_repos().items():
        previous = None
        for commit in sorted(commits, key=lambda c: parse_date(c["date"])):
            folder = SAMPLE / "models" / repo / "revisions" / commit["id"]
            readme = folder / "README.md"
            current = readme.read_bytes() if readme.exists() else None
            if folder.is_dir() and current is not None and current != previous:
                assert (repo, commit["id"]) in by_key, f"{repo}@{commit['id'][:8]} missing"
                assert by_key[(repo, commit["id"])] == parse_date(commit["date"])
            if folder.is_dir():
                previous = current


def test_daily_and_backfill_paths_agree(warehouses):
    a, b = revisions_table(warehouses["a"]), revisions_table(warehouses["b"])
    assert a.equals(b)
    # Every revision the daily path alone saw has the same facts in the backfilled warehouse.
    a0 = revisions_table(warehouses["a0"])
    joined = a0.join(b, on=["repo_id", "revision"], how="left", suffix="_b")
    assert joined.filter(pl.col("committed_at_b").is_null()).height == 0
    for column in (
        "license_raw",
        "license_name",
        "gated",
        "files",
        "has_weights",
        "datasets",
        "arxiv_ids",
        "base_models",
        "card_sha256",
        "readme_status",
    ):
        assert joined.select(
            (pl.col(column) == pl.col(f"{column}_b"))
            .fill_null(pl.col(column).is_null() & pl.col(f"{column}_b").is_null())
            .all()
        ).item(), column


def test_backfill_costs_nothing_for_known_history(warehouses, tmp_path):
    b = warehouses["b"]
    with MirrorServer(SAMPLE) as srv:
        run_history(b, settings(srv.url), LAST, now=NOW)
        assert srv.requests == []


def test_backfill_reads_each_commit_once_and_skips_unchanged_readmes(warehouses):
    log = warehouses["history_log"]
    infos = [r["path"] for r in log if "/revision/" in r["path"]]
    assert len(infos) == len(set(infos))
    readme_gets = [r["path"] for r in log if r["method"] == "GET" and r["path"].endswith("/README.md")]
    assert len(readme_gets) == len(set(readme_gets))


def test_backfill_batches_write_few_files_and_the_same_rows(tmp_path):
    from pipelines.hub.backfill import run_backfill
    from pipelines.hub.step import client_for

    per_repo, batched = Warehouse(tmp_path / "per-repo"), Warehouse(tmp_path / "batched")
    with MirrorServer(SAMPLE) as srv:
        conf = settings(srv.url)
        for wh, flush in ((per_repo, 1), (batched, 500)):
            run_crawl(wh, conf, LAST, now=NOW)
            summary = run_backfill(client_for(conf, LAST), wh.raw, LAST, now=NOW, flush_repos=flush)
    assert summary.repos_walked >= 12
    assert raw_fingerprint(per_repo) == raw_fingerprint(batched)
    assert len(per_repo.raw.files("hub_commits")) == summary.repos_walked
    assert len(batched.raw.files("hub_commits")) == 1 and len(batched.raw.files("hub_revision")) == 1


def test_a_failure_mid_backfill_keeps_what_the_finished_repos_fetched(warehouses, tmp_path):
    from pipelines.depth import by_usage, latest_downloads
    from pipelines.hub.backfill import run_backfill, tracked_heads
    from pipelines.hub.step import client_for
    from pipelines.mirror.server import FaultConfig

    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(SAMPLE) as srv:
        run_crawl(wh, settings(srv.url), LAST, now=NOW)
    repos = by_usage(tracked_heads(wh.raw), latest_downloads(wh.raw))  # the walk's order
    victim = repos[len(repos) // 2]
    faults = FaultConfig(seed=1, rate_5xx=1.0, paths=rf"/api/models/{victim}/commits")
    with MirrorServer(SAMPLE, faults=faults) as srv:
        conf = settings(srv.url)
        with pytest.raises(Exception, match="50"):
            run_backfill(client_for(conf, LAST), wh.raw, LAST, now=NOW)
    saved = {repo for repo, _ in raw_fingerprint(wh)["hub_commits"]}
    assert saved == set(repos[: len(repos) // 2])  # every repo walked before the failure, written
    with MirrorServer(SAMPLE) as srv:
        run_backfill(client_for(settings(srv.url), LAST), wh.raw, LAST, now=NOW)
        listed_again = {r["path"] for r in srv.requests if "/commits/" in r["path"]}
    assert not any(f"/api/models/{repo}/commits" in p for repo in saved for p in listed_again)
    assert raw_fingerprint(wh) == raw_fingerprint(warehouses["b"])
