"""Each documented example query (sql/queries/) runs and returns the expected rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.hub.step import run_crawl
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.publish.card import query_views
from pipelines.publish.snapshot import write_snapshot
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse, sql_text
from tests.hub.crawl_helpers import settings


def _query(wh: Warehouse, name: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(wh.work_db), read_only=True) as con:
        return con.execute(sql_text(f"queries/{name}.sql"), params or []).fetchall()


def test_licence_family_changes_in_a_period(warehouse):
    rows = _query(warehouse, "licence_family_changes", ["2023-09-27", "2023-09-28"])
    assert [(r[0], r[2], r[3], r[4], r[5], r[6][:8]) for r in rows] == [
        ("mistralai/Mistral-7B-v0.1", "osi-permissive", "none", "closing", True, "f592c5ff"),
        ("mistralai/Mistral-7B-v0.1", "none", "osi-permissive", "opening", True, "eee93418"),
    ]


def test_a_repos_full_timeline(warehouse):
    rows = _query(warehouse, "repo_timeline", ["mistralai/Mistral-7B-v0.1"])
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        states, changes = con.execute(
            "SELECT (SELECT count(*) FROM core.openness WHERE repo_id = $1), "
            "(SELECT count(*) FROM core.transitions WHERE repo_id = $1)",
            ["mistralai/Mistral-7B-v0.1"],
        ).fetchone()
    assert len(rows) == states + changes and states >= 10
    times = [r[0] for r in rows]
    assert times == sorted(times)
    assert rows[0][1] == "state" and rows[0][2].startswith("8e892bee")  # the initial commit


def test_share_of_open_weights_by_month(warehouse):
    rows = _query(warehouse, "open_weights_share_by_month")
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        total, weights = con.execute("""
            SELECT count(*), count(*) FILTER (WHERE has_weights) FROM (
              SELECT * FROM core.revisions
              QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY committed_at DESC) = 1)""").fetchone()
        # Open weights as the rubric, the report and the card define them: spectrum level 3 or above.
        (open_,) = con.execute(
            "SELECT count(*) FILTER (WHERE spectrum_level >= 3) FROM core.openness WHERE valid_to IS NULL"
        ).fetchone()
    _, releases, with_weights, share, open_weights, open_share = rows[-1]
    assert (releases, with_weights) == (total, weights)
    assert share == pytest.approx(weights / total, abs=1e-4)
    assert 0 < open_weights == open_ < with_weights
    assert open_share == pytest.approx(open_ / total, abs=1e-4)


def test_relicensed_derivatives_in_the_warehouse_and_in_a_snapshot(tmp_path, monkeypatch):
    """A fine-tune tagged apache-2.0 on a llama2 base is listed; one that keeps its base's licence is not."""
    writer = MirrorWriter(tmp_path / "mirror", title="derivatives")
    repos = {
        "meta/base-7b": {"license": "llama2"},
        "someone/ft-apache": {"license": "apache-2.0", "base_model": "meta/base-7b"},
        "someone/ft-llama": {"license": "llama2", "base_model": "meta/base-7b"},
    }
    for i, (repo, meta) in enumerate(repos.items()):
        date = f"2024-0{i + 1}-10T10:00:00.000Z"
        info = {
            "_id": f"{i:024x}",
            "id": repo,
            "author": repo.split("/")[0],
            "lastModified": date,
            "createdAt": date,
            "gated": False,
            "tags": [f"license:{meta['license']}"],
            "cardData": meta,
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "model.safetensors"}],
        }
        card = "---\n" + "".join(f"{k}: {v}\n" for k, v in meta.items()) + "---\n# Model\n"
        writer.add_revision(
            "models",
            repo,
            Commit(id=f"{i + 1:040x}", date=date, title="init"),
            info,
            files={"README.md": card},
        )
    writer.finish()
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(tmp_path / "mirror") as srv:
        run_crawl(wh, settings(srv.url), "2024-04-01", now=datetime(2026, 1, 1, tzinfo=UTC))
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
        con.execute("CREATE TABLE IF NOT EXISTS core.datasets AS SELECT 1 WHERE false")
        run_step("scores", wh, con, full=True)
    rows = _query(wh, "relicensed_derivatives")
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("someone/ft-apache", "meta/base-7b", "apache-2.0", "llama2")
    ]
    # The same query on a published snapshot's files, through the views its card gives.
    with wh.connect() as con:
        folder = write_snapshot(con, tmp_path / "snapshots", "2024-04-01")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "derivatives" in manifest["tables"]
    assert query_views(manifest) in (folder / "README.md").read_text()
    monkeypatch.chdir(folder)
    with duckdb.connect() as con:
        con.execute(query_views(manifest))
        assert con.execute(sql_text("queries/relicensed_derivatives.sql")).fetchall() == rows


def test_relicensed_derivatives_on_the_sample(warehouse):
    # No derivative in the sample declares a more permissive family than a base that is in the warehouse:
    # zephyr-7b-beta and neural-chat-7b-v3-1 keep an OSI-permissive licence on Mistral-7B-v0.1 (Apache-2.0).
    assert _query(warehouse, "relicensed_derivatives") == []
