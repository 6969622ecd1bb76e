"""Blocking asset checks on the tables that feed a snapshot: plain-SQL key checks and the GX suites.

A failing blocking check fails the build run, and `publish_after_checks` only publishes after a
successful build, so a defect never reaches a snapshot. The two SQL key checks run right after the table
they guard, so that a broken key stops the steps that read it.

The suites are those the table registry (pipelines/tables.py) declares, and they run after the last write
of the build: each is a blocking check of the table the last build step writes first (`SUITES_ON`), and
waits for every table of the build. A suite checked between two steps would record its pass on a state of
the working file that the later steps change; the publish gate would then have to prove the content
unchanged by a fingerprint scan of each table (one more scan of every table a day, docs/quality.md,
"Validated once"). Checked last, every pass names the file as the publish job finds it, and the gate
reuses each without reading a row. Each suite's description names the table it validates.
"""

from datetime import UTC, datetime

import dagster as dg

from assets.resources import QualityResource, WarehouseResource
from pipelines.quality.sql_checks import releases_match_revisions, revision_keys
from pipelines.tables import TABLES, steps, table

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


# The table the suites are checks of: the first the last build step writes (nothing in the build reads it
# after the suites run), and every table of the build as a dependency, so that they run after its last write.
BUILT = [dg.AssetKey(t.asset_key) for t in TABLES]
SUITES_ON = next(dg.AssetKey(t.asset_key) for t in TABLES if t.step == steps()[-1])


def _gx_check(name: str, validated: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=SUITES_ON,
        name=f"{name}_suite",
        blocking=True,
        additional_deps=[k for k in BUILT if k != SUITES_ON],
        description=f"The Great Expectations suite of {validated} (docs/quality.md): keys, enumerations, "
        "licence ids, ranges, dates and references; run after the last table of the build is written.",
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


# One check per suite the registry declares.
gx_checks = [_gx_check(t.short, t.name) for t in TABLES if t.suite]
