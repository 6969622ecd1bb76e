"""Listing through huggingface_hub 2.4.0: pagination by Link header, expand, filters, sort, and the 400s."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError
from huggingface_hub.utils import hf_raise_for_status

EXPAND = ["sha", "lastModified", "createdAt", "cardData", "gated", "tags", "siblings", "likes"]
ALL_MODELS = 17  # 12 zoo + evolving, late, gated, long-history, linked


def listing_calls(srv) -> list[dict]:
    return [r for r in srv.requests if r["path"] == "/api/models"]


def test_list_models_expand_over_pages(srv, api: HfApi) -> None:
    models = list(api.list_models(expand=EXPAND, sort="likes"))
    calls = listing_calls(srv)
    assert len(calls) == -(-ALL_MODELS // 4) >= 3  # page_size=4, no limit sent
    assert all(c["status"] == 200 for c in calls)
    assert [c["query"].get("cursor") is None for c in calls] == [True] + [False] * (len(calls) - 1)
    for call in calls[1:]:  # every page carries every original parameter
        assert call["query"]["expand"] == EXPAND and call["query"]["sort"] == ["likes"]
    ids = [m.id for m in models]
    assert len(ids) == len(set(ids)) == ALL_MODELS
    likes = [m.likes for m in models]
    assert likes == sorted(likes, reverse=True)  # descending by default, ties by id
    for group in {
        lk: [i for i, m in zip(ids, models, strict=True) if m.likes == lk] for lk in likes
    }.values():
        assert group == sorted(group)
    evolving = next(m for m in models if m.id == "acme/evolving")
    assert evolving.sha == "e3" * 20 and evolving.card_data["license"] == "mit"
    assert evolving.last_modified.isoformat() == "2023-06-10T15:30:00+00:00"
    assert evolving.created_at.isoformat() == "2023-05-01T09:00:00+00:00"
    assert [s.rfilename for s in evolving.siblings] == ["README.md", "model.safetensors"]
    assert evolving.gated is False


def test_expanded_items_carry_only_requested_fields(srv) -> None:
    r = httpx2.get(
        f"{srv.url}/api/models", params=[("expand", "sha"), ("expand", "siblings"), ("limit", "2")]
    )
    items = r.json()
    assert r.status_code == 200 and len(items) == 2
    for item in items:
        assert set(item) == {"_id", "id", "sha", "siblings"}
        assert all(set(s) == {"rfilename"} for s in item["siblings"])
        assert len(item["_id"]) == 24
    assert r.headers["content-length"] == str(len(r.content))
    link = r.links["next"]["url"]
    assert link.startswith(srv.url + "/api/models?")
    query = parse_qs(urlsplit(link).query)
    assert query["expand"] == ["sha", "siblings"] and query["limit"] == ["2"] and query["cursor"]


def test_default_and_full_items(srv) -> None:
    item = httpx2.get(f"{srv.url}/api/models", params={"search": "model-03"}).json()[0]
    assert list(item) == [
        "_id",
        "id",
        "likes",
        "trendingScore",
        "private",
        "downloads",
        "tags",
        "pipeline_tag",
        "library_name",
        "createdAt",
        "modelId",
    ]
    assert item["modelId"] == item["id"] == "zoo/model-03"
    full = httpx2.get(f"{srv.url}/api/models", params={"search": "model-03", "full": "true"}).json()[0]
    assert {"author", "gated", "lastModified", "sha", "siblings", "disabled", "private"} <= set(full)
    assert "cardData" not in full
    with_card = httpx2.get(f"{srv.url}/api/models", params={"search": "model-03", "cardData": "true"}).json()[
        0
    ]
    assert with_card["cardData"] == {"license": "cc-by-nc-4.0", "library_name": "transformers"}


def test_last_page_has_no_link_and_ids_are_stable(srv) -> None:
    first = httpx2.get(f"{srv.url}/api/models", params={"limit": "1000"})
    assert "link" not in first.headers and len(first.json()) == ALL_MODELS
    again = httpx2.get(f"{srv.url}/api/models", params={"limit": "1000"})
    assert again.content == first.content


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"search": "EVOLV"}, ["acme/evolving"]),
        ({"author": "acme", "filter": "license:mit"}, ["acme/evolving", "acme/linked", "acme/long-history"]),
        (
            {"filter": ["license:apache-2.0", "text-generation"], "author": "zoo"},
            ["zoo/model-01", "zoo/model-05", "zoo/model-09"],
        ),
        ({"filter": "transformers", "search": "model-1"}, ["zoo/model-10", "zoo/model-11"]),
        ({"gated": True}, ["acme/gated"]),
    ],
)
def test_filters(api: HfApi, kwargs: dict, expected: list[str]) -> None:
    assert sorted(m.id for m in api.list_models(**kwargs)) == expected


@pytest.mark.parametrize("sort", ["last_modified", "created_at", "downloads", "likes", "trending_score"])
def test_sorts_are_total_and_deterministic(api: HfApi, sort: str) -> None:
    first = [m.id for m in api.list_models(sort=sort, expand=["downloads", "createdAt", "lastModified"])]
    assert len(first) == ALL_MODELS
    assert first == [m.id for m in api.list_models(sort=sort, expand=["downloads"])]


def test_sort_values_and_direction(srv) -> None:
    def ids(**params: str) -> list[str]:
        return [
            i["id"] for i in httpx2.get(f"{srv.url}/api/models", params={"limit": "1000", **params}).json()
        ]

    newest = ids(sort="lastModified")
    assert newest[:2] == ["acme/late", "acme/evolving"]
    assert ids(sort="lastModified", direction="1") == newest[::-1]
    downloads = ids(sort="downloads")
    assert downloads.index("zoo/model-00") < downloads.index("zoo/model-11")


def test_limit_is_page_size_and_client_stops(srv, api: HfApi) -> None:
    assert len(list(api.list_models(limit=3))) == 3
    calls = listing_calls(srv)
    assert len(calls) == 1 and calls[0]["query"]["limit"] == ["3"]


@pytest.mark.parametrize(
    "query",
    [
        "expand=sha&full=true",
        "expand=sha&cardData=true",
        "expand=sha&config=true",
        "expand=nope",
        "sort=bogus",
        "limit=abc",
        "limit=0",
        "cursor=not-a-cursor",
    ],
)
def test_bad_listing_requests_are_400(srv, query: str) -> None:
    r = httpx2.get(f"{srv.url}/api/models?{query}")
    assert r.status_code == 400 and "error" in r.json()


def test_tampered_cursor_is_400(srv) -> None:
    link = httpx2.get(f"{srv.url}/api/models").links["next"]["url"]
    cursor = parse_qs(urlsplit(link).query)["cursor"][0]
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw["k"] = raw["k"].replace("zoo", "aaa").replace("acme", "aaaa")
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
    assert httpx2.get(f"{srv.url}/api/models", params={"cursor": forged}).status_code == 400
    assert httpx2.get(link).status_code == 200
    other_sort = link.replace("/api/models?", "/api/models?sort=downloads&")  # a cursor made for another sort
    assert httpx2.get(other_sort).status_code == 400
    with pytest.raises(BadRequestError):  # what huggingface_hub makes of the 400
        hf_raise_for_status(httpx2.get(f"{srv.url}/api/models", params={"cursor": "Zm9v"}))


def test_list_datasets(srv, api: HfApi) -> None:
    datasets = list(api.list_datasets(expand=["sha", "cardData", "lastModified"]))
    assert [d.id for d in datasets] == ["acme/corpus", "acme/gated-data"]
    corpus = datasets[0]
    assert corpus.sha == "d2" * 20 and corpus.card_data["license"] == "odc-by"
    default = httpx2.get(f"{srv.url}/api/datasets").json()[0]
    assert {"_id", "id", "author", "sha", "lastModified", "tags", "downloads", "likes", "createdAt"} <= set(
        default
    )
    assert [d.id for d in api.list_datasets(filter="license:odc-by")] == ["acme/corpus"]
