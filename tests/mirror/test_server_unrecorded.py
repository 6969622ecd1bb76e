"""mirror.json `unrecorded`: a repo kind the recording does not hold answers 404 with X-Mirror-Unrecorded."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from pipelines.mirror.layout import Commit, MirrorWriter, mirror_problem
from pipelines.mirror.server import MirrorServer

DATE = "2024-01-10T10:00:00.000Z"
HELD_PAPER = "1605.08386"  # the one paper both mirrors hold (entry from the bundled sample)
SAMPLE_ARXIV = Path(__file__).resolve().parents[2] / "pipelines" / "mirror" / "sample" / "papers" / "arxiv"


def _mirror(root: Path, unrecorded: list[str] | None) -> Path:
    writer = MirrorWriter(root, title="unrecorded test", sources=["tests"])
    for kind, repo_id, sha in (("models", "acme/model", "a1" * 20), ("datasets", "acme/corpus", "b2" * 20)):
        info = {"id": repo_id, "createdAt": DATE, "siblings": [{"rfilename": "README.md"}]}
        writer.add_revision(kind, repo_id, Commit(sha, DATE), info, files={"README.md": "# card\n"})
    entry = (SAMPLE_ARXIV / f"{HELD_PAPER}.xml").read_text(encoding="utf-8")
    writer.add_paper(HELD_PAPER, entry, hf_json={"id": HELD_PAPER, "title": "held"})
    if unrecorded is not None:
        writer.extra = {"unrecorded": unrecorded}
    writer.finish()
    return root


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    """Two servers over the same repos and paper: one declaring datasets and papers unrecorded, one nothing."""
    base = tmp_path_factory.mktemp("unrecorded")
    with (
        MirrorServer(_mirror(base / "partial", ["datasets", "papers"])) as partial,
        MirrorServer(_mirror(base / "full", None)) as full,
    ):
        yield partial, full


def test_unrecorded_kind_answers_404_with_the_header(servers) -> None:
    partial, _ = servers
    for url in (
        f"{partial.url}/api/datasets/acme/elsewhere",
        f"{partial.url}/api/datasets/c4",  # a legacy id without namespace, as cards name many datasets
        f"{partial.url}/api/datasets/acme/elsewhere/revision/main",
        f"{partial.url}/api/datasets/acme/elsewhere/commits/main",
        f"{partial.url}/datasets/acme/elsewhere/resolve/main/README.md",
    ):
        r = httpx2.get(url)
        assert (r.status_code, r.headers["x-error-code"]) == (404, "RepoNotFound"), url
        assert r.headers["x-mirror-unrecorded"] == "datasets", url
    # huggingface_hub still sees the Hub's error; the header rides on its response.
    with pytest.raises(RepositoryNotFoundError) as err:
        HfApi(endpoint=partial.url, token=False).dataset_info("acme/elsewhere")
    assert err.value.response.headers["x-mirror-unrecorded"] == "datasets"


def test_recorded_repos_and_other_kinds_are_answered_as_before(servers) -> None:
    partial, full = servers
    ok = httpx2.get(f"{partial.url}/api/datasets/acme/corpus")
    assert ok.status_code == 200 and ok.json()["id"] == "acme/corpus"
    assert "x-mirror-unrecorded" not in ok.headers
    model = httpx2.get(f"{partial.url}/api/models/acme/elsewhere")  # models are recorded: a real 404
    assert model.status_code == 404 and "x-mirror-unrecorded" not in model.headers
    early = httpx2.get(f"{partial.url}/as-of/2023-01-01/api/datasets/acme/corpus")  # recorded, not yet made
    assert early.status_code == 404 and "x-mirror-unrecorded" not in early.headers
    for path in ("acme/elsewhere", "c4"):  # nothing declared: a real 404
        absent = httpx2.get(f"{full.url}/api/datasets/{path}")
        assert absent.status_code == 404 and "x-mirror-unrecorded" not in absent.headers
    listing = httpx2.get(f"{partial.url}/api/datasets")
    assert [d["id"] for d in listing.json()] == ["acme/corpus"]
    assert listing.headers["x-mirror-unrecorded"] == "datasets"
    assert "x-mirror-unrecorded" not in httpx2.get(f"{full.url}/api/datasets").headers


def test_unrecorded_papers_are_marked_on_the_arxiv_feed_and_the_paper_page(servers) -> None:
    partial, full = servers
    asked = {"id_list": f"{HELD_PAPER},2401.99999", "max_results": "2"}
    feed = httpx2.get(partial.arxiv_url, params=asked)
    assert feed.status_code == 200 and feed.headers["x-mirror-unrecorded"] == "papers"
    assert f"arxiv.org/abs/{HELD_PAPER}".encode() in feed.content  # what is held is still served
    page = httpx2.get(f"{partial.url}/api/papers/2401.99999")
    assert (page.status_code, page.headers["x-error-code"]) == (404, "EntryNotFound")
    assert page.headers["x-mirror-unrecorded"] == "papers"
    # Every asked id held, or nothing declared: the answer is arXiv's (or the Hub's) own, unmarked.
    for reply in (
        httpx2.get(partial.arxiv_url, params={"id_list": HELD_PAPER}),
        httpx2.get(partial.url + f"/api/papers/{HELD_PAPER}"),
        httpx2.get(full.arxiv_url, params=asked),
        httpx2.get(f"{full.url}/api/papers/2401.99999"),
    ):
        assert reply.status_code in (200, 404) and "x-mirror-unrecorded" not in reply.headers, reply.url
    bad = httpx2.get(partial.arxiv_url, params={"id_list": "2401.99999,nonsense"})  # arXiv's 400: no mark
    assert bad.status_code == 400 and "x-mirror-unrecorded" not in bad.headers


@pytest.mark.parametrize("value", ["datasets", ["spaces"], [1]])
def test_a_bad_unrecorded_value_is_one_line(tmp_path: Path, value: object) -> None:
    root = _mirror(tmp_path / "m", None)
    (root / "mirror.json").write_text(json.dumps({"format": "hub-mirror/1", "unrecorded": value}))
    problem = mirror_problem(root)
    assert problem is not None and "'unrecorded' must be a list of repo kinds" in problem
    assert "\n" not in problem
