"""The ids the papers step asks for are every id a release can cite: tags and card links alike, found the
way the card parser and release_papers_frame find them (any case, any encoding)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import polars as pl

from pipelines.hub.cards import parse_card
from pipelines.hub.raw import LISTING_RAW_SCHEMA, README_RAW_SCHEMA
from pipelines.papers.client import ArxivClient, HubPapersClient
from pipelines.papers.parse import papers_to_refresh
from pipelines.papers.step import cited_arxiv_ids, run_papers, stored_papers
from pipelines.storage.raw import RawStore

AT = datetime(2026, 1, 1, tzinfo=UTC)
READMES = {
    "org/a": b"# A\n\nPaper: HuggingFace.CO/PaPeRs/2307.09288.\n",  # any case, as the parser reads it
    "org/b": b"---\narxiv: 2106.09685\n---\n# B \xff\xfe\n\narXiv.org/ABS/1706.03762v5\n",  # not UTF-8
    "org/c": b"# C\n\nTypo: arxiv.org/abs/2307.092881 and none else.\n",  # not an id: nothing to ask
    "org/d": b"# D\n\nNo paper here, see https://github.com/org/d .\n",
}


def _store(tmp_path) -> RawStore:
    raw = RawStore(tmp_path)
    readmes = pl.DataFrame(
        [
            {
                "fetched_at": AT,
                "repo_id": repo,
                "revision": "a" * 40,
                "status": "ok",
                "detail": None,
                "sha256": hashlib.sha256(body).hexdigest(),
                "size": len(body),
                "content": body,
                "blob_id": None,
            }
            for repo, body in READMES.items()
        ],
        schema=README_RAW_SCHEMA,
    )
    raw.append("hub_readme", "2026-01-01", readmes, payload=["repo_id", "content"])
    item = {"id": "org/e", "tags": ["ArXiv:2402.00838", "arxiv:2401.00001"]}
    listing = pl.DataFrame(
        [{"fetched_at": AT, "repo_id": "org/e", "item": json.dumps(item)}], schema=LISTING_RAW_SCHEMA
    )
    raw.append("hub_listing", "2026-01-01", listing, payload=["repo_id", "item"])
    return raw


def test_every_id_a_card_links_or_a_tag_names_is_asked_for(tmp_path):
    cited = cited_arxiv_ids(_store(tmp_path))
    assert cited == ["1706.03762", "2106.09685", "2307.09288", "2401.00001", "2402.00838"]
    # Exactly what the card parser records for each README: nothing less (a citation never looked up).
    parsed = {i for body in READMES.values() for i in parse_card(body).arxiv_ids}
    assert parsed <= set(cited)


def test_a_paper_arxiv_never_answered_for_is_recorded_as_asked(tmp_path):
    """arXiv unreachable: the cited papers get a row (status error) instead of none, and are due again."""
    raw = _store(tmp_path)
    arxiv = ArxivClient(base_url="http://127.0.0.1:9/api/query", min_interval=0.0, max_retries=0)
    hub = HubPapersClient(endpoint="http://127.0.0.1:9", min_interval=0.0, max_retries=0)
    with arxiv, hub:
        run_papers(raw, "2026-01-02", arxiv=arxiv, hub=hub)
    papers = stored_papers(raw)
    assert dict(papers.select("arxiv_id", "status").iter_rows()) == dict.fromkeys(
        cited_arxiv_ids(raw), "error"
    )
    assert papers_to_refresh(papers, cited_arxiv_ids(raw), date(2026, 1, 3)) == cited_arxiv_ids(raw)
