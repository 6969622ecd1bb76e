"""Dagster resources: settings come from `ConfigurableResource` fields fed by `EnvVar` in the Definitions."""

import os
from pathlib import Path

import dagster as dg

from pipelines.hub.daily import CrawlSettings
from pipelines.hub.scope import load_watchlist
from pipelines.storage.warehouse import Warehouse


def _truthy(value: str) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"expected true or false, got {value!r}")
    return text in ("true", "1", "yes")


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse lives (the DuckDB files, raw Parquet and snapshots)."""

    root: str

    def get(self) -> Warehouse:
        """The warehouse object for this run."""
        return Warehouse(Path(self.root))


class BuildResource(dg.ConfigurableResource):
    """How `build_tables` builds: incremental by default (only the raw files not read yet, only the repos
    they touch); `full_rebuild: true` in the run config (resources: build: config:) rebuilds every table
    from the whole raw layer, as the first run and a change of the normalisation or scoring code do."""

    full_rebuild: bool = False


class HubResource(dg.ConfigurableResource):
    """How the crawler reaches the Hub: endpoint, replay mode, page size, politeness."""

    endpoint: str = "https://huggingface.co"
    replay: str = "false"  # "true": crawl the state as of the partition date (a hub mirror's /as-of/)
    page_size: int = 1000
    authors: str = ""  # comma-separated organisations; empty = the whole Hub
    scope_file: str = ""  # a watchlist YAML (organisations + repos), e.g. pipelines/hub/watchlist.yml
    min_downloads: int = 0
    min_likes: int = 0
    top_n: int = 0
    rate_limit: str = "true"  # "false" only against a local mirror
    arxiv_endpoint: str = "https://export.arxiv.org/api/query"
    token_env: str = "HF_TOKEN"  # the NAME of the variable holding the token; the token is never stored

    def settings(self) -> CrawlSettings:
        """Crawl settings; the token is read from the named variable at run time, never logged."""
        token = os.environ.get(self.token_env) or None
        orgs = tuple(a.strip() for a in self.authors.split(",") if a.strip())
        repos: tuple[str, ...] = ()
        if self.scope_file:
            file_orgs, repos = load_watchlist(Path(self.scope_file))
            orgs = tuple(sorted(set(orgs) | set(file_orgs)))
        return CrawlSettings(
            endpoint=self.endpoint,
            token=token,
            replay=_truthy(self.replay),
            page_size=self.page_size or None,
            authors=orgs,
            repos=repos,
            min_downloads=self.min_downloads,
            min_likes=self.min_likes,
            top_n=self.top_n,
            rate_limit=_truthy(self.rate_limit),
            arxiv_endpoint=self.arxiv_endpoint,
        )


class PublishResource(dg.ConfigurableResource):
    """Where snapshots go besides warehouse/snapshots/: fsspec URLs (s3://...) or hf://datasets/<org>/<name>."""

    targets: str = ""  # comma-separated; empty = the local snapshots folder only
    token_env: str = "HF_TOKEN"  # the NAME of the variable holding a Hub token for hf:// targets
    storage_options_env: str = "OPENNESS_STORAGE_OPTIONS"  # the NAME of a variable with JSON fsspec options
    # An operator's override of failed snapshot gates, as JSON: {"reason": ..., "by": ..., "gates": [...]}.
    # It is recorded in the manifest and the quality report; a reason is required.
    gate_override: str = ""
    # The publish gate reuses a suite result the build's checks recorded for exactly the same table content
    # (pipelines/quality/ledger.py); true runs every suite again.
    revalidate: bool = False

    def override(self) -> dict | None:
        """The gate override, if one is configured."""
        import json

        return json.loads(self.gate_override) if self.gate_override.strip() else None

    def target_list(self) -> list[str]:
        """The configured extra targets."""
        return [t.strip() for t in self.targets.split(",") if t.strip()]

    def credentials(self) -> tuple[str | None, dict | None]:
        """(Hub token, fsspec storage options) read at run time from the named variables; never logged."""
        import json

        raw = os.environ.get(self.storage_options_env)
        return os.environ.get(self.token_env) or None, json.loads(raw) if raw else None
