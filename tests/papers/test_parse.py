"""papers_frame, release_papers_frame and papers_to_refresh on small frames (real arXiv bodies, exact values)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from pipelines.papers.parse import (
    PAPERS_SCHEMA,
    RELEASE_PAPERS_SCHEMA,
    papers_frame,
    papers_to_refresh,
    release_papers_frame,
)
from tests.papers.recorded import legacy_feeds, needs_reference, wrapper

API = "https://export.arxiv.org/api/query"
RAW_SCHEMA = {
    "fetched_at": pl.Datetime("us", "UTC"),
    "url": pl.String,
    "status_code": pl.Int64,
    "body": pl.String,
}
HF_SCHEMA = {
    "fetched_at": pl.Datetime("us", "UTC"),
    "arxiv_id": pl.String,
    "status": pl.String,
    "body": pl.String,
}


def at(day: int, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


def _raw(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=RAW_SCHEMA, orient="row")


@pytest.fixture(scope="module")
def arxiv_rows() -> pl.DataFrame:
    heat = wrapper("id_1605.08386")
    renamed = heat["body"].replace(
        "Heat-bath random walks with Markov bases", "Heat-bath random walks, revised"
    )
    empty = wrapper("id_0000.0000")["body"]
    return _raw(
        [
            (at(2), f"{API}?id_list=1605.08386&start=0&max_results=1", 200, renamed),  # newer: wins
            (at(1), heat["url"], 200, heat["body"]),
            (at(3), f"{API}?id_list=1605.08386&start=0&max_results=1", 200, empty),  # a later empty answer
            (at(1), wrapper("id_astro-ph_0601001")["url"], 200, wrapper("id_astro-ph_0601001")["body"]),
            (
                at(1),
                f"{API}?id_list=2401.99999%2C1111.2011v2&start=0&max_results=2",
                200,
                legacy_feeds()[0].read_text(encoding="utf-8"),
            ),  # classic format; 2401.99999 is not in it
            (at(1), f"{API}?id_list=2401.00003&start=0&max_results=1", 400, wrapper("id_abc")["body"]),
            (at(4), f"{API}?id_list=2401.00003&start=0&max_results=1", 503, "Service Unavailable"),
            (
                at(4),
                f"{API}?id_list=2401.00005%2C2401.00006&start=0&max_results=2",
                400,
                wrapper("id_abc")["body"],
            ),
        ]
    )


@pytest.fixture(scope="module")
def hf_rows() -> pl.DataFrame:
    page = json.dumps(
        {
            "id": "1605.08386",
            "githubRepo": "https://github.com/Windisch/HeatBath",
            "projectPage": "https://example.org/heat",
        }
    )
    return pl.DataFrame(
        [
            (at(1), "1605.08386v1", "found", page),
            (at(1), "astro-ph/0601001", "found", json.dumps({"githubRepo": "https://github.com/ogle/hj"})),
            (at(2), "astro-ph/0601001", "not_found", '{"error":"Paper not found"}'),  # latest answer wins
            (at(3), "1605.08386", "error", None),  # says nothing
        ],
        schema=HF_SCHEMA,
        orient="row",
    )


@needs_reference
def test_papers_frame_rows(arxiv_rows: pl.DataFrame, hf_rows: pl.DataFrame) -> None:
    papers = papers_frame(arxiv_rows, hf_rows)
    assert papers.schema == pl.Schema(PAPERS_SCHEMA)
    assert papers.select("arxiv_id", "status").rows() == [
        ("1111.2011", "found"),
        ("1605.08386", "found"),
        ("2401.00003", "invalid"),  # the 503 asked later does not undo the answer
        ("2401.00005", "error"),  # asked (a 400 for both: which one is bad is unknown), no usable answer
        ("2401.00006", "error"),
        ("2401.99999", "not_found"),
        ("astro-ph/0601001", "found"),
    ]
    rows = {r["arxiv_id"]: r for r in papers.iter_rows(named=True)}
    heat = rows["1605.08386"]
    assert {k: v for k, v in heat.items() if k != "abstract"} == {
        "arxiv_id": "1605.08386",
        "version": 1,
        "title": "Heat-bath random walks, revised",
        "authors": ["Caprice Stanley", "Tobias Windisch"],
        "categories": ["math.CO", "math.ST"],
        "primary_category": "math.CO",
        "published": datetime(2016, 5, 26, 17, 59, 46, tzinfo=UTC),
        "updated": datetime(2016, 5, 26, 17, 59, 46, tzinfo=UTC),
        "doi": None,
        "journal_ref": None,
        "comment": "20 pages, 3 figures",
        "code_urls": ["https://github.com/windisch/heatbath"],
        "project_page": "https://example.org/heat",
        "license_url": None,
        "is_peer_reviewed": False,
        "paper_kind": "preprint",
        "fetched_at": at(2),
        "status": "found",
    }
    astro = rows["astro-ph/0601001"]
    assert (astro["is_peer_reviewed"], astro["paper_kind"], astro["journal_ref"]) == (
        True,
        "peer_reviewed",
        "ActaAstron.56:1-50,2006",
    )
    assert astro["code_urls"] == [] and astro["project_page"] is None  # the Hub's latest answer: no page
    classic = rows["1111.2011"]
    assert (classic["version"], classic["doi"], classic["paper_kind"]) == (
        2,
        "10.1103/PhysRevB.85.115117",
        "peer_reviewed",
    )
    assert classic["published"] == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    for missing in ("2401.99999", "2401.00003"):
        row = rows[missing]
        assert row["title"] is None and row["authors"] == [] and row["is_peer_reviewed"] is None
        assert row["fetched_at"] == at(1)


def test_papers_frame_of_nothing() -> None:
    empty = papers_frame(pl.DataFrame(schema=RAW_SCHEMA), pl.DataFrame(schema=HF_SCHEMA))
    assert empty.is_empty() and empty.schema == pl.Schema(PAPERS_SCHEMA)


def test_release_papers_frame() -> None:
    revisions = pl.DataFrame(
        [
            ("acme/m", "a3", at(1, 3, 2024), ["2310.06825"], []),
            ("acme/m", "a1", at(1, 1, 2024), ["2307.09288"], ["arxiv:2307.09288", "license:mit"]),
            ("acme/m", "a2", at(1, 2, 2024), ["2307.09288", "2310.06825v2"], ["arxiv:2307.09288"]),
            ("beta/x", "b2", at(10, 1, 2024), ["abc", "hep-th/9901001v1"], None),
            ("beta/x", "b1", at(15, 1, 2024), [], ["arxiv:1810.04805"]),  # a tag the card text did not show
            ("gamma/none", "c1", at(1, 1, 2024), [], ["transformers"]),
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
    out = release_papers_frame(revisions)
    assert out.schema == pl.Schema(RELEASE_PAPERS_SCHEMA)
    assert out.rows() == [
        ("acme/m", "2307.09288", "a1", at(1, 1, 2024), "a2", "tag"),
        ("acme/m", "2310.06825", "a2", at(1, 2, 2024), "a3", "card_link"),
        ("beta/x", "1810.04805", "b1", at(15, 1, 2024), "b1", "tag"),
        ("beta/x", "hep-th/9901001", "b2", at(10, 1, 2024), "b2", "card_link"),
    ]
    assert release_papers_frame(revisions.clear()).schema == pl.Schema(RELEASE_PAPERS_SCHEMA)


def test_papers_to_refresh() -> None:
    papers = pl.DataFrame(
        [
            ("2307.09288", at(1, 1), "found"),
            ("2310.06825", at(20, 2), "found"),
            ("1810.04805", at(1, 12, 2025), "not_found"),
            ("2112.10752", at(30, 1), "found"),
        ],
        schema={"arxiv_id": pl.String, "fetched_at": pl.Datetime("us", "UTC"), "status": pl.String},
        orient="row",
    )
    cited = [
        "2401.04088",
        "2310.06825",
        "2307.09288v2",
        "1810.04805",
        "abc",
        "2307.09288",
        "2112.10752",
        "2402.00838",
    ]
    # 2026-03-01: 2307.09288 is 59 days old, 1810.04805 90, 2112.10752 exactly 30, 2310.06825 only 9.
    assert papers_to_refresh(papers, cited, date(2026, 3, 1)) == [
        "2401.04088",
        "2402.00838",
        "1810.04805",
        "2307.09288",
        "2112.10752",
    ]
    assert papers_to_refresh(papers, cited, date(2026, 3, 1), max_age_days=60) == [
        "2401.04088",
        "2402.00838",
        "1810.04805",
    ]
    assert papers_to_refresh(papers.clear(), ["2307.09288"], date(2026, 3, 1)) == ["2307.09288"]
