"""Time travel: everything under /as-of/<T>/ answers with each repo's newest commit dated at or before T."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError


def at(srv, when: str) -> HfApi:
    return HfApi(endpoint=f"{srv.url}/as-of/{when}", token=False)


def test_card_seen_in_each_state(srv, commits: dict) -> None:
    before = at(srv, "2023-05-30").model_info("acme/evolving")
    assert before.sha == commits["c2"] and before.card_data["license"] == "other"
    assert before.last_modified.isoformat() == "2023-05-20T12:00:00+00:00"
    after = at(srv, "2023-06-30").model_info("acme/evolving")
    assert after.sha == commits["c3"] and after.card_data["license"] == "mit"


def test_repo_created_later_is_absent(srv) -> None:
    api = at(srv, "2023-05-30")
    ids = [m.id for m in api.list_models(expand=["sha", "lastModified"])]
    assert "acme/late" not in ids and "acme/evolving" in ids
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("acme/late")
    assert "acme/late" in [m.id for m in at(srv, "2023-07-01").list_models()]
    early = [m.id for m in at(srv, "2022-12-31").list_models()]
    assert early == ["acme/long-history"]  # the only repo with a commit before 2023


def test_listing_fields_are_those_of_the_state(srv, commits: dict) -> None:
    models = {m.id: m for m in at(srv, "2023-05-30").list_models(expand=["sha", "lastModified", "cardData"])}
    evolving = models["acme/evolving"]
    assert evolving.sha == commits["c2"] and evolving.card_data["license"] == "other"
    assert [m.id for m in at(srv, "2023-05-30").list_models(filter="license:mit", author="acme")] == [
        "acme/linked",
        "acme/long-history",
    ]


def test_link_keeps_the_as_of_prefix(srv) -> None:
    r = httpx2.get(f"{srv.url}/as-of/2023-05-30/api/models", params={"sort": "likes"})
    assert r.links["next"]["url"].startswith(f"{srv.url}/as-of/2023-05-30/api/models?sort=likes&cursor=")
    pages = list(at(srv, "2023-05-30").list_models(sort="likes"))
    assert len(pages) == 16  # every model but acme/late
    assert all(r["path"] == "/as-of/2023-05-30/api/models" for r in srv.requests if "models" in r["path"])


def test_commits_and_revisions_as_of(srv, commits: dict, tmp_path: Path) -> None:
    api = at(srv, "2023-05-30")
    assert [c.commit_id for c in api.list_repo_commits("acme/evolving")] == [commits["c2"], commits["c1"]]
    with pytest.raises(RevisionNotFoundError):  # c3 did not exist yet
        api.model_info("acme/evolving", revision=commits["c3"])
    path = hf_hub_download(
        "acme/evolving", "README.md", endpoint=f"{srv.url}/as-of/2023-05-30", cache_dir=tmp_path, token=False
    )
    assert b"TII Falcon LLM License." in Path(path).read_bytes()
    assert f"snapshots/{commits['c2']}/" in path


@pytest.mark.parametrize(
    ("when", "commit"),
    [
        ("2023-06-10", "c3"),  # a bare date is the END of that day (UTC)
        ("2023-06-10T15:29:59Z", "c2"),
        ("2023-06-10T15:30:00Z", "c3"),  # at or before T
        ("2023-06-10T15:30:00", "c3"),  # naive means UTC
        ("2023-06-10T17:29:00%2B02:00", "c2"),  # an offset, percent-encoded
        ("2023-06-10T15:30:00.000Z", "c3"),
    ],
)
def test_as_of_value_forms(srv, commits: dict, when: str, commit: str) -> None:
    r = httpx2.get(f"{srv.url}/as-of/{when}/api/models/acme/evolving", params={"expand": "sha"})
    assert r.status_code == 200 and r.json()["sha"] == commits[commit]


@pytest.mark.parametrize(
    "when", ["yesterday", "2023-13-01", "2023-02-30", "2023", "2023-06-10T25:00:00Z", ""]
)
def test_invalid_as_of_is_400(srv, when: str) -> None:
    assert httpx2.get(f"{srv.url}/as-of/{when}/api/models").status_code == 400


def test_datasets_as_of(srv) -> None:
    old = at(srv, "2023-01-01").dataset_info("acme/corpus")
    assert old.sha == "d1" * 20 and old.card_data["license"] == "cc-by-4.0"
    assert [d.id for d in at(srv, "2022-12-31").list_datasets()] == ["acme/corpus"]
