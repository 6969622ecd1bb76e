"""Blocking asset checks on the tables that feed a snapshot: plain-SQL key checks and the GX suites.

A failing blocking check fails the build run, and `publish_after_checks` only publishes after a
successful build, so a defect never reaches a snapshot. The suites are those the table registry
(pipelines/tables.py) declares; each runs once the table its queries read last is built (`suite_after`).
"""

from datetime import UTC, datetime

import dagster as dg

from assets.resources import QualityResource, WarehouseResource
from pipelines.quality.sql_checks import releases_match_revisions, revision_keys
from pipelines.tables import TABLES, table

REVISIONS = dg.AssetKey(table("core.revisions").asset_key)
RELEASES = dg.AssetKey(table("core.releases").asset_key)


@dg.asset_check(asset=REVISIONS, blocking=True, description="(repo_id, revision) is unique and never null.")
def revisions_keys(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Key integrity of core.revisions."""
    with warehouse.get().connect() as con:
        result = revision_keys(con)
    return dg.AssetCheckResult(passed=result["passed"], metadata=result["metadata"])


@dg.asset_check(
    asset=RELEASES,
    blocking=True,
    description="Exactly one release per repo that has revisions, and no release without one.",
)
def releases_cover_revisions(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Referential integrity between core.releases and core.revisions."""
    with warehouse.get().connect() as con:
        result = releases_match_revisions(con)
    return dg.AssetCheckResult(passed=result["passed"], metadata=result["metadata"])


def _gx_check(asset: dg.AssetKey, name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=f"{name}_suite",
        blocking=True,
        description=f"The Great Expectations suite of {name} (docs/quality.md): keys, enumerations, "
        "licence ids, ranges, dates and references.",
    )
    def check(warehouse: WarehouseResource, quality: QualityResource) -> dg.AssetCheckResult:
        from pipelines.quality.gx_run import run_suite  # GX takes ~5 s to import: only when a check runs
        from pipelines.quality.ledger import Ledger

        wh = warehouse.get()
        with wh.connect() as con:
            # Built on the last recorded pass (pipelines/quality/ledger.py): content unchanged since is not
            # validated again, and where the suite allows it only the rows of the repos that changed are.
            result = run_suite(
                con,
                name,
                now=datetime.now(UTC),
                ledger=Ledger(wh.quality),
                reuse=True,
                batch_rows=quality.rows(),
            )
        return dg.AssetCheckResult(
            passed=bool(result["success"]), description=result["description"], metadata=result["metadata"]
        )

    return check


# One check per suite the registry declares, on the asset whose build completes what the suite reads.
gx_checks = [
    _gx_check(dg.AssetKey(table(t.suite_after or t.name).asset_key), t.short) for t in TABLES if t.suite
]
