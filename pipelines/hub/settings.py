"""Settings of the Hub crawl: how to reach the Hub and what to crawl (passed in, never read from the
environment here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.depth import hub_daily_budget
from pipelines.transport import HUB_ENDPOINT, quota_folder, replay_endpoint


@dataclass(frozen=True)
class HubSettings:
    """How to reach the Hub and what to crawl."""

    endpoint: str = HUB_ENDPOINT
    token: str | None = field(default=None, repr=False)
    replay: bool = False  # crawl the mirror's state as of the partition date (`/as-of/<date>/`)
    page_size: int | None = 1000
    timeout: float = 30.0
    max_retries: int = 5
    base_wait: float = 1.0  # first retry wait in seconds (huggingface_hub's default)
    max_readme_bytes: int = 5_000_000
    authors: tuple[str, ...] = ()  # organisations to list; empty: the whole Hub
    repos: tuple[str, ...] = ()  # single watched repos (listed through their organisation, then filtered)
    min_downloads: int = 0  # only track repos with at least this many downloads (last 30 days)
    min_likes: int = 0
    top_n: int = 0  # > 0: track the N most-downloaded models instead of a listing to the watermark
    # > 0: after the listing to the watermark, one more page of the N most-downloaded models (sorted by
    # downloads), so that their usage counts (core.release_metrics) are refreshed daily; 0: none
    usage_top_n: int = 100
    overlap_hours: float = 1.0
    # A full listing (ignoring the watermark) on this ISO weekday (7 = Sunday; 0 = never) finds deletions:
    # a tracked repo absent from a complete listing is checked with model_info and marked deleted on 404.
    full_sweep_weekday: int = 7
    rate_limit: bool = True  # apply the published per-window quotas
    # The quotas are shared by every process crawling with the token, through files in this folder
    # (None: the warehouse's state/quota; "": each process keeps its own, as if it were alone).
    quota_dir: str | None = None
    # API calls (the Hub's `api` quota bucket) the history backfill may send per crawl date, split evenly
    # between its shards; the repos left (least-downloaded last) are walked by the next crawl date.
    # None: half a token's daily API quota against the public Hub (pipelines/depth.py), no limit elsewhere;
    # 0: no limit.
    history_budget: int | None = None

    def __post_init__(self) -> None:
        if self.history_budget is not None and self.history_budget < 0:
            raise ValueError(f"history_budget must not be negative, got {self.history_budget}")

    def daily_history_budget(self) -> int:
        """API calls the history backfill may send per crawl date, all shards together (0: no limit)."""
        return hub_daily_budget(self.history_budget, self.endpoint, bool(self.token))

    def quota_folder(self, state: Path) -> Path | None:
        """Where the shared quota files live for a warehouse whose state folder is `state` (None: unshared)."""
        return quota_folder(self.quota_dir, state)

    def endpoint_for(self, crawl_date: str) -> str:
        """The endpoint a crawl of `crawl_date` talks to."""
        return replay_endpoint(self.endpoint, crawl_date, self.replay)
