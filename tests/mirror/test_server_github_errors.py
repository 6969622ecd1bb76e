"""GitHub's errors on the mirror: 301 for a moved repo (followed by PyGithub and requests), 404 and 451 for
a gone repo from gone.json's time on, 409 for an empty repo; and the sample corpus's real code repos."""

from __future__ import annotations

import pytest
import requests
from github import GithubException, UnknownObjectException

from pipelines.mirror.server import MirrorServer
from tests.mirror.conftest import github_client
from tests.mirror.test_sample_corpus import SAMPLE


def test_moved_repo_answers_301_and_clients_follow_it(gh, tool) -> None:
    r = requests.get(f"{gh.github_url}/repos/acme/old-name", allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"] == f"{gh.github_url}/repos/acme/tool"
    assert r.json()["message"] == "Moved Permanently" and r.json()["url"] == r.headers["Location"]
    assert "X-RateLimit-Remaining" in r.headers
    sub = requests.get(f"{gh.github_url}/repos/acme/old-name/contents/LICENSE", allow_redirects=False)
    assert (
        sub.status_code == 301
        and sub.headers["Location"] == f"{gh.github_url}/repos/acme/tool/contents/LICENSE"
    )
    followed = requests.get(f"{gh.github_url}/repos/acme/old-name/commits")
    assert followed.status_code == 200 and followed.history[0].status_code == 301
    assert followed.json()[0]["sha"] == tool["t4"]
    g = github_client(gh)
    repo = g.get_repo("acme/old-name")  # PyGithub follows a 301 on its own base URL
    assert repo.full_name == "acme/tool" and repo.license.key == "mit"
    past = requests.get(f"{gh.url}/as-of/2023-05-01/api/v3/repos/acme/old-name", allow_redirects=False)
    assert past.status_code == 200 and past.json()["full_name"] == "acme/tool"  # before the move
    moved_as_of = requests.get(f"{gh.url}/as-of/2023-07-01/api/v3/repos/acme/old-name", allow_redirects=False)
    assert moved_as_of.headers["Location"] == f"{gh.url}/as-of/2023-07-01/api/v3/repos/acme/tool"


def test_gone_repos_answer_404_and_451_from_their_time_on(gh) -> None:
    g = github_client(gh)
    with pytest.raises(UnknownObjectException):
        g.get_repo("acme/deleted")
    with pytest.raises(GithubException) as err:
        g.get_repo("acme/blocked")
    assert err.value.status == 451
    blocked = requests.get(f"{gh.github_url}/repos/acme/blocked/license")
    assert blocked.status_code == 451
    body = blocked.json()
    assert body["message"] == "Repository access blocked" and body["status"] == "451"
    assert body["block"]["reason"] == "dmca" and body["block"]["created_at"] == "2023-06-01T00:00:00Z"
    deleted = requests.get(f"{gh.github_url}/repos/acme/deleted/commits")
    assert deleted.status_code == 404 and deleted.json()["message"] == "Not Found"
    before = github_client(gh, base=f"{gh.url}/as-of/2023-05-31/api/v3")
    for name in ("acme/deleted", "acme/blocked"):  # the history before is kept
        repo = before.get_repo(name)
        assert repo.get_license().license.key == "mit" and repo.get_commits().totalCount == 1


def test_empty_repo_answers_409(gh) -> None:
    g = github_client(gh)
    repo = g.get_repo("acme/empty")
    assert repo.full_name == "acme/empty"
    with pytest.raises(GithubException) as err:
        list(repo.get_commits())
    assert err.value.status == 409 and err.value.data["message"] == "Git Repository is empty."
    tree = requests.get(f"{gh.github_url}/repos/acme/empty/git/trees/main")
    assert tree.status_code == 409 and tree.json()["documentation_url"].endswith("#get-a-tree")
    contents = requests.get(f"{gh.github_url}/repos/acme/empty/contents/README.md")
    assert contents.status_code == 404 and contents.json()["message"] == "This repository is empty."


@pytest.fixture(scope="module")
def sample_server():
    with MirrorServer(SAMPLE) as server:
        yield server


def test_sample_code_repos_are_served_with_their_licence_histories(sample_server) -> None:
    g = github_client(sample_server)
    qwen = g.get_repo("QwenLM/Qwen")
    assert qwen.license.key == "apache-2.0" and qwen.default_branch == "main"
    licence_commits = [c.sha for c in qwen.get_commits(path="LICENSE")]
    assert licence_commits[0].startswith("e8e15962")  # Tongyi Qianwen licence -> Apache-2.0 (2023-11-30)
    then = github_client(sample_server, base=f"{sample_server.url}/as-of/2023-09-01/api/v3").get_repo(
        "QwenLM/Qwen"
    )
    assert then.license.key == "other"
    assert b"Tongyi Qianwen" in then.get_contents("LICENSE").decoded_content
    llama = g.get_repo("meta-llama/llama")
    first = github_client(sample_server, base=f"{sample_server.url}/as-of/2023-03-01/api/v3")
    assert first.get_repo("meta-llama/llama").get_license().license.key == "gpl-3.0"
    assert llama.license.key == "other"
    names = ["openai/human-eval", "allenai/open-instruct", "FlagAI-Open/Aquila2", "tatsu-lab/stanford_alpaca"]
    for name in names:
        repo = g.get_repo(name)
        tree = repo.get_git_tree(repo.default_branch, recursive=True)
        assert tree.tree and not tree.raw_data["truncated"], name
    assert g.get_repo("FlagAI-Open/Aquila2").license is None
    with pytest.raises(UnknownObjectException):
        g.get_repo("FlagAI-Open/Aquila2").get_license()


def test_symlinks_out_of_the_mirror_are_never_followed(tmp_path) -> None:
    from pipelines.mirror.github_layout import CodeRevision, repo_body, write_code_repo
    from pipelines.mirror.layout import MirrorWriter

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = b"TOP-SECRET outside the mirror"
    (outside / "secret.txt").write_bytes(secret)
    (outside / "tree.json").write_text('{"sha": "x", "tree": [{"path": "SECRET", "type": "blob"}]}')
    root = tmp_path / "root"
    MirrorWriter(root, "t").finish()
    sha = "c0" * 20
    folder = write_code_repo(
        root,
        "acme/linked",
        repo_body("acme/linked", "2023-01-01T00:00:00Z", "2023-01-01T00:00:00Z", "mit"),
        [
            CodeRevision(
                sha, "2023-01-01T00:00:00Z", "Initial", files={"LICENSE": "MIT\n", "README.md": "hi\n"}
            )
        ],
    )
    rev = folder / "revisions" / sha
    (rev / "files" / "LICENSE").unlink()
    (rev / "files" / "LICENSE").symlink_to(outside / "secret.txt")
    (rev / "files" / "README.md").unlink()
    (rev / "files" / "README.md").symlink_to(rev / "tree.json")  # inside the mirror, outside files/
    with MirrorServer(root) as server:
        base = f"{server.github_url}/repos/acme/linked"
        for path in ("/contents/LICENSE", "/license", "/contents/README.md"):
            r = requests.get(base + path, headers={"Accept": "application/vnd.github.raw+json"})
            assert r.status_code == 404 and secret not in r.content, path
        (rev / "tree.json").unlink()
        (rev / "tree.json").symlink_to(outside / "tree.json")
    with MirrorServer(root) as server:
        r = requests.get(f"{server.github_url}/repos/acme/linked/git/trees/main")
        assert r.status_code == 404 and b"SECRET" not in r.content
