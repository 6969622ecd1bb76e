"""Faults: 429s and 5xx at 10% give the same data; a SIGKILL mid-crawl resumes without loss or duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from pipelines.hub.client import CrawlError
from pipelines.hub.step import run_crawl, run_history
from pipelines.mirror.server import FaultConfig, MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.conftest import ROOT
from tests.hub.crawl_helpers import SAMPLE, raw_fingerprint, revisions_table, settings

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = ["2024-02-19"]


# A few organisations keep the test short (each 429 costs the client a 1 s wait) while still covering
# listing pages, long commit histories (Mistral, Qwen), READMEs and gated repos.
SCOPE = ("mistralai", "Qwen", "TinyLlama", "stabilityai")


def _crawl_all(wh: Warehouse, url: str, **overrides) -> None:
    overrides.setdefault("authors", SCOPE)
    for day in DAYS:
        run_crawl(wh, settings(url, **overrides), day, now=NOW)
    run_history(wh, settings(url, **overrides), DAYS[-1], now=NOW)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    wh = Warehouse(tmp_path_factory.mktemp("clean"))
    with MirrorServer(SAMPLE) as srv:
        _crawl_all(wh, srv.url)
    return wh


def test_429_and_5xx_at_ten_percent_give_the_same_data(clean, tmp_path):
    wh = Warehouse(tmp_path / "faulty")
    faults = FaultConfig(seed=7, rate_429=0.1, rate_5xx=0.1, retry_after=0)
    with MirrorServer(SAMPLE, faults=faults) as srv:
        _crawl_all(wh, srv.url)
        applied = [r["fault"] for r in srv.requests if r.get("fault")]
    assert any(f.startswith("429") for f in applied) and any(f.startswith("5") for f in applied), applied
    assert raw_fingerprint(wh) == raw_fingerprint(clean)
    assert revisions_table(wh).equals(revisions_table(clean))
    with wh.connect() as con:
        from pipelines.runner import run_step

        run_step("crawl_runs", wh, con, full=True)
        n429, n5xx, retries = con.execute(
            "SELECT sum(status_429), sum(status_5xx), sum(retries) FROM core.crawl_runs"
        ).fetchone()
    assert n429 > 0 and n5xx > 0 and retries >= n429 + n5xx  # the accounts show what the faults cost


def test_a_listing_page_that_stays_malformed_fails_the_partition(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(SAMPLE, faults=FaultConfig(seed=1, rate_malformed=1.0, paths=r"/api/models$")) as srv:
        with pytest.raises(CrawlError, match="not valid JSON"):
            run_crawl(wh, settings(srv.url), DAYS[0], now=NOW)
    assert not wh.raw.files("hub_listing")  # nothing half-recorded as if the crawl were complete


KILLED_CRAWL = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from pipelines.hub.settings import HubSettings
from pipelines.hub.step import run_crawl
from pipelines.storage.warehouse import Warehouse
url, root, day = sys.argv[1:4]
run_crawl(Warehouse(Path(root)), HubSettings(endpoint=url, replay=True, rate_limit=False, page_size=2),
          day, now=datetime(2026, 1, 1, tzinfo=UTC))
"""


def test_sigkill_mid_crawl_then_rerun_equals_an_uninterrupted_crawl(tmp_path):
    day = "2024-02-19"
    reference, victim = Warehouse(tmp_path / "ref"), Warehouse(tmp_path / "victim")
    with MirrorServer(SAMPLE, page_size=2) as srv:
        run_crawl(reference, settings(srv.url, page_size=2), day, now=NOW)
        srv.reset_log()
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_CRAWL, srv.url, str(victim.root), day],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        deadline = time.monotonic() + 60
        while len([r for r in srv.requests if "/resolve/" in r["path"]]) < 6:
            assert proc.poll() is None, "the crawl finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        saved_before = raw_fingerprint(victim)
        assert saved_before["hub_listing"], "the killed crawl saved its listing pages"
        srv.reset_log()
        run_crawl(victim, settings(srv.url, page_size=2), day, now=NOW)
        rerun_readmes = {r["path"] for r in srv.requests if r["method"] == "GET" and "/resolve/" in r["path"]}
    after = raw_fingerprint(victim)
    assert after == raw_fingerprint(reference)
    # Nothing saved before the kill was fetched again.
    saved = {(repo, rev) for repo, rev, _, _ in saved_before["hub_readme"]}
    refetched = {
        (p.split("/as-of/")[1].split("/", 1)[1].split("/resolve/")[0], p.split("/resolve/")[1].split("/")[0])
        for p in rerun_readmes
    }
    assert not saved & refetched
    keys = [(r[0], r[1]) for r in after["hub_readme"]]
    assert len(keys) == len(set(keys))


def test_a_malformed_commit_page_is_asked_again(clean, tmp_path):
    """A commit-list page cut or mangled on the way is fetched again; the history matches the clean crawl."""
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(SAMPLE, faults=FaultConfig(seed=3, rate_malformed=0.3, paths=r"/commits/")) as srv:
        _crawl_all(wh, srv.url)
        mangled = [r for r in srv.requests if r.get("fault") and "/commits/" in r["path"]]
    assert mangled, "the fault never hit a commit page"
    assert raw_fingerprint(wh) == raw_fingerprint(clean)


def test_a_commit_page_that_stays_malformed_fails_the_history_step(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(SAMPLE) as srv:
        run_crawl(wh, settings(srv.url, authors=SCOPE), DAYS[0], now=NOW)
    with MirrorServer(SAMPLE, faults=FaultConfig(seed=1, rate_malformed=1.0, paths=r"/commits/")) as srv:
        with pytest.raises(CrawlError, match="not valid JSON after 3 attempts"):
            run_history(wh, settings(srv.url, authors=SCOPE), DAYS[0], now=NOW)
