"""Hosted and API access: the Hub's inference providers decide Solaiman's api level for releases without
weight files (docs/rubric.md, "Solaiman's gradient").

The small mirror's HOSTED_REPOS (tests/small_mirror.py) are crawled through the real client, normalised and
scored in a real warehouse: the listing asks for `inference` and `inferenceProviderMapping`, core.revisions
keeps them, and core.openness's release level rests on them with the mapping as evidence.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from pipelines.hub.raw import LISTING_RAW_SCHEMA
from pipelines.hub.schema import DATASETS_SCHEMA, REVISIONS_SCHEMA
from pipelines.hub.step import run_crawl
from pipelines.mirror.server import MirrorServer
from pipelines.openness.components import detect_components
from pipelines.openness.rubric import load_rubric
from pipelines.openness.scoring import score_revisions
from pipelines.openness.signals import PAPERS_SCHEMA
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.small_mirror import HOSTED_REPOS, make_small_mirror

DAY = "2024-03-06"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> dict[str, dict]:
    """repo id -> its core.revisions access columns and its current core.openness verdicts."""
    root = tmp_path_factory.mktemp("hosted")
    wh = Warehouse(root / "wh")
    with MirrorServer(make_small_mirror(root / "mirror", hosted=True)) as srv:
        run_crawl(wh, settings(srv.url), DAY, now=NOW)
    with wh.connect() as con:
        for step in ("revisions", "releases", "datasets", "scores"):
            run_step(step, wh, con, full=True)
        frame = con.sql(
            "SELECT r.*, o.release_level, o.spectrum_level, o.evidence FROM core.revisions r "
            "JOIN core.openness o USING (repo_id, revision) WHERE o.valid_to IS NULL AND r.repo_id LIKE 'delta/%'"
        ).pl()
    out = {row["repo_id"]: row for row in frame.iter_rows(named=True)}
    for row in out.values():  # the access columns as core.revisions names them (absent: not recorded)
        row["providers"] = row.get("inference_providers")
        row.setdefault("inference", None)
    out["_revisions"] = {"frame": frame.filter(pl.col("repo_id") == "delta/served-api")}
    listed = wh.raw.scan("hub_listing", LISTING_RAW_SCHEMA).filter(
        pl.col("repo_id").str.starts_with("delta/")
    )
    out["_raw"] = {r["repo_id"]: r for r in listed.collect().iter_rows(named=True)}
    return out


def test_the_listing_capture_keeps_the_access_fields(scored) -> None:
    """raw.hub_listing keeps them per crawl, in its own nullable columns beside the item as listed."""
    raw = scored["_raw"]
    assert set(raw) == set(HOSTED_REPOS)
    for repo_id, row in raw.items():
        assert (row["inference"], row["inference_providers"]) == (
            scored[repo_id]["inference"],
            scored[repo_id]["providers"],
        ), repo_id
        assert "inferenceProviderMapping" in json.loads(row["item"]), repo_id


def _providers(repo_id: str) -> list[dict]:
    """The mapping as core.revisions should keep it: {provider, status, task} sorted by provider."""
    mapping = HOSTED_REPOS[repo_id][2]
    return [{"provider": p, "status": m["status"], "task": m["task"]} for p, m in sorted(mapping.items())]


def test_served_release_without_weights_is_at_the_api_level_with_the_mapping_as_evidence(scored) -> None:
    row = scored["delta/served-api"]
    assert (row["has_weights"], row["release_level"], row["spectrum_level"]) == (False, "api", 0)
    assert (row["inference"], row["providers"]) == (
        "warm",
        json.dumps(_providers("delta/served-api"), separators=(",", ":")),
    )
    evidence = json.loads(row["evidence"])
    assert evidence["release_level"] == ["mof:10", "inference_providers"]
    assert evidence["inference_providers"] == [
        {"provider": "nebius", "status": "staging", "task": "conversational"},
        {"provider": "together", "status": "live", "task": "conversational"},
    ]
    assert evidence["inference"] == "warm"


def test_served_release_with_weights_stays_downloadable(scored) -> None:
    row = scored["delta/served-weights"]
    assert (row["has_weights"], row["release_level"]) == (True, "downloadable")
    # Recorded, but not the evidence of a level it does not decide.
    assert row["providers"] is not None and json.loads(row["providers"]) == _providers("delta/served-weights")
    evidence = json.loads(row["evidence"])
    assert evidence["release_level"] == ["mof:10"] and "inference_providers" not in evidence


@pytest.mark.parametrize("repo_id", ["delta/no-provider", "delta/staging-only"])
def test_release_without_weights_or_live_provider_stays_fully_closed(scored, repo_id) -> None:
    row = scored[repo_id]
    assert (row["has_weights"], row["inference"], row["release_level"]) == (False, None, "fully_closed")
    assert row["providers"] is not None and json.loads(row["providers"]) == _providers(repo_id)
    assert "inference_providers" not in json.loads(row["evidence"])


def test_unknown_weights_stay_unknown_even_when_served(scored) -> None:
    """A revision whose file list was not recorded is undecided, not api, whoever serves it."""
    rubric = load_rubric()
    frame = scored["_revisions"]["frame"]
    known = pl.DataFrame(
        [{c: row.get(c) for c in REVISIONS_SCHEMA} for row in frame.to_dicts()],
        schema=REVISIONS_SCHEMA,
        strict=False,
    )
    unknown = known.with_columns(
        pl.lit(None, dtype=pl.List(pl.String)).alias("files"),
        pl.lit(None, dtype=pl.Boolean).alias("has_weights"),
        pl.lit(None, dtype=pl.List(pl.String)).alias("weight_formats"),
    )
    no_datasets, no_papers = pl.DataFrame(schema=DATASETS_SCHEMA), pl.DataFrame(schema=PAPERS_SCHEMA)

    def score(revisions: pl.DataFrame) -> dict:
        disclosures = detect_components(revisions, no_datasets, no_papers, rubric=rubric)
        return score_revisions(revisions, disclosures, rubric=rubric).row(0, named=True)

    served, undecided = score(known), score(unknown)
    assert (served["release_level"], undecided["release_level"]) == ("api", None)
    assert "inference_providers" not in json.loads(undecided["evidence"])
