"""The Hub source on the Dagster side: its resource, its pool and its raw assets (logic in pipelines.hub)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import httpx2
import requests
from huggingface_hub.errors import HfHubHTTPError

from assets.partitions import (
    CRAWL_SHARDS,
    by_date,
    daily_crawl_partitions,
    shard_key,
    sharded_crawl_partitions,
)
from assets.resources import WarehouseResource, configured, configured_flag
from pipelines.hub.client import CrawlError
from pipelines.hub.scope import load_watchlist
from pipelines.hub.settings import HubSettings
from pipelines.hub.step import run_datasets, run_history, run_license_files, run_listing, run_readmes
from pipelines.transport import HUB_ENDPOINT

# One Hub step at a time in this pool, across runs (dagster.yaml): they share the Hub's per-window quotas.
POOL = "hub"
# A step retries each request a few times (pipelines/hub/client.py); an outage longer than that fails the
# step, which Dagster runs again after 2, then 4 minutes (and the crawl resumes where it stopped: nothing
# saved is fetched again). Beyond that the run fails, and the next run or a re-execution takes it up.
CRAWL_RETRY = dg.RetryPolicy(
    max_retries=2, delay=120, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
# What the RetryPolicy retries: the Hub (or arXiv) failing or out of reach. Anything else (a bad setting, a
# bug) fails the step at once, since running it again could not help.
OUTAGES = (
    HfHubHTTPError,
    httpx2.TransportError,
    httpx2.TimeoutException,
    CrawlError,
    requests.RequestException,
)


@contextmanager
def outages_retried() -> Iterator[None]:
    """Around a crawl step: an outage propagates (the RetryPolicy runs the step again); any other error
    becomes a dg.Failure that bypasses the policy, with the error's own one-line message."""
    try:
        yield
    except OUTAGES:
        raise
    except Exception as exc:
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc


LISTING = dg.AssetKey(["raw", "hub_listing"])
READMES = dg.AssetKey(["raw", "hub_readmes"])
HISTORY = dg.AssetKey(["raw", "hub_history"])
DATASETS = dg.AssetKey(["raw", "hub_datasets"])


class HubResource(dg.ConfigurableResource):
    """How the crawler reaches the Hub: endpoint, replay mode, page size, politeness (resolved at run time:
    see assets/resources.py)."""

    endpoint: str = ""  # empty: $OPENNESS_HUB_ENDPOINT, else the public Hub
    # "true": crawl the state as of the partition date (a hub mirror's /as-of/); empty: $OPENNESS_HUB_REPLAY
    replay: str = ""
    page_size: int = HubSettings.page_size or 0  # 0: the Hub's own page size
    authors: str = ""  # comma-separated organisations; empty = the whole Hub
    # A watchlist YAML (organisations + repos), e.g. pipelines/hub/watchlist.yml; empty: $OPENNESS_HUB_SCOPE_FILE
    scope_file: str = ""
    min_downloads: int = 0
    min_likes: int = 0
    top_n: int = 0
    # the most-downloaded models whose usage counts are refreshed daily (one extra listing page; 0: off)
    usage_top_n: int = HubSettings.usage_top_n
    rate_limit: str = ""  # "false" only against a local mirror; empty: $OPENNESS_HUB_RATE_LIMIT, else true
    token_env: str = "HF_TOKEN"  # the NAME of the variable holding the token; the token is never stored
    # API calls the history backfill may send per crawl date, most-downloaded repos first (docs/crawler.md,
    # "Depth by usage"); -1: $OPENNESS_HUB_HISTORY_BUDGET, else half a token's daily quota against the
    # public Hub and no limit against a mirror; 0: no limit.
    history_budget: int = -1

    def settings(self) -> HubSettings:
        """Crawl settings; the token is read from the named variable at run time, never logged."""
        token = os.environ.get(self.token_env) or None
        orgs = tuple(a.strip() for a in self.authors.split(",") if a.strip())
        repos: tuple[str, ...] = ()
        scope_file = configured(self.scope_file, "OPENNESS_HUB_SCOPE_FILE", "")
        if scope_file:
            file_orgs, repos = load_watchlist(Path(scope_file))
            orgs = tuple(sorted(set(orgs) | set(file_orgs)))
        return HubSettings(
            endpoint=configured(self.endpoint, "OPENNESS_HUB_ENDPOINT", HUB_ENDPOINT),
            token=token,
            replay=configured_flag(self.replay, "OPENNESS_HUB_REPLAY", HubSettings.replay),
            page_size=self.page_size or None,
            authors=orgs,
            repos=repos,
            min_downloads=self.min_downloads,
            min_likes=self.min_likes,
            top_n=self.top_n,
            usage_top_n=self.usage_top_n,
            rate_limit=configured_flag(self.rate_limit, "OPENNESS_HUB_RATE_LIMIT", HubSettings.rate_limit),
            history_budget=configured_budget(self.history_budget, "OPENNESS_HUB_HISTORY_BUDGET"),
        )


def configured_budget(value: int, variable: str) -> int | None:
    """A daily budget from the resource (>= 0), else from `variable` (read at run time), else None (default)."""
    if value >= 0:
        return value
    text = os.environ.get(variable, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{variable} must be a whole number of requests a day, got {text!r}")
    return int(text)


@dg.asset(
    key=LISTING,
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool=POOL,
    retry_policy=CRAWL_RETRY,
    kinds={"parquet"},
    description="One row per model item of each Hub listing page read on the crawl date, newest change first, "
    "back to the previous crawl's watermark (a full listing on Sundays, to find deletions). Append-only, "
    "content-addressed Parquet under warehouse/raw/hub_listing/.",
)
def hub_listing(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Read one day's Hub listing into the raw layer."""
    with outages_retried():
        summary = run_listing(
            warehouse.get(), hub.settings(), context.partition_key, progress=context.log.info
        )
    return dg.MaterializeResult(metadata=summary.as_metadata())


@dg.asset(
    key=READMES,
    deps=[dg.AssetDep(hub_listing, partition_mapping=by_date)],
    partitions_def=sharded_crawl_partitions,
    group_name="raw",
    pool=POOL,
    retry_policy=CRAWL_RETRY,
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
    with outages_retried():
        result = run_readmes(
            warehouse.get(), hub.settings(), day, shard=shard, shards=CRAWL_SHARDS, progress=context.log.info
        )
    return dg.MaterializeResult(metadata=result)


@dg.asset(
    key=HISTORY,
    # After the shard's READMEs, so that the history walk never reads again a README the day already read.
    deps=[dg.AssetDep(hub_listing, partition_mapping=by_date), hub_readmes],
    partitions_def=sharded_crawl_partitions,
    group_name="raw",
    pool=POOL,
    retry_policy=CRAWL_RETRY,
    kinds={"parquet"},
    description="For each repo of one shard whose newest commit is not yet in our history: its commit list, "
    "the info of every commit not captured before, and the README where its blob changed. Recovers a "
    "release's past from before the first crawl. Then the licence and use-policy files (LICENSE, "
    "MODEL_LICENSE, USE_POLICY.md, ...) of every revision of the shard whose file list is known and that "
    "are not captured yet, each blob's bytes read once (raw hub_license_files).",
)
def hub_history(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Backfill the commit history of one shard's changed repos, then capture their licence files."""
    day, shard = shard_key(context)
    with outages_retried():
        wh, settings = warehouse.get(), hub.settings()
        result = run_history(wh, settings, day, shard=shard, shards=CRAWL_SHARDS, progress=context.log.info)
        # After the history walk: the revision infos it read carry blob ids, which spare a HEAD per file.
        licences = run_license_files(
            wh, settings, day, shard=shard, shards=CRAWL_SHARDS, progress=context.log.info
        )
    return dg.MaterializeResult(metadata={**result, "licence_files": licences})


@dg.asset(
    key=DATASETS,
    deps=[dg.AssetDep(hub_history, partition_mapping=by_date), dg.AssetDep(hub_listing)],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool=POOL,
    retry_policy=CRAWL_RETRY,
    kinds={"parquet"},
    description="One row per dataset repo named by a model card (`datasets:` / `dataset:` tags) that is new or "
    "was last read more than 30 days ago: its info (licence, gating) and whether it has a card. Then the licence "
    "and use-policy files of each dataset revision read, each blob's bytes once (raw hub_license_files).",
)
def hub_datasets(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource
) -> dg.MaterializeResult:
    """Fetch the training datasets the cards name (new ones, and a monthly refresh), then their licence files."""
    with outages_retried():
        wh, settings, day = warehouse.get(), hub.settings(), context.partition_key
        result = run_datasets(wh, settings, day, progress=context.log.info)
        licences = run_license_files(wh, settings, day, repo_type="dataset", progress=context.log.info)
    return dg.MaterializeResult(metadata={**result, "licence_files": licences})


ASSETS = [hub_listing, hub_readmes, hub_history, hub_datasets]
RESOURCES = {"hub": HubResource()}
