"""Stored bad values are kept and flagged: the defects `revision_row_and_flags` reports beside a row, and
the base-model cycles the revisions build flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from pipelines.hub.parse import revision_row_and_flags
from pipelines.incremental.normalise import circular_base_models, parse_capture

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _info(repo_id: str = "org/model", tags: list[str] | None = None, card: dict | None = None) -> dict:
    return {
        "id": repo_id,
        "sha": "a" * 40,
        "lastModified": "2025-01-01T00:00:00.000Z",
        "tags": tags or [],
        "cardData": card or {},
        "siblings": [{"rfilename": "README.md"}],
    }


def test_an_arxiv_tag_that_is_not_an_id_is_flagged_not_cited() -> None:
    row, flags = revision_row_and_flags(
        _info(
            tags=["arxiv:2307.092881", "arxiv:2307.09288v2", "arxiv:\uff12\uff13\uff10\uff17.\uff10\uff19"]
        ),
        "not_fetched",
        None,
        NOW,
    )
    assert row["arxiv_ids"] == ["2307.09288"]
    ((reason, detail),) = flags
    assert reason == "invalid_arxiv_id" and "arxiv:2307.092881" in detail and "\uff12" in detail


def test_a_mapping_licence_is_kept_as_json_and_flagged() -> None:
    card = b"---\nlicense:\n  name: custom\n  url: https://example.org/l\n---\n# Model\n"
    row, flags = revision_row_and_flags(_info(), "ok", card, NOW)
    assert row["license_raw"] == '{"name":"custom","url":"https://example.org/l"}'
    assert [r for r, _ in flags] == ["licence_not_text"]
    # The API's cardData (no README read, e.g. a gated repo) says the same.
    row, flags = revision_row_and_flags(_info(card={"license": [{"name": "x"}]}), "gated", None, NOW)
    assert row["license_raw"] == '[{"name":"x"}]' and [r for r, _ in flags] == ["licence_not_text"]


def test_a_bad_dataset_id_and_a_self_base_model_are_kept_and_flagged() -> None:
    card = b"---\ndatasets: [acme/../secrets, acme/corpus, c4]\nbase_model: org/model\n---\n# Model\n"
    row, flags = revision_row_and_flags(_info(), "ok", card, NOW)
    assert row["datasets"] == ["acme/../secrets", "acme/corpus", "c4"]
    assert row["base_models"] == ["org/model"]
    assert flags == [
        ("invalid_dataset_id", "acme/../secrets"),
        ("self_base_model", "base_model names the repo itself: org/model"),
    ]


def test_a_clean_card_has_no_flags() -> None:
    card = (
        b"---\nlicense: mit\ndatasets: [acme/corpus]\nbase_model: org/base\n---\narxiv.org/abs/2307.09288\n"
    )
    row, flags = revision_row_and_flags(_info(tags=["arxiv:2307.09288"]), "ok", card, NOW)
    assert flags == [] and row["arxiv_ids"] == ["2307.09288"] and row["license_raw"] == "mit"


def test_base_model_cycles() -> None:
    edges = pl.DataFrame(
        {
            "repo_id": ["a", "b", "c", "d", "e", "x", "s", "t"],
            "base": ["b", "a", "d", "e", "c", "a", "s", "u"],
        }
    )
    # a<->b and c->d->e->c are cycles; x only leads into one; s names itself (flagged apart); t is a chain.
    assert circular_base_models(edges) == {
        "a": ["a", "b"],
        "b": ["a", "b"],
        "c": ["c", "d", "e"],
        "d": ["c", "d", "e"],
        "e": ["c", "d", "e"],
    }
    assert circular_base_models(edges.filter(pl.col("repo_id") != "b")) == {
        "c": ["c", "d", "e"],
        "d": ["c", "d", "e"],
        "e": ["c", "d", "e"],
    }


def test_a_commit_older_than_the_hub_is_held_not_stored() -> None:
    """A 1970 `lastModified` would fail `between:committed_at` for every repo: held in quarantine."""
    info = {**_info(), "lastModified": "1970-01-01T00:00:00.000Z"}
    row, signature, held = parse_capture(
        "org/model", "a" * 40, "2026-01-01", json.dumps(info), "listing", None
    )
    assert row is None and signature is None
    assert [(q["reason"], q["repo_id"]) for q in held] == [("implausible_date", "org/model")]
    row, _, held = parse_capture("org/model", "a" * 40, "2026-01-01", json.dumps(_info()), "listing", None)
    assert row is not None and held == []


def test_the_provider_mapping_reads_the_same_from_a_single_model_body_and_a_listing_item() -> None:
    """A recorded `expand=inferenceProviderMapping` body (an object keyed by provider) and the listing's
    list form give the same rows; a capture without the fields records them as unknown (null)."""
    from tests.conftest import REFERENCE

    body = json.loads(
        (
            REFERENCE
            / "hub-api"
            / "black-forest-labs_FLUX.1-dev_expand_inferenceProviderMapping__0aea88384db2.json"
        ).read_text(encoding="utf-8")
    )
    listed = [{"provider": k, **v} for k, v in body["inferenceProviderMapping"].items()]
    from_body, _ = revision_row_and_flags({**_info(), **body, "inference": "warm"}, "ok", None, NOW)
    from_item, _ = revision_row_and_flags({**_info(), "inferenceProviderMapping": listed}, "ok", None, NOW)
    rows = json.loads(from_body["inference_providers"])
    assert from_item["inference_providers"] == from_body["inference_providers"]
    assert [(r["provider"], r["status"]) for r in rows] == [
        ("fal-ai", "live"),
        ("hf-inference", "live"),
        ("nebius", "staging"),
        ("replicate", "live"),
        ("together", "live"),
    ]
    assert (from_body["inference"], from_item["inference"]) == ("warm", None)
    old, _ = revision_row_and_flags(_info(), "ok", None, NOW)
    assert (old["inference"], old["inference_providers"]) == (None, None)
    # A commit read from the history is answered with today's providers, not the commit's: not recorded.
    walked, _ = revision_row_and_flags({**_info(), **body, "inference": "warm"}, "ok", None, NOW, "backfill")
    assert (walked["inference"], walked["inference_providers"]) == (None, None)
