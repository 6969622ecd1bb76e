"""Raw-layer assets: the daily Hub crawl into append-only Parquet (wiring only; logic in pipelines.hub)."""


import dagster as dg

from assets.partitions import daily_crawl_partitions
from assets.resources import HubResource, WarehouseResource
from pipelines.hub.daily import run_crawl, run_datasets, run_history, run_papers_step


@dg.asset(
    key=["raw", "hub_listing"],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool="hub",
    kinds={"parquet"},
    description="One row per model item of each Hub listing page read on the crawl date, newest change first, "
    "back to the previous crawl's watermark; and the README of every commit not seen before. Append-only, "
    "content-addressed Parquet under warehouse/raw/.",
)
def hub_listing(context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
                ) -> dg.MaterializeResult:
    """Crawl one day of the Hub (listing + changed READMEs) into the raw layer."""
    summary = run_crawl(warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata=summary.as_metadata())


@dg.asset(
    key=["raw", "hub_history"],
    deps=[hub_listing],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool="hub",
    kinds={"parquet"},
    description="For each tracked repo whose newest commit is not yet in our history: its commit list, the "
    "info of every commit not captured before, and the README where its blob changed. Recovers a release's "
    "past from before the first crawl. Append-only Parquet under warehouse/raw/.",
)
def hub_history(context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
                ) -> dg.MaterializeResult:
    """Backfill the commit history of changed repos into the raw layer."""
    result = run_history(warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata=result)


@dg.asset(
    key=["raw", "hub_datasets"],
    deps=[hub_listing, hub_history],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool="hub",
    kinds={"parquet"},
    description="One row per dataset repo named by a model card (`datasets:` / `dataset:` tags) that is new or "
    "was last read more than 30 days ago: its info (licence, gating) and whether it has a card.",
)
def hub_datasets(context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
                 ) -> dg.MaterializeResult:
    """Fetch the training datasets the cards name (new ones, and a monthly refresh)."""
    result = run_datasets(warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata=result)


@dg.asset(
    key=["raw", "papers"],
    deps=[hub_listing, hub_history],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool="arxiv",
    kinds={"parquet"},
    description="One row per arXiv API answer (batches of up to 100 ids, one request every 3 s) and per Hub "
    "paper page, for the papers the cards cite (`arxiv:` tags) that were never fetched or are a month old.",
)
def papers_raw(context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
               ) -> dg.MaterializeResult:
    """Fetch arXiv metadata and Hub paper pages of cited papers into the raw layer."""
    result = run_papers_step(warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata=result)
