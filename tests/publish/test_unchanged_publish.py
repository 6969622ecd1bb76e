"""A publish whose content is the latest version's, but for run bookkeeping, publishes nothing new."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.publish.publish import describe_progress, publish
from pipelines.publish.snapshot import content_fingerprint, published_versions, read_latest
from pipelines.storage.warehouse import Warehouse, migrate
from tests.quality.conftest import fill_clean


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    """A warehouse with clean rows in every public table and one published version."""
    wh = Warehouse(tmp_path / "warehouse")
    with wh.connect() as con:
        fill_clean(con)
        publish(wh, con)
    return wh


def _publish(wh: Warehouse, **kwargs) -> tuple[Path, list[tuple[str, str]]]:
    events: list[tuple[str, str]] = []
    with wh.connect() as con:
        folder = publish(wh, con, progress=lambda e, d: events.append((e, d)), **kwargs)
    return folder, events


def test_a_publish_of_the_same_content_publishes_nothing_and_a_real_change_does(wh):
    (first,) = published_versions(wh.snapshots)
    with wh.connect() as con:
        # Run bookkeeping only: the crawl steps ran again (their cost adds to the same rows, on a new port),
        # and the rows are stored in another order.
        con.execute(
            "UPDATE core.crawl_runs SET seconds = coalesce(seconds, 0) + 7, finished_at = now(), "
            "requests_api = coalesce(requests_api, 0) + 3, endpoint = 'http://127.0.0.1:54321', "
            "detail = 'attempts: 2'"
        )
        con.execute(
            "CREATE TABLE core.releases_shuffled AS SELECT * FROM core.releases ORDER BY repo_id DESC"
        )
        con.execute("DROP TABLE core.releases")
        con.execute("ALTER TABLE core.releases_shuffled RENAME TO releases")

    folder, events = _publish(wh)
    assert folder.name == first
    assert ("unchanged", first) in events
    assert describe_progress("unchanged", first) == f"no change since {first}: nothing published"
    assert published_versions(wh.snapshots) == [first]
    assert read_latest(wh.snapshots) == wh.serving_version() == first

    with wh.connect() as con:  # a real change: one release's task tag
        repo = con.execute("SELECT min(repo_id) FROM core.releases").fetchone()[0]
        con.execute("UPDATE core.releases SET pipeline_tag = 'image-to-text' WHERE repo_id = ?", [repo])
    folder, events = _publish(wh)
    assert folder.name != first and not any(e == "unchanged" for e, _ in events)
    assert published_versions(wh.snapshots) == [first, folder.name]
    assert read_latest(wh.snapshots) == wh.serving_version() == folder.name

    folder, events = _publish(wh, force=True)  # asked for: the same content again makes a version
    assert len(published_versions(wh.snapshots)) == 3 and read_latest(wh.snapshots) == folder.name


def test_the_fingerprint_leaves_out_row_order_and_bookkeeping_but_sees_values_and_columns(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        migrate(con)
        fill_clean(con)
        base = content_fingerprint(con)
        con.execute("UPDATE core.crawl_runs SET seconds = seconds + 1, bytes_total = bytes_total * 2")
        con.execute("CREATE TABLE core.r2 AS SELECT * FROM core.releases ORDER BY repo_id DESC")
        con.execute("DROP TABLE core.releases")
        con.execute("ALTER TABLE core.r2 RENAME TO releases")
        assert content_fingerprint(con) == base
        con.execute("UPDATE core.crawl_runs SET pages = pages + 1")  # what a crawl found is content
        changed = content_fingerprint(con)
        assert changed["crawl_runs"] != base["crawl_runs"]
        assert {k for k in base if changed[k] != base[k]} == {"crawl_runs"}
        con.execute("ALTER TABLE core.releases RENAME COLUMN library_name TO library")
        assert content_fingerprint(con)["releases"] != base["releases"]
