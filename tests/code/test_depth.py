"""Depth by usage in the code crawl, over real HTTP against the code mirror: the repositories that the most
downloaded models' cards link to are crawled first, a crawl date stops at its budget of quota, and the repos
left come first on the next date (never crawled before crawled ones), so none is skipped for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from pipelines.code import raw
from pipelines.code.settings import CodeSettings
from pipelines.code.step import run_code_step
from pipelines.hub.raw import LISTING_RAW_SCHEMA, README_RAW_SCHEMA
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse

DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
# model -> (30-day downloads as listed, None: never listed with a count; the repositories its card links to)
MODELS = {
    "m/a": (5000, ["openai/human-eval"]),
    "m/b": (900, ["meta-llama/llama", "QwenLM/Qwen"]),
    "m/c": (7, ["qwenlm/qwen", "empty/repo"]),  # Qwen's usage is its most-downloaded citer's: 900, not 7
    "m/d": (None, ["tatsu-lab/stanford_alpaca", "blocked/model-code"]),
}


def _captured_cards(wh: Warehouse) -> None:
    """The Hub captures the code step reads: each model's listing item and README, as a crawl writes them."""
    listing, readmes = [], []
    for n, (model, (downloads, links)) in enumerate(MODELS.items()):
        if downloads is not None:
            row = dict.fromkeys(LISTING_RAW_SCHEMA)
            listing.append(
                {**row, "fetched_at": NOW, "repo_id": model, "sha": f"{n:040x}", "downloads": downloads}
            )
        card = "# Model\n\n" + "\n".join(f"Code: https://github.com/{link}" for link in links)
        readme = dict.fromkeys(README_RAW_SCHEMA)
        readmes.append(
            {**readme, "fetched_at": NOW, "repo_id": model, "revision": f"{n:040x}", "status": "ok"}
        )
        readmes[-1]["content"] = card.encode()
    wh.raw.append(
        "hub_listing", DAYS[0], pl.DataFrame(listing, schema=LISTING_RAW_SCHEMA), payload=["repo_id"]
    )
    wh.raw.append("hub_readme", DAYS[0], pl.DataFrame(readmes, schema=README_RAW_SCHEMA), payload=["repo_id"])


def test_budget_defaults_and_bad_values() -> None:
    assert CodeSettings(token="t").effective_daily_budget() == 60_000  # half of 5,000 an hour
    assert CodeSettings().effective_daily_budget() == 720
    assert CodeSettings(endpoint="http://127.0.0.1:9/api/v3").effective_daily_budget() == 0  # a mirror
    assert CodeSettings(daily_budget=0, token="t").effective_daily_budget() == 0
    with pytest.raises(ValueError, match="daily_budget must not be negative"):
        CodeSettings(daily_budget=-5)


def test_code_crawl_by_usage_within_a_daily_budget(code_mirror, tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh")
    _captured_cards(wh)
    orders, results = [], []
    with MirrorServer(code_mirror) as srv:
        for day, budget in zip(DAYS, (1, 1, 0), strict=True):  # 1: one repo a day; 0: no limit
            messages: list[str] = []
            conf = CodeSettings(endpoint=srv.github_url, token="t", daily_budget=budget)
            now = NOW + timedelta(days=DAYS.index(day))
            results.append(run_code_step(wh, conf, day, now=now, progress=messages.append))
            orders.append([m.split(":")[0] for m in messages if not m.startswith("daily budget")])
            if day == DAYS[0]:  # the date run again: its budget is spent, nothing more is crawled
                srv.reset_log()
                again = run_code_step(wh, conf, day, now=now)
                assert again["deferred"] == 5 and again["requests"] == 0 and srv.requests == []
    assert orders == [
        ["openai/human-eval"],  # 5,000 downloads
        ["meta-llama/llama"],  # 900, tied with Qwen: by repo
        # never crawled first, most-used first, unknown usage last; then the least recently crawled
        [
            "qwenlm/qwen",
            "empty/repo",
            "blocked/model-code",
            "tatsu-lab/stanford_alpaca",
            "openai/human-eval",
            "meta-llama/llama",
        ],
    ]
    assert [r["deferred"] for r in results] == [5, 5, 0]  # day 2 leaves human-eval's re-check too
    assert [r["budget"] for r in results] == [1, 1, 0]
    assert all(r["status"] == "complete" for r in results)
    assert set(raw.scan(wh.raw, "github_repo")["repo"]) == {
        k.lower() for _, ls in MODELS.values() for k in ls
    }
