"""Deleted repos get `deleted_at` and keep their history; renamed repos are followed, not duplicated."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.hub.step import run_crawl
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FIRST, SWEEP = "2024-01-02", "2024-01-14"  # 2024-01-14 is a Sunday: the weekly full listing


def _info(repo: str, uid: str, date: str, licence: str) -> dict:
    return {
        "_id": uid,
        "id": repo,
        "author": repo.split("/")[0],
        "lastModified": date,
        "createdAt": date,
        "private": False,
        "gated": False,
        "tags": [f"license:{licence}"],
        "cardData": {"license": licence},
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
    }


def _write(root, repos: dict[str, tuple[str, list[tuple[str, str, str]]]]) -> None:
    writer = MirrorWriter(root, title="lifecycle")
    for repo, (uid, commits) in repos.items():
        for sha, date, licence in commits:
            card = f"---\nlicense: {licence}\n---\n# {repo}\n"
            writer.add_revision(
                "models",
                repo,
                Commit(id=sha, date=date, title="c"),
                _info(repo, uid, date, licence),
                files={"README.md": card},
            )
    writer.finish()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    base = tmp_path_factory.mktemp("life")
    old = [("a" * 40, "2024-01-01T10:00:00.000Z", "mit")]
    before = {
        "x/keep": ("0" * 24, [("b" * 40, "2024-01-01T09:00:00.000Z", "mit")]),
        "x/gone": ("1" * 24, [("c" * 40, "2024-01-01T08:00:00.000Z", "apache-2.0")]),
        "x/old": ("2" * 24, old),
    }
    _write(base / "mirror", before)
    wh = Warehouse(base / "wh")
    with MirrorServer(base / "mirror") as srv:
        run_crawl(wh, settings(srv.url), FIRST, now=NOW)
    # Later: x/gone is deleted, x/old is renamed x/new (same _id, same git history, one more commit).
    shutil.rmtree(base / "mirror")
    after = {
        "x/keep": before["x/keep"],
        "x/new": ("2" * 24, old + [("d" * 40, "2024-01-10T10:00:00.000Z", "apache-2.0")]),
    }
    _write(base / "mirror", after)
    with MirrorServer(base / "mirror") as srv:
        summary = run_crawl(wh, settings(srv.url), SWEEP, now=NOW)
        assert summary.models_deleted == 2  # x/gone, and x/old (whose old id no longer answers)
        checks = [r["path"] for r in srv.requests if r["path"].startswith(f"/as-of/{SWEEP}/api/models/")]
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
    return wh, checks


def _rows(wh, sql):
    with duckdb.connect(str(wh.work_db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_deleted_repo_gets_deleted_at_and_keeps_its_history(warehouse):
    wh, checks = warehouse
    assert f"/as-of/{SWEEP}/api/models/x/gone" in checks
    (deleted,) = _rows(wh, "SELECT deleted_at::DATE::VARCHAR FROM core.releases WHERE repo_id = 'x/gone'")
    assert deleted == (SWEEP,)
    assert _rows(wh, "SELECT license_raw FROM core.revisions WHERE repo_id = 'x/gone'") == [("apache-2.0",)]
    assert _rows(wh, "SELECT deleted_at FROM core.releases WHERE repo_id = 'x/keep'") == [(None,)]


def test_a_renamed_repo_is_followed_not_duplicated(warehouse):
    wh, _ = warehouse
    ids = [r[0] for r in _rows(wh, "SELECT repo_id FROM core.releases ORDER BY repo_id")]
    assert ids == ["x/gone", "x/keep", "x/new"]
    assert _rows(wh, "SELECT previous_ids, deleted_at FROM core.releases WHERE repo_id = 'x/new'") == [
        (["x/old"], None)
    ]
    revisions = _rows(
        wh,
        "SELECT revision, listed_as, license_raw FROM core.revisions WHERE repo_id = 'x/new' "
        "ORDER BY committed_at",
    )
    assert revisions == [("a" * 40, "x/old", "mit"), ("d" * 40, "x/new", "apache-2.0")]
