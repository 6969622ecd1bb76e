"""Raw-layer assets: the daily Hub crawl into append-only Parquet (wiring only; logic in pipelines.hub)."""

import dagster as dg

from assets.partitions import (
    CRAWL_SHARDS,
    by_date,
    daily_crawl_partitions,
    shard_key,
    sharded_crawl_partitions,
)
from assets.resources import HubResource, WarehouseResource
from pipelines.hub.daily import run_listing, run_readmes
from pipelines.hub.steps import run_datasets, run_history, run_papers_step


@dg.asset(
    key=["raw", "hub_listing"],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool="hub",
    kinds={"parquet"},
    description="One row per model item of each Hub listing page read on the crawl date, newest change first, "
    "back to the previous crawl's watermark (a full listing on Sundays, to find deletions). Append-only, "
    "content-addressed Parquet under warehouse/raw/hub_listing/.",
)
def hub_listing(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Read one day's Hub listing into the raw layer."""
    summary = run_listing(warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata=summary.as_metadata())


@dg.asset(
    key=["raw", "hub_readmes"],
    deps=[dg.AssetDep(hub_listing, partition_mapping=by_date)],
    partitions_def=sharded_crawl_partitions,
    group_name="raw",
    pool="hub",
    kinds={"parquet"},
    description="One row per commit listed on the crawl date and not seen before, for the repos of one shard: "
    "the README at that commit (or why it could not be read: gated, missing, error). Only changed commits "
    "cost a request.",
)
def hub_readmes(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Read the READMEs of one shard's new commits."""
    day, shard = shard_key(context)
    result = run_readmes(
        warehouse.get(), hub.settings(), day, shard=shard, shards=CRAWL_SHARDS, progress=context.log.info
    )
    return dg.MaterializeResult(metadata=result)


@dg.asset(
    key=["raw", "hub_history"],
    # After the shard's READMEs, so that the history walk never reads again a README the day already read.
    deps=[dg.AssetDep(hub_listing, partition_mapping=by_date), hub_readmes],
    partitions_def=sharded_crawl_partitions,
    group_name="raw",
    pool="hub",
    kinds={"parquet"},
    description="For each repo of one shard whose newest commit is not yet in our history: its commit list, "
    "the info of every commit not captured before, and the README where its blob changed. Recovers a "
    "release's past from before the first crawl.",
)
def hub_history(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Backfill the commit history of one shard's changed repos."""
    day, shard = shard_key(context)
    result = run_history(
        warehouse.get(), hub.settings(), day, shard=shard, shards=CRAWL_SHARDS, progress=context.log.info
    )
    return dg.MaterializeResult(metadata=result)


@dg.asset(
    key=["raw", "hub_datasets"],
    deps=[dg.AssetDep(hub_history, partition_mapping=by_date), dg.AssetDep(hub_listing)],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool="hub",
    kinds={"parquet"},
    description="One row per dataset repo named by a model card (`datasets:` / `dataset:` tags) that is new or "
    "was last read more than 30 days ago: its info (licence, gating) and whether it has a card.",
)
def hub_datasets(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Fetch the training datasets the cards name (new ones, and a monthly refresh)."""
    result = run_datasets(warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata=result)


@dg.asset(
    key=["raw", "papers"],
    deps=[dg.AssetDep(hub_history, partition_mapping=by_date), dg.AssetDep(hub_listing)],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool="arxiv",
    kinds={"parquet"},
    description="One row per arXiv API answer (batches of up to 100 ids, one request every 3 s) and per Hub "
    "paper page, for the papers the cards cite (`arxiv:` tags) that were never fetched or are a month old.",
)
def papers_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Fetch arXiv metadata and Hub paper pages of cited papers into the raw layer."""
    result = run_papers_step(
        warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info
    )
    return dg.MaterializeResult(metadata=result)
