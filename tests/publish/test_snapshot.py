"""Writing snapshot versions: every file present and verified, card, changelog, immutability, atomicity."""

from __future__ import annotations

import json
import os
import shutil

import duckdb
import polars as pl
import pytest

from pipelines.publish import snapshot
from pipelines.publish.card import checks_summary, render_dataset_card
from pipelines.publish.markdown import frame_to_markdown, plural
from pipelines.publish.snapshot import existing_tables, sha256_file, verify_snapshot, write_snapshot
from pipelines.quality.gates import spectrum_flip
from tests.publish.conftest import add_crawl, add_release

EXTRA = {
    "crawl_window": {"from": "2024-03-01", "to": "2024-03-01"},
    "quarantine": {"bad_yaml": 2},
    # As publish records them: every table suite and every snapshot gate (pipelines/publish/publish.py).
    "checks": {
        "passed": True,
        "suites": {"releases": {"success": True}, "revisions": {"success": True}},
        "gates": {
            "passed": True,
            "gates": [
                {"name": n, "passed": True} for n in ("release_drop", "spectrum_flip", "crawl_incomplete")
            ],
            "override": None,
        },
    },
}


def test_snapshot_has_every_file_and_every_checksum_verifies(warehouse, tmp_path):
    snapshots = tmp_path / "snapshots"
    folder = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)

    assert folder == snapshots / "2024-03-01.1"
    assert (snapshots / "LATEST").read_text().strip() == "2024-03-01.1"
    manifest = verify_snapshot(folder)
    # Every public table the warehouse has (the migrations grow; these four are always there here).
    assert set(manifest["tables"]) == set(existing_tables(warehouse))
    assert set(manifest["tables"]) >= {"releases", "revisions", "transitions", "crawl_runs"}
    assert set(manifest["documents"]) == {"README.md", "CHANGELOG.md"}
    entries = [*manifest["files"].values(), *manifest["documents"].values()]
    listed = {e["path"] for e in entries}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk == listed | {"manifest.json"}
    # Every table is a folder of files `<table>/<n>.parquet`, read with one glob.
    assert {e["path"].split("/")[0] for e in manifest["files"].values()} == set(manifest["tables"])
    assert manifest["tables"]["releases"]["path"] == "releases/*.parquet"
    for entry in entries:
        assert sha256_file(folder / entry["path"]) == entry["sha256"]
        assert (folder / entry["path"]).stat().st_size == entry["bytes"]
    assert manifest["tables"]["releases"]["rows"] == 3
    assert manifest["version"] == "2024-03-01.1" and manifest["schema_version"] == 1
    assert manifest["rubric_version"]  # from the rubric file while nothing has been scored
    assert manifest["crawl_window"] == EXTRA["crawl_window"] and manifest["quarantine"] == {"bad_yaml": 2}
    assert manifest["previous_version"] is None
    assert not [p for p in snapshots.iterdir() if p.name.startswith(".tmp")]


def test_dataset_card_documents_schema_licence_and_citation(warehouse, tmp_path):
    warehouse.execute("ALTER TABLE core.releases ADD COLUMN mystery VARCHAR")
    folder = write_snapshot(warehouse, tmp_path / "snapshots", "2024-03-01", extra=EXTRA)
    card = (folder / "README.md").read_text()

    assert card.startswith("---\nlicense: cc-by-4.0\n")
    assert 'data_files: "releases/*.parquet"' in card
    assert "| `repo_id` | VARCHAR | Hub model repository id, `org/name`. |" in card
    assert "| `mystery` | VARCHAR | (undocumented) |" in card
    for needle in (
        "CC-BY-4.0",
        "belong to their owners",
        "CC0",
        "10.1145/3630106.3659005",
        "Liesenfeld",
        "MIT licence",
        "## How to cite",
        "@misc{openness_tracker_2024_03_01_1",
        "## Provenance",
        "bad_yaml: 2",
        "- Checks: all 5 passed before publishing (2 suites, 3 gates).",
        "| releases | `releases/*.parquet` (1) | 3 |",
    ):
        assert needle in card, needle


def test_card_counts_each_suite_and_gate_and_names_failures_and_overrides():
    checks = {
        "passed": False,
        "suites": {"releases": {"success": True}, "openness": {"success": False}},
        "gates": {
            "passed": True,
            "gates": [
                {"name": "release_drop", "passed": True, "overridden": True},
                {"name": "crawl_incomplete", "passed": False},
            ],
        },
    }
    assert checks_summary(checks) == (
        "Checks: 2 of 4 passed before publishing (1 of 2 suites, 1 of 2 gates); failed: `openness` suite, "
        "`crawl_incomplete` gate; passed by an operator's override: `release_drop`."
    )
    one = {"suites": {"releases": {"success": True}}, "gates": {"gates": [{"name": "g", "passed": True}]}}
    assert checks_summary(one) == "Checks: all 2 passed before publishing (1 suite, 1 gate)."


def test_render_dataset_card_takes_column_docs():
    manifest = {
        "version": "2024-01-01.1",
        "schema_version": 1,
        "tables": {"releases": {"path": "releases.parquet", "rows": 1, "bytes": 10, "sha256": "0" * 64}},
    }
    card = render_dataset_card(
        manifest,
        {"releases": [("repo_id", "VARCHAR"), ("stars", "BIGINT")]},
        {"releases": {"stars": "Likes on the Hub."}},
    )
    assert "| `stars` | BIGINT | Likes on the Hub. |" in card
    assert "One row per model repository" in card


def test_changelog_names_added_and_removed_releases_transitions_and_schema_changes(warehouse, tmp_path):
    snapshots = tmp_path / "snapshots"
    first = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)
    assert "First version" in (first / "CHANGELOG.md").read_text()

    warehouse.execute("DELETE FROM core.releases WHERE repo_id = 'acme/beta'")
    add_release(warehouse, "new/delta", "2024-03-02")
    add_crawl(warehouse, "2024-03-02")
    warehouse.execute("ALTER TABLE core.releases ADD COLUMN downloads BIGINT")
    warehouse.execute("ALTER TABLE core.releases DROP COLUMN modality")
    warehouse.execute("ALTER TABLE core.releases ALTER COLUMN revision_count TYPE INTEGER")
    warehouse.execute(
        "INSERT INTO core.transitions (repo_id, changed_at, dimension, from_value, to_value, direction) "
        "VALUES ('acme/alpha', '2024-02-20 10:00:00+00', 'license_family', 'unknown', 'osi-permissive', "
        "'opening'), ('zeta/gamma', '2024-03-02 08:00:00+00', 'spectrum_level', '3', '1', 'closing')"
    )
    second = write_snapshot(
        warehouse,
        snapshots,
        "2024-03-02",
        extra={**EXTRA, "crawl_window": {"from": "2024-03-01", "to": "2024-03-02"}},
    )
    changelog = (second / "CHANGELOG.md").read_text()

    assert changelog.startswith("# Changelog: 2024-03-02.1 against 2024-03-01.1")
    added, removed = changelog.split("## Releases added")[1].split("## Releases removed")
    assert "`new/delta`" in added and "acme/beta" not in added
    assert "`acme/beta`" in removed.split("## Transitions")[0] and "new/delta" not in removed
    assert "`releases`: column `downloads` added (BIGINT)" in changelog
    assert "`releases`: column `modality` removed (was VARCHAR)" in changelog
    assert "`releases`: column `revision_count` retyped BIGINT -> INTEGER" in changelog
    transitions = changelog.split("## Transitions after 2024-03-01 (1)")[1]
    assert "zeta/gamma" in transitions and "closing" in transitions and "acme/alpha" not in transitions
    assert "| releases | 3 | 3 | +0 |" in changelog and "| crawl_runs | 1 | 2 | +1 |" in changelog
    manifest = verify_snapshot(second)
    assert manifest["previous_version"] == "2024-03-01.1"
    assert manifest["changes"] == {
        "previous_version": "2024-03-01.1",
        "transitions_since": "2024-03-01",
        "releases_added": 1,
        "releases_removed": 1,
        "transitions": 1,
        "schema_changes": 3,
    }


def test_republish_makes_a_new_version_and_never_touches_the_old_one(warehouse, tmp_path):
    snapshots = tmp_path / "snapshots"
    first = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)
    before = {p: (p.stat().st_mtime_ns, sha256_file(p)) for p in first.rglob("*") if p.is_file()}
    add_release(warehouse, "late/comer", "2024-03-01")
    second = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)

    assert second.name == "2024-03-01.2" and (snapshots / "LATEST").read_text().strip() == "2024-03-01.2"
    assert {p: (p.stat().st_mtime_ns, sha256_file(p)) for p in first.rglob("*") if p.is_file()} == before
    assert verify_snapshot(second)["tables"]["releases"]["rows"] == 4


def test_interrupted_publish_leaves_no_partial_version(warehouse, tmp_path):
    snapshots = tmp_path / "snapshots"
    write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)
    listing = sorted(os.listdir(snapshots))
    # transitions is copied after releases and revisions: this view fails in the middle of the copy loop.
    warehouse.execute("DROP TABLE core.transitions")
    warehouse.execute(
        "CREATE VIEW core.transitions AS SELECT 'x/y' AS repo_id, error('disk full (injected)') AS changed_at"
    )
    with pytest.raises(Exception, match="injected"):
        write_snapshot(warehouse, snapshots, "2024-03-02", extra=EXTRA)

    assert sorted(os.listdir(snapshots)) == listing
    assert (snapshots / "LATEST").read_text().strip() == "2024-03-01.1"
    verify_snapshot(snapshots / "2024-03-01.1")


def test_counts_agree_with_their_noun():
    assert [plural(n, "release") for n in (0, 1, 2)] == ["0 releases", "1 release", "2 releases"]
    table = frame_to_markdown(pl.DataFrame({"repo_id": ["a/x", "a/y", "a/z"]}), max_rows=2)
    assert table.endswith("(1 more row)")


def _files(folder):
    return json.loads((folder / "manifest.json").read_text())["files"]


def test_the_same_rows_give_the_same_bytes_whatever_order_they_are_stored_in(
    warehouse, tmp_path, monkeypatch
):
    monkeypatch.setattr(snapshot, "ROWS_PER_FILE", 1)  # several bucket files per table
    first = write_snapshot(warehouse, tmp_path / "a", "2024-03-01", extra=EXTRA)
    for table in ("releases", "revisions"):
        warehouse.execute(f"CREATE TEMP TABLE t AS SELECT * FROM core.{table} ORDER BY repo_id DESC")  # noqa: S608
        warehouse.execute(f"DELETE FROM core.{table}")  # noqa: S608
        warehouse.execute(f"INSERT INTO core.{table} SELECT * FROM t")  # noqa: S608
        warehouse.execute("DROP TABLE t")
    second = write_snapshot(warehouse, tmp_path / "b", "2024-03-01", extra=EXTRA)

    files = _files(first)
    assert len([p for p in files if p.startswith("releases/")]) == 4
    assert {p: e["sha256"] for p, e in _files(second).items()} == {p: e["sha256"] for p, e in files.items()}
    assert all(sha256_file(second / p) == e["sha256"] for p, e in files.items())


def test_a_version_sorts_its_parts_in_bounded_groups_to_the_same_bytes(warehouse, tmp_path, monkeypatch):
    """A version sorts the rows of the parts it writes in temporary tables of at most SORT_GROUP_ROWS rows
    (a first version of the whole Hub once spilled more than the disk held), and gives the same files."""
    monkeypatch.setattr(snapshot, "ROWS_PER_FILE", 1)  # several bucket files per table
    copy = snapshot._copy_buckets
    sorted_rows: dict[str, list[int]] = {"whole": [], "grouped": []}
    folders = {}
    for run, limit in (("whole", snapshot.SORT_GROUP_ROWS), ("grouped", 2)):
        monkeypatch.setattr(snapshot, "SORT_GROUP_ROWS", limit)
        monkeypatch.setattr(snapshot, "_copy_buckets", lambda *a, run=run: sorted_rows[run].extend(copy(*a)))
        folders[run] = write_snapshot(warehouse, tmp_path / run, "2024-03-01", extra=EXTRA)
    whole, grouped = _files(folders["whole"]), _files(folders["grouped"])
    assert {p: e["sha256"] for p, e in grouped.items()} == {p: e["sha256"] for p, e in whole.items()}
    # The same rows sorted, in more and smaller tables: each at most 2 rows, unless one part alone holds more.
    assert sum(sorted_rows["grouped"]) == sum(sorted_rows["whole"]) > 0
    assert len(sorted_rows["grouped"]) > len(sorted_rows["whole"])
    single = {e["rows"] for e in whole.values() if e["rows"] > 2}
    assert all(n <= 2 or n in single for n in sorted_rows["grouped"]), sorted_rows
    assert max(sorted_rows["whole"]) > 2


def test_a_new_version_writes_only_changed_files_and_links_the_others(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "ROWS_PER_FILE", 1)
    snapshots = tmp_path / "snapshots"
    first = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)
    add_release(warehouse, "late/comer", "2024-03-02")
    second = write_snapshot(warehouse, snapshots, "2024-03-02", extra=EXTRA)

    old, new = _files(first), _files(second)
    assert set(new) == set(old)  # the bucket counts hold: the same file names
    changed = {p for p in new if new[p]["sha256"] != old[p]["sha256"]}
    # The new release lands in one bucket of each table it has rows in: releases and revisions.
    assert {p.split("/")[0] for p in changed} == {"releases", "revisions"}
    assert len([p for p in changed if p.startswith("releases/")]) == 1
    manifest = verify_snapshot(second)
    assert manifest["tables"]["releases"]["written"] == 1 and manifest["tables"]["releases"]["rows"] == 4
    for path in set(new) - changed:  # carried over: the same inode, no bytes written
        assert (second / path).stat().st_ino == (first / path).stat().st_ino, path
    for path in changed:
        assert (second / path).stat().st_ino != (first / path).stat().st_ino, path
    # Each version is complete on its own: deleting the older one leaves the newer one whole.
    shutil.rmtree(first)
    verify_snapshot(second)
    assert duckdb.connect().execute(
        "SELECT count(*) FROM read_parquet(?)", [str(second / "releases" / "*.parquet")]
    ).fetchone() == (4,)


def test_appended_tables_are_split_by_month_and_a_new_month_leaves_the_older_files_alone(
    warehouse, tmp_path, monkeypatch
):
    monkeypatch.setattr(snapshot, "ROWS_PER_FILE", 1)
    snapshots = tmp_path / "snapshots"
    first = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)
    add_release(warehouse, "late/comer", "2024-04-02")
    second = write_snapshot(warehouse, snapshots, "2024-04-02", extra=EXTRA)

    tables = verify_snapshot(second)["tables"]
    assert tables["revisions"]["layout"] == "month" and tables["revisions"]["bucket_by"] == "committed_at"
    assert sorted(p for p in _files(second) if p.startswith("revisions/")) == [
        "revisions/2024-03.parquet",
        "revisions/2024-04.parquet",
    ]
    assert tables["revisions"]["written"] == 1 and tables["revisions"]["rows"] == 4
    march = "revisions/2024-03.parquet"
    assert (second / march).stat().st_ino == (first / march).stat().st_ino  # the older month: carried over
    assert duckdb.connect().execute(
        "SELECT count(*) FROM read_parquet(?)", [str(second / "revisions" / "*.parquet")]
    ).fetchone() == (4,)


def test_interval_rows_once_closed_stay_in_their_months_file(warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "ROWS_PER_FILE", 1)
    warehouse.execute(
        "CREATE TABLE core.openness (repo_id VARCHAR, revision VARCHAR, valid_from TIMESTAMPTZ, "
        "valid_to TIMESTAMPTZ, spectrum_level INTEGER)"
    )
    for repo in ("acme/alpha", "acme/beta", "zeta/gamma"):
        warehouse.execute(
            "INSERT INTO core.openness VALUES (?, 'a', '2024-01-01', '2024-02-15', 1), (?, 'b', '2024-02-15', NULL, 2)",
            [repo, repo],
        )
    snapshots = tmp_path / "snapshots"
    first = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)
    # A new revision of one release closes its open row and opens another.
    warehouse.execute(
        "UPDATE core.openness SET valid_to = '2024-03-02' WHERE repo_id = 'acme/alpha' AND revision = 'b'"
    )
    warehouse.execute("INSERT INTO core.openness VALUES ('acme/alpha', 'c', '2024-03-02', NULL, 3)")
    second = write_snapshot(warehouse, snapshots, "2024-03-02", extra=EXTRA)

    table = verify_snapshot(second)["tables"]["openness"]
    assert table["layout"] == "closed" and table["bucket_by"] == "valid_to" and table["buckets_open"] == 4
    old, new = _files(first), _files(second)
    mine = sorted(p for p in new if p.startswith("openness/"))
    assert mine == [
        "openness/2024-02.parquet",
        "openness/2024-03.parquet",
        *(f"openness/open-{b}.parquet" for b in range(4)),
    ]
    changed = {p for p in mine if p not in old or old[p]["sha256"] != new[p]["sha256"]}
    # The new month of closed rows, and the one open file that holds acme/alpha; the rest carried over.
    assert "openness/2024-03.parquet" in changed and len(changed) == 2 and table["written"] == 2
    assert (second / "openness/2024-02.parquet").stat().st_ino == (
        first / "openness/2024-02.parquet"
    ).stat().st_ino
    assert duckdb.connect().execute(
        "SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL) FROM read_parquet(?)",
        [str(second / "openness" / "*.parquet")],
    ).fetchone() == (7, 3)


def test_the_spectrum_gate_reads_every_openness_file_of_the_previous_version(
    warehouse, tmp_path, monkeypatch
):
    monkeypatch.setattr(
        snapshot, "ROWS_PER_FILE", 1
    )  # openness in several files: closed months, open buckets
    warehouse.execute(
        "CREATE TABLE core.openness (repo_id VARCHAR, revision VARCHAR, valid_from TIMESTAMPTZ, "
        "valid_to TIMESTAMPTZ, spectrum_level INTEGER)"
    )
    for repo in ("acme/alpha", "acme/beta", "zeta/gamma"):
        warehouse.execute("INSERT INTO core.openness VALUES (?, 'b', '2024-02-15', NULL, 2)", [repo])
    folder = write_snapshot(warehouse, tmp_path / "snapshots", "2024-03-01", extra=EXTRA)
    manifest = verify_snapshot(folder)
    assert len([p for p in manifest["files"] if p.startswith("openness/")]) > 1
    warehouse.execute("UPDATE core.openness SET spectrum_level = 4 WHERE repo_id = 'acme/alpha'")

    verdict = spectrum_flip(warehouse, folder, manifest, 0.2)

    assert verdict["value"] == round(1 / 3, 4) and not verdict["passed"], verdict


def test_disclosures_are_split_by_their_revisions_commit_month_and_a_day_rewrites_only_its_month(
    warehouse, tmp_path, monkeypatch
):
    monkeypatch.setattr(snapshot, "ROWS_PER_FILE", 1)
    warehouse.execute(
        "CREATE TABLE core.disclosures (repo_id VARCHAR, revision VARCHAR, component VARCHAR, included BOOLEAN)"
    )

    def revision(repo: str, sha: str, day: str | None, components: int = 3) -> None:
        if day is not None:
            warehouse.execute(
                "INSERT INTO core.revisions (repo_id, revision, committed_at, observed_at) "
                "VALUES (?, ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ)",
                [repo, sha, day, day],
            )
        for c in range(components):
            warehouse.execute(
                "INSERT INTO core.disclosures VALUES (?, ?, ?, ?)", [repo, sha, f"c{c}", c % 2 == 0]
            )

    warehouse.execute(
        "INSERT INTO core.disclosures SELECT repo_id, revision, 'c' || c, true FROM core.revisions, range(3) t(c)"
    )
    revision("acme/alpha", "a" * 40, "2024-02-10")  # an older revision of the same release
    revision("zeta/gamma", "f" * 40, None)  # no commit date: the fixed `undated` file
    snapshots = tmp_path / "snapshots"
    first = write_snapshot(warehouse, snapshots, "2024-03-01", extra=EXTRA)
    # A day: new revisions of two releases, committed in a new month.
    revision("acme/alpha", "b" * 40, "2024-04-02")
    revision("zeta/gamma", "c" * 40, "2024-04-02")
    second = write_snapshot(warehouse, snapshots, "2024-04-02", extra=EXTRA)

    manifest = verify_snapshot(second)
    table = manifest["tables"]["disclosures"]
    assert table["layout"] == "month" and table["bucket_by"] == "committed_at"
    mine = sorted(p for p in _files(second) if p.startswith("disclosures/"))
    assert mine == [f"disclosures/{p}.parquet" for p in ("2024-02", "2024-03", "2024-04", "undated")]
    assert table["written"] == 1 and table["rows"] == 21  # only the new month's file
    for part in ("2024-02", "2024-03", "undated"):  # carried over: the same inode
        path = f"disclosures/{part}.parquet"
        assert (second / path).stat().st_ino == (first / path).stat().st_ino, path
    con = duckdb.connect()
    glob = str(second / "disclosures" / "*.parquet")
    # The files hold exactly the table's columns (the commit month is not written) and every row once.
    assert [c for c, *_ in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [glob]).fetchall()] == [
        "repo_id",
        "revision",
        "component",
        "included",
    ]
    assert con.execute("SELECT count(*) FROM read_parquet(?)", [glob]).fetchone() == (21,)
    assert con.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(second / "disclosures" / "2024-04.parquet")]
    ).fetchone() == (6,)
    # The manifest's whole-table fingerprints, summed from the files' sums, are the warehouse's.
    assert manifest["content"] == snapshot.content_fingerprint(warehouse)
    # Written alone (the new month) or with every file (a first version), a file has the same bytes.
    fresh = _files(write_snapshot(warehouse, tmp_path / "fresh", "2024-04-02", extra=EXTRA))
    assert {p: fresh[p]["sha256"] for p in mine} == {p: _files(second)[p]["sha256"] for p in mine}
