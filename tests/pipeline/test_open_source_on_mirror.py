"""Open source or only open weights, end to end on a mirror: the crawlers (huggingface_hub, the arXiv
client, PyGithub) over real HTTP against the mirror server, then the one build runner, then the verdicts.

The mirror holds one release whose card links its own training repository (Apache-2.0 LICENSE, training,
preprocessing, evaluation and inference code), with Apache-2.0 weights (card and LICENSE file), two open
datasets and a peer-reviewed paper; the same release without the code repository is the control. Two more
releases carry the real Llama 2 Community License as their LICENSE file: one whose card declares no
licence, one whose card says apache-2.0.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.code.settings import CodeSettings
from pipelines.code.step import run_code_step
from pipelines.hub.step import run_crawl, run_datasets, run_license_files
from pipelines.mirror.github_layout import CodeRevision, repo_body, write_code_repo
from pipelines.mirror.github_quota import TOKEN_LIMIT, Quota
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.openness.mof import classify
from pipelines.papers.step import run_papers_step
from pipelines.runner import build_all
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import papers_settings, settings
from tests.openness.test_code_and_licence_files import (  # the same release, scored directly there
    FILES,
    SECTIONS,
)
from tests.small_mirror import _card, _sha

DAY = "2025-03-01"
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
# The Apache License 2.0 text of a real repository of the sample (tests/openness/license_files_expected.csv).
APACHE = (
    Path(__file__).resolve().parents[2]
    / "pipelines/mirror/sample/code/github/Stability-AI/StableLM/revisions"
    / "7e050333e0506e3c1e6230d80c93564cf2964222/files/LICENSE"
)
# The Llama 2 Community License of a real repository of the sample (tests/openness/license_files_expected.csv).
LLAMA2 = (
    Path(__file__).resolve().parents[2]
    / "pipelines/mirror/sample/code/github/meta-llama/llama/revisions"
    / "6d4c0c290aeec1fa4399694fefb864be5a153bb6/files/LICENSE"
)
OPEN = "open-lab/Amberlite-7B"  # links its training repository
CONTROL = "open-lab/Amberlite-7B-nocode"  # the same release, no code repository named
CODE_REPO = "open-lab/amberlite"
NO_CARD_LICENCE = "llama-fan/tuned-7b"  # no licence in the card, a Llama 2 LICENSE file
APACHE_CARD = "llama-fan/relabelled-7b"  # the card says apache-2.0, the LICENSE file is Llama 2
PAPER = "2412.00001"
ENTRY = f"""<entry>
    <id>http://arxiv.org/abs/{PAPER}v1</id>
    <title>Amberlite: A Fully Open Language Model</title>
    <updated>2024-12-01T00:00:00Z</updated>
    <link href="https://arxiv.org/abs/{PAPER}v1" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/{PAPER}v1" rel="related" type="application/pdf" title="pdf"/>
    <link href="http://creativecommons.org/licenses/by/4.0/" rel="license"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <published>2024-12-01T00:00:00Z</published>
    <arxiv:primary_category term="cs.CL"/>
    <arxiv:journal_ref>Transactions on Machine Learning Research (2025)</arxiv:journal_ref>
    <author>
      <name>A. Tester</name>
    </author>
  </entry>
"""


def _model(
    writer: MirrorWriter,
    repo_id: str,
    links: str,
    licence: str | None = "apache-2.0",
    licence_file: Path = APACHE,
) -> None:
    meta = {
        **({"license": licence} if licence else {}),
        "datasets": ["open-lab/web-corpus", "open-lab/code-corpus"],
        "library_name": "transformers",
        "model-index": [
            {
                "name": "Amberlite-7B",
                "results": [
                    {
                        "task": {"type": "text-generation"},
                        "dataset": {"name": "ARC", "type": "ai2_arc"},
                        "metrics": [{"type": "acc", "value": 0.5}],
                    }
                ],
            }
        ],
    }
    body = f"# Amberlite-7B\n\nPaper: https://arxiv.org/abs/{PAPER} . {links}\n\n{SECTIONS}"
    date = f"{DAY}T08:00:00.000Z"
    info = {
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.split("/")[0],
        "lastModified": date,
        "createdAt": date,
        "private": False,
        "disabled": False,
        "gated": False,
        "downloads": 10,
        "likes": 1,
        "tags": ["transformers", "text-generation", f"arxiv:{PAPER}"]
        + ([f"license:{licence}"] if licence else [])
        + [f"dataset:{d}" for d in meta["datasets"]],
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "cardData": meta,
        "siblings": [{"rfilename": f} for f in sorted([*FILES, "LICENSE"])],
    }
    commit = Commit(id=_sha(repo_id), date=date, title="Release", authors=["tester"])
    files = {"README.md": _card(meta, body), "LICENSE": licence_file.read_bytes()}
    writer.add_revision("models", repo_id, commit, info, files=files)


def _dataset(writer: MirrorWriter, dataset_id: str, licence: str) -> None:
    date = "2024-06-01T00:00:00.000Z"
    meta = {"license": licence}
    info = {
        "id": dataset_id,
        "author": dataset_id.split("/")[0],
        "lastModified": date,
        "createdAt": date,
        "private": False,
        "disabled": False,
        "gated": False,
        "tags": [f"license:{licence}"],
        "cardData": meta,
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "data/train.parquet"}],
    }
    commit = Commit(id=_sha(dataset_id), date=date, title="Data", authors=["tester"])
    card = _card(meta, "# Data\n\n" + "A documented dataset with its sources and processing. " * 60)
    writer.add_revision("datasets", dataset_id, commit, info, files={"README.md": card})


def _code_repo(root: Path) -> None:
    files = {
        "LICENSE": APACHE.read_bytes(),
        "README.md": b"# amberlite\n\nTraining, data processing, evaluation and inference code.\n",
        "scripts/pretrain.py": b"print('pretrain')\n",
        "configs/pretrain_7b.yaml": b"lr: 3e-4\n",
        "data_processing/dedup.py": b"print('dedup')\n",
        "eval/run_eval.py": b"print('eval')\n",
        "inference/generate.py": b"print('generate')\n",
    }
    commit = CodeRevision(
        sha=_sha(CODE_REPO, "1"), date="2024-11-01T00:00:00Z", message="Initial release", files=files
    )
    write_code_repo(
        root,
        CODE_REPO,
        repo_body(CODE_REPO, "2024-11-01T00:00:00Z", "2024-11-01T00:00:00Z", "apache-2.0"),
        [commit],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    base = tmp_path_factory.mktemp("open_source")
    mirror = base / "mirror"
    writer = MirrorWriter(mirror, title="open source test mirror", sources=["tests/pipeline"])
    _model(writer, OPEN, f"Code: https://github.com/{CODE_REPO}")
    _model(writer, CONTROL, "")
    _model(writer, NO_CARD_LICENCE, "", licence=None, licence_file=LLAMA2)
    _model(writer, APACHE_CARD, "", licence="apache-2.0", licence_file=LLAMA2)
    _dataset(writer, "open-lab/web-corpus", "odc-by")
    _dataset(writer, "open-lab/code-corpus", "cc-by-4.0")
    writer.add_paper(PAPER, entry_xml=ENTRY)
    writer.finish()
    _code_repo(mirror)
    wh = Warehouse(base / "wh")
    with MirrorServer(mirror, quota=Quota(TOKEN_LIMIT, TOKEN_LIMIT)) as srv:
        hub = settings(srv.url, token="hf_test")
        run_crawl(wh, hub, DAY, now=NOW)
        licences = run_license_files(wh, hub, DAY, now=NOW)
        assert licences["ok"] == 4, licences  # four model revisions, each with its LICENSE read
        # ... and each of the two texts downloaded once (the others known by their blob id).
        assert licences["bytes"]["resolvers"] == len(APACHE.read_bytes()) + len(LLAMA2.read_bytes()), licences
        run_datasets(wh, hub, DAY, now=NOW)
        run_papers_step(wh, papers_settings(hub, srv.arxiv_url), DAY)
        code = run_code_step(
            wh, CodeSettings(endpoint=srv.github_url, replay=True, max_wait=1.0), DAY, now=NOW
        )
        assert code["repos"] == 1 and not code["errors"], code
    with wh.connect() as con:
        build_all(wh, con, full=True)
    return wh


def _latest(wh: Warehouse, table: str, repo_id: str) -> list[dict]:
    with wh.connect() as con:
        rows = con.execute(f"SELECT * FROM core.{table} WHERE repo_id = ?", [repo_id])  # noqa: S608
        columns = [d[0] for d in rows.description]
        return [dict(zip(columns, r, strict=True)) for r in rows.fetchall()]


def test_the_code_repository_is_crawled_identified_and_linked(built: Warehouse) -> None:
    with built.connect() as con:
        repo = con.sql("SELECT * FROM core.code_repos").pl().row(0, named=True)
        links = con.sql("SELECT repo_id, code_repo, linked_via, role FROM core.release_code").pl().rows()
        files = (
            con.sql(
                "SELECT repo, path, license_id, license_family FROM core.license_files WHERE host = 'github'"
            )
            .pl()
            .rows()
        )
    assert (repo["repo"], repo["license_id"], repo["license_source"]) == (CODE_REPO, "apache-2.0", "files")
    assert [
        repo[k] for k in ("training_code", "preprocessing_code", "evaluation_code", "inference_code")
    ] == [True] * 4
    assert "scripts/pretrain.py" in json.loads(repo["evidence"])["code"]["training_code"]["paths"]
    assert links == [(OPEN, CODE_REPO, "card", "release_code")]
    assert files == [(CODE_REPO, "LICENSE", "apache-2.0", "osi-permissive")]


def test_open_code_weights_and_data_reach_level_5_and_the_mot_class(built: Warehouse) -> None:
    (o,) = _latest(built, "openness", OPEN)
    assert o["spectrum_level"] == 5 and o["release_level"] == "fully_open"
    assert o["osai_trainingcode"] == "open" and o["osaid"] == "meets"
    disclosures = _latest(built, "disclosures", OPEN)
    status = {
        d["component_id"]: ("included" if d["is_open"] else "invalid") for d in disclosures if d["included"]
    }
    mot_class, _ = classify(status)  # the Model Openness Tool's own rule on the same components
    assert o["mof_class"] == mot_class == 1  # every component of Classes III, II and I open: Class I
    for d in disclosures:
        if d["component_id"] in (7, 16, 18):  # training, evaluation, inference code
            assert d["included"] and d["is_open"] and f"github.com/{CODE_REPO}" in d["evidence"], d


def test_without_the_code_repository_the_same_release_is_open_weights_only(built: Warehouse) -> None:
    (o,) = _latest(built, "openness", CONTROL)
    (opened,) = _latest(built, "openness", OPEN)
    assert o["spectrum_level"] == 4 and o["spectrum_level"] < opened["spectrum_level"]
    # MOF classes count down (3, 2, 1 = most open): the release without its code is never more open.
    assert o["mof_class"] >= opened["mof_class"] and o["osai_trainingcode"] != "open"
    for d in _latest(built, "disclosures", CONTROL):
        assert "github.com" not in (d["evidence"] or ""), d
    assert pl.DataFrame(_latest(built, "release_code", CONTROL)).height == 0


def test_a_card_without_a_licence_takes_the_llama_licence_file(built: Warehouse) -> None:
    (o,) = _latest(built, "openness", NO_CARD_LICENCE)
    assert o["declared_license_id"] is None
    assert (o["file_license_id"], o["file_license_family"]) == ("llama2", "community")
    assert (o["license_id"], o["license_family"], o["license_source"]) == ("llama2", "community", "files")
    assert not o["license_conflict"]
    with built.connect() as con:
        (row,) = con.execute(
            "SELECT license_id, license_family, file_kind, score FROM core.license_files "
            "WHERE host = 'hub' AND repo = ?",
            [NO_CARD_LICENCE],
        ).fetchall()
    assert row[:3] == ("llama2", "community", "licence") and row[3] >= 90


def test_an_apache_card_over_a_llama_licence_file_is_a_conflict(built: Warehouse) -> None:
    (o,) = _latest(built, "openness", APACHE_CARD)
    assert (o["declared_license_id"], o["file_license_id"]) == ("apache-2.0", "llama2")
    assert o["license_conflict"] is True
    evidence = json.loads(o["license_conflict_evidence"])
    assert "apache-2.0" in json.dumps(evidence) and "llama2" in json.dumps(evidence)
    # Never resolved in the card's favour: the effective licence is the more restrictive one, the files'.
    assert (o["license_id"], o["license_family"]) == ("llama2", "community")


def test_the_same_licence_blob_is_identified_once(built: Warehouse) -> None:
    with built.connect() as con:
        blobs = con.execute(
            "SELECT blob_sha, count(*) FROM core.license_files WHERE host = 'hub' GROUP BY ALL ORDER BY 2 DESC"
        ).fetchall()
    # Two releases carry the Apache text, two the Llama 2 text: two blobs, one row per (repo, path, blob).
    assert [n for _, n in blobs] == [2, 2]
