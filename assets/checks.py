"""Blocking asset checks on the tables that feed a snapshot (a failure stops publishing)."""


import dagster as dg

from assets.core import releases, revisions
from assets.resources import WarehouseResource
from pipelines.quality.sql_checks import releases_match_revisions, revision_keys


@dg.asset_check(asset=revisions, blocking=True, description="(repo_id, revision) is unique and never null.")
def revisions_keys(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Key integrity of core.revisions."""
    with warehouse.get().connect(read_only=False) as con:
        result = revision_keys(con)
    return dg.AssetCheckResult(passed=result["passed"], metadata=result["metadata"])


@dg.asset_check(asset=releases, blocking=True,
                description="Exactly one release per repo that has revisions, and no release without one.")
def releases_cover_revisions(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Referential integrity between core.releases and core.revisions."""
    with warehouse.get().connect(read_only=False) as con:
        result = releases_match_revisions(con)
    return dg.AssetCheckResult(passed=result["passed"], metadata=result["metadata"])
