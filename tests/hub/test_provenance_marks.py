"""The crawl keeps a mirror's reconstruction marks in the raw layer, per capture; unmarked answers read null."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from pipelines.hub.client import mirror_source
from pipelines.hub.provenance import revision_marks
from pipelines.hub.raw import (
    COMMITS_RAW_SCHEMA,
    LISTING_RAW_SCHEMA,
    README_RAW_SCHEMA,
    RECONSTRUCTIONS_RAW_SCHEMA,
    REVISION_RAW_SCHEMA,
)
from pipelines.hub.step import run_crawl, run_history, run_listing
from pipelines.mirror.server import MirrorServer
from pipelines.storage.raw import CRAWL_RUN_SCHEMA
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.mirror.test_provenance import OTHER, REAL, SYNTH, _mirror

NOW = datetime(2024, 3, 1, tzinfo=UTC)
DAY = "2024-03-01"


def test_marks_reach_the_raw_captures_and_the_revision_marks(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(_mirror(tmp_path / "m")) as srv:
        run_crawl(wh, settings(srv.url), DAY, now=NOW)
        run_history(wh, settings(srv.url), DAY, now=NOW)
        source = mirror_source(srv.url)
        run_listing(wh, settings(srv.url), "2024-03-02", now=NOW)  # the same mirror crawled again
    readmes = wh.raw.scan("hub_readme", README_RAW_SCHEMA).collect()
    marks = {(r, v): m for r, v, m in readmes.select("repo_id", "revision", "reconstructed").iter_rows()}
    assert marks[("acme/mixed", SYNTH)] == "synthetic-commit-id"
    assert marks[("acme/mixed", REAL)] == "readme-from-card-data"
    assert (
        marks[("acme/plain", OTHER)] is None
    )  # nothing reconstructed: no header, a null like the live Hub's
    infos = wh.raw.scan("hub_revision", REVISION_RAW_SCHEMA).collect()
    assert dict(zip(infos["revision"], infos["reconstructed"], strict=True)) == {
        REAL: "createdAt-upper-bound"
    }
    commits = wh.raw.scan("hub_commits", COMMITS_RAW_SCHEMA).collect()
    by_repo = dict(zip(commits["repo_id"], commits["reconstructed"], strict=True))
    assert by_repo == {"acme/mixed": "createdAt-upper-bound, synthetic-commit-id", "acme/plain": None}
    listing = wh.raw.scan("hub_listing", LISTING_RAW_SCHEMA).collect().filter(pl.col("crawl_date") == DAY)
    assert listing.height == 2 and listing["reconstructed"].drop_nulls().len() == 2  # one page, its union
    # per revision: the union of its info and README answers' kinds, keyed by the id it was captured under
    assert revision_marks(wh.raw).rows() == [
        ("acme/mixed", REAL, "createdAt-upper-bound, readme-from-card-data"),
        ("acme/mixed", SYNTH, "synthetic-commit-id"),
    ]
    assert revision_marks(wh.raw, ["acme/plain"]).height == 0
    # the mirror says what it is; the listing's crawl account keeps it, with the endpoint crawled
    assert source == {
        "kind": "hub-mirror",
        "format": "hub-mirror/1",
        "title": "provenance test mirror",
        "reconstructions": {
            "createdAt-upper-bound": 1,
            "github-repo-json": 1,
            "readme-from-card-data": 1,
            "synthetic-commit-id": 1,
        },
    }
    runs = (
        wh.raw.scan("crawl_run", CRAWL_RUN_SCHEMA)
        .collect()
        .filter(pl.col("scope").str.starts_with("listing:") & (pl.col("crawl_date") == DAY))
    )
    assert json.loads(runs["detail"][0])["source"] == source
    assert runs["endpoint"][0].startswith(srv.url)
    # the mirror's list of reconstructions is kept once, on the first date: a re-crawl of it adds nothing
    assert [p.parent.name for p in wh.raw.files("hub_reconstructions")] == [f"crawl_date={DAY}"]
    listed = wh.raw.scan("hub_reconstructions", RECONSTRUCTIONS_RAW_SCHEMA).collect()
    assert sorted(listed.select("kind", "affects").rows()) == [
        ("createdAt-upper-bound", "acme/mixed"),
        ("github-repo-json", "code/github/acme/trainer"),
        ("readme-from-card-data", f"models/acme/mixed/revisions/{REAL}/README.md"),
        ("synthetic-commit-id", f"models/acme/mixed/revisions/{SYNTH}"),
    ]
    assert set(listed["title"]) == {"provenance test mirror"} and set(listed["endpoint"]) == {srv.url}


def test_the_real_hub_is_never_asked_for_a_mirror_description():
    assert mirror_source("https://huggingface.co") is None
    assert mirror_source("http://127.0.0.1:9/") is None  # nothing listens: not a mirror, no error
