"""The serving database: a user's open read-only session never blocks a run and never sees half a run."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.hub.step import run_crawl
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.publish.publish import publish
from pipelines.publish.snapshot import read_latest
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse, sql_text
from tests.conftest import ROOT, start_reader
from tests.hub.crawl_helpers import settings
from tests.small_mirror import SMALL_REPOS, make_small_mirror

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# A user's session: opens the serving file read-only, answers, waits for a line on stdin, answers again.
READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
q = "SELECT count(*) FROM core.releases"
print(con.execute(q).fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute(q).fetchone()[0], flush=True)
"""


def _cycle(wh: Warehouse, mirror, day: str) -> None:
    with MirrorServer(mirror) as srv:
        run_crawl(wh, settings(srv.url), day, now=NOW)
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
        run_step("crawl_runs", wh, con, full=True)
        folder = publish(wh, con)
    # LATEST and the serving file name the same version (meta.serving).
    assert read_latest(wh.snapshots) == wh.serving_version() == folder.name


def test_open_session_keeps_its_version_while_a_run_publishes(tmp_path):
    mirror = make_small_mirror(tmp_path / "mirror")
    wh = Warehouse(tmp_path / "wh")
    _cycle(wh, mirror, "2024-03-06")
    before = len(SMALL_REPOS)

    reader = start_reader(READER, wh.serving_db)
    assert int(reader.stdout.readline()) == before

    # A new model appears on the Hub; the next run crawls, rebuilds and publishes while the session is open.
    writer = MirrorWriter(mirror, title="test mirror")
    date = "2024-03-10T12:00:00.000Z"
    info = {
        "_id": "f" * 24,
        "id": "gamma/new-model",
        "author": "gamma",
        "lastModified": date,
        "createdAt": date,
        "private": False,
        "gated": False,
        "tags": ["license:mit"],
        "cardData": {"license": "mit"},
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
    }
    writer.add_revision(
        "models",
        "gamma/new-model",
        Commit(id="e" * 40, date=date, title="init"),
        info,
        files={"README.md": "---\nlicense: mit\n---\n# New\n"},
    )
    writer.finish()
    _cycle(wh, mirror, "2024-03-11")  # must not fail on the reader's lock

    reader.stdin.write("\n")
    reader.stdin.flush()
    assert int(reader.stdout.readline()) == before  # the open session still answers, with its version
    reader.wait(timeout=30)

    with duckdb.connect(str(wh.serving_db), read_only=True) as con:  # a new session sees the new data
        assert con.execute("SELECT count(*) FROM core.releases").fetchone()[0] == before + 1

    # The second snapshot's changelog names the new release.
    versions = sorted(p.name for p in wh.snapshots.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(versions) == 2
    changelog = (wh.snapshots / versions[-1] / "CHANGELOG.md").read_text()
    assert "gamma/new-model" in changelog
    assert versions[0] in changelog


def _releases(path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM core.releases").fetchone()[0]


def test_a_failed_snapshot_leaves_the_serving_file_as_it_was(tmp_path):
    mirror = make_small_mirror(tmp_path / "mirror")
    wh = Warehouse(tmp_path / "wh")
    _cycle(wh, mirror, "2024-03-06")
    served = wh.serving_db.read_bytes()
    with wh.connect() as con:  # a change the next publish would serve
        con.execute(
            "UPDATE core.releases SET last_seen = last_seen + INTERVAL 1 SECOND WHERE repo_id = ?",
            [next(iter(SMALL_REPOS))],
        )
    # The snapshot cannot be written (its folder is in the way): the serving file is not replaced.
    shutil.move(wh.snapshots, tmp_path / "kept")
    wh.snapshots.write_text("not a folder")
    with wh.connect() as con:
        try:
            publish(wh, con, reuse_checks=False)
        except OSError:
            pass
        else:
            raise AssertionError("publishing into a file must fail")
    assert wh.serving_db.read_bytes() == served
    assert not list(wh.root.glob(".openness.duckdb.*"))


@pytest.mark.slow
def test_the_demo_serving_file_answers_every_example_query_as_the_working_file_does(small_demo):
    base, _ = small_demo
    wh = Warehouse(base / "wh")
    queries = {
        path.stem: sql_text(f"queries/{path.name}")
        for path in sorted((ROOT / "sql" / "queries").glob("*.sql"))
    }
    params = {
        "licence_family_changes": ["2000-01-01", "2100-01-01"],
        "repo_timeline": [next(iter(SMALL_REPOS))],
    }
    with (
        duckdb.connect(str(wh.work_db), read_only=True) as work,
        duckdb.connect(str(wh.serving_db), read_only=True) as served,
    ):
        views = {
            r[0]
            for r in served.execute(
                "SELECT view_name FROM duckdb_views() WHERE schema_name = 'core'"
            ).fetchall()
        }
        assert views >= {"revisions", "releases", "openness", "transitions", "derivatives"}
        tables = work.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
            "WHERE schema_name IN ('core', 'marts')"
        ).fetchall()
        for (table,) in tables:  # every table users query, as a view or a copy, holds the same rows
            query = f"SELECT * FROM {table} ORDER BY ALL"  # noqa: S608 - names from the catalog
            assert served.execute(query).fetchall() == work.execute(query).fetchall(), table
        for name, sql in queries.items():
            assert (
                served.execute(sql, params.get(name, [])).fetchall()
                == work.execute(sql, params.get(name, [])).fetchall()
            ), name
