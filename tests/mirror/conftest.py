"""A small hub-mirror/1 folder built with MirrorWriter, and one live MirrorServer over it for the session.

Contents (dates UTC):
- 12 plain models `zoo/model-00..11` (one commit each, varied likes/downloads/licences/dates);
- `acme/evolving`: licence `other` (2023-05-01), a commit without a folder (2023-05-20), licence `mit`
  (2023-06-10), so as of 2023-05-30 the card still says `other`;
- `acme/late` (first commit 2023-07-01), `acme/gated` (gated: manual), `acme/long-history` (120 commits,
  a folder every 40), `acme/linked` (a README that is a symlink pointing outside the mirror);
- datasets `acme/corpus` (2 commits) and `acme/gated-data`; arXiv entries and one Hub paper page.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# huggingface_hub reads its settings at import time: set them before anything imports it. No developer
# token may reach the mirror (tests pass token=False anyway), and nothing is sent anywhere else.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)

import pytest  # noqa: E402

from pipelines.mirror.layout import Commit, MirrorWriter  # noqa: E402
from pipelines.mirror.server import MirrorServer  # noqa: E402

SECRET = b"TOP-SECRET-BYTES-outside-the-mirror"
EVOLVING = {"c1": "e1" * 20, "c2": "e2" * 20, "c3": "e3" * 20}
LATE = "1a" * 20
# Real arXiv entries (current format), verbatim from reference/arxiv/current_2026_json.
ENTRY_2104 = """<entry>
    <id>http://arxiv.org/abs/2104.12255v1</id>
    <title>0</title>
    <updated>2021-04-20T16:07:14Z</updated>
    <link href="https://arxiv.org/abs/2104.12255v1" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/2104.12255v1" rel="related" type="application/pdf" title="pdf"/>
    <summary>What is the funniest number in cryptography? 0. The reason is that for all x, x*0 = 0, i.e., the equation is always satisfied no matter what x is.</summary>
    <category term="cs.CR" scheme="http://arxiv.org/schemas/atom"/>
    <published>2021-04-20T16:07:14Z</published>
    <arxiv:primary_category term="cs.CR"/>
    <author>
      <name>Quan Thoi Minh Nguyen</name>
    </author>
  </entry>"""
ENTRY_QUANT = """<entry>
    <id>http://arxiv.org/abs/quant-ph/0201082v1</id>
    <title>Quantum Computers and Quantum Computer Languages: Quantum Assembly Language and Quantum C Language</title>
    <updated>2002-01-18T15:08:05Z</updated>
    <link href="https://arxiv.org/abs/quant-ph/0201082v1" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/quant-ph/0201082v1" rel="related" type="application/pdf" title="pdf"/>
    <summary>  We show a representation of Quantum Computers defines Quantum Turing Machines with associated Quantum Grammars.</summary>
    <category term="quant-ph" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.PL" scheme="http://arxiv.org/schemas/atom"/>
    <published>2002-01-18T15:08:05Z</published>
    <arxiv:comment>32 pages</arxiv:comment>
    <arxiv:primary_category term="quant-ph"/>
    <author>
      <name>Stephen Blaha</name>
    </author>
  </entry>"""
PAPER_2104 = {
    "id": "2104.12255",
    "title": "0",
    "summary": "What is the funniest number in cryptography?",
    "authors": [{"name": "Quan Thoi Minh Nguyen", "hidden": False}],
    "publishedAt": "2021-04-20T16:07:14.000Z",
    "upvotes": 3,
    "discussionId": "6071e7cd2e3f1c0b0c7a1d10",
}


def card(license_id: str, body: str = "A model.") -> str:
    """A README with YAML front matter."""
    return f"---\nlicense: {license_id}\nlibrary_name: transformers\n---\n\n# Model\n\n{body}\n"


def model_info(repo_id: str, license_id: str, created: str, **extra: object) -> dict:
    """An info.json body the way the Hub writes it."""
    return {
        "id": repo_id,
        "author": repo_id.split("/")[0],
        "createdAt": created,
        "private": False,
        "disabled": False,
        "gated": False,
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
        "tags": ["transformers", "text-generation", f"license:{license_id}", "region:us"],
        "cardData": {"license": license_id, "library_name": "transformers"},
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
        **extra,
    }


def build_mirror(root: Path, outside: Path) -> None:
    """Write the test mirror (see the module docstring)."""
    w = MirrorWriter(root, "test mirror", "tests/mirror/conftest.py")
    licences = ["mit", "apache-2.0", "llama2", "cc-by-nc-4.0"]
    for i in range(12):
        repo_id = f"zoo/model-{i:02d}"
        date = f"2023-0{1 + i % 4}-{10 + i:02d}T08:00:00.000Z"
        info = model_info(repo_id, licences[i % 4], date, likes=(i * 7) % 5, downloads=1000 - i * 10)
        w.add_revision(
            "models",
            repo_id,
            Commit(f"{i:02x}" * 20, date, "initial commit", authors=["zoo"]),
            info,
            {"README.md": card(licences[i % 4], f"Model {i}.")},
        )
    ev = "acme/evolving"
    created = "2023-05-01T09:00:00.000Z"
    w.add_revision(
        "models",
        ev,
        Commit(EVOLVING["c1"], created, "Upload model", "first", ["alice"]),
        model_info(ev, "other", created, likes=50, downloads=5, cardData={"license": "other"}),
        {"README.md": card("other", "TII Falcon LLM License."), "LICENSE": "Custom licence\n"},
    )
    w.add_revision("models", ev, Commit(EVOLVING["c2"], "2023-05-20T12:00:00.000Z", "Update config.json"))
    w.add_revision(
        "models",
        ev,
        Commit(EVOLVING["c3"], "2023-06-10T15:30:00.000Z", "Relicense to MIT", authors=["bob"]),
        model_info(ev, "mit", created, likes=60, downloads=7, cardData={"license": "mit"}),
        {"README.md": card("mit", "Now under the MIT licence."), "config.json": '{"a": 1}\n'},
    )
    w.add_revision(
        "models",
        "acme/late",
        Commit(LATE, "2023-07-01T00:00:00.000Z", "Initial"),
        model_info("acme/late", "apache-2.0", "2023-07-01T00:00:00.000Z"),
        {"README.md": card("apache-2.0")},
    )
    w.add_revision(
        "models",
        "acme/gated",
        Commit("6a" * 20, "2023-03-01T00:00:00.000Z", "Initial"),
        model_info("acme/gated", "llama2", "2023-03-01T00:00:00.000Z", gated="manual"),
        {"README.md": card("llama2", "Gated.")},
    )
    for n in range(120):
        date = f"2022-{1 + n // 28:02d}-{1 + n % 28:02d}T00:00:00.000Z"
        info = model_info("acme/long-history", "mit", "2022-01-01T00:00:00.000Z") if n % 40 == 0 else None
        w.add_revision(
            "models",
            "acme/long-history",
            Commit(f"{n:040x}", date, f"step {n}"),
            info,
            {"README.md": card("mit", f"Step {n}.")} if info else None,
        )
    w.add_revision(
        "models",
        "acme/linked",
        Commit("7b" * 20, "2023-02-01T00:00:00.000Z", "Initial"),
        model_info("acme/linked", "mit", "2023-02-01T00:00:00.000Z"),
        {"notes.txt": "inside\n"},
    )
    rev = root / "models" / "acme" / "linked" / "revisions" / ("7b" * 20)
    (rev / "README.md").symlink_to(outside / "secret.txt")
    (rev / "sub").symlink_to(outside, target_is_directory=True)
    ds = "acme/corpus"
    w.add_revision(
        "datasets",
        ds,
        Commit("d1" * 20, "2022-06-01T00:00:00.000Z", "Upload data"),
        {
            "id": ds,
            "author": "acme",
            "tags": ["license:cc-by-4.0", "language:en"],
            "cardData": {"license": "cc-by-4.0"},
            "createdAt": "2022-06-01T00:00:00.000Z",
            "description": "A corpus.",
        },
        {"README.md": "---\nlicense: cc-by-4.0\n---\n# Corpus v1\n", "data.csv": "a,b\n1,2\n"},
    )
    w.add_revision(
        "datasets",
        ds,
        Commit("d2" * 20, "2023-06-01T00:00:00.000Z", "Relicense"),
        {
            "id": ds,
            "author": "acme",
            "tags": ["license:odc-by", "language:en"],
            "cardData": {"license": "odc-by"},
            "createdAt": "2022-06-01T00:00:00.000Z",
        },
        {"README.md": "---\nlicense: odc-by\n---\n# Corpus v2\n"},
    )
    w.add_revision(
        "datasets",
        "acme/gated-data",
        Commit("d3" * 20, "2023-01-01T00:00:00.000Z", "Initial"),
        {"id": "acme/gated-data", "gated": "auto", "tags": []},
        {"README.md": "# Gated data\n"},
    )
    w.add_paper("2104.12255", ENTRY_2104, PAPER_2104)
    w.add_paper("quant-ph/0201082", ENTRY_QUANT)
    w.finish()


@pytest.fixture(scope="session")
def mirror_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test mirror folder (with a file outside it that a symlink points to)."""
    base = tmp_path_factory.mktemp("mirror")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    root = base / "root"
    build_mirror(root, outside)
    return root


@pytest.fixture(scope="session")
def live_server(mirror_root: Path):
    """One server for the session, with a small page size so that listings span several pages."""
    with MirrorServer(mirror_root, page_size=4) as srv:
        yield srv


@pytest.fixture
def srv(live_server: MirrorServer):
    """The session server with an empty log and no faults, restored after the test."""
    live_server.set_faults(None)
    live_server.reset_log()
    yield live_server
    live_server.set_faults(None)


@pytest.fixture
def commits() -> dict[str, str]:
    """Commit ids of acme/evolving (c1: licence other, c2: no folder, c3: licence mit) and acme/late."""
    return {**EVOLVING, "late": LATE}


@pytest.fixture
def secret() -> bytes:
    """The bytes of the file outside the mirror that a symlink inside it points to."""
    return SECRET


@pytest.fixture
def api(srv: MirrorServer):
    """An HfApi pointed at the mirror, anonymous."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=srv.url, token=False)


# ---- a small code mirror (code/github/), served like GitHub under /api/v3 --------------------------------
APACHE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n"
MIT = "MIT License\n\nCopyright (c) 2023 Acme\n\nPermission is hereby granted, free of charge, ...\n"
TOOL = {  # acme/tool, oldest first: root (Apache), no folder, relicensed to MIT, no folder
    "t1": "a1" * 20,
    "t2": "a2" * 20,
    "t3": "a3" * 20,
    "t4": "a4" * 20,
}


def build_code_mirror(root: Path) -> None:
    """acme/tool (4 commits, licence apache-2.0 -> mit), acme/long (75 commits), a moved, a deleted, a
    blocked and an empty repo; plus one model so that the Hub side answers too."""
    from pipelines.mirror.github_layout import CodeRevision, repo_body, write_code_repo

    w = MirrorWriter(root, "code test mirror", "tests/mirror/conftest.py")
    w.add_revision(
        "models",
        "acme/model",
        Commit("ab" * 20, "2023-01-01T00:00:00.000Z", "Initial"),
        model_info("acme/model", "mit", "2023-01-01T00:00:00.000Z"),
        {"README.md": card("mit")},
    )
    w.finish()
    train = "import torch\n# pretraining loop\n"
    t1_files = {"README.md": "# Tool v1\n", "LICENSE": APACHE, "src/train.py": train}
    t3_files = {"README.md": "# Tool v2\n", "LICENSE": MIT, "src/train.py": train, "src/eval.py": "# eval\n"}
    write_code_repo(
        root,
        "acme/tool",
        repo_body("acme/tool", "2023-01-10T08:00:00Z", "2023-04-01T08:00:00Z", "mit"),
        [
            CodeRevision(
                TOOL["t1"],
                "2023-01-10T08:00:00Z",
                "Initial commit",
                files=t1_files,
                repo=repo_body("acme/tool", "2023-01-10T08:00:00Z", "2023-01-10T08:00:00Z", "apache-2.0"),
            ),
            CodeRevision(TOOL["t2"], "2023-02-01T08:00:00Z", "Tweak the training loop"),
            CodeRevision(
                TOOL["t3"],
                "2023-03-01T08:00:00Z",
                "Relicense to MIT",
                files=t3_files,
                tree_only={"data/weights.bin": 5_000_000},
                repo=repo_body("acme/tool", "2023-01-10T08:00:00Z", "2023-03-01T08:00:00Z", "mit"),
            ),
            CodeRevision(TOOL["t4"], "2023-04-01T08:00:00Z", "Docs"),
        ],
    )
    write_code_repo(
        root,
        "acme/long",
        repo_body("acme/long", "2022-01-01T00:00:00Z", "2022-03-16T00:00:00Z", None),
        [
            CodeRevision(
                f"{n + 1:040x}",
                f"2022-{1 + n // 28:02d}-{1 + n % 28:02d}T00:00:00Z",
                f"step {n}",
                files={"README.md": f"step {n}\n"} if n % 25 == 0 else None,
            )
            for n in range(75)
        ],
    )
    since = "2023-06-01T00:00:00Z"
    moved = root / "code" / "github" / "acme" / "old-name"
    moved.mkdir(parents=True)
    (moved / "moved.json").write_text(json.dumps({"to": "acme/tool", "since": since}), encoding="utf-8")
    for name, status in (("deleted", 404), ("blocked", 451)):
        gone = {"status": status, "since": since}
        if status == 451:
            gone |= {"reason": "dmca", "html_url": "https://github.com/github/dmca/blob/master/x.md"}
        write_code_repo(
            root,
            f"acme/{name}",
            repo_body(f"acme/{name}", "2023-01-01T00:00:00Z", "2023-01-01T00:00:00Z", "mit"),
            [CodeRevision(f"{status:040x}", "2023-01-01T00:00:00Z", "Initial", files={"LICENSE": MIT})],
            gone=gone,
        )
    write_code_repo(root, "acme/empty", repo_body("acme/empty", "2023-01-01T00:00:00Z", "", None), [])


@pytest.fixture(scope="session")
def code_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The code test mirror folder."""
    root = tmp_path_factory.mktemp("code") / "root"
    build_code_mirror(root)
    return root


@pytest.fixture(scope="session")
def live_code_server(code_root: Path):
    """One server over the code mirror for the session."""
    with MirrorServer(code_root) as server:
        yield server


@pytest.fixture
def gh(live_code_server: MirrorServer):
    """The code server with an empty log, no faults and a fresh default quota, restored after the test."""
    from pipelines.mirror.github_quota import Quota

    live_code_server.set_faults(None)
    live_code_server.set_quota(Quota())
    live_code_server.reset_log()
    yield live_code_server
    live_code_server.set_faults(None)
    live_code_server.set_quota(Quota())


@pytest.fixture
def tool() -> dict[str, str]:
    """Commit shas of acme/tool, oldest first: t1 (Apache), t2 (no folder), t3 (MIT), t4 (no folder)."""
    return dict(TOOL)


def github_client(server: MirrorServer, token: str | None = "test-token", base: str | None = None, **kw):
    """A PyGithub client pointed at the mirror (no throttling between requests; retries as given)."""
    from github import Auth, Github

    auth = Auth.Token(token) if token else None
    kw.setdefault("retry", None)
    return Github(base_url=base or server.github_url, auth=auth, seconds_between_requests=0, **kw)
