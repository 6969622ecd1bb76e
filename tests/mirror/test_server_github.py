"""The mirror's GitHub endpoints over real HTTP, through PyGithub and plain requests: repos, commits (path,
since/until, pagination), git trees, contents, license, and time travel under /as-of/<T>/api/v3."""

from __future__ import annotations

import base64

import pytest
import requests
from github import GithubException, UnknownObjectException

from tests.mirror.conftest import APACHE, MIT, github_client


def test_repo_body_names_this_server(gh, tool) -> None:
    g = github_client(gh)
    repo = g.get_repo("acme/tool")
    assert repo.full_name == "acme/tool" and repo.default_branch == "main" and not repo.fork
    assert repo.license.spdx_id == "MIT" and repo.license.key == "mit"
    assert repo.url == f"{gh.github_url}/repos/acme/tool"  # api.github.com URLs name the mirror
    assert repo.html_url == "https://github.com/acme/tool"
    assert repo.created_at.isoformat() == "2023-01-10T08:00:00+00:00"
    assert g.get_repo("ACME/Tool").full_name == "acme/tool"  # names are case-insensitive, as on GitHub
    with pytest.raises(UnknownObjectException):
        g.get_repo("acme/nope")


def test_commits_path_since_until_and_sha(gh, tool) -> None:
    repo = github_client(gh).get_repo("acme/tool")
    shas = lambda commits: [c.sha for c in commits]  # noqa: E731
    assert shas(repo.get_commits()) == [tool["t4"], tool["t3"], tool["t2"], tool["t1"]]
    assert shas(repo.get_commits(sha=tool["t3"])) == [tool["t3"], tool["t2"], tool["t1"]]
    assert shas(repo.get_commits(sha=tool["t3"][:10])) == [tool["t3"], tool["t2"], tool["t1"]]
    assert shas(repo.get_commits(sha="main")) == shas(repo.get_commits())
    # `path` keeps the commits whose tree changed that path (file or folder), against the first parent.
    assert shas(repo.get_commits(path="LICENSE")) == [tool["t3"], tool["t1"]]
    assert shas(repo.get_commits(path="src/train.py")) == [tool["t1"]]
    assert shas(repo.get_commits(path="src")) == [tool["t3"], tool["t1"]]
    assert shas(repo.get_commits(path="nothing/here")) == []
    from datetime import UTC, datetime

    since, until = datetime(2023, 1, 15, tzinfo=UTC), datetime(2023, 3, 15, tzinfo=UTC)
    assert shas(repo.get_commits(since=since, until=until)) == [tool["t3"], tool["t2"]]
    one = repo.get_commit(tool["t2"])
    assert one.commit.message == "Tweak the training loop" and one.parents[0].sha == tool["t1"]
    r = requests.get(f"{gh.github_url}/repos/acme/tool/commits", params={"sha": "f" * 40})
    assert r.status_code == 404 and r.json()["message"].startswith("No commit found")
    r = requests.get(f"{gh.github_url}/repos/acme/tool/commits", params={"per_page": "x"})
    assert r.status_code == 422


def test_commits_paginate_with_githubs_link_header(gh) -> None:
    url = f"{gh.github_url}/repos/acme/long/commits"
    r = requests.get(url, params={"per_page": 30})
    assert r.status_code == 200 and len(r.json()) == 30
    assert set(r.links) == {"next", "last"}
    assert r.links["next"]["url"] == f"{url}?per_page=30&page=2"
    assert r.links["last"]["url"] == f"{url}?per_page=30&page=3"
    page2 = requests.get(r.links["next"]["url"])
    assert set(page2.links) == {"prev", "next", "last", "first"}
    last = requests.get(r.links["last"]["url"])
    assert len(last.json()) == 15 and set(last.links) == {"prev", "first"}
    seen = [c["sha"] for p in (r, page2, last) for c in p.json()]
    assert len(seen) == len(set(seen)) == 75
    assert requests.get(url, params={"per_page": 500}).json().__len__() == 75  # capped at 100
    assert requests.get(url).json().__len__() == 30  # GitHub's default page size
    commits = github_client(gh, per_page=7).get_repo("acme/long").get_commits()
    assert commits.totalCount == 75 and [c.sha for c in commits] == seen
    one_page = requests.get(f"{gh.github_url}/repos/acme/tool/commits")
    assert "Link" not in one_page.headers  # all results fit on one page: no Link


def test_git_trees_by_branch_commit_tree_and_subtree(gh, tool) -> None:
    repo = github_client(gh).get_repo("acme/tool")
    full = repo.get_git_tree("main", recursive=True)
    paths = {e.path: e for e in full.tree}
    assert set(paths) == {
        "LICENSE",
        "README.md",
        "data",
        "data/weights.bin",
        "src",
        "src/eval.py",
        "src/train.py",
    }
    assert paths["data/weights.bin"].size == 5_000_000 and paths["src"].type == "tree"
    top = repo.get_git_tree("main")
    assert {e.path for e in top.tree} == {"LICENSE", "README.md", "data", "src"}
    head = repo.get_commit(tool["t4"])
    by_tree_sha = repo.get_git_tree(head.commit.tree.sha, recursive=True)
    assert by_tree_sha.sha == full.sha  # t4 has no folder: it is answered with t3's tree
    sub = repo.get_git_tree(paths["src"].sha)
    assert {e.path for e in sub.tree} == {"eval.py", "train.py"}
    old = repo.get_git_tree(tool["t2"], recursive=True)
    assert {e.path for e in old.tree} == {"LICENSE", "README.md", "src", "src/train.py"}
    with pytest.raises(UnknownObjectException):
        repo.get_git_tree("0" * 40)
    with pytest.raises(UnknownObjectException):
        repo.get_git_tree("some-other-branch")


def test_contents_json_raw_and_folders(gh, tool) -> None:
    repo = github_client(gh).get_repo("acme/tool")
    licence = repo.get_contents("LICENSE")
    assert licence.decoded_content == MIT.encode() and licence.encoding == "base64" and licence.type == "file"
    tree_sha = {e.path: e.sha for e in repo.get_git_tree("main", recursive=True).tree}
    assert licence.sha == tree_sha["LICENSE"] and licence.size == len(MIT)
    assert repo.get_contents("LICENSE", ref=tool["t1"]).decoded_content == APACHE.encode()
    assert repo.get_contents("LICENSE", ref=tool["t2"]).decoded_content == APACHE.encode()
    assert repo.get_contents("src/train.py").decoded_content.startswith(b"import torch")
    listing = repo.get_contents("")
    assert {(c.name, c.type) for c in listing} == {
        ("LICENSE", "file"),
        ("README.md", "file"),
        ("data", "dir"),
        ("src", "dir"),
    }
    assert {c.path for c in repo.get_contents("src")} == {"src/eval.py", "src/train.py"}
    raw = requests.get(
        f"{gh.github_url}/repos/acme/tool/contents/LICENSE",
        params={"ref": tool["t1"]},
        headers={"Accept": "application/vnd.github.raw+json"},
    )
    assert raw.status_code == 200 and raw.content == APACHE.encode()
    assert raw.headers["Content-Length"] == str(len(APACHE))
    body = requests.get(f"{gh.github_url}/repos/acme/tool/contents/README.md").json()
    assert base64.b64decode(body["content"]) == b"# Tool v2\n"
    assert body["download_url"] == "https://raw.githubusercontent.com/acme/tool/main/README.md"
    with pytest.raises(UnknownObjectException):
        repo.get_contents("data/weights.bin")  # in the tree, but the mirror does not hold its bytes
    with pytest.raises(UnknownObjectException):
        repo.get_contents("missing.txt")
    escape = requests.get(f"{gh.github_url}/repos/acme/tool/contents/src/%2E%2E/%2E%2E/commits.json")
    assert escape.status_code == 404 and b"sha" not in escape.content


def test_license_endpoint_follows_the_ref_and_as_of(gh, tool) -> None:
    g = github_client(gh)
    licence = g.get_repo("acme/tool").get_license()
    assert licence.path == "LICENSE" and licence.license.spdx_id == "MIT"
    assert licence.decoded_content == MIT.encode()
    r = requests.get(f"{gh.github_url}/repos/acme/tool/license", params={"ref": tool["t1"]})
    assert r.status_code == 200 and r.json()["license"]["key"] == "apache-2.0"
    assert base64.b64decode(r.json()["content"]) == APACHE.encode()
    past = requests.get(f"{gh.url}/as-of/2023-02-15/api/v3/repos/acme/tool/license")
    assert past.json()["license"]["spdx_id"] == "Apache-2.0"
    none = requests.get(f"{gh.github_url}/repos/acme/long/license")
    assert none.status_code == 404 and none.json()["message"] == "Not Found"


def test_as_of_replays_the_repo_at_that_time(gh, tool) -> None:
    base = f"{gh.url}/as-of/2023-02-15/api/v3"
    g = github_client(gh, base=base)
    repo = g.get_repo("acme/tool")
    assert repo.license.key == "apache-2.0" and repo.pushed_at.isoformat() == "2023-01-10T08:00:00+00:00"
    assert repo.url == f"{base}/repos/acme/tool"  # later calls stay in the past
    assert [c.sha for c in repo.get_commits()] == [tool["t2"], tool["t1"]]
    assert repo.get_contents("README.md").decoded_content == b"# Tool v1\n"
    assert {e.path for e in repo.get_git_tree("main", recursive=True).tree} == {
        "LICENSE",
        "README.md",
        "src",
        "src/train.py",
    }
    with pytest.raises(GithubException, match="No commit found for the ref") as err:
        repo.get_contents("README.md", ref=tool["t3"])  # a commit of the future does not exist yet
    assert err.value.status == 404
    with pytest.raises(UnknownObjectException):
        github_client(gh, base=f"{gh.url}/as-of/2023-01-01/api/v3").get_repo("acme/tool")
    midday = requests.get(f"{gh.url}/as-of/2023-03-01T07:59:59Z/api/v3/repos/acme/tool/commits")
    assert [c["sha"] for c in midday.json()] == [tool["t2"], tool["t1"]]
    assert requests.get(f"{gh.url}/as-of/not-a-date/api/v3/repos/acme/tool").status_code == 400


def test_unknown_routes_methods_and_names(gh) -> None:
    for path in ("/repos/acme", "/repos/acme/tool/pulls", "/users/acme", "/repos/acme/..%2Ftool"):
        r = requests.get(gh.github_url + path)
        assert r.status_code == 404 and r.json()["message"] == "Not Found", path
        assert r.json()["documentation_url"].startswith("https://docs.github.com/")
    post = requests.post(f"{gh.github_url}/repos/acme/tool/commits", json={})
    assert post.status_code == 404
    head = requests.head(f"{gh.github_url}/repos/acme/tool")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0
    with pytest.raises(GithubException) as err:
        github_client(gh).get_repo("acme/tool").get_commits(path="x", sha="nope-branch")[0]
    assert err.value.status == 404


def test_default_branch_and_its_head(gh, tool) -> None:
    repo = github_client(gh).get_repo("acme/tool")
    branch = repo.get_branch("main")
    assert branch.name == "main" and branch.commit.sha == tool["t4"]
    past = github_client(gh, base=f"{gh.url}/as-of/2023-02-15/api/v3").get_repo("acme/tool")
    assert past.get_branch("main").commit.sha == tool["t2"]
    with pytest.raises(GithubException) as err:
        repo.get_branch("dev")
    assert err.value.status == 404 and err.value.data["message"] == "Branch not found"
