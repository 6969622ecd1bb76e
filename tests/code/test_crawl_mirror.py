"""The code source against the mirror over real HTTP with PyGithub: capture, cheap re-crawl, faults,
a stopped and a killed crawl that resume, the token never written, a licence change dated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from pipelines.code import raw
from pipelines.code.client import GitHubClient
from pipelines.code.parse import code_repo_rows, licence_history_rows
from pipelines.code.settings import CodeSettings
from pipelines.code.step import run_code
from pipelines.mirror.server import FaultConfig, MirrorServer, Quota
from pipelines.storage.warehouse import Warehouse
from tests.code.conftest import ASKED, captures
from tests.conftest import ROOT

DAY = "2026-03-02"
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
TOKEN = "ghp_testTOKEN0123456789abcdefSECRET"


def settings(srv: MirrorServer, **overrides) -> CodeSettings:
    return CodeSettings(endpoint=srv.github_url, token=TOKEN, **overrides)


def github_log(srv: MirrorServer) -> list[dict]:
    return [r for r in srv.requests if r["bucket"] == "github"]


def crawl_runs(wh: Warehouse) -> pl.DataFrame:
    return wh.raw.scan("crawl_run").filter(pl.col("scope") == "code:github").collect().sort("started_at")


@pytest.fixture(scope="module")
def clean(code_mirror, tmp_path_factory):
    """One clean crawl of every asked repo; the mirror's log of it."""
    wh = Warehouse(tmp_path_factory.mktemp("clean"))
    with MirrorServer(code_mirror) as srv:
        summary = run_code(wh, settings(srv), DAY, ASKED, now=NOW)
        log = github_log(srv)
    return wh, summary, log


def test_capture(clean) -> None:
    wh, summary, log = clean
    assert summary["status"] == "complete", summary
    repos = raw.scan(wh.raw, "github_repo")
    status = dict(zip(repos["repo"], repos["status"], strict=True))
    assert status == {
        "meta-llama/llama": "ok",
        "qwenlm/qwen": "ok",
        "openai/human-eval": "ok",
        "huggingface/alignment-handbook": "ok",
        "facebookresearch/llama": "moved",
        "tatsu-lab/stanford_alpaca": "gone",
        "blocked/model-code": "gone",
        "empty/repo": "empty",
    }
    http = dict(zip(repos["repo"], repos["http_status"], strict=True))
    assert (http["tatsu-lab/stanford_alpaca"], http["blocked/model-code"]) == (404, 451)
    moved = repos.filter(pl.col("repo") == "facebookresearch/llama").row(0, named=True)
    assert moved["full_name"] == "meta-llama/llama" and summary["moved"] == {
        "facebookresearch/llama": "meta-llama/llama"
    }
    # metadata as GitHub answers it, GitHub's licence detection included
    qwen = json.loads(repos.filter(pl.col("repo") == "qwenlm/qwen")["body"][0])
    assert qwen["full_name"] == "QwenLM/Qwen" and qwen["license"]["spdx_id"] == "Apache-2.0"
    # the head tree and the licence files' bytes, once per blob
    trees = raw.scan(wh.raw, "github_tree")
    assert set(trees["repo"]) == {
        "meta-llama/llama",
        "qwenlm/qwen",
        "openai/human-eval",
        "huggingface/alignment-handbook",
        "facebookresearch/llama",
    }
    files = raw.scan(wh.raw, "github_file")
    assert files.select("repo", "path", "blob_sha").is_duplicated().sum() == 0
    llama_head = files.filter((pl.col("repo") == "meta-llama/llama") & (pl.col("path") == "LICENSE"))
    assert any(b"LLAMA 2 COMMUNITY LICENSE" in c for c in llama_head["content"])
    qwen_paths = set(files.filter(pl.col("repo") == "qwenlm/qwen")["path"])
    assert {"LICENSE", "Tongyi Qianwen LICENSE AGREEMENT"} <= qwen_paths
    # the run's account matches what the mirror saw
    run = crawl_runs(wh).row(0, named=True)
    detail = json.loads(run["detail"])
    assert run["requests_api"] == len(log) == summary["requests"]
    assert detail["quota_used"] == sum(r["counted"] for r in log)
    assert run["status"] == "complete" and run["endpoint"].endswith("/api/v3")


def captured_rows(wh: Warehouse):
    """The code_repos rows built from every GitHub capture of the warehouse's raw layer."""
    return code_repo_rows(
        raw.scan(wh.raw, "github_repo"), raw.scan(wh.raw, "github_tree"), raw.scan(wh.raw, "github_file")
    )


def test_rows_from_captures(clean) -> None:
    wh, _, _ = clean
    rows = captured_rows(wh)
    by = {r["repo"]: r for r in rows.iter_rows(named=True)}
    assert by["qwenlm/qwen"]["license_id"] == "apache-2.0"
    assert by["qwenlm/qwen"]["license_family"] == "osi-permissive"
    assert by["huggingface/alignment-handbook"]["training_code"] is True
    assert (
        by["meta-llama/llama"]["training_code"] is False and by["meta-llama/llama"]["inference_code"] is True
    )
    assert by["tatsu-lab/stanford_alpaca"]["status"] == "gone"
    assert by["tatsu-lab/stanford_alpaca"]["training_code"] is None  # never read: unknown, not False
    assert by["empty/repo"]["status"] == "empty"
    # A repo whose tree was never read has no licence on record: unknown (null), not "no licence" (none).
    assert {r: row["license_family"] for r, row in by.items() if row["license_id"] is None} == {
        "empty/repo": None,
        "blocked/model-code": None,
        "tatsu-lab/stanford_alpaca": None,
    }


def test_licence_change_is_dated_with_its_commit(clean) -> None:
    wh, _, _ = clean
    history = licence_history_rows(raw.scan(wh.raw, "github_file_commits"), raw.scan(wh.raw, "github_file"))
    llama = history.filter(pl.col("repo") == "meta-llama/llama").sort("committed_at")
    files = raw.scan(wh.raw, "github_file").filter(pl.col("repo") == "meta-llama/llama")
    text = {b: c for b, c in zip(files["blob_sha"], files["content"], strict=True)}

    def licence_text(row: dict) -> bytes:
        return text[json.loads(row["files"])["LICENSE"]]

    first, *rest = llama.iter_rows(named=True)
    assert first["commit_sha"].startswith("1076b9c5") and b"GNU GENERAL PUBLIC LICENSE" in licence_text(first)
    change = next(r for r in rest if b"LLAMA 2 COMMUNITY LICENSE" in licence_text(r))
    assert change["commit_sha"].startswith("6d4c0c29") and change["committed_at"].startswith("2023-07-18")
    assert change["changed_paths"] == ["LICENSE", "USE_POLICY.md"]  # the Llama 2 release added its use policy
    # Qwen: the Tongyi Qianwen licence until its LICENSE became Apache-2.0 (2023-11-30)
    qwen = history.filter(pl.col("repo") == "qwenlm/qwen")
    assert qwen.filter(pl.col("commit_sha").str.starts_with("e8e15962")).height == 1


def test_recrawl_of_unchanged_repos_costs_no_quota(clean, code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror) as srv:
        run_code(wh, settings(srv), DAY, ASKED, now=NOW)
        srv.reset_log()
        summary = run_code(wh, settings(srv), "2026-03-03", ASKED, now=NOW + timedelta(days=1))
        log = github_log(srv)
    # one conditional request per live or empty repo (the moved one asked under its new name), all 304
    assert [r["status"] for r in log] == [304] * 6, log
    assert not any(r["counted"] for r in log)
    assert summary["quota_used"] == 0 and summary["not_modified"] == 6
    assert summary["outcomes"]["gone_unchecked"] == 2  # gone repos are asked again after a week
    assert captures(wh) == captures(clean[0])


def test_refresh_after_a_week_rereads_trees_but_no_stored_blob(code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror) as srv:
        run_code(wh, settings(srv), DAY, ASKED, now=NOW)
        srv.reset_log()
        summary = run_code(wh, settings(srv), "2026-03-10", ASKED, now=NOW + timedelta(days=8))
        log = github_log(srv)
    paths = [r["path"] for r in log]
    assert sum(p.endswith("/git/trees/" + p.rsplit("/", 1)[-1]) for p in paths) == 5  # one tree per live repo
    assert not [p for p in paths if "/contents/" in p and "USE_POLICY" not in p], paths
    assert summary["files_fetched"] == 0 and summary["history_commits"] == 0


@pytest.mark.parametrize(
    "faults",
    [
        FaultConfig(seed=3, rate_5xx=0.25),
        FaultConfig(seed=4, rate_primary=0.2, retry_after=0),
        FaultConfig(seed=5, rate_secondary=0.2, retry_after=1, limit_status=429),
        FaultConfig(seed=6, rate_malformed=0.15),
    ],
    ids=["5xx", "primary", "secondary", "malformed"],
)
def test_faults_lose_nothing(clean, code_mirror, tmp_path, faults) -> None:
    wh = Warehouse(tmp_path / "wh")
    waits: list[float] = []
    with MirrorServer(code_mirror, faults=faults) as srv:
        client = GitHubClient(settings(srv, max_retries=10), crawl_date=DAY, sleep=waits.append)
        summary = run_code(wh, settings(srv, max_retries=10), DAY, ASKED, now=NOW, client=client)
        applied = [r["fault"] for r in github_log(srv) if r.get("fault")]
    assert applied, "the fault config applied no fault"
    assert summary["status"] == "complete", summary
    assert waits and summary["retries"] >= 1
    assert captures(wh) == captures(clean[0])
    if faults.rate_secondary:
        assert all(w == 1 for w in waits)  # Retry-After honoured


def test_spent_quota_stops_the_run_and_the_next_run_resumes(clean, code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror, quota=Quota(token_limit=12)) as srv:
        first = run_code(wh, settings(srv, max_wait=5), DAY, ASKED, now=NOW)
        assert first["status"] == "partial" and "resumes after" in first["stopped"]
        done = set(raw.scan(wh.raw, "github_repo")["repo"])
        assert 0 < len(done) < len(ASKED)
        srv.set_quota(Quota())  # the window reset
        srv.reset_log()
        second = run_code(wh, settings(srv, max_wait=5), DAY, ASKED, now=NOW)
        asked_again = {r["path"].removeprefix("/api/v3/repos/").lower() for r in github_log(srv)}
    assert second["status"] == "complete"
    assert second["outcomes"]["done_earlier"] == len(done)
    assert not done & asked_again  # repos done before the stop are not asked again
    assert captures(wh) == captures(clean[0])
    runs = crawl_runs(wh)
    assert runs["status"].to_list() == ["partial", "complete"]


KILL_SCRIPT = """
import os, sys
from datetime import datetime, UTC
from pipelines.code.settings import CodeSettings
from pipelines.code.step import run_code
from pipelines.storage.warehouse import Warehouse
seen = []
def progress(message):
    seen.append(message)
    if len(seen) == 3:
        os._exit(9)  # killed: no cleanup, no run account
run_code(Warehouse(sys.argv[1]), CodeSettings(endpoint=sys.argv[2]), sys.argv[3], sys.argv[4:],
         now=datetime(2026, 3, 2, 12, tzinfo=UTC), progress=progress)
"""


def test_killed_crawl_resumes(clean, code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror) as srv:
        proc = subprocess.run(
            [sys.executable, "-c", KILL_SCRIPT, str(wh.root), srv.github_url, DAY, *ASKED],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == 9, proc.stderr.decode()[-2000:]
        assert len(set(raw.scan(wh.raw, "github_repo")["repo"])) == 3
        summary = run_code(wh, CodeSettings(endpoint=srv.github_url), DAY, ASKED, now=NOW)
    assert summary["outcomes"]["done_earlier"] == 3
    assert captures(wh) == captures(clean[0])


def test_token_is_sent_but_never_written(code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror, faults=FaultConfig(seed=2, rate_5xx=0.2)) as srv:
        client = GitHubClient(settings(srv), crawl_date=DAY, sleep=lambda s: None)
        run_code(wh, settings(srv), DAY, ASKED, now=NOW, client=client)
        counted = [r for r in github_log(srv) if r["counted"]]
        quota = srv.quota.to_dict()
    assert counted and TOKEN not in repr(settings(srv))
    assert json.dumps(quota).count(TOKEN) == 0
    written = [p for p in wh.root.rglob("*") if p.is_file()]
    assert written
    for path in written:
        data = path.read_bytes()
        assert TOKEN.encode() not in data, path
        assert b"testTOKEN" not in data, path
    # the mirror saw an authenticated caller: its quota is the token's (5,000), not the anonymous 60
    assert int(client.cost.ratelimit_remaining or 0) > 60


def test_a_defect_in_one_repo_never_stops_the_others(clean, code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    faults = FaultConfig(seed=1, rate_5xx=1.0, paths=r"/repos/openai/human-eval")
    with MirrorServer(code_mirror, faults=faults) as srv:
        summary = run_code(
            wh, settings(srv, max_retries=1, base_wait=0.01), DAY, [*ASKED, "not a repo"], now=NOW
        )
    assert summary["status"] == "partial"
    assert list(summary["errors"]) == ["not a repo", "openai/human-eval"]
    assert "TransientFailure" in summary["errors"]["openai/human-eval"]
    assert len(set(raw.scan(wh.raw, "github_repo")["repo"])) == len(ASKED) - 1


def test_licence_files_identified_and_licence_change_dated(clean) -> None:
    """With the licence detector (ScanCode): the file-evidenced licence and its dated change."""
    from pipelines.code.parse import identify_seam

    wh, _, _ = clean
    identify = identify_seam()
    assert identify is not None
    rows = code_repo_rows(
        raw.scan(wh.raw, "github_repo"),
        raw.scan(wh.raw, "github_tree"),
        raw.scan(wh.raw, "github_file"),
        identify=identify,
    )
    llama = rows.filter(pl.col("repo") == "meta-llama/llama").row(0, named=True)
    # GitHub says only NOASSERTION; the LICENSE file is the Llama 2 Community License
    assert (llama["github_license"], llama["file_license"]) == ("other", "llama2")
    assert (llama["license_id"], llama["license_family"], llama["license_source"]) == (
        "llama2",
        "community",
        "files",
    )
    history = licence_history_rows(
        raw.scan(wh.raw, "github_file_commits"), raw.scan(wh.raw, "github_file"), identify=identify
    )
    llama_history = history.filter(pl.col("repo") == "meta-llama/llama").sort("committed_at")
    ids = llama_history.select("commit_sha", "committed_at", "license_id").rows()
    first_llama2 = next(r for r in ids if r[2] == "llama2")
    assert ids[0][2] == "gpl-3.0"
    assert first_llama2[0].startswith("6d4c0c29") and first_llama2[1].startswith("2023-07-18")


def test_replay_crawls_the_state_as_of_the_crawl_date(code_mirror, tmp_path) -> None:
    """Against a mirror in replay mode, a crawl of 2023-05-01 sees meta-llama/llama before Llama 2."""
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror) as srv:
        summary = run_code(
            wh,
            settings(srv, replay=True),
            "2023-05-01",
            ["meta-llama/llama", "huggingface/alignment-handbook"],
            now=datetime(2023, 5, 1, tzinfo=UTC),
        )
        paths = {r["path"] for r in github_log(srv)}
    assert all(p.startswith("/as-of/2023-05-01/api/v3/") for p in paths)
    assert summary["outcomes"] == {"ok": 1, "gone": 1, "contents_read": 1}  # the handbook did not exist yet
    files = raw.scan(wh.raw, "github_file")
    assert files["path"].to_list() == ["LICENSE"]
    assert b"GNU GENERAL PUBLIC LICENSE" in files["content"][0]


def test_a_read_tree_without_a_licence_is_no_licence_declared(tmp_path) -> None:
    """No licence file in the read tree and none GitHub detects: the family `none` (nothing granted), the
    value core.openness and the marts give a model that declares no licence."""
    import shutil

    from pipelines.code.tree import licence_file_kind
    from tests.code.conftest import REPOS

    mirror = tmp_path / "mirror"
    (mirror / "code/github/openai").mkdir(parents=True)
    (mirror / "mirror.json").write_text(json.dumps({"format": "hub-mirror/1", "title": "t", "sources": "x"}))
    repo = mirror / "code/github/openai/human-eval"
    shutil.copytree(REPOS / "openai/human-eval", repo)
    for meta in repo.rglob("repo.json"):
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "license": None}))
    for tree_file in repo.rglob("tree.json"):
        tree = json.loads(tree_file.read_text())
        entries = [e for e in tree["tree"] if licence_file_kind(e["path"]) is None]
        tree_file.write_text(json.dumps({**tree, "tree": entries}))
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        run_code(wh, settings(srv), DAY, ["openai/human-eval"], now=NOW)
    row = captured_rows(wh).row(0, named=True)
    assert row["status"] == "ok" and row["head_sha"] is not None
    assert (row["license_id"], row["license_family"], row["license_source"]) == (None, "none", None)


def test_truncated_tree_gives_unknown_not_false(tmp_path) -> None:
    """GitHub cut the recursive tree: kinds without a match are unknown (null), and the root level is
    asked on its own so licence files are not missed."""
    import shutil

    from tests.code.conftest import REPOS

    mirror = tmp_path / "mirror"
    (mirror / "code/github/openai").mkdir(parents=True)
    (mirror / "mirror.json").write_text(json.dumps({"format": "hub-mirror/1", "title": "t", "sources": "x"}))
    shutil.copytree(REPOS / "openai/human-eval", mirror / "code/github/openai/human-eval")
    head = json.loads((mirror / "code/github/openai/human-eval/commits.json").read_text())[0]["sha"]
    tree_file = mirror / "code/github/openai/human-eval/revisions" / head / "tree.json"
    tree = json.loads(tree_file.read_text())
    tree_file.write_text(json.dumps({**tree, "truncated": True}))
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        run_code(wh, settings(srv), DAY, ["openai/human-eval"], now=NOW)
        trees = [r for r in github_log(srv) if "/git/trees/" in r["path"]]
    assert [("recursive" in r["query"]) for r in trees] == [True, False]
    row = captured_rows(wh).row(0, named=True)
    assert row["evaluation_code"] is True
    assert row["training_code"] is None and row["inference_code"] is None
    assert json.loads(row["evidence"])["tree"]["truncated"] is True


def test_licence_history_pages_through_link_headers(clean, code_mirror, tmp_path) -> None:
    """Small pages: the history is followed through GitHub's `Link: rel="next"` and comes out the same."""
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror) as srv:
        run_code(wh, settings(srv, per_page=2), DAY, ASKED, now=NOW)
        pages = [
            r
            for r in github_log(srv)
            if r["path"].endswith("/meta-llama/llama/commits") and "path" in r["query"]
        ]
    licence_pages = [r for r in pages if r["query"]["path"] == ["LICENSE"]]
    assert len(licence_pages) >= 4  # eight commits touched LICENSE, two a page
    assert captures(wh) == captures(clean[0])


def test_a_moved_repo_stays_moved_and_is_asked_under_its_new_name(code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(code_mirror) as srv:
        run_code(wh, settings(srv), DAY, ["facebookresearch/llama"], now=NOW)
        srv.reset_log()
        # ten days later (tree re-read): every request goes to the new name, no 301 again
        run_code(wh, settings(srv), "2026-03-12", ["facebookresearch/llama"], now=NOW + timedelta(days=10))
        asked = [r["path"] for r in github_log(srv)]
    assert asked[0] == "/api/v3/repos/meta-llama/llama" and not any("facebookresearch" in p for p in asked)
    rows = captured_rows(wh)
    assert rows.select("repo", "full_name", "status").rows() == [
        ("facebookresearch/llama", "meta-llama/llama", "moved")
    ]


def test_the_run_account_reaches_core_crawl_runs(clean) -> None:
    """The code run's cost lands in core.crawl_runs through the table's own build step."""
    from pipelines.runner import run_step

    wh, summary, log = clean
    with wh.connect() as con:
        run_step("crawl_runs", wh, con, full=True)
        row = con.execute(
            "SELECT scope, status, requests_api, retries, detail FROM core.crawl_runs WHERE scope = ?",
            ["code:github"],
        ).fetchone()
    scope, status, requests_api, retries, detail = row
    assert (scope, status, requests_api, retries) == ("code:github", "complete", len(log), 0)
    assert json.loads(detail)["quota_used"] == sum(r["counted"] for r in log)


def test_the_step_crawls_what_captured_cards_and_papers_link_to(code_mirror, tmp_path) -> None:
    """Links come from each repo's latest captured README and from the captured paper answers."""
    from pipelines.code.step import cited_code_repos, run_code_step
    from pipelines.storage.raw import schema_of

    wh = Warehouse(tmp_path / "wh")

    def readme(repo_id: str, when: datetime, text: str) -> None:
        row = dict.fromkeys(schema_of("hub_readme"))
        row.update(fetched_at=when, repo_id=repo_id, revision="0" * 40, status="ok", content=text.encode())
        wh.raw.append(
            "hub_readme", DAY, pl.DataFrame([row], schema=schema_of("hub_readme")), ["repo_id", "fetched_at"]
        )

    readme("lmsys/old", NOW - timedelta(days=30), "Code: https://github.com/tatsu-lab/stanford_alpaca")
    readme("lmsys/old", NOW, "Trained with [our code](https://github.com/huggingface/alignment-handbook).")
    arxiv = dict.fromkeys(schema_of("arxiv"))
    arxiv.update(
        fetched_at=NOW,
        url="x",
        status_code=200,
        body="<summary>Code at github.com/OpenAI/human-eval.</summary>",
    )
    wh.raw.append("arxiv", DAY, pl.DataFrame([arxiv], schema=schema_of("arxiv")), ["body"])
    # the card's older link is not followed: only each repo's latest README counts
    assert cited_code_repos(wh.raw) == ["huggingface/alignment-handbook", "openai/human-eval"]
    with MirrorServer(code_mirror) as srv:
        summary = run_code_step(wh, settings(srv), DAY, now=NOW)
    assert summary["status"] == "complete" and summary["outcomes"]["ok"] == 2


def test_the_sample_corpus_code_repos_recrawl_for_nothing(tmp_path) -> None:
    """Every code repository of the bundled sample: crawled completely, then re-crawled next day for
    one 304 each and no quota."""
    sample = ROOT / "pipelines" / "mirror" / "sample"
    base = sample / "code" / "github"
    repos = sorted(
        f"{o.name}/{r.name}" for o in base.iterdir() if o.is_dir() for r in o.iterdir() if r.is_dir()
    )
    assert len(repos) >= 17
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(sample) as srv:
        first = run_code(wh, settings(srv), DAY, repos, now=NOW)
        srv.reset_log()
        second = run_code(wh, settings(srv), "2026-03-03", repos, now=NOW + timedelta(days=1))
        log = github_log(srv)
    assert first["status"] == "complete" and first["outcomes"]["ok"] == len(repos), first
    assert second["quota_used"] == 0 and len(log) == len(repos) and {r["status"] for r in log} == {304}
    assert not any(r["counted"] for r in log)


def test_fork_archived_and_github_detection_come_from_the_body(tmp_path) -> None:
    """A fork (archived) whose parent is named: metadata as GitHub's body gives it."""
    import shutil

    from tests.code.conftest import REPOS

    mirror = tmp_path / "mirror"
    folder = mirror / "code/github/someone/human-eval"
    folder.parent.mkdir(parents=True)
    (mirror / "mirror.json").write_text(json.dumps({"format": "hub-mirror/1", "title": "t", "sources": "x"}))
    shutil.copytree(REPOS / "openai/human-eval", folder)
    body = json.loads((folder / "repo.json").read_text())
    body.update(
        full_name="someone/human-eval",
        fork=True,
        archived=True,
        parent={"full_name": "openai/human-eval", "id": 1},
    )
    (folder / "repo.json").write_text(json.dumps(body))
    for revision in (folder / "revisions").iterdir():
        (revision / "repo.json").unlink(missing_ok=True)  # the top-level body answers for every commit
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        run_code(wh, settings(srv), DAY, ["https://github.com/someone/human-eval"], now=NOW)
    row = captured_rows(wh).row(0, named=True)
    assert (row["fork"], row["archived"], row["parent"]) == (True, True, "openai/human-eval")
    assert (row["github_license"], row["license_id"], row["license_source"]) == ("MIT", "mit", "github")
    assert row["created_at"] == "2021-07-08T01:06:40Z" and row["default_branch"] == "master"


def test_a_crawl_date_run_again_asks_only_for_what_its_cards_named(code_mirror, tmp_path) -> None:
    """A crawl date run again after later dates were captured (a rerun, a killed demo run again) follows
    only the links of the captures of that date and before: asked as of the earlier date, a repository
    only a later card names would answer 404 and be recorded as gone."""
    from pipelines.code.step import cited_code_repos, run_code_step
    from pipelines.storage.raw import schema_of

    wh = Warehouse(tmp_path / "wh")
    later = (datetime.fromisoformat(DAY) + timedelta(days=1)).date().isoformat()
    for day, repo_id, text in (
        (DAY, "lmsys/a", "Code: https://github.com/openai/human-eval"),
        (later, "lmsys/b", "Trained with https://github.com/huggingface/alignment-handbook"),
    ):
        row = dict.fromkeys(schema_of("hub_readme"))
        row.update(fetched_at=NOW, repo_id=repo_id, revision="0" * 40, status="ok", content=text.encode())
        wh.raw.append("hub_readme", day, pl.DataFrame([row], schema=schema_of("hub_readme")), ["repo_id"])
    assert cited_code_repos(wh.raw) == ["huggingface/alignment-handbook", "openai/human-eval"]
    assert cited_code_repos(wh.raw, until=DAY) == ["openai/human-eval"]
    with MirrorServer(code_mirror) as srv:
        summary = run_code_step(wh, settings(srv), DAY, now=NOW)
    # one repository asked for (the other is not asked, so not recorded as gone)
    assert summary["repos"] == 1 and summary["outcomes"]["ok"] == 1 and "gone" not in summary["outcomes"]
