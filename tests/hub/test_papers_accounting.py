"""The papers step records its cost in core.crawl_runs, as every other crawl step does."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pipelines.hub.step import run_crawl
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
