"""End to end: `make demo MIRROR=... WAREHOUSE=...` on a small mirror made here, through the Dagster instance."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from assets.partitions import CRAWL_SHARDS
from pipelines.publish.snapshot import sha256_file, verify_snapshot
from pipelines.quality.suites import suite_for
from pipelines.storage.warehouse import Warehouse
from tests.small_mirror import PAPER_IN_MIRROR, PAPER_NOT_IN_MIRROR, SMALL_REPOS

pytestmark = pytest.mark.slow


def test_demo_builds_one_release_per_mirror_model(small_demo):
    base, _ = small_demo
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        repos = [r[0] for r in con.execute("SELECT repo_id FROM core.releases ORDER BY repo_id").fetchall()]
        revisions = con.execute(
            "SELECT repo_id, revision, license_raw FROM core.revisions ORDER BY repo_id, committed_at"
        ).fetchall()
    assert repos == sorted(SMALL_REPOS)
    # Every commit of the mirror was replayed on its own day, so each is a revision with its own licence.
    expected = [
        (repo, meta.get("license")) for repo in sorted(SMALL_REPOS) for _, meta, _, _ in SMALL_REPOS[repo]
    ]
    assert [(r, lic) for r, _, lic in revisions] == expected


def test_no_dataset_is_said_not_to_exist_where_the_recording_holds_none(small_demo):
    base, _ = small_demo
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        datasets = con.execute(
            'SELECT dataset_id, "exists" FROM core.datasets ORDER BY dataset_id'
        ).fetchall()
        data = con.execute(
            "SELECT osai_datasources_endmodel FROM core.openness WHERE repo_id = 'acme/open-7b' "
            "AND valid_to IS NULL"
        ).fetchall()
    # The mirror declares datasets unrecorded: the one dataset a card names is unknown, never false.
    assert datasets == [("acme/corpus", None)]
    assert data == [(None,)]  # its training data is unknown, not closed


def test_no_paper_of_the_demo_reads_as_missing_from_arxiv(small_demo):
    base, _ = small_demo
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        papers = con.execute("SELECT arxiv_id, status FROM core.papers ORDER BY arxiv_id").fetchall()
        cited = con.execute("SELECT repo_id, arxiv_id FROM core.release_papers ORDER BY arxiv_id").fetchall()
    # The mirror holds one of the two papers beta/card-only cites and declares papers unrecorded: the
    # other is unknown, and no paper is said to be absent from arXiv.
    assert cited == [("beta/card-only", PAPER_IN_MIRROR), ("beta/card-only", PAPER_NOT_IN_MIRROR)]
    assert papers == [(PAPER_IN_MIRROR, "found"), (PAPER_NOT_IN_MIRROR, "unrecorded")]


def test_demo_snapshot_checksums_match(small_demo, tmp_path):
    base, _ = small_demo
    snapshots = base / "wh" / "snapshots"
    version = (snapshots / "LATEST").read_text().strip()
    manifest = verify_snapshot(snapshots / version)
    assert Warehouse(base / "wh").serving_version() == version  # the serving file holds what LATEST names
    assert not [p.name for p in snapshots.iterdir() if p.name.startswith(".") and p.name != ".publish.lock"]
    assert manifest["tables"]["releases"]["rows"] == len(SMALL_REPOS)
    for entry in manifest["files"].values():
        assert sha256_file(snapshots / version / entry["path"]) == entry["sha256"]
    # A corrupted file is detected (on a copy: other tests read the demo snapshot).
    copy = tmp_path / version
    shutil.copytree(snapshots / version, copy)
    victim = copy / "releases" / "0.parquet"
    victim.write_bytes(victim.read_bytes()[:-8] + b"corrupt!")
    with pytest.raises(ValueError, match="checksum mismatch"):
        verify_snapshot(copy)


def test_demo_runs_are_in_the_dagster_instance(small_demo):
    base, _ = small_demo
    import dagster as dg

    with dg.DagsterInstance.from_config(str(base / "dagster_home")) as instance:
        runs = instance.get_runs()
        assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert {r.job_name for r in runs} == {
            "daily_listing",
            "daily_shards",
            "daily_extras",
            "build_tables",
            "publish_snapshot",
        }
        listing_days = sorted(r.tags.get("dagster/partition") for r in runs if r.job_name == "daily_listing")
        shard_keys = sorted(r.tags.get("dagster/partition") for r in runs if r.job_name == "daily_shards")
    days = sorted({d[:10] for h in SMALL_REPOS.values() for d, _, _, _ in h})
    assert listing_days == days
    assert shard_keys == sorted(f"{d}|{s}" for d in days for s in range(CRAWL_SHARDS))


def test_crawl_runs_account_requests(small_demo):
    base, _ = small_demo
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT crawl_date, requests_api, requests_resolvers, readmes_fetched, models_listed "
            "FROM core.crawl_runs WHERE scope = 'listing:hub' ORDER BY crawl_date"
        ).fetchall()
        scopes = con.execute("SELECT DISTINCT scope FROM core.crawl_runs ORDER BY scope").fetchall()
    assert {s for (s,) in scopes} == {
        "datasets:hub",
        "listing:hub",
        "papers:hub",
        "code:github",
        "license_files[datasets]:hub",
    } | {
        f"{step}[{k}/{CRAWL_SHARDS}]:hub"
        for step in ("history", "readmes", "license_files")
        for k in range(CRAWL_SHARDS)
    }
    assert len(rows) == 5
    assert all(api >= 1 for _, api, _, _, _ in rows)
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        (readmes,) = con.execute(
            "SELECT sum(readmes_fetched) FROM core.crawl_runs WHERE scope LIKE 'readmes%'"
        ).fetchone()
    # Each README is read once, on the day its commit first appears: 5 commits -> 5 reads in all.
    assert readmes == 5


def test_manifest_is_json_with_counts(small_demo):
    base, _ = small_demo
    snapshots = base / "wh" / "snapshots"
    manifest = json.loads(
        (snapshots / (snapshots / "LATEST").read_text().strip() / "manifest.json").read_text()
    )
    assert manifest["schema_version"] == 1
    assert manifest["crawl_window"]["to"] == "2024-03-05"
    assert set(manifest["tables"]) >= {"releases", "revisions", "crawl_runs"}


def test_every_check_of_the_demo_passed_and_is_recorded_in_the_instance(small_demo):
    base, _ = small_demo
    import dagster as dg

    with dg.DagsterInstance.from_config(str(base / "dagster_home")) as instance:
        evaluations = []
        for run in instance.get_runs():
            for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
                evaluations.append(record.dagster_event.event_specific_data)
    names = {e.check_name for e in evaluations}
    assert {
        "revisions_keys",
        "releases_cover_revisions",
        "revisions_suite",
        "releases_suite",
        "quarantine_suite",
        "crawl_runs_suite",
        "datasets_suite",
        "papers_suite",
        "release_papers_suite",
    } <= names
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]


def test_the_snapshot_carries_the_quality_report_and_check_results(small_demo):
    base, _ = small_demo
    snapshots = base / "wh" / "snapshots"
    folder = snapshots / (snapshots / "LATEST").read_text().strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["checks"]["passed"] is True
    assert all(g["passed"] for g in manifest["checks"]["gates"]["gates"])
    assert "QUALITY.md" in manifest["documents"]
    assert "# Data quality report" in (folder / "QUALITY.md").read_text()
    # The publish gate reused the build's checks (same content, pipelines/quality/ledger.py): the report's
    # row of every present suite says it was validated by the build's check, at the time the manifest records.
    present = {t: s for t, s in manifest["checks"]["suites"].items() if s["present"]}
    assert {"releases", "revisions", "openness", "disclosures"} <= set(present)
    rows = {
        line.split("|")[1].strip(): line
        for line in (folder / "QUALITY.md").read_text().splitlines()
        if line.startswith(("| core.", "| marts."))
    }
    assert {"monthly_openness", "monthly_transitions"} <= set(present)  # the marts' keys are checked too
    for table, suite in present.items():
        name = suite_for(table).table
        assert f"by the build's check at {suite['validated_at']}" in rows[name], rows[name]
    # ... without reading a row: the build's checks ran after its last write, so the working file is the one
    # they recorded (docs/quality.md, "Validated once").
    how = {table: suite["reused_by"] for table, suite in present.items()}
    assert how == dict.fromkeys(present, "file"), how
    assert (base / "wh" / "quality" / "releases.json").exists()


def test_the_snapshot_has_an_html_report_with_its_charts(small_demo):
    base, _ = small_demo
    snapshots = base / "wh" / "snapshots"
    folder = snapshots / (snapshots / "LATEST").read_text().strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "report.html" in manifest["documents"]
    html = (folder / "report.html").read_text()
    for chart in ("spectrum", "licence_families", "transitions"):
        assert f'data-chart="{chart}"' in html


def test_the_replayed_history_shows_as_transitions_in_the_warehouse_and_the_report(small_demo):
    base, _ = small_demo
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT changed_at::DATE::VARCHAR, dimension, from_value, to_value, direction "
            "FROM core.transitions WHERE repo_id = 'acme/open-7b' AND dimension LIKE 'license%' "
            "OR repo_id = 'acme/open-7b' AND dimension = 'mof:Model parameters (Final)' "
            "ORDER BY dimension"
        ).fetchall()
    # acme/open-7b moved from a custom research licence (not in the catalogue) to Apache-2.0 on 2024-02-20
    # (tests/small_mirror.py): its weights became openly licensed.
    assert rows == [
        ("2024-02-20", "license_family", "unknown", "osi-permissive", "lateral"),
        ("2024-02-20", "license_id", "acme-research", "apache-2.0", "lateral"),
        ("2024-02-20", "mof:Model parameters (Final)", "included", "open", "opening"),
    ]
    snapshots = base / "wh" / "snapshots"
    html = (snapshots / (snapshots / "LATEST").read_text().strip() / "report.html").read_text()
    assert "acme/open-7b" in html


def test_the_demo_runs_are_runs_of_the_jobs_of_the_code_location_the_ui_loads(small_demo):
    # Not ephemeral jobs: each run names the code location of `openness ui` (`dagster dev -m
    # assets.definitions`) and its repository, which the UI's Overview timeline and job pages go by.
    base, _ = small_demo
    import dagster as dg
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

    with dg.DagsterInstance.from_config(str(base / "dagster_home")) as instance:
        runs = [r for r in instance.get_runs() if "openness/pid" in r.tags]  # executed by `openness demo`
        labelled = instance.get_runs(
            filters=dg.RunsFilter(tags={REPOSITORY_LABEL_TAG: "__repository__@assets.definitions"})
        )
    assert runs
    origins = {
        (r.remote_job_origin.location_name, r.remote_job_origin.repository_origin.repository_name)
        for r in runs
        if r.remote_job_origin
    }
    assert origins == {("assets.definitions", "__repository__")}
    assert all(r.remote_job_origin and r.job_code_origin for r in runs)
    # A run of the demo is never retried by the daemon: its config names the demo's mirror, gone afterwards.
    assert {r.tags.get("dagster/max_retries") for r in runs} == {"0"}
    assert {r.run_id for r in runs} <= {r.run_id for r in labelled}


def test_the_card_and_report_name_the_source_and_count_what_is_reconstructed(small_demo):
    from tests.small_mirror import SYNTHETIC_COMMIT

    base, _ = small_demo
    snapshots = base / "wh" / "snapshots"
    folder = snapshots / (snapshots / "LATEST").read_text().strip()
    source = json.loads((folder / "manifest.json").read_text())["source"]
    # the endpoint crawled, the mirror's own title, and the rows resting on its two reconstructions
    assert (
        not source["live_hub"] and len(source["endpoints"]) == 1
    )  # the Hub crawl's, not GitHub's or arXiv's
    assert source["endpoints"][0].startswith("http://127.0.0.1:") and "/as-of/" not in source["endpoints"][0]
    assert source["mirror"]["title"] == "test mirror"
    counts = source["reconstructed"]
    assert counts["revisions_reconstructed"] == 2 and counts["revisions_total"] == sum(
        len(h) for h in SMALL_REPOS.values()
    )
    assert (
        counts["transitions_reconstructed"] >= 3
        and counts["transitions_unlinked"] == counts["transitions_reconstructed"]
    )
    sentence = f"{counts['revisions_reconstructed']} of {counts['revisions_total']} revisions and {counts['transitions_reconstructed']} of"
    card = (folder / "README.md").read_text()
    html = (folder / "report.html").read_text()
    for text in (card, html):
        assert 'the hub mirror "test mirror"' in text.replace("&quot;", '"')
        assert sentence in text
    assert "Not the live Hub" in card and "(https://huggingface.co)" not in card
    # no evidence link names the commit the recording made up, in the warehouse or the report
    repo, sha = SYNTHETIC_COMMIT
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT evidence_url, reconstructed FROM core.transitions WHERE repo_id = ? AND to_revision = ?",
            [repo, sha],
        ).fetchall()
        linked = con.execute(
            "SELECT count(*) FROM core.transitions WHERE evidence_url LIKE ?", [f"%{sha}%"]
        ).fetchall()[0]
    assert rows and all(url is None and kinds == "synthetic-commit-id" for url, kinds in rows)
    assert linked == (0,) and sha not in html and "commit id reconstructed" in html
    # nor does any other evidence (the disclosures' and derivatives' JSON); the real commits keep theirs
    with duckdb.connect(str(base / "wh" / "openness.duckdb"), read_only=True) as con:
        for table in ("disclosures", "derivatives"):
            evidence = [r[0] or "" for r in con.execute(f"SELECT evidence FROM core.{table}").fetchall()]  # noqa: S608
            assert not [e for e in evidence if sha in e], table
            assert any("https://huggingface.co/" in e for e in evidence), table
    # which rows rest on a reconstruction: the snapshot's reconstructions join its revisions (the small mirror
    # lists a commit id made up and a README rebuilt; it bounds no creation date, so every one is stated)
    rows = duckdb.execute(
        "SELECT x.repo_id, x.revision, x.file, x.kind FROM read_parquet(?) x "
        "JOIN read_parquet(?) r USING (repo_id, revision) ORDER BY x.kind",
        [str(folder / "reconstructions" / "*.parquet"), str(folder / "revisions" / "*.parquet")],
    ).fetchall()
    assert rows == [
        ("beta/card-only", rows[0][1], "README.md", "readme-from-card-data"),
        (repo, sha, None, "synthetic-commit-id"),
    ]
    created = duckdb.execute(
        "SELECT count(*) FROM read_parquet(?) WHERE created_at IS NULL",
        [str(folder / "releases" / "*.parquet")],
    )
    assert created.fetchall() == [(0,)]
