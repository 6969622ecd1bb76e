"""Depth by usage: the order and the daily budget of the crawls that go deep (docs/crawler.md, "Depth by usage").

The history backfill (pipelines.hub.backfill) and the code-repository crawl (pipelines.code.step) cost far
more than the daily listing, and a whole-Hub backfill takes weeks of a token's quota. Both plan their work
most-used first, so that the releases people use get full depth first, and stop at a daily budget that the
operator sets; what is left is taken up by the next crawl date.

Usage is the Hub's `downloads` of a model (the last 30 days), as last listed: current use, where the
all-time count favours old, superseded releases. It comes from the listing captures (every listed model,
the daily page of the most-downloaded ones, the weekly full listing) and costs no request. A repo never
listed with a count has unknown usage and comes last; ties are broken by repo id, so the order is
deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from pipelines.storage import crawl_index
from pipelines.storage.raw import RawStore
from pipelines.transport import HUB_ENDPOINT

# A free token's Hub quota of API calls per 5-minute window (pipelines/hub_transport.py HUB_QUOTAS; with no
# token, the anonymous one): the backfill's binding bucket (it sends ~1.7 API calls per README read).
HUB_API_PER_WINDOW = {True: 1000, False: 500}
HUB_WINDOWS_PER_DAY = 24 * 60 // 5
# The default budget takes this share of the token's daily quota, leaving the rest to the daily crawl,
# the papers and datasets steps and anyone else using the token.
DEFAULT_SHARE = 0.5


def _usage(frame: pl.DataFrame) -> pl.DataFrame:
    # The listed `downloads`; captures older than that column hold the count in the item only
    # (pipelines/incremental/metrics.py): only their items are parsed.
    item_count = pl.col("item").str.json_path_match("$.downloads").cast(pl.Int64, strict=False)
    usage = pl.when(pl.col("downloads").is_not_null()).then(pl.col("downloads")).otherwise(item_count)
    return frame.select("repo_id", "fetched_at", usage.alias("usage"), "crawl_date").filter(
        pl.col("repo_id").is_not_null() & (pl.col("usage") >= 0)
    )


def _usage_reduce(frame: pl.DataFrame) -> pl.DataFrame:
    # Per repo and crawl date, the count fetched last (the newest as of any date is among them).
    return frame.group_by("repo_id", "crawl_date").agg(
        pl.col("usage").sort_by("fetched_at").last(), pl.col("fetched_at").max()
    )


# The listing captures' usage, kept by the crawl-state index (pipelines/storage/crawl_index.py): a crawl
# reads it without reading every listing capture.
USAGE = crawl_index.register(
    crawl_index.View(
        "hub_listing_usage",
        "hub_listing",
        ("repo_id", "fetched_at", "downloads", "item", "crawl_date"),
        _usage,
        _usage_reduce,
    )
)[0]


def latest_downloads(store: RawStore, until: str | None = None) -> dict[str, int]:
    """Each listed repo's newest known `downloads` (last 30 days) from the listing captures (with `until`,
    those of that crawl date and before); repos never listed with a count are absent (unknown usage). Read
    from the crawl-state index, not from every listing capture."""
    frame = crawl_index.read(store, USAGE)
    if until is not None:
        frame = frame.filter(pl.col("crawl_date") <= until)
    latest = frame.sort("fetched_at").group_by("repo_id").agg(pl.col("usage").last())
    return dict(latest.iter_rows())


def by_usage(repos: Iterable[str], usage: Mapping[str, int | None]) -> list[str]:
    """The repos most-used first; unknown usage (absent or None) last; ties by repo id."""

    def key(repo: str) -> tuple[bool, int, str]:
        value = usage.get(repo)
        return (value is None, -(value or 0), repo)

    return sorted(set(repos), key=key)


def hub_daily_budget(configured: int | None, endpoint: str, authenticated: bool) -> int:
    """API calls (the Hub's `api` quota bucket) the history backfill may send per crawl date (0: no limit).
    None: DEFAULT_SHARE of the token's daily API quota against the public Hub (144,000 with a token, 72,000
    without), and no limit elsewhere (a mirror has no quota)."""
    if configured is not None:
        if configured < 0:
            raise ValueError(f"history_budget must not be negative, got {configured}")
        return configured
    if endpoint.rstrip("/") != HUB_ENDPOINT:
        return 0
    return int(DEFAULT_SHARE * HUB_API_PER_WINDOW[authenticated] * HUB_WINDOWS_PER_DAY)


# API calls per model of a first history backfill, measured (docs/benchmarks.md, "Crawl cost at 100,000
# models"): 400,845 API calls (100,000 commit lists + 300,845 revision infos) for 100,000 synthetic models
# whose history lengths follow reference/history. A model with a longer history costs more.
MEASURED_API_PER_MODEL = 4.00845
# The Hub's public models in August 2026 (DESIGN.md, "Scale"): the "all" tier of the Hub-wide figures.
HUB_MODELS = 3_000_000
TIERS = (100_000, 1_000_000, None)


@dataclass(frozen=True)
class DepthPlan:
    """How long the history backfill of the most-used models takes at a daily budget."""

    tier: str  # "top 100,000", ..., or "all"
    models: int  # models in the tier (fewer than its size when fewer are known)
    pending: int  # of which history is still to walk
    api_calls: int  # what walking them costs at the cost per model
    days: float  # crawl dates at the budget (the tier is done after ceil(days) of them)


def plan_tiers(
    pending: Sequence[bool],
    budget: int,
    api_per_model: float = MEASURED_API_PER_MODEL,
    tiers: Iterable[int | None] = TIERS,
) -> list[DepthPlan]:
    """Days of budget each tier needs. `pending`: one flag per model, most-used first (True: its history
    is still to walk); a tier is the first N models (None: all), walked first since the walk is by usage."""
    if budget <= 0:
        raise ValueError(f"the budget must be a positive number of API calls a day, got {budget}")
    if api_per_model <= 0:
        raise ValueError(f"api_per_model must be positive, got {api_per_model}")
    plans = []
    for tier in tiers:
        head = pending if tier is None else pending[:tier]
        todo = sum(head)
        calls = math.ceil(todo * api_per_model)
        label = "all" if tier is None else f"top {tier:,}"
        plans.append(DepthPlan(label, len(head), todo, calls, round(calls / budget, 1)))
    return plans


def format_plans(plans: Iterable[DepthPlan], budget: int, api_per_model: float) -> str:
    """The plans as a Markdown table, with what they are computed from."""
    lines = [
        f"History backfill at {budget:,} API calls a day, {api_per_model:g} API calls per model:",
        "",
        "| models | known | history to walk | API calls | days of budget |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {p.tier} | {p.models:,} | {p.pending:,} | {p.api_calls:,} | {p.days:,} |" for p in plans]
    return "\n".join(lines)
