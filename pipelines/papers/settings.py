"""Settings of the papers step: where arXiv and the Hub paper pages are, and how fast to ask them."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.transport import HUB_ENDPOINT, replay_endpoint

# arXiv's query API.
ARXIV_ENDPOINT = "https://export.arxiv.org/api/query"


@dataclass(frozen=True)
class PapersSettings:
    """Where the paper sources are and how to pace them; passed in, never read from the environment here."""

    arxiv_endpoint: str = ARXIV_ENDPOINT
    arxiv_min_interval: float = 3.0  # arXiv's terms: at most one request every 3 seconds
    hub_endpoint: str = HUB_ENDPOINT  # the Hub papers API (`/api/papers/<id>`)
    # The Hub papers API counts against the Hub's `api` quota: 1 s between requests, 0 against a local mirror.
    hub_min_interval: float = 1.0
    # The Hub crawl's token and quotas: paper pages are Hub requests like the crawl's (pipelines/hub_transport.py).
    hub_token: str | None = field(default=None, repr=False)
    hub_rate_limit: bool = True  # apply the Hub's published per-window quotas (False: a local mirror only)
    # The Hub quotas' shared folder, as the Hub crawl's `quota_dir` (None: the warehouse's state/quota).
    hub_quota_dir: str | None = None
    # How the step's crawl account names it: the Hub crawl it follows (replayed or not) and its organisations.
    replay: bool = False
    authors: tuple[str, ...] = ()

    def account_endpoint(self, crawl_date: str) -> str:
        """The endpoint the crawl account of `crawl_date` names (the Hub's, as the Hub steps name it)."""
        return replay_endpoint(self.hub_endpoint, crawl_date, self.replay)
