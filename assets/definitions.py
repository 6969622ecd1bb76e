"""The one Dagster `Definitions` of the project: assets, checks, jobs, schedules, sensors and resources."""

import dagster as dg

from assets import automation, checks, core, crawl, publish
from assets.environment import apply_settings
from assets.resources import BuildResource, HubResource, PublishResource, WarehouseResource

# Every process that loads the definitions (webserver, daemon, run workers) resolves the `EnvVar`s below:
# variables set by the deployment win; unset ones take the project defaults (.env.example lists them).
apply_settings()

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([crawl, core, publish]),
    asset_checks=[checks.revisions_keys, checks.releases_cover_revisions, *checks.gx_checks],
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
    ],
    resources={
        "warehouse": WarehouseResource(root=dg.EnvVar("OPENNESS_WAREHOUSE")),
        "hub": HubResource(
            endpoint=dg.EnvVar("OPENNESS_HUB_ENDPOINT"),
            replay=dg.EnvVar("OPENNESS_HUB_REPLAY"),
            rate_limit=dg.EnvVar("OPENNESS_HUB_RATE_LIMIT"),
            arxiv_endpoint=dg.EnvVar("OPENNESS_ARXIV_ENDPOINT"),
            scope_file=dg.EnvVar("OPENNESS_HUB_SCOPE_FILE"),
        ),
        "publishing": PublishResource(targets=dg.EnvVar("OPENNESS_PUBLISH_TARGETS")),
        # Incremental builds; run config `resources: {build: {config: {full_rebuild: true}}}` forces a full one.
        "build": BuildResource(),
    },
    # Small DuckDB steps: one process avoids ~3 s of imports per step and cross-process file locks.
    # Deployments at Hub scale run the shard runs concurrently instead (docs/crawler.md).
    executor=dg.in_process_executor,
)
