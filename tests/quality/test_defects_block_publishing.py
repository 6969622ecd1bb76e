"""Each kind of defect, injected into a real built warehouse, fails its check and blocks publishing."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from pipelines.publish.publish import PublishBlocked, publish
from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import build_all, crawl

# Each defect: SQL that injects it, and the gate or suite that must catch it.
DEFECTS = {
    "duplicate key": (
        [
            "CREATE TABLE core.r2 AS SELECT * FROM core.releases",
            "INSERT INTO core.r2 SELECT * FROM core.releases LIMIT 1",
            "DROP TABLE core.releases",
            "ALTER TABLE core.r2 RENAME TO releases",
        ],
        "releases suite",
    ),
    "null in a key": (
        [
            "UPDATE core.openness SET revision = NULL WHERE repo_id = 'mistralai/Mistral-7B-v0.1' "
            "AND valid_to IS NULL"
        ],
        "openness suite",
    ),
    "unknown licence id": (
        [
            "UPDATE core.openness SET license_id = 'no-such-licence', license_status = 'mapped' "
            "WHERE repo_id = 'mistralai/Mistral-7B-v0.1'"
        ],
        "openness suite",
    ),
    "inverted interval": (
        [
            "UPDATE core.openness SET valid_to = valid_from - INTERVAL 1 DAY "
            "WHERE valid_to IS NOT NULL AND repo_id = 'Qwen/Qwen-7B'"
        ],
        "openness suite",
    ),
    "dangling reference": (["DELETE FROM core.releases WHERE repo_id = 'Qwen/Qwen-7B'"], "revisions suite"),
    "collapsed row count": (
        [
            "DELETE FROM core.releases WHERE repo_id NOT LIKE 'm%'",
            "DELETE FROM core.revisions WHERE repo_id NOT LIKE 'm%'",
            "DELETE FROM core.openness WHERE repo_id NOT LIKE 'm%'",
            "DELETE FROM core.transitions WHERE repo_id NOT LIKE 'm%'",
            "DELETE FROM core.disclosures WHERE repo_id NOT LIKE 'm%'",
            "DELETE FROM core.release_papers WHERE repo_id NOT LIKE 'm%'",
            "DELETE FROM core.derivatives WHERE repo_id NOT LIKE 'm%'",
        ],
        "release_drop",
    ),
    "mass flip of spectrum levels": (
        [
            "UPDATE core.openness SET spectrum_level = (spectrum_level + 1) % 6 "
            "WHERE spectrum_level IS NOT NULL"
        ],
        "spectrum_flip",
    ),
}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The sample corpus built and published once (the previous snapshot the gates compare with)."""
    wh = Warehouse(tmp_path_factory.mktemp("clean"))
    crawl(wh, ["2025-04-15"], history=True)
    build_all(wh)
    with wh.connect() as con:
        first = publish(wh, con)
    return wh, first


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_blocks_publishing(published, defect, tmp_path):
    clean, first = published
    wh = Warehouse(tmp_path / "wh")
    shutil.copytree(clean.root, wh.root)
    statements, catcher = DEFECTS[defect]
    with duckdb.connect(str(wh.work_db)) as con:
        for sql in statements:
            con.execute(sql)
    with wh.connect() as con, pytest.raises(PublishBlocked) as blocked:
        publish(wh, con)
    assert catcher in str(blocked.value), str(blocked.value)
    assert "Data quality report" in blocked.value.report
    versions = sorted(p.name for p in wh.snapshots.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert versions == [first.name]  # nothing new was published
    assert (wh.snapshots / "LATEST").read_text().strip() == first.name


def test_quarantine_counts_are_in_the_manifest(published):
    clean, first = published
    manifest = json.loads((first / "manifest.json").read_text())
    with duckdb.connect(str(clean.work_db), read_only=True) as con:
        expected = dict(
            con.execute("SELECT reason, count(*) FROM core.quarantine GROUP BY reason").fetchall()
        )
    assert manifest["quarantine"] == expected
    assert manifest["checks"]["passed"] is True
