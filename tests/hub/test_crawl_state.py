"""The crawl-state index (pipelines/storage/crawl_index.py, pipelines/hub/crawl_state.py): a daily crawl reads
what earlier crawls captured from the index, not from the captures, and crawls the same with or without it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import polars as pl
import pytest

from pipelines.code import crawl_state as code_state
from pipelines.code.settings import CodeSettings
from pipelines.code.step import run_code_step
from pipelines.hub import crawl_state
from pipelines.hub.raw import LISTING_RAW_SCHEMA
from pipelines.hub.step import run_crawl, run_datasets, run_history, run_license_files
from pipelines.mirror.server import MirrorServer
from pipelines.storage import crawl_index
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import SAMPLE, raw_fingerprint, revisions_table, settings

DAYS = ["2023-07-17", "2024-02-19", "2025-04-15"]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = (
    "hub_listing",
    "hub_readme",
    "hub_revision",
    "hub_commits",
    "hub_dataset",
    "hub_license_files",
    "github_repo",
    "github_file",
    "github_file_commits",
)


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """The same rows (a view's rows come in no particular order)."""
    return a.sort(pl.all(), nulls_last=True).equals(b.sort(pl.all(), nulls_last=True))


def _crawl_day(wh: Warehouse, url: str, github_url: str, day: str) -> None:
    """The steps of one crawl date that read the crawl state: the Hub's (listing, READMEs, history, datasets,
    licence files) and the code repositories'."""
    conf = settings(url)
    run_crawl(wh, conf, day, now=NOW)
    run_history(wh, conf, day, now=NOW)
    run_datasets(wh, conf, day, now=NOW)
    run_license_files(wh, conf, day, now=NOW)
    run_license_files(wh, conf, day, now=NOW, repo_type="dataset")
    code = run_code_step(wh, CodeSettings(endpoint=github_url, token="ghp_" + "x" * 36), day, now=NOW)
    assert code["status"] == "complete", code


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The sample crawled day by day twice: keeping the index (`kept`, with the capture files each day opened
    and those that existed before it), and deleting it before every day (`rebuilt`)."""
    kept = Warehouse(tmp_path_factory.mktemp("kept"))
    rebuilt = Warehouse(tmp_path_factory.mktemp("rebuilt"))
    opened: dict[str, tuple[set[str], set[str]]] = {}
    with MirrorServer(SAMPLE) as srv:
        for day in DAYS:
            older = {str(p) for s in SOURCES for p in kept.raw.files(s)}
            kept.raw.opened.clear()
            _crawl_day(kept, srv.url, srv.github_url, day)
            opened[day] = (older, set(kept.raw.opened))
            rebuilt.raw.remove_index()
            _crawl_day(rebuilt, srv.url, srv.github_url, day)
    return kept, rebuilt, opened


def test_a_daily_crawl_reads_no_capture_of_an_earlier_crawl(crawled):
    kept, _, opened = crawled
    older, read = opened[DAYS[0]]
    assert not older and read  # the first crawl builds its state from its own captures
    for day in DAYS[1:]:
        older, read = opened[day]
        assert older, day
        assert not read & older, f"{day}: read {len(read & older)} of {len(older)} earlier capture files"


def test_the_crawl_is_the_same_with_the_index_and_rebuilt_each_day(crawled):
    kept, rebuilt, _ = crawled
    assert raw_fingerprint(kept) == raw_fingerprint(rebuilt)
    assert raw_fingerprint(kept)["hub_commits"], "the history walk captured commit lists"
    for source in ("github_repo", "github_file", "github_file_commits"):
        columns = {"github_repo": ["crawl_date", "repo", "status", "etag", "head_sha"]}.get(
            source, ["crawl_date", "repo", "path", "blob_sha"]
        )
        assert kept.raw.files(source), source
        assert (
            kept.raw.scan(source)
            .select(columns)
            .collect()
            .sort(pl.all())
            .equals(rebuilt.raw.scan(source).select(columns).collect().sort(pl.all()))
        ), source
    licence_rows = [
        kept.raw.scan(s).select("repo_id", "revision", "path", "status", "blob_sha").collect().sort(pl.all())
        for s in ("hub_license_files",)
    ]
    assert licence_rows[0].height, "the licence-file step captured files"
    assert licence_rows[0].equals(
        rebuilt.raw.scan("hub_license_files").select(licence_rows[0].columns).collect().sort(pl.all())
    )
    assert revisions_table(kept).equals(revisions_table(rebuilt))


def test_every_view_equals_its_rebuild_from_the_captures(crawled):
    kept, _, _ = crawled
    for view in (*crawl_state.VIEWS, *code_state.VIEWS):
        if not kept.raw.files(view.source):
            continue
        kept.raw.opened.clear()
        indexed = crawl_index.read(kept.raw, view)
        # The crawl steps wrote a delta beside each capture: the index reads none of them.
        assert kept.raw.opened == [], view.name
        scanned = view.reduce(
            view.project(
                kept.raw.read_captures(view.source, kept.raw.capture_ids(view.source), list(view.columns))
            )
        )
        assert _same(indexed, scanned), view.name
    # The state the readers derive is the one a scan of every capture gives.
    listing = kept.raw.scan("hub_listing").select("repo_id", "sha").unique().collect()
    assert set(crawl_state.listing_commits(kept.raw).select("repo_id", "sha").iter_rows()) == set(
        listing.iter_rows()
    )


def test_a_missing_delta_or_a_stale_snapshot_is_read_from_the_captures(crawled, tmp_path):
    kept, _, _ = crawled
    wh = Warehouse(tmp_path)
    # A copy of the listing captures without their index (a warehouse older than the index).
    for source in ("hub_listing",):
        for path in kept.raw.files(source):
            target = wh.raw.root / source / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    expected = crawl_state.listing_commits(kept.raw)
    wh.raw.opened.clear()
    assert _same(crawl_state.listing_commits(wh.raw), expected)  # no index: every capture is read once
    assert len(set(wh.raw.opened)) == len(wh.raw.files("hub_listing"))
    wh.raw.opened.clear()
    assert _same(crawl_state.listing_commits(wh.raw), expected)  # compacted: none
    assert wh.raw.opened == []
    view = crawl_state.LISTING
    manifest = json.loads(wh.raw.read_index_text(view.name, crawl_index.MANIFEST))
    wh.raw.write_index_text(view.name, crawl_index.MANIFEST, json.dumps({**manifest, "version": -1}))
    assert _same(crawl_state.listing_commits(wh.raw), expected)
    assert len(set(wh.raw.opened)) == len(wh.raw.files("hub_listing"))
    # A snapshot that names captures this raw layer lacks is not trusted either.
    manifest = json.loads(wh.raw.read_index_text(view.name, crawl_index.MANIFEST))
    covered = crawl_index.covered_by(wh.raw, view, manifest)
    assert covered == set(wh.raw.capture_ids("hub_listing"))
    more = pl.DataFrame({"capture_id": [*covered, "crawl_date=2020-01-01/x.parquet"]})
    wh.raw.write_index_frame(view.name, manifest["covered"], more)
    wh.raw.opened.clear()
    assert _same(crawl_state.listing_commits(wh.raw), expected)
    assert len(set(wh.raw.opened)) == len(wh.raw.files("hub_listing"))
    assert pl.read_parquet(wh.raw.files("hub_listing")).height > expected.height


def test_a_compaction_clears_what_a_killed_writer_or_a_lost_race_left(tmp_path):
    wh = Warehouse(tmp_path)
    row = dict.fromkeys(LISTING_RAW_SCHEMA) | {
        "repo_id": "a/b",
        "sha": "0" * 40,
        "last_modified": "2024-01-01",
    }
    wh.raw.append("hub_listing", "2024-01-01", pl.DataFrame([row], schema=LISTING_RAW_SCHEMA), ["repo_id"])
    view = crawl_state.LISTING
    wh.raw.write_index_frame(view.name, "snapshot-old.parquet", pl.DataFrame({"x": [1]}))  # lost a race
    stale = wh.raw.index_path(view.name, "snapshot-old.parquet")
    killed = stale.parent / ".snapshot-new.parquet.1.ab.tmp"  # a writer killed mid-write, long ago
    killed.write_bytes(b"partial")
    working = stale.parent / ".snapshot-other.parquet.2.cd.tmp"  # a writer at work now
    working.write_bytes(b"partial")
    for path in (stale, killed):
        os.utime(path, (0, 0))
    assert crawl_state.listing_commits(wh.raw).select("repo_id", "sha").rows() == [("a/b", "0" * 40)]
    assert not stale.exists() and not killed.exists() and working.exists()
    manifest = json.loads(wh.raw.read_index_text(view.name, crawl_index.MANIFEST))
    assert {manifest["snapshot"], manifest["covered"]} <= set(wh.raw.index_names(view.name))


def test_the_index_lives_in_a_bucket_beside_the_captures(s3_endpoint, tmp_path):
    from pipelines.storage.raw import RawStore
    from tests.s3_server import aws_environment, create_bucket, object_keys

    client = create_bucket(s3_endpoint, "crawl-state")
    bucket = RawStore("s3://crawl-state/raw", environ=aws_environment(s3_endpoint))
    local = RawStore(tmp_path / "raw")

    def listing(day: str, *repos: str) -> pl.DataFrame:
        rows = [
            dict.fromkeys(LISTING_RAW_SCHEMA)
            | {"repo_id": r, "sha": f"{i:040d}", "last_modified": f"{day}T0{i}"}
            for i, r in enumerate(repos)
        ]
        return pl.DataFrame(rows, schema=LISTING_RAW_SCHEMA)

    for raw in (bucket, local):
        raw.append("hub_listing", "2024-01-01", listing("2024-01-01", "a/x", "b/y"), ["repo_id", "sha"])
    # No index yet: read from the captures in the bucket, then compacted into it.
    assert _same(crawl_state.listing_commits(bucket), crawl_state.listing_commits(local))
    keys = object_keys(client, "crawl-state")
    assert any(k.startswith("raw/_index/hub_listing_commits/snapshot-") for k in keys), keys
    # A day's capture and its delta, as the crawl steps write them: the next read opens no capture.
    for raw in (bucket, local):
        frame = listing("2024-01-02", "a/x", "c/z")
        path, written = raw.append("hub_listing", "2024-01-02", frame, ["repo_id", "sha"])
        crawl_state.record(raw, "hub_listing", path if written else None, frame)
    bucket.opened.clear()
    assert _same(crawl_state.listing_commits(bucket), crawl_state.listing_commits(local))
    assert bucket.opened == []
    # Deleted, it is rebuilt from the captures.
    bucket.remove_index()
    assert not [k for k in object_keys(client, "crawl-state") if "/_index/" in k]
    assert _same(crawl_state.listing_commits(bucket), crawl_state.listing_commits(local))
    assert len(set(bucket.opened)) == 2
