"""A snapshot reads the way researchers read it: DuckDB, Polars, pandas, pyarrow and `datasets`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from pipelines.publish import snapshot
from pipelines.publish.card import root_card
from pipelines.publish.snapshot import write_snapshot

REPOS = ["acme/alpha", "acme/beta", "zeta/gamma"]


@pytest.fixture
def releases(warehouse, tmp_path, monkeypatch) -> Path:
    """The releases folder of a version whose tables are split into several files (one row per file wanted:
    releases' 3 rows go to 4 hash buckets, so some files are empty and carry only the schema)."""
    monkeypatch.setattr(snapshot, "ROWS_PER_FILE", 1)
    # Revisions are split by the month of their commit: one in April, two in March.
    warehouse.execute("UPDATE core.revisions SET committed_at = '2024-04-02' WHERE repo_id = 'zeta/gamma'")
    folder = write_snapshot(warehouse, tmp_path / "snapshots", "2024-03-01")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["releases"]["buckets"] == 4
    assert len(list((folder / "releases").glob("*.parquet"))) == 4
    return folder / "releases"


def test_duckdb_reads_a_snapshot(releases):
    rows = (
        duckdb.connect()
        .execute("SELECT repo_id, org FROM read_parquet(?) ORDER BY repo_id", [str(releases / "*.parquet")])
        .fetchall()
    )
    assert rows == [(r, r.split("/")[0]) for r in REPOS]


def test_polars_reads_a_snapshot(releases):
    frame = pl.read_parquet(releases / "*.parquet").sort("repo_id")
    assert frame["repo_id"].to_list() == REPOS
    assert frame.schema["first_seen"] == pl.Datetime("us", "UTC")


def test_pandas_reads_a_snapshot(releases):
    frame = pd.read_parquet(releases).sort_values("repo_id")
    assert frame["repo_id"].tolist() == REPOS
    assert str(frame["first_seen"].dt.tz) == "UTC"


def test_pyarrow_reads_a_snapshot(releases):
    table = pq.read_table(releases)
    assert sorted(table.column("repo_id").to_pylist()) == REPOS
    assert table.num_rows == 3
    assert pads.dataset(releases, format="parquet").count_rows() == 3


def test_datasets_loads_each_table_as_a_config_of_the_card_offline(releases, tmp_path):
    """`load_dataset(<downloaded version folder>, "releases")` reads the version's card's configs; the landing
    card of a Hub repo (`root_card`, at the snapshots root) reads the same file from `<version>/`."""
    folder = releases.parent
    hub = tmp_path / "hub"  # the Hub repo's layout: the root card, and the version folder below it
    shutil.copytree(folder, hub / folder.name)
    (hub / "README.md").write_text(root_card((folder / "README.md").read_text(), folder.name))
    # A separate process: the offline switches are read when `datasets`/`huggingface_hub` are imported and
    # must not leak into the other tests of this session.
    script = (
        "import json, sys, datasets\n"
        "out = {}\n"
        "for where in sys.argv[1:3]:\n"
        "    ds = datasets.load_dataset(where, 'releases', cache_dir=sys.argv[3], split='train')\n"
        "    out[where] = {'rows': sorted(ds['repo_id']), 'columns': ds.column_names,\n"
        "                  'revisions': datasets.load_dataset(where, 'revisions', cache_dir=sys.argv[3],\n"
        "                                                     split='train').num_rows}\n"
        "print(json.dumps(out))\n"
    )
    env = {
        **os.environ,
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder), str(hub), str(tmp_path / "cache")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    revisions = folder / "revisions" / "*.parquet"
    counts = {
        "duckdb": duckdb.connect()
        .execute("SELECT count(*) FROM read_parquet(?)", [str(revisions)])
        .fetchone()[0],
        "polars": pl.read_parquet(revisions).height,
        "pandas": len(pd.read_parquet(folder / "revisions")),
        "pyarrow": pads.dataset(folder / "revisions", format="parquet").count_rows(),
    }
    assert len(list((folder / "revisions").glob("*.parquet"))) > 1
    for where in (folder, hub):
        assert result[str(where)]["rows"] == REPOS and "repo_id" in result[str(where)]["columns"], where
        # All five readers agree on the rows of a table split into several files.
        assert {**counts, "datasets": result[str(where)]["revisions"]} == dict.fromkeys(
            [*counts, "datasets"], 3
        )
