"""File reads under faults and on huge files: a README that keeps failing costs a handful of requests, and a
300 MB README is streamed up to the cap (bounded memory) with its real size and truncation recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import polars as pl
import pytest

from pipelines.hub.client import FILE_RETRIES
from pipelines.hub.raw import README_RAW_SCHEMA
from pipelines.hub.step import run_crawl, run_listing, run_readmes
from pipelines.mirror.server import FaultConfig, MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.conftest import ROOT
from tests.hub.crawl_helpers import settings
from tests.small_mirror import make_small_mirror

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = "2024-03-31"  # every repo of the small mirror is listed by then
HUGE = 300_000_000
CAP = 5_000_000


def _readmes(wh: Warehouse) -> pl.DataFrame:
    return wh.raw.scan("hub_readme", README_RAW_SCHEMA).collect()


@pytest.mark.parametrize("kind", ["5xx", "truncate"])
def test_a_readme_under_a_persistent_fault_costs_a_handful_of_requests(tmp_path, kind):
    mirror = make_small_mirror(tmp_path / "mirror")
    wh = Warehouse(tmp_path / "wh")
    faults = FaultConfig.from_dict({"seed": 1, kind: 1.0, "paths": r"/acme/open-7b/resolve/"})
    with MirrorServer(mirror, faults=faults) as srv:
        summary = run_crawl(wh, settings(srv.url), DAY, now=NOW)
        faulted = [r for r in srv.requests if "/acme/open-7b/resolve/" in r["path"]]
    # One README, one level of retries: the first request and FILE_RETRIES more, never retries of retries.
    assert {r["fault"] for r in faulted} == {kind}
    assert len(faulted) == 1 + FILE_RETRIES <= 4, [r["path"] for r in faulted]
    # The crawl recorded the README as failed (asked again by the next crawl) and read every other one.
    rows = {r["repo_id"]: r for r in _readmes(wh).iter_rows(named=True)}
    assert rows["acme/open-7b"]["status"] == "error"
    assert rows["acme/open-7b"]["detail"].startswith(f"gave up after {1 + FILE_RETRIES} attempts")
    assert {rows[r]["status"] for r in ("beta/card-only", "beta/open-7b-gguf")} == {"ok"}
    assert summary.readmes["error"] == 1


READ_HUGE = """
import json, resource, sys
from pipelines.hub.client import HubClient, install
install(None)
url, small, huge, cap = sys.argv[1], sys.argv[2].split("@"), sys.argv[3].split("@"), int(sys.argv[4])
client = HubClient(url, base_wait=0.05)
warm = client.read_file(*small, max_bytes=cap)  # imports, connection pool and buffers, before measuring
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
res = client.read_file(*huge, max_bytes=cap)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"warm": warm.status, "status": res.status, "kept": len(res.content or b""), "size": res.size,
                  "truncated": res.truncated, "extra_kib": after - before}))
"""


def test_a_300_mb_readme_is_read_up_to_the_cap_in_bounded_memory(tmp_path):
    mirror = make_small_mirror(tmp_path / "mirror")
    (readme,) = mirror.glob("models/beta/card-only/revisions/*/README.md")
    card = readme.read_bytes()
    with readme.open("r+b") as handle:  # a sparse file: 300 MB on the wire, next to nothing on disk
        handle.truncate(HUGE)
    (small,) = mirror.glob("models/beta/open-7b-gguf/revisions/*/README.md")
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        base = f"{srv.url}/as-of/{DAY}"
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                READ_HUGE,
                base,
                f"beta/open-7b-gguf@{small.parent.name}",
                f"beta/card-only@{readme.parent.name}",
                str(CAP),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        read = json.loads(proc.stdout.splitlines()[-1])
        # The crawl records what it kept, the real size and the truncation; its account, the bytes it read.
        conf = settings(srv.url, max_readme_bytes=CAP)
        run_listing(wh, conf, DAY, now=NOW)
        account = run_readmes(wh, conf, DAY, now=NOW)
    print(f"peak RSS increase reading the capped README: {read['extra_kib'] / 1024:.1f} MB")
    assert read["extra_kib"] < 100 * 1024, f"{read['extra_kib'] / 1024:.0f} MB more to read a capped README"
    assert read == {**read, "warm": "ok", "status": "ok", "kept": CAP + 1, "size": HUGE, "truncated": True}
    assert account["bytes"]["resolvers"] < 2 * CAP, account["bytes"]
    row = _readmes(wh).filter(pl.col("repo_id") == "beta/card-only").row(0, named=True)
    assert row["status"] == "ok" and row["truncated"] is True and row["size"] == HUGE
    assert len(row["content"]) == CAP + 1 and row["content"].startswith(card)
    assert row["blob_id"] is None  # not read in full: no blob id to reuse
    assert "capped" in row["detail"] and str(HUGE) in row["detail"]
    others = _readmes(wh).filter((pl.col("repo_id") != "beta/card-only") & (pl.col("status") == "ok"))
    assert others.height == 2
    assert others.get_column("truncated").to_list() == [False] * others.height
    assert others.select((pl.col("size") == pl.col("content").bin.size()).all()).item()
