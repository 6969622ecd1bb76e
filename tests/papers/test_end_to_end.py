"""The glue: both clients against the mirror, their captures into papers_frame, joined to release_papers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from pipelines.mirror.server import MirrorServer
from pipelines.papers.client import ArxivClient, HubPapersClient
from pipelines.papers.parse import (
    arxiv_captures,
    hf_captures,
    papers_frame,
    papers_to_refresh,
    release_papers_frame,
)


def test_cited_papers_flow_into_the_frames(server: MirrorServer) -> None:
    revisions = pl.DataFrame(
        [
            (
                "acme/open-7b",
                "a" * 40,
                datetime(2024, 1, 10, tzinfo=UTC),
                ["1706.00679"],
                ["arxiv:1706.00679"],
            ),
            (
                "acme/open-7b",
                "b" * 40,
                datetime(2024, 2, 20, tzinfo=UTC),
                ["1706.00679", "astro-ph/0601001v1"],
                [],
            ),
            ("beta/other", "c" * 40, datetime(2024, 3, 1, tzinfo=UTC), ["2401.99999"], []),
        ],
        schema={
            "repo_id": pl.String,
            "revision": pl.String,
            "committed_at": pl.Datetime("us", "UTC"),
            "arxiv_ids": pl.List(pl.String),
            "tags": pl.List(pl.String),
        },
        orient="row",
    )
    cited = release_papers_frame(revisions)
    empty = papers_frame(arxiv_captures([]), hf_captures([]))
    todo = papers_to_refresh(empty, cited["arxiv_id"].to_list(), date(2026, 1, 1))
    assert todo == ["1706.00679", "astro-ph/0601001", "2401.99999"]

    with (
        ArxivClient(server.arxiv_url, min_interval=0.5) as arxiv,
        HubPapersClient(server.url, min_interval=0.0) as hub,
    ):
        fetched = arxiv.fetch(todo)
        pages = hub.fetch_many(todo)
    papers = papers_frame(arxiv_captures(fetched.responses), hf_captures(pages))
    assert len(server.requests) == 1 + 3  # one arXiv batch, one Hub page per paper

    joined = cited.join(papers, on="arxiv_id", how="left").sort("repo_id", "arxiv_id")
    assert joined.select("repo_id", "arxiv_id", "source", "status", "paper_kind").rows() == [
        ("acme/open-7b", "1706.00679", "tag", "found", "preprint"),
        ("acme/open-7b", "astro-ph/0601001", "card_link", "found", "peer_reviewed"),
        ("beta/other", "2401.99999", "card_link", "not_found", None),
    ]
    srt = papers.filter(pl.col("arxiv_id") == "1706.00679").row(0, named=True)
    assert srt["code_urls"] == [
        "https://github.com/ydecastro/super-resolution-testing"
    ]  # arXiv comment + Hub
    assert srt["project_page"] == "https://example.org/srt"
    assert srt["published"] == datetime(2017, 6, 2, 13, 17, 3, tzinfo=UTC)
    assert papers_to_refresh(papers, todo, srt["fetched_at"].date()) == []
