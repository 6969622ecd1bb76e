"""Licence and use-policy files of model revisions: fetched through the resolver over real HTTP against a
mirror, each blob read once, identified by ScanCode into core.license_files, and per revision by
revision_licence_files."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.hub.ids import git_blob_sha1
from pipelines.hub.licences import licence_siblings
from pipelines.hub.raw import LICENSE_FILE_RAW_SCHEMA
from pipelines.hub.step import run_crawl, run_history, run_license_files
from pipelines.incremental.code import LICENSE_FILES_SCHEMA, revision_licence_files
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.conftest import ROOT
from tests.hub.crawl_helpers import settings

# The Llama 2 Community License as Meta published it in its GitHub repository (the code sample's copy).
LLAMA2 = (
    ROOT
    / "pipelines/mirror/sample/code/github/meta-llama/llama/revisions"
    / "689c7f261b9c5514636ecc3c5fefefcbb3e6eed7/files/LICENSE"
).read_bytes()
# The GNU GPL v3 text (the same repository's LICENSE before Llama 2), as a dataset's licence file.
GPL3 = (
    ROOT
    / "pipelines/mirror/sample/code/github/meta-llama/llama/revisions"
    / "1076b9c51c77ad06e9d7ba8a4c6df775741732bd/files/LICENSE"
).read_bytes()
USE_POLICY = (
    b"# Llama 2 Acceptable Use Policy\n\nMeta is committed to promoting safe and fair use of its tools and "
    b"features, including Llama 2. If you access or use Llama 2, you agree to this Acceptable Use Policy "
    b'("Policy").\n\n## Prohibited Uses\n\nWe want everyone to use Llama 2 safely and responsibly.\n'
)
LLAMA = "meta-x/llama-2-7b"
GATED = "acme/gated-7b"
NOFILES = "acme/no-file-list"
LOST = "acme/lost-licence"
CORPUS = "acme/corpus"
DAY1, DAY2 = "2024-01-20", "2024-02-20"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _sha(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


def _info(repo_id: str, date: str, files: list[str] | None, gated: object = False) -> dict:
    info = {
        "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24],
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.split("/")[0],
        "lastModified": date,
        "createdAt": "2024-01-10T10:00:00.000Z",
        "private": False,
        "disabled": False,
        "gated": gated,
        "downloads": 10,
        "likes": 1,
        "tags": ["transformers", "text-generation"],
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "cardData": {"license": "llama2", "datasets": [CORPUS]},
    }
    if files is not None:  # None: the file list is not recorded (unknown)
        info["siblings"] = [{"rfilename": f} for f in sorted(files)]
    return info


def _readme(repo_id: str, date: str) -> str:
    return f"---\nlicense: llama2\n---\n\n# {repo_id}\n\nCard of {date}.\n"


def make_licence_mirror(root: Path) -> dict[str, list[str]]:
    """A mirror whose llama repo has LICENSE (Llama 2) and USE_POLICY.md at two commits (same LICENSE blob,
    new policy text at the second); a gated repo with a LICENSE; a repo whose file list is unknown; and a
    repo whose file list names a LICENSE.md the Hub does not serve. Returns each repo's commit ids."""
    writer = MirrorWriter(root, title="licence test mirror", sources=["tests/hub/test_licence_files.py"])
    commits: dict[str, list[str]] = {}
    history = {
        LLAMA: [
            ("2024-01-10T10:00:00.000Z", {"LICENSE": LLAMA2, "USE_POLICY.md": USE_POLICY}),
            ("2024-02-10T10:00:00.000Z", {"LICENSE": LLAMA2, "USE_POLICY.md": USE_POLICY + b"\nUpdated.\n"}),
        ],
        GATED: [("2024-01-12T10:00:00.000Z", {"LICENSE": LLAMA2})],
        NOFILES: [("2024-01-13T10:00:00.000Z", None)],
        LOST: [("2024-01-14T10:00:00.000Z", {})],
    }
    for repo_id, revisions in history.items():
        for date, extra in revisions:
            commit = Commit(id=_sha(repo_id, date), date=date, title="update", authors=["tester"])
            commits.setdefault(repo_id, []).append(commit.id)
            files = {"README.md": _readme(repo_id, date), **(extra or {})}
            listed = (
                None
                if extra is None
                else sorted([*files, "config.json"] + (["LICENSE.md"] if repo_id == LOST else []))
            )
            info = _info(repo_id, date, listed, gated="manual" if repo_id == GATED else False)
            writer.add_revision("models", repo_id, commit, info, files=files)
    commit = Commit(id=_sha(CORPUS, "2024-01-05"), date="2024-01-05T10:00:00.000Z", title="data")
    commits[CORPUS] = [commit.id]
    info = {
        "_id": hashlib.md5(CORPUS.encode()).hexdigest()[:24],
        "id": CORPUS,
        "author": "acme",
        "lastModified": commit.date,
        "private": False,
        "disabled": False,
        "gated": False,
        "tags": ["license:gpl-3.0"],
        "cardData": {"license": "gpl-3.0"},
        "siblings": [{"rfilename": f} for f in ("LICENSE", "README.md", "data.jsonl")],
    }
    files = {"README.md": "---\nlicense: gpl-3.0\n---\n\n# Corpus\n", "LICENSE": GPL3}
    writer.add_revision("datasets", CORPUS, commit, info, files=files)
    writer.finish()
    return commits


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    root = tmp_path_factory.mktemp("licence-mirror")
    return root, make_licence_mirror(root)


@pytest.fixture(scope="module")
def daily(mirror, tmp_path_factory):
    """Two daily crawls (listing, READMEs, then licence files), each seeing one llama commit."""
    root, _ = mirror
    wh = Warehouse(tmp_path_factory.mktemp("daily"))
    logs = {}
    with MirrorServer(root) as srv:
        for day in (DAY1, DAY2):
            run_crawl(wh, settings(srv.url), day, now=NOW)
            srv.reset_log()
            logs[day] = {
                "result": run_license_files(wh, settings(srv.url), day, now=NOW),
                "log": srv.requests,
            }
    return wh, logs


def _raw(wh: Warehouse) -> pl.DataFrame:
    return wh.raw.scan("hub_license_files", LICENSE_FILE_RAW_SCHEMA).collect()


def _resolves(log: list[dict], method: str, name: str) -> list[dict]:
    return [e for e in log if e["method"] == method and "/resolve/" in e["path"] and e["path"].endswith(name)]


def test_licence_siblings_picks_licences_and_policies_and_knows_an_unknown_list():
    files = [
        {"rfilename": n} for n in ("README.md", "LICENSE", "USE_POLICY.md", "model.safetensors", "NOTICE")
    ]
    files.append({"rfilename": "MODEL_LICENSE", "blobId": "ab" * 20})
    assert licence_siblings(files) == [
        ("LICENSE", "licence", None),
        ("MODEL_LICENSE", "licence", "ab" * 20),
        ("USE_POLICY.md", "policy", None),
    ]
    assert licence_siblings(None) is None
    assert licence_siblings([{"rfilename": "README.md"}]) == []


def test_same_blob_is_fetched_once_across_revisions(daily, mirror):
    wh, logs = daily
    _, commits = mirror
    # Day 1: the llama LICENSE is read (one GET); day 2: a HEAD shows the same blob, no GET.
    assert len(_resolves(logs[DAY1]["log"], "GET", "/LICENSE")) == 1
    assert len(_resolves(logs[DAY2]["log"], "GET", "/LICENSE")) == 0
    assert len(_resolves(logs[DAY2]["log"], "HEAD", "/LICENSE")) == 1
    # The changed policy is a new blob: read again on day 2.
    assert len(_resolves(logs[DAY2]["log"], "GET", "/USE_POLICY.md")) == 1
    assert logs[DAY2]["result"]["same_blob"] == 1
    raw = _raw(wh).filter(pl.col("repo_id") == LLAMA).sort("revision", "path")
    licence = raw.filter(pl.col("path") == "LICENSE")
    assert licence.height == 2
    assert set(licence["revision"]) == set(commits[LLAMA])
    assert set(licence["blob_sha"]) == {git_blob_sha1(LLAMA2)}
    assert licence.filter(pl.col("content").is_not_null())["content"].to_list() == [LLAMA2]
    assert licence["status"].to_list() == ["ok", "ok"]
    policy = raw.filter(pl.col("path") == "USE_POLICY.md")
    assert policy["file_kind"].to_list() == ["policy", "policy"]
    assert policy["content"].null_count() == 0  # two different blobs, each read once


def test_accounted_in_the_resolver_bucket(daily):
    wh, logs = daily
    cost = logs[DAY1]["result"]
    assert cost["requests"]["resolvers"] == len([e for e in logs[DAY1]["log"] if "/resolve/" in e["path"]])
    assert cost["requests"].get("api", 0) == 0
    runs = wh.raw.scan("crawl_run").collect().filter(pl.col("scope").str.starts_with("license_files"))
    assert runs.height == 2
    day1 = runs.filter(pl.col("crawl_date") == DAY1).row(0, named=True)
    assert day1["requests_resolvers"] == cost["requests"]["resolvers"]
    assert day1["readmes_fetched"] == len(_resolves(logs[DAY1]["log"], "GET", ""))


def test_gated_missing_and_unknown_file_lists(daily):
    wh, logs = daily
    raw = _raw(wh)
    gated = raw.filter(pl.col("repo_id") == GATED)
    assert gated["status"].to_list() == ["gated"] and gated["content"].null_count() == 1
    assert gated["detail"][0].startswith("HTTP 401 (HEAD): Access to model acme/gated-7b is restricted")
    lost = raw.filter(pl.col("repo_id") == LOST)
    assert lost.select("path", "status").rows() == [("LICENSE.md", "missing")]
    assert lost["detail"].to_list() == ["HTTP 404 (HEAD): Entry not found"]
    # No file list: no rows and not a single resolver request for it.
    assert raw.filter(pl.col("repo_id") == NOFILES).is_empty()
    assert not [e for d in logs.values() for e in d["log"] if NOFILES in e["path"]]
    # The crawl went on past the gated and missing files: the llama files are there.
    assert raw.filter(pl.col("repo_id") == LLAMA).height == 4
    # Final outcomes are not asked again the next day.
    assert not [e for e in logs[DAY2]["log"] if GATED in e["path"] or LOST in e["path"]]


def test_core_license_files_and_revision_licence_files(daily, mirror):
    wh, _ = daily
    _, commits = mirror
    with wh.connect() as con:
        first = run_step("code", wh, con)
        table = con.sql("SELECT * FROM core.license_files WHERE host = 'hub'").pl()
        again = run_step("code", wh, con)
        full = run_step("code", wh, con, full=True)
        table_full = con.sql("SELECT * FROM core.license_files WHERE host = 'hub'").pl()
    assert again["licence_blobs_identified"] == 0  # incremental: nothing new to identify
    assert first["licence_blobs_identified"] == full["licence_blobs_identified"] == 3
    assert table.sort("repo", "path", "blob_sha").equals(table_full.sort("repo", "path", "blob_sha"))
    licence = table.filter(pl.col("path") == "LICENSE").row(0, named=True)
    assert table.filter(pl.col("path") == "LICENSE").height == 1  # one row per blob
    assert licence["repo"] == LLAMA and licence["revision"] == commits[LLAMA][0]
    assert licence["license_id"] == "llama2" and licence["license_family"] != "unknown"
    assert licence["file_kind"] == "licence" and licence["score"] >= 80
    assert "llama-2" in licence["matched_rules"]
    policies = table.filter(pl.col("path") == "USE_POLICY.md")
    assert policies.height == 2 and set(policies["file_kind"]) == {"policy"}
    per_rev = revision_licence_files(_raw(wh), table)
    for sha in commits[LLAMA]:
        rows = per_rev.filter((pl.col("repo_id") == LLAMA) & (pl.col("revision") == sha))
        assert rows["path"].to_list() == ["LICENSE", "USE_POLICY.md"]
        lic = rows.row(0, named=True)
        assert (lic["license_id"], lic["license_family"]) == ("llama2", licence["license_family"])
        assert lic["matched_rule"] == licence["matched_rules"] and lic["coverage"] == licence["coverage"]
    gated = per_rev.filter(pl.col("repo_id") == GATED).row(0, named=True)
    assert gated["status"] == "gated" and gated["license_id"] is None
    assert per_rev.filter(pl.col("repo_id") == NOFILES).is_empty()


def test_history_walk_blob_ids_spare_the_head(mirror, tmp_path):
    """After the history walk, revision infos carry blob ids: the older commit costs no HEAD, and the
    LICENSE blob is still read only once."""
    root, commits = mirror
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(root) as srv:
        run_crawl(wh, settings(srv.url), DAY2, now=NOW)
        run_history(wh, settings(srv.url), DAY2, now=NOW)
        srv.reset_log()
        run_license_files(wh, settings(srv.url), DAY2, now=NOW)
        log = srv.requests
    old = commits[LLAMA][0]
    assert not [e for e in log if e["method"] == "HEAD" and old in e["path"]]
    assert len(_resolves(log, "GET", "/LICENSE")) == 1
    raw = _raw(wh).filter((pl.col("repo_id") == LLAMA) & (pl.col("revision") == old))
    assert set(raw["blob_source"]) == {"file_list"}


def test_a_failing_file_is_recorded_as_error_and_asked_again(mirror, tmp_path):
    """A licence file that keeps failing (5xx) is an `error` row; the others are captured; the next crawl
    asks only for the failed one."""
    from pipelines.mirror.faults import FaultConfig

    root, commits = mirror
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(root) as srv:
        run_crawl(wh, settings(srv.url), DAY1, now=NOW)
        srv.set_faults(FaultConfig(seed=1, rate_5xx=1.0, paths=rf"/{LLAMA}/resolve/.*/LICENSE$"))
        run_license_files(wh, settings(srv.url, max_retries=1), DAY1, now=NOW)
        first = _raw(wh).filter(pl.col("repo_id") == LLAMA)
        srv.set_faults(None)
        srv.reset_log()
        run_license_files(wh, settings(srv.url), DAY1, now=NOW)
        log = srv.requests
    assert first.select("path", "status").sort("path").rows() == [
        ("LICENSE", "error"),
        ("USE_POLICY.md", "ok"),
    ]
    assert "gave up after 2 attempts: HTTP 5" in first.filter(pl.col("path") == "LICENSE")["detail"][0]
    assert {e["path"].rsplit("/", 1)[-1] for e in log if "/resolve/" in e["path"]} == {"LICENSE"}
    # The error row is superseded by the capture that succeeded (no identification built here).
    per_rev = revision_licence_files(_raw(wh), pl.DataFrame(schema=LICENSE_FILES_SCHEMA))
    row = per_rev.filter((pl.col("repo_id") == LLAMA) & (pl.col("path") == "LICENSE")).row(0, named=True)
    assert row["status"] == "ok" and row["blob_sha"] == git_blob_sha1(LLAMA2)


def test_dataset_licence_files(mirror, tmp_path):
    """The datasets step's infos have their licence files captured too, under `repo_type` dataset, and their
    blobs identified into core.license_files as `datasets/<id>`."""
    from pipelines.hub.step import run_datasets

    root, commits = mirror
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(root) as srv:
        run_crawl(wh, settings(srv.url), DAY1, now=NOW)
        run_datasets(wh, settings(srv.url), DAY1, now=NOW)
        srv.reset_log()
        result = run_license_files(wh, settings(srv.url), DAY1, repo_type="dataset", now=NOW)
        log = srv.requests
    assert result["licence_files_planned"] == 1
    assert [e["method"] for e in _resolves(log, "GET", "/LICENSE")] == ["GET"]
    assert all(f"/datasets/{CORPUS}/resolve/" in e["path"] for e in log)
    raw = _raw(wh)
    assert raw.select("repo_type", "repo_id", "revision", "path", "status").rows() == [
        ("dataset", CORPUS, commits[CORPUS][0], "LICENSE", "ok")
    ]
    with wh.connect() as con:
        run_step("code", wh, con)
        table = con.sql("SELECT * FROM core.license_files WHERE host = 'hub'").pl()
    row = table.row(0, named=True)
    assert table.height == 1 and row["repo"] == f"datasets/{CORPUS}"
    assert row["license_id"] == "gpl-3.0" and row["blob_sha"] == git_blob_sha1(GPL3)
    assert revision_licence_files(raw, table).is_empty()  # the models' revisions only, by default
    per_rev = revision_licence_files(raw, table, repo_type="dataset")
    assert per_rev.select("repo_type", "repo_id", "license_id").rows() == [("dataset", CORPUS, "gpl-3.0")]


def test_incremental_build_identifies_only_new_blobs(mirror, tmp_path):
    """A build after each crawl date identifies only the blobs it does not hold, and ends equal to a full
    rebuild."""
    root, commits = mirror
    wh = Warehouse(tmp_path / "wh")
    identified = []
    with MirrorServer(root) as srv, wh.connect() as con:
        for day in (DAY1, DAY2):
            run_crawl(wh, settings(srv.url), day, now=NOW)
            run_license_files(wh, settings(srv.url), day, now=NOW)
            identified.append(run_step("code", wh, con)["licence_blobs_identified"])
        incremental = (
            con.sql("SELECT * FROM core.license_files").pl().sort("host", "repo", "path", "blob_sha")
        )
        run_step("code", wh, con, full=True)
        full = con.sql("SELECT * FROM core.license_files").pl().sort("host", "repo", "path", "blob_sha")
    # Day 1: the Llama 2 LICENSE and the first policy; day 2: only the changed policy (LICENSE: same blob).
    assert identified == [2, 1]
    assert incremental.equals(full)
    assert incremental.filter(pl.col("host") == "hub")["revision"].to_list().count(commits[LLAMA][1]) == 1
