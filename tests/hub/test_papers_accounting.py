"""The papers step records its cost in core.crawl_runs, as every other crawl step does."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime

import polars as pl

from pipelines.hub.step import run_crawl
from pipelines.hub_transport import HTTP, install
from pipelines.mirror.server import FaultConfig, MirrorServer
from pipelines.papers.step import run_papers_step
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import SAMPLE, papers_settings, settings

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = "2024-02-19"


def test_papers_step_accounts_for_every_request_at_the_mirror(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    faults = FaultConfig(seed=5, rate_429=0.1, rate_5xx=0.1, retry_after=0, paths=r"/api/papers/|/arxiv/")
    with MirrorServer(SAMPLE, faults=faults) as srv:
        conf = settings(srv.url, authors=("mistralai", "Qwen", "meta-llama"))
        run_crawl(wh, conf, DAY, now=NOW)
        srv.reset_log()
        result = run_papers_step(wh, papers_settings(conf, srv.arxiv_url), DAY)
        log = list(srv.requests)
    hub_papers = [r for r in log if "/api/papers/" in r["path"]]
    arxiv = [r for r in log if "/arxiv/" in r["path"]]
    faulted = [r for r in hub_papers + arxiv if r.get("fault")]
    assert result["due"] > 0 and hub_papers and arxiv and faulted
    with wh.connect() as con:
        run_step("crawl_runs", wh, con, full=True)
        rows = con.execute(
            "SELECT requests_api, requests_resolvers, status_429, status_5xx, retries, bytes_total, "
            "detail FROM core.crawl_runs WHERE scope LIKE 'papers:%'"
        ).fetchall()
    assert len(rows) == 1
    api, resolvers, n429, n5xx, retries, size, detail = rows[0]
    assert (api, resolvers) == (len(hub_papers), 0)
    assert json.loads(detail)["requests_arxiv"] == len(arxiv)
    assert n429 == sum(r["fault"].startswith("429") for r in faulted)
    assert n5xx == sum(r["fault"].startswith("5") for r in faulted)
    assert retries >= n429 + n5xx > 0 and size > 0


def test_hub_paper_pages_send_the_token_under_the_hub_limiter_and_never_store_it(tmp_path):
    """The paper pages are Hub requests: the token goes with them, the Hub's `api` limiter counts them."""
    canary = f"hf_canary{secrets.token_hex(12)}"
    fingerprint = hashlib.sha256(canary.encode()).hexdigest()[:16]
    wh = Warehouse(tmp_path / "wh")
    try:
        with MirrorServer(SAMPLE) as srv:
            conf = settings(srv.url, authors=("mistralai",), token=canary)
            run_crawl(wh, conf, DAY, now=NOW)
            srv.reset_log()
            paced = papers_settings(conf, srv.arxiv_url, hub_rate_limit=True, hub_min_interval=0.0)
            assert canary not in repr(paced)
            result = run_papers_step(wh, paced, DAY)
            log = list(srv.requests)
        limiter = HTTP.limiters.get("api")  # the Hub's `api` limiter the step installed
        in_window = limiter.used() if limiter is not None else 0
    finally:
        install(None)  # no quota left for the next test
    hub_papers = [r for r in log if "/api/papers/" in r["path"]]
    assert result["due"] > 0 and len(hub_papers) == result["due"]
    assert {r["token"] for r in hub_papers} == {fingerprint}
    assert {r["token"] for r in log if r["bucket"] == "arxiv"} == {None}  # arXiv never gets the Hub token
    assert in_window == len(hub_papers)
    # Never stored: not in any file, nor inside a Parquet file's (compressed) columns.
    assert [p for p in tmp_path.rglob("*") if p.is_file() and canary.encode() in p.read_bytes()] == []
    for path in tmp_path.rglob("*.parquet"):
        assert canary not in str(pl.read_parquet(path).rows()), path
