"""The one Dagster `Definitions` of the project: assets, checks, jobs, schedules and resources."""

from __future__ import annotations

import dagster as dg

from assets import checks, core, crawl, publish
from assets.resources import HubResource, WarehouseResource

all_assets = dg.load_assets_from_modules([crawl, core, publish])
all_checks = dg.load_asset_checks_from_modules([checks])

# The whole daily cycle for one crawl date: crawl (partitioned) -> core rebuild -> checks -> publish.
daily_pipeline = dg.define_asset_job("daily_pipeline", selection=dg.AssetSelection.all(),
                                     description="Crawl one day of the Hub, rebuild the core tables, check "
                                     "them and publish a snapshot.")
daily_crawl = dg.define_asset_job("daily_crawl", selection=dg.AssetSelection.groups("raw"),
                                  description="Crawl one day of the Hub into the raw layer only.")
daily_schedule = dg.build_schedule_from_partitioned_job(daily_pipeline, hour_of_day=2, minute_of_hour=15,
                                                        default_status=dg.DefaultScheduleStatus.STOPPED)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[daily_pipeline, daily_crawl],
    schedules=[daily_schedule],
    resources={
        "warehouse": WarehouseResource(root=dg.EnvVar("OPENNESS_WAREHOUSE")),
        "hub": HubResource(endpoint=dg.EnvVar("OPENNESS_HUB_ENDPOINT"), replay=dg.EnvVar("OPENNESS_HUB_REPLAY"),
                           rate_limit=dg.EnvVar("OPENNESS_HUB_RATE_LIMIT"),
                           arxiv_endpoint=dg.EnvVar("OPENNESS_ARXIV_ENDPOINT"),
                           scope_file=dg.EnvVar("OPENNESS_HUB_SCOPE_FILE")),
    },
    # Small DuckDB steps: one process avoids ~3 s of imports per step and cross-process file locks.
    executor=dg.in_process_executor,
)
