"""The code source's Dagster asset: a thin wrapper materialised against the mirror (not yet in the
project's Definitions; see assets/code.py)."""

from __future__ import annotations

import dagster as dg
import polars as pl

from assets.code import CODE, CodeResource, code_raw
from assets.hub import HubResource
from assets.resources import WarehouseResource
from pipelines.code import raw
from pipelines.mirror.server import MirrorServer
from pipelines.storage.raw import schema_of
from pipelines.storage.warehouse import Warehouse


def test_materialise_one_crawl_date(code_mirror, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_assetTOKEN0123456789")
    wh = Warehouse(tmp_path / "wh")
    row = dict.fromkeys(schema_of("hub_readme"))
    row.update(
        repo_id="a/b", revision="0" * 40, status="ok", content=b"see https://github.com/openai/human-eval"
    )
    wh.raw.append(
        "hub_readme", "2026-03-02", pl.DataFrame([row], schema=schema_of("hub_readme")), ["repo_id"]
    )
    with MirrorServer(code_mirror) as srv:
        result = dg.materialize(
            [code_raw],
            partition_key="2026-03-02",
            resources={
                "warehouse": WarehouseResource(root=str(wh.root)),
                "hub": HubResource(endpoint=srv.url, replay="false"),
                "code": CodeResource(endpoint=srv.github_url),
            },
        )
    assert result.success
    metadata = result.asset_materializations_for_node(code_raw.op.name)[0].metadata
    assert metadata["status"].value == "complete" and metadata["quota_used"].value > 0
    assert raw.scan(wh.raw, "github_repo")["repo"].to_list() == ["openai/human-eval"]
    assert CODE.path == ["raw", "code_repos"]
    for path in wh.root.rglob("*"):
        assert not path.is_file() or b"ghp_assetTOKEN" not in path.read_bytes()
