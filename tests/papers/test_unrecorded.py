"""A paper a mirror's recording does not hold is `unrecorded` (unknown), never `not_found`; a real miss
(an answer without X-Mirror-Unrecorded) stays `not_found`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipelines.mirror.layout import MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.papers.client import ArxivClient, HubPapersClient
from pipelines.papers.parse import (
    PAPERS_SCHEMA,
    arxiv_captures,
    hf_captures,
    papers_frame,
    papers_to_refresh,
)
from pipelines.papers.step import stored_papers
from pipelines.storage.raw import RawStore
from tests.papers.recorded import HF_PAPERS, sample_entry

HELD = "1706.00679"  # on the mirror's arXiv and Hub paper pages
ABSENT = "2401.99999"  # on neither
ASKED = [HELD, ABSENT]


@pytest.fixture(scope="module")
def partial_server(tmp_path_factory: pytest.TempPathFactory):
    """A mirror holding one paper and declaring its papers unrecorded (as the bundled sample does)."""
    root = tmp_path_factory.mktemp("papers-partial")
    writer = MirrorWriter(root, "partial papers", sources=["tests"])
    writer.add_paper(HELD, entry_xml=sample_entry(HELD), hf_json=HF_PAPERS[HELD])
    writer.extra["unrecorded"] = ["papers"]
    writer.finish()
    with MirrorServer(root) as srv:
        yield srv


def _crawl(srv: MirrorServer, raw: RawStore, day: str) -> dict[str, str]:
    """Ask both clients for ASKED, store the answers in the raw layer as the papers step does; return the
    arXiv client's statuses."""
    with (
        ArxivClient(srv.arxiv_url, min_interval=0.0) as arxiv,
        HubPapersClient(srv.url, min_interval=0.0) as hub,
    ):
        fetched = arxiv.fetch(ASKED)
        pages = hub.fetch_many(ASKED)
    raw.append("arxiv", day, arxiv_captures(fetched.responses), payload=["url", "status_code", "body"])
    raw.append("hf_paper", day, hf_captures(pages), payload=["arxiv_id", "status", "body"])
    return {**fetched.status, **{f"hub:{p['arxiv_id']}": p["status"] for p in pages}}


def test_unrecorded_and_real_misses_through_the_raw_layer(partial_server, server, tmp_path: Path) -> None:
    statuses = _crawl(partial_server, RawStore(tmp_path / "partial"), "2026-01-01")
    assert statuses == {
        HELD: "found",
        ABSENT: "unrecorded",
        f"hub:{HELD}": "found",
        f"hub:{ABSENT}": "unrecorded",
    }
    papers = stored_papers(RawStore(tmp_path / "partial"))
    assert dict(papers.select("arxiv_id", "status").rows()) == {HELD: "found", ABSENT: "unrecorded"}
    assert papers.filter(pl.col("arxiv_id") == HELD)["project_page"].to_list() == ["https://example.org/srt"]
    # The same look-up answered without the mark (a mirror that records every paper, as arXiv itself does).
    plain = _crawl(server, RawStore(tmp_path / "plain"), "2026-01-01")
    assert (plain[ABSENT], plain[f"hub:{ABSENT}"]) == ("not_found", "not_found")
    papers = stored_papers(RawStore(tmp_path / "plain"))
    assert dict(papers.select("arxiv_id", "status").rows()) == {HELD: "found", ABSENT: "not_found"}


def _arxiv_row(day: int, ids: list[str], status_code: int | None, body: str | None, mark: str | None) -> dict:
    url = "http://mirror/arxiv/api/query?id_list=" + "%2C".join(ids) + "&start=0&max_results=9"
    at = datetime(2026, 1, day, tzinfo=UTC)
    return {"fetched_at": at, "url": url, "status_code": status_code, "body": body, "unrecorded": mark}


EMPTY_FEED = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
    "<opensearch:totalResults>0</opensearch:totalResults></feed>"
)


def test_which_answer_wins_and_when_an_unrecorded_paper_is_asked_again() -> None:
    rows = [
        _arxiv_row(1, ["2401.00001", "2401.00002"], 200, EMPTY_FEED, None),  # arXiv: neither exists
        _arxiv_row(2, ["2401.00001", "2401.00003"], 503, "busy", None),  # no answer for 00003
        _arxiv_row(3, ["2401.00001", "2401.00003", "2401.00004"], 200, EMPTY_FEED, "papers"),  # a mirror
    ]
    papers = papers_frame(arxiv_captures(rows), hf_captures([]))
    status = dict(papers.select("arxiv_id", "status").rows())
    # A mirror's "not recorded" does not undo arXiv's "not there", and says more than no answer at all.
    assert status == {
        "2401.00001": "not_found",
        "2401.00002": "not_found",
        "2401.00003": "unrecorded",
        "2401.00004": "unrecorded",
    }
    assert set(PAPERS_SCHEMA) == set(papers.columns)
    cited = ["2401.00003", "2401.00004", "2401.00005"]
    # Unknown, not asked again on every crawl: only when a month old, like found and missing papers.
    assert papers_to_refresh(papers, cited, date(2026, 1, 4)) == ["2401.00005"]
    later = date(2026, 1, 3) + timedelta(days=30)
    assert papers_to_refresh(papers, cited, later) == ["2401.00005", "2401.00003", "2401.00004"]
