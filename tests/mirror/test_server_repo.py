"""One repo through huggingface_hub 2.4.0: info at a revision, commit history, downloads, cards, errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

REV = Path("models/acme/evolving/revisions")


def test_model_info_latest_and_at_revisions(api: HfApi, commits: dict) -> None:
    latest = api.model_info("acme/evolving")
    assert latest.sha == commits["c3"] and latest.card_data["license"] == "mit"
    assert latest.last_modified.isoformat() == "2023-06-10T15:30:00+00:00"
    old = api.model_info("acme/evolving", revision=commits["c1"])
    assert old.sha == commits["c1"] and old.card_data["license"] == "other" and "license:other" in old.tags
    # A commit without its own folder is answered with the nearest older revision, under its own sha/date.
    middle = api.model_info("acme/evolving", revision=commits["c2"])
    assert middle.sha == commits["c2"] and middle.card_data["license"] == "other"
    assert middle.last_modified.isoformat() == "2023-05-20T12:00:00+00:00"
    assert api.model_info("acme/evolving", revision=commits["c1"][:10]).sha == commits["c1"]


def test_model_info_expand_and_flags(srv, api: HfApi, commits: dict) -> None:
    info = api.model_info("acme/evolving", revision=commits["c1"], expand=["cardData", "gated", "sha"])
    assert info.sha == commits["c1"] and info.card_data["license"] == "other" and info.gated is False
    body = httpx2.get(
        f"{srv.url}/api/models/acme/evolving", params=[("expand", "sha"), ("expand", "siblings")]
    ).json()
    assert set(body) == {"_id", "id", "sha", "siblings"}
    blobs = api.model_info("acme/evolving", files_metadata=True, securityStatus=True)
    readme = next(s for s in blobs.siblings if s.rfilename == "README.md")
    data = (srv.store.root / REV / commits["c3"] / "README.md").read_bytes()
    assert (
        readme.size == len(data)
        and readme.blob_id == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    )
    assert httpx2.get(f"{srv.url}/api/models/acme/evolving?expand=sha&blobs=true").status_code == 400


def test_info_json_served_as_written_apart_from_sha_and_date(srv, commits: dict) -> None:
    stored = json.loads((srv.store.root / REV / commits["c3"] / "info.json").read_text())
    served = httpx2.get(f"{srv.url}/api/models/acme/evolving/revision/main").json()
    for key, value in stored.items():
        assert served[key] == value, key
    assert served["lastModified"] == "2023-06-10T15:30:00.000Z"


def test_list_repo_commits_across_pages(srv, api: HfApi, commits: dict) -> None:
    history = api.list_repo_commits("acme/long-history")
    assert len(history) == 120
    assert [c.title for c in history[:2]] == ["step 119", "step 118"]
    assert history[0].commit_id == f"{119:040x}" and history[-1].commit_id == "0" * 40
    dates = [c.created_at for c in history]
    assert dates == sorted(dates, reverse=True)
    pages = [r for r in srv.requests if "/commits/" in r["path"]]
    assert [r["query"].get("p") for r in pages] == [None, ["1"], ["2"]]
    short = api.list_repo_commits("acme/evolving", revision=commits["c2"])
    assert [c.commit_id for c in short] == [commits["c2"], commits["c1"]]
    assert short[1].authors == ["alice"] and short[1].message == "first"


def test_commits_limit_param_and_link(srv) -> None:
    r = httpx2.get(f"{srv.url}/api/models/acme/long-history/commits/main", params={"limit": "7"})
    assert len(r.json()) == 7
    assert r.links["next"]["url"] == f"{srv.url}/api/models/acme/long-history/commits/main?limit=7&p=1"


def test_hf_hub_download_readme(srv, tmp_path: Path, commits: dict) -> None:
    path = hf_hub_download("acme/evolving", "README.md", endpoint=srv.url, cache_dir=tmp_path, token=False)
    assert Path(path).read_bytes() == (srv.store.root / REV / commits["c3"] / "README.md").read_bytes()
    assert f"snapshots/{commits['c3']}/README.md" in path
    # No folder for c2: the nearest older README, cached under c2 itself.
    path2 = hf_hub_download(
        "acme/evolving",
        "README.md",
        revision=commits["c2"],
        endpoint=srv.url,
        cache_dir=tmp_path,
        token=False,
    )
    assert Path(path2).read_bytes() == (srv.store.root / REV / commits["c1"] / "README.md").read_bytes()
    assert f"snapshots/{commits['c2']}/README.md" in path2
    methods = [(r["method"], r["bucket"]) for r in srv.requests]
    assert ("HEAD", "resolvers") in methods and ("GET", "resolvers") in methods


def test_resolve_headers(srv, commits: dict) -> None:
    data = (srv.store.root / REV / commits["c3"] / "config.json").read_bytes()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    for method in ("HEAD", "GET"):
        r = httpx2.request(method, f"{srv.url}/acme/evolving/resolve/main/config.json")
        assert r.status_code == 200 and r.headers["x-repo-commit"] == commits["c3"]
        assert r.headers["etag"] == f'"{blob}"'
        assert (
            r.headers["content-length"] == str(len(data)) and r.headers["content-type"] == "application/json"
        )
        assert not any(h.lower().startswith("x-xet") for h in r.headers)
    ranged = httpx2.get(f"{srv.url}/acme/evolving/resolve/main/config.json", headers={"Range": "bytes=2-"})
    assert ranged.status_code == 206 and ranged.content == data[2:]


def test_model_card_load_in_subprocess(srv, tmp_path: Path) -> None:
    script = "from huggingface_hub import ModelCard; print(ModelCard.load('acme/evolving').data.license)"
    for endpoint, expected in ((srv.url, "mit"), (srv.url + "/as-of/2023-05-30", "other")):
        env = {
            **os.environ,
            "HF_ENDPOINT": endpoint,
            "HF_HOME": str(tmp_path / "home"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        }
        env.pop("HF_TOKEN", None)
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == expected


def test_errors_map_to_hub_exceptions(srv, api: HfApi, tmp_path: Path, commits: dict) -> None:
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("acme/missing")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("acme/evolving", revision="f" * 40)
    with pytest.raises(RevisionNotFoundError):
        api.model_info("acme/evolving", revision="refs/pr/1")
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download("acme/evolving", "nope.txt", endpoint=srv.url, cache_dir=tmp_path, token=False)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("acme/missing", "README.md", endpoint=srv.url, cache_dir=tmp_path, token=False)
    r = httpx2.get(f"{srv.url}/api/models/acme/missing")
    assert (r.status_code, r.headers["x-error-code"], r.json()) == (
        404,
        "RepoNotFound",
        {"error": "Repository not found"},
    )
    assert r.headers["x-error-message"] == "Repository not found"
    missing = httpx2.head(f"{srv.url}/acme/evolving/resolve/main/nope.txt")
    assert (
        missing.headers["x-error-code"] == "EntryNotFound"
        and missing.headers["x-repo-commit"] == commits["c3"]
    )


def test_gated_readme_needs_a_token(srv, api: HfApi, tmp_path: Path) -> None:
    with pytest.raises(GatedRepoError) as err:
        hf_hub_download("acme/gated", "README.md", endpoint=srv.url, cache_dir=tmp_path, token=False)
    assert err.value.response.status_code == 401
    assert "Access to model acme/gated is restricted" in str(err.value)
    path = hf_hub_download(
        "acme/gated", "README.md", endpoint=srv.url, cache_dir=tmp_path / "t", token="hf_fake"
    )
    assert b"Gated." in Path(path).read_bytes()
    info = api.model_info("acme/gated")  # metadata stays readable anonymously
    assert info.gated == "manual" and info.card_data["license"] == "llama2"
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            "acme/gated-data",
            "README.md",
            repo_type="dataset",
            endpoint=srv.url,
            cache_dir=tmp_path,
            token=False,
        )


def test_datasets_endpoints(srv, api: HfApi, tmp_path: Path) -> None:
    latest = api.dataset_info("acme/corpus")
    assert latest.sha == "d2" * 20 and latest.card_data["license"] == "odc-by"
    old = api.dataset_info("acme/corpus", revision="d1" * 20)
    assert old.card_data["license"] == "cc-by-4.0" and old.description == "A corpus."
    history = api.list_repo_commits("acme/corpus", repo_type="dataset")
    assert [c.commit_id for c in history] == ["d2" * 20, "d1" * 20]
    path = hf_hub_download(
        "acme/corpus",
        "data.csv",
        repo_type="dataset",
        revision="d1" * 20,
        endpoint=srv.url,
        cache_dir=tmp_path,
        token=False,
    )
    assert Path(path).read_bytes() == b"a,b\n1,2\n"
    with pytest.raises(RemoteEntryNotFoundError):  # data.csv was not in the newest revision's folder
        hf_hub_download(
            "acme/corpus", "data.csv", repo_type="dataset", endpoint=srv.url, cache_dir=tmp_path, token=False
        )
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("acme/evolving")  # a model, not a dataset
