"""Bad cards are kept raw and flagged, and the release is still tracked (through the mirror and the crawler)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.hub.step import run_crawl
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings

DATE = "2024-05-01T10:00:00.000Z"
READMES = {
    "bad/malformed-yaml": b"---\nlicense: [apache-2.0\ndatasets: {oops\n---\n# Card\n",
    "bad/latin1": "---\nlicense: mit\n---\n# Caf\xe9 model\n\nTrained in Z\xfcrich.\n".encode("latin-1"),
    "bad/oversized": b"---\nlicense: apache-2.0\n---\n# Huge\n" + b"x" * 3_000_000,
    "good/control": b"---\nlicense: mit\n---\n# Fine\n",
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    writer = MirrorWriter(base / "mirror", title="bad cards")
    for i, (repo, readme) in enumerate(sorted(READMES.items())):
        sha = f"{i + 1:040x}"
        info = {
            "id": repo,
            "author": repo.split("/")[0],
            "lastModified": DATE,
            "createdAt": DATE,
            "private": False,
            "gated": False,
            "tags": ["license:mit"],
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
            "cardData": {"license": "mit"},
        }
        writer.add_revision(
            "models", repo, Commit(id=sha, date=DATE, title="init"), info, files={"README.md": readme}
        )
    writer.finish()
    wh = Warehouse(base / "wh")
    with MirrorServer(base / "mirror") as srv:
        run_crawl(wh, settings(srv.url), "2024-05-02", now=datetime(2026, 1, 1, tzinfo=UTC))
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
    return wh


def _q(wh: Warehouse, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(wh.work_db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.parametrize(
    "repo,status",
    [
        ("bad/malformed-yaml", "malformed_yaml"),
        ("bad/latin1", "non_utf8"),
        ("bad/oversized", "oversized"),
        ("good/control", "ok"),
    ],
)
def test_bad_readmes_are_flagged_and_the_release_is_kept(crawled, repo, status):
    (got,) = _q(crawled, "SELECT readme_status FROM core.revisions WHERE repo_id = ?", [repo])
    assert got[0] == status
    assert _q(crawled, "SELECT count(*) FROM core.releases WHERE repo_id = ?", [repo]) == [(1,)]
    quarantined = _q(crawled, "SELECT reason FROM core.quarantine WHERE repo_id = ?", [repo])
    assert quarantined == ([] if status == "ok" else [(status,)])


def test_bad_readmes_are_kept_raw_byte_for_byte(crawled):
    frame = crawled.raw.scan("hub_readme").collect()
    stored = {r: c for r, c in frame.select("repo_id", "content").iter_rows()}
    for repo, readme in READMES.items():
        assert stored[repo] == readme


def test_licence_still_comes_from_the_api_when_the_yaml_is_broken(crawled):
    (row,) = _q(
        crawled, "SELECT license_raw, license_tags FROM core.revisions WHERE repo_id = 'bad/malformed-yaml'"
    )
    assert row == ("mit", ["mit"])
    (latin,) = _q(crawled, "SELECT license_raw FROM core.revisions WHERE repo_id = 'bad/latin1'")
    assert latin == ("mit",)
