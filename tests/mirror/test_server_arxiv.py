"""The arXiv query API (current Atom format) and the Hub's /api/papers, answered from stored entries."""

from __future__ import annotations

import json
from pathlib import Path

import defusedxml.ElementTree as DET
import pytest
import requests
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "os": "http://a9.com/-/spec/opensearch/1.1/",
    "arxiv": "http://arxiv.org/schemas/atom",
}
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared/reference/arxiv/current_2026_json"


def query(srv, **params: str) -> tuple[requests.Response, object]:
    r = requests.get(srv.arxiv_url, params=params, timeout=10)
    return r, DET.fromstring(r.content)


def counts(feed) -> tuple[int, int, int]:
    return tuple(int(feed.find(f"os:{n}", NS).text) for n in ("totalResults", "startIndex", "itemsPerPage"))


def ids(feed) -> list[str]:
    return [e.find("a:id", NS).text for e in feed.findall("a:entry", NS)]


def test_single_id(srv) -> None:
    r, feed = query(srv, id_list="2104.12255", start="0", max_results="100", search_query="")
    assert r.status_code == 200 and r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert ids(feed) == ["http://arxiv.org/abs/2104.12255v1"] and counts(feed) == (1, 0, 100)
    entry = feed.find("a:entry", NS)
    assert entry.find("a:title", NS).text == "0"
    assert entry.find("a:author/a:name", NS).text == "Quan Thoi Minh Nguyen"
    assert entry.find("arxiv:primary_category", NS).get("term") == "cs.CR"
    assert (
        feed.find("a:title", NS).text
        == "arXiv Query: search_query=&id_list=2104.12255&start=0&max_results=100"
    )
    assert feed.find("a:id", NS).text.startswith("https://arxiv.org/api/")
    assert b"<title>0</title>" in r.content  # the stored entry is embedded as stored


def test_versioned_and_old_style_and_several_ids(srv) -> None:
    _, feed = query(srv, id_list="2104.12255v1")
    assert ids(feed) == ["http://arxiv.org/abs/2104.12255v1"] and counts(feed) == (1, 0, 10)
    _, feed = query(srv, id_list="quant-ph/0201082v1", max_results="100")
    assert ids(feed) == ["http://arxiv.org/abs/quant-ph/0201082v1"]
    assert [c.get("term") for c in feed.find("a:entry", NS).findall("a:category", NS)] == [
        "quant-ph",
        "cs.PL",
    ]
    _, feed = query(srv, id_list="quant-ph/0201082,0000.0000,2104.12255", max_results="100")
    assert ids(feed) == ["http://arxiv.org/abs/quant-ph/0201082v1", "http://arxiv.org/abs/2104.12255v1"]
    assert counts(feed) == (2, 0, 100)
    _, feed = query(srv, id_list="quant-ph/0201082,2104.12255", start="1", max_results="1")
    assert ids(feed) == ["http://arxiv.org/abs/2104.12255v1"] and counts(feed) == (2, 1, 1)


def test_unknown_id_and_bare_search_give_empty_feeds(srv) -> None:
    for params in ({"id_list": "0000.0000", "max_results": "100"}, {"search_query": "all:testing"}):
        r, feed = query(srv, **params)
        assert r.status_code == 200 and ids(feed) == [] and counts(feed)[0] == 0


def test_malformed_id_gives_arxivs_400_error_feed(srv) -> None:
    r, feed = query(srv, id_list="abc", start="0", max_results="100")
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/atom+xml")
    entry = feed.find("a:entry", NS)
    assert entry.find("a:id", NS).text == "https://arxiv.org/api/errors#incorrect_id_format_for_abc"
    assert entry.find("a:title", NS).text == "Error"
    assert entry.find("a:summary", NS).text == "incorrect id format for abc"
    assert entry.find("a:author/a:name", NS).text == "arXiv api core"
    assert counts(feed) == (1, 0, 1)
    assert query(srv, id_list="2104.12255", start="x")[0].status_code == 400


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared reference responses not available")
def test_error_feed_has_the_shape_of_the_real_one(srv) -> None:
    real = json.loads(next(REFERENCE.glob("id_abc_*.json")).read_text())
    assert real["status_code"] == 400

    def shape(root) -> list:
        return [
            (
                e.tag,
                sorted(e.attrib),
                (e.text or "").strip() if e.tag.endswith(("title", "summary", "name")) else None,
            )
            for e in root.iter()
        ]

    mine = DET.fromstring(requests.get(srv.arxiv_url, params={"id_list": "abc"}, timeout=10).content)
    assert shape(mine) == shape(DET.fromstring(real["body"].encode()))


def test_hub_paper_pages(srv, api: HfApi) -> None:
    paper = api.paper_info("2104.12255")
    assert paper.id == "2104.12255" and paper.title == "0" and paper.upvotes == 3
    stored = (srv.store.root / "papers/hf/2104.12255.json").read_bytes()
    assert requests.get(f"{srv.url}/api/papers/2104.12255", timeout=10).content == stored
    with pytest.raises(HfHubHTTPError) as err:
        api.paper_info("0000.0000")
    assert err.value.response.status_code == 404
    assert err.value.response.headers["x-error-code"] == "EntryNotFound"
    assert requests.get(f"{srv.url}/api/papers/..%2F..%2Fmirror.json", timeout=10).status_code == 404
