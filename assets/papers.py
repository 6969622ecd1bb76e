"""The papers source on the Dagster side: its resource, its pool and its raw asset (logic in pipelines.papers).

The papers step follows the Hub crawl of the same date: it reads the `arxiv:` tags and the READMEs' paper
links of the Hub's captures, asks the Hub papers API at the Hub's endpoint, and its crawl account names
the Hub crawl's scope; so its asset takes the Hub resource besides its own.
"""

import dagster as dg

from assets.hub import CRAWL_RETRY, HubResource, outages_retried
from assets.hub import HISTORY as HUB_HISTORY
from assets.hub import LISTING as HUB_LISTING
from assets.hub import POOL as HUB_POOL
from assets.partitions import by_date, daily_crawl_partitions
from assets.resources import WarehouseResource, configured
from pipelines.hub.settings import HubSettings
from pipelines.papers.settings import ARXIV_ENDPOINT, PapersSettings
from pipelines.papers.step import run_papers_step

# The Hub's pool: the step's Hub paper pages share the Hub's quotas with the Hub steps, so it runs one at a
# time with them (dagster.yaml). arXiv's one connection at a time holds too: this is the only step that asks
# arXiv, and the pool runs one step at a time, across runs.
POOL = HUB_POOL
PAPERS = dg.AssetKey(["raw", "papers"])


class PapersResource(dg.ConfigurableResource):
    """Where arXiv's query API is (resolved at run time: see assets/resources.py)."""

    arxiv_endpoint: str = ""  # empty: $OPENNESS_ARXIV_ENDPOINT, else arXiv's query API

    def settings(self, hub: HubSettings) -> PapersSettings:
        """Papers settings for a crawl whose Hub settings are `hub` (same endpoint, pace and scope)."""
        return PapersSettings(
            arxiv_endpoint=configured(self.arxiv_endpoint, "OPENNESS_ARXIV_ENDPOINT", ARXIV_ENDPOINT),
            hub_endpoint=hub.endpoint,
            # The Hub papers API counts against the `api` quota: pace it unless we talk to a local mirror.
            hub_min_interval=1.0 if hub.rate_limit else 0.0,
            hub_token=hub.token,  # sent as the Hub steps send it, never stored
            hub_rate_limit=hub.rate_limit,
            replay=hub.replay,
            authors=hub.authors,
        )


@dg.asset(
    key=PAPERS,
    deps=[dg.AssetDep(HUB_HISTORY, partition_mapping=by_date), dg.AssetDep(HUB_LISTING)],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool=POOL,
    retry_policy=CRAWL_RETRY,
    kinds={"parquet"},
    description="One row per arXiv API answer (batches of up to 100 ids, one request every 3 s) and per Hub "
    "paper page, for the papers the cards cite (`arxiv:` tags, card links) that were never fetched or are a month old.",
)
def papers_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource, papers: PapersResource
) -> dg.MaterializeResult:
    """Fetch arXiv metadata and Hub paper pages of cited papers into the raw layer."""
    with outages_retried():
        settings = papers.settings(hub.settings())
        result = run_papers_step(warehouse.get(), settings, context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata=result)


ASSETS = [papers_raw]
RESOURCES = {"papers": PapersResource()}
