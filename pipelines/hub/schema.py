"""Explicit Polars schemas of the normalised Hub tables (the contract between parsing and scoring)."""

from __future__ import annotations

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")
STR_LIST = pl.List(pl.String)

# One row per model repo.
RELEASES_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,
    "previous_ids": STR_LIST,  # earlier ids of a renamed repo
    "org": pl.String,
    "name": pl.String,
    "created_at": UTC_TS,
    "first_seen": UTC_TS,  # first crawl (or backfilled commit) that saw the repo
    "last_seen": UTC_TS,
    "deleted_at": UTC_TS,  # null while the repo exists
    "pipeline_tag": pl.String,
    "library_name": pl.String,
    "base_models": STR_LIST,
    "base_model_relation": pl.String,  # adapter | merge | quantized | finetune | null
    "modality": pl.String,  # text | image | audio | video | multimodal | tabular | other | unknown
    "latest_revision": pl.String,
}

# One row per observed commit of a repo.
REVISIONS_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,  # the repo's current id (renamed repos are followed through repo_uid)
    "repo_uid": pl.String,  # the Hub's internal id (`_id`), stable across renames
    "listed_as": pl.String,  # the id this revision was captured under
    "revision": pl.String,  # 40-hex commit id
    "committed_at": UTC_TS,  # the commit's date (lastModified of that revision)
    "observed_at": UTC_TS,  # when our crawl first captured this revision
    "source": pl.String,  # listing | backfill
    # Licence as declared (card YAML, falling back to the API's cardData / license:* tag).
    "license_raw": pl.String,  # card `license` (a list is joined with ",")
    "license_name": pl.String,  # card `license_name` (set when license is `other`)
    "license_link": pl.String,
    "license_tags": STR_LIST,  # the Hub's `license:*` tags, without the prefix
    "gated": pl.String,  # "false" | "auto" | "manual"
    "files": STR_LIST,  # siblings' rfilename
    "has_weights": pl.Boolean,
    "weight_formats": STR_LIST,  # safetensors | pytorch | gguf | onnx | tensorflow | flax | other
    "datasets": STR_LIST,  # card `datasets` + `dataset:*` tags
    "arxiv_ids": STR_LIST,  # `arxiv:*` tags + arXiv / hf papers links in the card
    "code_urls": STR_LIST,  # github.com / gitlab.com links in the card
    "base_models": STR_LIST,
    "base_model_relation": pl.String,
    "pipeline_tag": pl.String,
    "library_name": pl.String,
    "tags": STR_LIST,
    # Card facts.
    "readme_status": pl.String,  # ok | missing | gated | malformed_yaml | non_utf8 | oversized | not_fetched
    "card_sha256": pl.String,  # content address of the raw README (null if none)
    "card_bytes": pl.Int64,
    "card_sections": STR_LIST,  # lower-cased markdown headings
    "has_model_index": pl.Boolean,  # model-index / eval results declared in the card YAML
    "card_yaml_error": pl.String,
    # Hosted access as the capture saw it (null where it did not carry the field).
    "inference": pl.String,  # the Hub's `inference`: warm (served by a provider) | cold
    "inference_providers": pl.String,  # JSON list of {provider, status, task}; "[]": none mapped
}

# One row per dataset repo named by a card.
DATASETS_SCHEMA: dict[str, pl.DataType] = {
    "dataset_id": pl.String,
    "revision": pl.String,
    "observed_at": UTC_TS,
    "exists": pl.Boolean,
    "license_raw": pl.String,
    "license_name": pl.String,
    "gated": pl.String,
    "readme_status": pl.String,
    "card_bytes": pl.Int64,
}


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)
