"""The demo snapshot reads the way researchers read: DuckDB, Polars, pandas, pyarrow and `datasets`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.publish.card import query_views
from pipelines.storage.warehouse import sql_text
from tests.small_mirror import SMALL_REPOS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def snapshot(small_demo):
    base, _ = small_demo
    root = base / "wh" / "snapshots"
    folder = root / (root / "LATEST").read_text().strip()
    return folder, json.loads((folder / "manifest.json").read_text())


def test_duckdb_reads_the_snapshot(snapshot):
    folder, manifest = snapshot
    with duckdb.connect() as con:
        n = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(folder / "releases" / "*.parquet")]
        ).fetchone()[0]
        repos = con.execute(
            "SELECT repo_id FROM read_parquet(?) ORDER BY 1", [str(folder / "releases" / "*.parquet")]
        ).fetchall()
    assert n == manifest["tables"]["releases"]["rows"] == len(SMALL_REPOS)
    assert [r[0] for r in repos] == sorted(SMALL_REPOS)


def test_the_example_queries_run_on_the_snapshot_through_the_cards_views(snapshot, monkeypatch):
    folder, manifest = snapshot
    monkeypatch.chdir(folder)
    with duckdb.connect() as con:
        con.execute(query_views(manifest))
        params = {
            "licence_family_changes": ["2000-01-01", "2100-01-01"],
            "repo_timeline": [next(iter(SMALL_REPOS))],
        }
        for path in sorted((ROOT / "sql" / "queries").glob("*.sql")):
            con.execute(sql_text(f"queries/{path.name}"), params.get(path.stem, [])).fetchall()
        timeline = con.execute(sql_text("queries/repo_timeline.sql"), [next(iter(SMALL_REPOS))]).fetchall()
        derivatives = con.execute("SELECT count(*) FROM core.derivatives").fetchone()[0]
    assert derivatives == manifest["tables"]["derivatives"]["rows"]
    assert timeline, "a release's timeline has at least its first state"


def test_polars_pandas_and_pyarrow_read_the_snapshot(snapshot):
    folder, manifest = snapshot
    rows = manifest["tables"]["revisions"]["rows"]
    assert pl.read_parquet(folder / "revisions" / "*.parquet").height == rows
    assert len(pd.read_parquet(folder / "revisions")) == rows
    table = pq.read_table(folder / "revisions")
    assert table.num_rows == rows and "license_raw" in table.column_names


def test_datasets_reads_the_snapshot(snapshot, tmp_path):
    folder, manifest = snapshot
    code = (
        "import datasets, sys; d = datasets.load_dataset(sys.argv[1], 'releases', split='train', "
        "cache_dir=sys.argv[2]); print(d.num_rows, sorted(d['repo_id'])[0])"
    )
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder), str(tmp_path)],  # the card's config, as a downloader would
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout.split()
    assert int(out[0]) == manifest["tables"]["releases"]["rows"]
    assert out[1] == sorted(SMALL_REPOS)[0]
