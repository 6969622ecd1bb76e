"""Helpers of the crawler tests: the sample mirror, its heads as of a date, and raw-layer fingerprints."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl

from pipelines.hub.settings import HubSettings
from pipelines.mirror.layout import parse_date
from pipelines.papers.settings import PapersSettings
from pipelines.storage.warehouse import Warehouse
from tests.conftest import ROOT

SAMPLE = ROOT / "pipelines" / "mirror" / "sample"


def settings(url: str, **overrides: object) -> HubSettings:
    """Replay settings against a local mirror: no quotas, short waits."""
    base = {"endpoint": url, "replay": True, "rate_limit": False, "base_wait": 0.05, "timeout": 5.0}
    return HubSettings(**{**base, **overrides})


def papers_settings(hub: HubSettings, arxiv_url: str, **overrides: object) -> PapersSettings:
    """Papers settings for the same mirror and scope as a Hub crawl's settings (no pacing)."""
    base = {
        "arxiv_endpoint": arxiv_url,
        "arxiv_min_interval": 0.0,
        "hub_endpoint": hub.endpoint,
        "hub_min_interval": 1.0 if hub.rate_limit else 0.0,
        "hub_token": hub.token,
        "hub_rate_limit": hub.rate_limit,
        "replay": hub.replay,
        "authors": hub.authors,
    }
    return PapersSettings(**{**base, **overrides})


def commits_of(mirror: Path) -> dict[str, list[dict]]:
    """Every model repo's commits.json (newest first)."""
    out = {}
    for path in sorted(mirror.glob("models/*/*/commits.json")):
        out[f"{path.parent.parent.name}/{path.parent.name}"] = json.loads(path.read_text())
    return out


def heads_as_of(mirror: Path, day: str) -> dict[str, str]:
    """Each repo's newest commit at the end of `day` (the mirror's as-of rule for a bare date)."""
    end = datetime.combine(date.fromisoformat(day), time.max, tzinfo=UTC)
    heads = {}
    for repo, commits in commits_of(mirror).items():
        dated = [c for c in commits if parse_date(c["date"]) <= end]
        if dated:
            heads[repo] = max(dated, key=lambda c: parse_date(c["date"]))["id"]
    return heads


def has_readme(mirror: Path, repo: str, sha: str) -> bool:
    """Whether the repo's info at that commit (or the nearest older folder) lists README.md, or lists no
    files at all (an unrecorded file list: the crawler must ask for the README)."""
    commits = sorted(commits_of(mirror)[repo], key=lambda c: parse_date(c["date"]))
    folder = None
    for commit in commits:
        candidate = mirror / "models" / repo / "revisions" / commit["id"]
        if candidate.is_dir():
            folder = candidate
        if commit["id"] == sha:
            break
    info = json.loads((folder / "info.json").read_text())
    if "siblings" not in info:
        return True
    return any(s.get("rfilename") == "README.md" for s in info["siblings"])


def raw_fingerprint(wh: Warehouse) -> dict[str, list[tuple]]:
    """The raw layer's payload rows per source, sorted, for comparing two crawls."""
    keys = {
        "hub_listing": ["crawl_date", "repo_id", "sha", "item"],
        "hub_readme": ["repo_id", "revision", "status", "sha256"],
        "hub_revision": ["repo_id", "revision", "info"],
        "hub_commits": ["repo_id", "commits"],
    }
    out = {}
    for source, cols in keys.items():
        if not wh.raw.files(source):
            out[source] = []
            continue
        frame = wh.raw.scan(source).collect().select(cols)
        out[source] = sorted(frame.iter_rows())
    return out


def revisions_table(wh: Warehouse) -> pl.DataFrame:
    """core.revisions without the columns that depend on when or how it was captured."""
    from pipelines.runner import run_step

    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        frame = con.sql("SELECT * FROM core.revisions").pl()
    return frame.drop("observed_at", "source").sort("repo_id", "revision")
