"""The one Dagster `Definitions` of the project: assets, checks, jobs, schedules, sensors and resources.

Each source brings its module (assets/hub.py, assets/papers.py, assets/code.py: raw assets, resource and pool together);
they are merged here. Nothing is read from the environment when this module loads: the resources resolve
their settings when a run uses them (assets/resources.py).
"""

import dagster as dg

from assets import automation, checks, code, core, hub, monitoring, papers, publish
from assets.resources import BuildResource, PublishResource, QualityResource, WarehouseResource

SOURCES = (hub, papers, code)

defs = dg.Definitions(
    assets=[*(a for source in SOURCES for a in source.ASSETS), *dg.load_assets_from_modules([core, publish])],
    asset_checks=[
        checks.revisions_keys,
        checks.releases_cover_revisions,
        *checks.gx_checks,
        *monitoring.freshness_checks,
    ],
    jobs=[
        automation.daily_listing,
        automation.daily_shards,
        automation.daily_extras,
        automation.build_tables,
        automation.publish_snapshot,
    ],
    schedules=[automation.daily_listing_schedule],
    sensors=[
        automation.shards_after_listing,
        automation.extras_after_shards,
        automation.build_after_crawl,
        automation.publish_after_checks,
        *monitoring.SENSORS,
    ],
    resources={
        "warehouse": WarehouseResource(),
        **{name: resource for source in SOURCES for name, resource in source.RESOURCES.items()},
        "publishing": PublishResource(),
        # Incremental builds; run config `resources: {build: {config: {full_rebuild: true}}}` forces a full one.
        "build": BuildResource(),
        "quality": QualityResource(),
        **monitoring.RESOURCES,
    },
    # Small DuckDB steps: one process avoids ~3 s of imports per step and cross-process file locks.
    # Deployments at Hub scale run the shard runs concurrently instead (docs/crawler.md).
    executor=dg.in_process_executor,
)
