"""The serving file: views over the published version's Parquet files, not a copy of the working database.

A user's read-only session opened before a publish keeps reading the version it opened (its views name that
version's immutable files); a session opened after it reads the new one.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.cleanup import removable_versions, remove_old_versions
from pipelines.publish.publish import publish_version, serving_views
from pipelines.publish.snapshot import published_versions, set_latest
from pipelines.storage.warehouse import Warehouse
from tests.conftest import start_reader
from tests.publish.conftest import add_crawl, add_release

FIRST, SECOND = "2024-03-01.1", "2024-03-02.1"
MART = "CREATE TABLE marts.monthly_usage AS SELECT DATE '2024-03-01' AS month, 3 AS releases"


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)  # noqa: S608 - test tables


def _served_objects(path: Path) -> tuple[dict[str, str], set[str]]:
    """(view -> its SQL, base tables) of the core and marts schemas of a serving file."""
    with duckdb.connect(str(path), read_only=True) as con:
        views = dict(
            con.execute(
                "SELECT schema_name || '.' || view_name, sql FROM duckdb_views() "
                "WHERE schema_name IN ('core', 'marts')"
            ).fetchall()
        )
        tables = {
            r[0]
            for r in con.execute(
                "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                "WHERE schema_name IN ('core', 'marts')"
            ).fetchall()
        }
    return views, tables


@pytest.fixture
def wh(tmp_path: Path, warehouse: duckdb.DuckDBPyConnection) -> Warehouse:
    """The conftest's small working file (three releases, one crawl), with a mart, as a warehouse."""
    warehouse.execute("CREATE SCHEMA marts")
    warehouse.execute(MART)
    warehouse.execute(
        "INSERT INTO core.quarantine (source, reference, repo_id, reason) "
        "VALUES ('hub_readme', 'r', 'acme/alpha', 'x')"
    )
    return Warehouse(tmp_path)


def test_the_serving_file_has_views_over_the_version_and_serves_what_the_working_file_holds(wh, warehouse):
    folder = publish_version(wh, warehouse, "2024-03-01")
    manifest = json.loads((folder / "manifest.json").read_text())

    views, tables = _served_objects(wh.serving_db)
    # Every snapshot table is a view over its file in the version folder (absolute path), not a copy.
    assert set(views) == {f"core.{name}" for name in manifest["tables"]}
    for view, sql in views.items():
        name = view.removeprefix("core.")
        paths = [e["path"] for e in manifest["files"].values() if e["table"] == name]
        assert paths and all(f"'{folder.resolve() / p}'" in sql for p in paths), sql
    # The tables a snapshot leaves out are copied: the mart and the internal core tables.
    assert {"marts.monthly_usage", "core.quarantine", "core.repo_presence"} <= tables
    assert not tables & set(views)
    assert wh.serving_version() == FIRST
    # Every table users query holds on the serving file what the working file holds.
    served = duckdb.connect(str(wh.serving_db), read_only=True)
    try:
        for table in sorted(views.keys() | tables):
            assert _rows(served, table) == _rows(warehouse, table), table
    finally:
        served.close()


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def answer():
    print(con.execute("SELECT count(*) FROM core.releases").fetchone()[0],
          con.execute("SELECT max(repo_id) FROM core.revisions").fetchone()[0],
          con.execute("SELECT snapshot_version FROM meta.serving").fetchone()[0],
          con.execute("SELECT releases FROM marts.monthly_usage").fetchone()[0], flush=True)
answer()
sys.stdin.readline()
answer()
"""


def test_a_session_open_across_a_publish_keeps_reading_its_version(wh, warehouse):
    publish_version(wh, warehouse, "2024-03-01")
    reader = start_reader(READER, wh.serving_db)
    try:
        before = reader.stdout.readline().split()
        assert before == ["3", "zeta/gamma", FIRST, "3"]

        add_release(warehouse, "zz/delta", "2024-03-02")  # sorts last: the new version's max(repo_id)
        add_crawl(warehouse, "2024-03-02")
        warehouse.execute("UPDATE marts.monthly_usage SET releases = 4")
        publish_version(wh, warehouse, "2024-03-02")

        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().split() == before  # the open session: one version, the one it opened
        assert reader.wait(timeout=30) == 0
    finally:
        reader.kill()
        reader.communicate()
    with duckdb.connect(str(wh.serving_db), read_only=True) as con:  # a new session reads the new version
        assert con.execute("SELECT count(*), max(repo_id) FROM core.releases").fetchone() == (4, "zz/delta")
        assert con.execute("SELECT snapshot_version FROM meta.serving").fetchone()[0] == SECOND
        assert con.execute("SELECT releases FROM marts.monthly_usage").fetchone()[0] == 4


def _manifest(folder: Path, paths: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {p: {"path": p, "rows": 0, "bytes": 0, "sha256": ""} for p in paths}
    docs = {"README.md": {"path": "README.md", "bytes": 0, "sha256": ""}}
    (folder / "manifest.json").write_text(json.dumps({"tables": tables, "documents": docs}))


def test_a_table_split_into_parts_is_one_view_over_all_its_files(wh, warehouse, tmp_path):
    folder = tmp_path / "snapshots" / "2024-03-05.1"
    (folder / "releases").mkdir(parents=True)
    for part, org in enumerate(["acme", "zeta"]):
        warehouse.execute(
            f"COPY (SELECT * FROM core.releases WHERE org = '{org}') "  # noqa: S608 - test values
            f"TO '{folder / 'releases' / f'{part:04d}.parquet'}' (FORMAT parquet)"
        )
    warehouse.execute(f"COPY core.revisions TO '{folder / 'revisions.parquet'}' (FORMAT parquet)")
    _manifest(folder, ["releases/0000.parquet", "releases/0001.parquet", "revisions.parquet"])

    views = serving_views(folder)
    assert views == {
        "core.releases": [folder / "releases" / "0000.parquet", folder / "releases" / "0001.parquet"],
        "core.revisions": [folder / "revisions.parquet"],
    }
    wh.publish_serving(warehouse, folder.name, views)
    with duckdb.connect(str(wh.serving_db), read_only=True) as con:
        assert _rows(con, "core.releases") == _rows(warehouse, "core.releases")
        assert con.execute("SELECT count(*) FROM core.revisions").fetchone()[0] == 3
    assert wh.serving_version() == "2024-03-05.1"


@pytest.mark.parametrize(
    ("path", "message"),
    [("../releases.parquet", "escapes the version"), ("nope.parquet", "not a file of a public table")],
)
def test_a_manifest_entry_outside_the_version_or_no_public_table_is_refused(tmp_path, path, message):
    folder = tmp_path / "2024-03-05.1"
    _manifest(folder, ["releases.parquet", path])
    with pytest.raises(ValueError, match=message):
        serving_views(folder)


def test_removing_old_versions_keeps_the_served_one_the_one_before_it_and_latest(wh, warehouse):
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        publish_version(wh, warehouse, day)
    reader = duckdb.connect(str(wh.serving_db), read_only=True)  # opened on 2024-03-03.1
    try:
        with pytest.raises(ValueError, match="keep must be at least 2"):
            removable_versions(wh, keep=1)
        # LATEST behind the serving file (a publish killed between its renames): kept as well.
        set_latest(wh.snapshots, "2024-03-01.1")
        assert removable_versions(wh, keep=2) == []
        set_latest(wh.snapshots, "2024-03-03.1")

        removed = remove_old_versions(wh, keep=2)

        assert removed == [wh.snapshots / "2024-03-01.1"]
        # The served version and the one before it (a session opened before the last publish reads it).
        assert published_versions(wh.snapshots) == ["2024-03-02.1", "2024-03-03.1"]
        assert remove_old_versions(wh, keep=2) == []
        assert reader.execute("SELECT count(*) FROM core.releases").fetchone()[0] == 3  # its files are there
    finally:
        reader.close()
