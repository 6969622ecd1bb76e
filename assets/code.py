"""The code repositories source on the Dagster side: its resource, its pool and its raw asset (logic in
pipelines.code).

The code step follows the papers step of the same date: it crawls the GitHub repositories that the
captured cards and papers link to. Wiring: add this module to `SOURCES` in assets/definitions.py and
`CODE` to the day's extras in assets/automation.py, with OPENNESS_GITHUB_ENDPOINT pointed at the mirror
wherever the Hub endpoint is (the demo, the tests), so that nothing asks api.github.com offline.
"""

import os

import dagster as dg

from assets.hub import HubResource, configured_budget
from assets.papers import PAPERS
from assets.partitions import daily_crawl_partitions
from assets.resources import WarehouseResource, configured
from pipelines.code.settings import DEFAULT_ENDPOINT, ENDPOINT_VARIABLE, TOKEN_VARIABLE, CodeSettings
from pipelines.code.step import run_code_step

# GitHub's secondary limits punish concurrency: one code step at a time, across runs (dagster.yaml).
POOL = "github"
CODE = dg.AssetKey(["raw", "code_repos"])


class CodeResource(dg.ConfigurableResource):
    """Where GitHub's REST API is and which variable holds the token (both resolved at run time)."""

    endpoint: str = ""  # empty: $OPENNESS_GITHUB_ENDPOINT, else https://api.github.com
    token_env: str = TOKEN_VARIABLE  # the NAME of the variable holding the token; the token is never stored
    # Only these repositories (owner/name); empty: $OPENNESS_GITHUB_ONLY_REPOS (comma-separated), else every
    # repository the captured cards and papers name.
    only_repos: list[str] = []
    # Quota a crawl date may spend, most-used repositories first (docs/crawler.md, "Depth by usage"); -1:
    # $OPENNESS_GITHUB_DAILY_BUDGET, else half the token's daily quota against api.github.com and no limit
    # against a mirror; 0: no limit.
    daily_budget: int = -1

    def settings(self, replay: bool) -> CodeSettings:
        """Code settings for a crawl (replay: a mirror's state as of the crawl date, like the Hub's)."""
        return CodeSettings(
            endpoint=configured(self.endpoint, ENDPOINT_VARIABLE, DEFAULT_ENDPOINT),
            token=os.environ.get(self.token_env) or None,
            replay=replay,
            scope=tuple(self.only_repos)
            or tuple(
                r.strip() for r in os.environ.get("OPENNESS_GITHUB_ONLY_REPOS", "").split(",") if r.strip()
            )
            or None,
            daily_budget=configured_budget(self.daily_budget, "OPENNESS_GITHUB_DAILY_BUDGET"),
        )


@dg.asset(
    key=CODE,
    deps=[PAPERS],
    partitions_def=daily_crawl_partitions,
    group_name="raw",
    pool=POOL,
    kinds={"parquet"},
    description="One row per look at a GitHub repository that a captured card or paper links to (conditional: "
    "a 304 costs no quota), with its head tree, licence-file blobs and the commits touching them (docs/code.md).",
)
def code_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hub: HubResource, code: CodeResource
) -> dg.MaterializeResult:
    """Crawl the linked code repositories into the raw layer."""
    settings = code.settings(replay=hub.settings().replay)
    result = run_code_step(warehouse.get(), settings, context.partition_key, progress=context.log.info)
    return dg.MaterializeResult(metadata={k: v for k, v in result.items() if not isinstance(v, dict)})


ASSETS = [code_raw]
RESOURCES = {"code": CodeResource()}
