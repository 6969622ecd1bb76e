"""What each public table holds and what its columns mean: the data dictionary printed in the dataset card.

Kept next to the card rather than in the SQL because researchers read the card, not the migrations; a
column missing here shows as "(undocumented)" in the card so the gap is visible, never silently absent.
"""

from __future__ import annotations

# The grain of each public table (DESIGN.md, "Public tables").
TABLE_DOCS: dict[str, str] = {
    "releases": "One row per model repository on the Hugging Face Hub that the crawl has seen.",
    "revisions": "One row per observed commit (revision) of a model repository, with the facts read from it.",
    "disclosures": "One row per revision and Model Openness Framework component: is it released, under which "
    "licence, is that licence open, and the evidence.",
    "openness": "One row per revision: its place under every framework and on the 0-5 openness spectrum, "
    "valid from that commit until the next.",
    "transitions": "One row per change of an openness dimension of a repository between two revisions.",
    "licenses": "One row per licence identifier seen on the Hub, mapped to SPDX and to a licence family.",
    "datasets": "One row per dataset repository named by a model card, as observed on the Hub.",
    "papers": "One row per arXiv paper cited by a model card or a Hub paper page.",
    "release_papers": "One row per (model repository, paper) citation.",
    "crawl_runs": "One row per crawl run: what it covered and what it cost.",
}

# Columns with the same meaning wherever they appear.
COMMON_COLUMNS: dict[str, str] = {
    "repo_id": "Hub model repository id, `org/name`.",
    "revision": "Commit sha (40 hex) of the repository revision.",
    "observed_at": "When the crawl first captured this row (UTC).",
    "license_id": "Resolved licence: SPDX id where one exists, else the Hub licence id.",
    "license_raw": "Licence exactly as declared in the card's `license` field (a list is joined with ',').",
    "license_name": "The card's `license_name` (set when `license` is `other`).",
    "license_family": "Licence family: osi-permissive, osi-copyleft, open-data, responsible-ai, community, "
    "non-commercial, proprietary or unknown.",
    "gated": "Access gate on the Hub: 'false', 'auto' (click-through) or 'manual' (approval).",
    "readme_status": "Outcome of reading the card: ok, missing, gated, malformed_yaml, non_utf8, oversized or "
    "not_fetched.",
    "card_bytes": "Size of the raw card (README.md) in bytes.",
    "pipeline_tag": "The Hub's task tag (e.g. text-generation).",
    "library_name": "The Hub's library tag (e.g. transformers).",
    "base_models": "Models this one derives from (card `base_model`).",
    "base_model_relation": "How it derives from its base: adapter, merge, quantized or finetune.",
    "arxiv_id": "arXiv identifier (e.g. 2307.09288).",
    "evidence": "The field or file, its value and the URL that support the judgement.",
    "method": "How the judgement was reached: declared by the publisher, inferred, or unknown.",
    "rubric_version": "Version of the openness rubric (pipelines/openness/rubric.yml) that scored the row.",
}

COLUMN_DOCS: dict[str, dict[str, str]] = {
    "releases": {
        "org": "Owner (user or organisation) part of the repo id.",
        "name": "Name part of the repo id.",
        "created_at": "When the repository was created on the Hub (UTC).",
        "first_seen": "First crawl or backfilled commit that saw the repository (UTC).",
        "last_seen": "Last crawl that listed the repository (UTC).",
        "deleted_at": "When the repository was found deleted; null while it exists.",
        "pipeline_tag": "The Hub's task tag of the latest revision.",
        "library_name": "The Hub's library tag of the latest revision.",
        "modality": "Derived from the task tag: text, image, audio, video, multimodal, tabular, other or unknown.",
        "latest_revision": "Commit sha of the newest observed revision.",
        "revision_count": "Number of observed revisions (rows in `revisions`).",
    },
    "revisions": {
        "committed_at": "The commit's date (the repo's lastModified at that revision, UTC).",
        "source": "How the revision was captured: listing (daily crawl) or backfill (commit history).",
        "license_link": "The card's `license_link`.",
        "license_tags": "The Hub's `license:*` tags, without the prefix.",
        "files": "File paths in the revision (the siblings' rfilename).",
        "has_weights": "Whether the revision contains model weight files.",
        "weight_formats": "Weight file formats: safetensors, pytorch, gguf, onnx, tensorflow, flax or other.",
        "datasets": "Training datasets named by the card (`datasets` field and `dataset:*` tags).",
        "arxiv_ids": "arXiv papers cited (`arxiv:*` tags, arXiv and Hub paper links in the card).",
        "code_urls": "Code repositories linked from the card (github.com, gitlab.com).",
        "tags": "All Hub tags of the revision.",
        "card_sha256": "sha256 of the raw card: its content address in the raw layer (null if none).",
        "card_sections": "Lower-cased Markdown headings of the card.",
        "has_model_index": "Whether the card declares evaluation results (model-index).",
        "card_yaml_error": "Why the card's YAML header could not be parsed, if it could not.",
    },
    "disclosures": {
        "component": "Model Openness Framework component (one of its 17, e.g. Model parameters (Final)).",
        "component_id": "The component's id in the Model Openness Tool.",
        "included": "Whether the component is released with the model.",
        "license_id": "Licence the component is released under.",
        "is_open": "Whether that licence is open for this component type, as the Model Openness Tool decides.",
    },
    "openness": {
        "mof_class": "Model Openness Framework class: 3 (Open Model), 2 (Open Tooling), 1 (Open Science), 0 none.",
        "osai_score": "European Open Source AI Index score (0-1) over the criteria that could be decided.",
        "osaid": "OSI Open Source AI Definition 1.0 verdict: meets, fails or undetermined.",
        "osaid_failed": "The OSAID requirements the revision fails.",
        "release_level": "Solaiman's release gradient: fully_closed, gradual, hosted, api, downloadable, fully_open.",
        "spectrum_level": "Ordinal openness summary 0 (no weights) to 5 (weights, code and data open); null if "
        "undecidable.",
        "spectrum_method": "How the spectrum level was reached (declared, inferred or unknown).",
        "valid_from": "Start of the validity interval: when this revision's scoring took effect.",
        "valid_to": "End of the validity interval (the next revision); null while current.",
    },
    "transitions": {
        "changed_at": "When the change happened (the commit date of `to_revision`).",
        "dimension": "What changed: e.g. license_family, spectrum_level, mof_class, osaid, release_level.",
        "from_value": "Value before the change.",
        "to_value": "Value after the change.",
        "direction": "opening, closing or lateral.",
        "from_revision": "Commit before the change.",
        "to_revision": "Commit that made the change.",
        "evidence_url": "URL of the commit or file that shows the change.",
    },
    "licenses": {
        "id": "Hub licence id or a common `license_name` value.",
        "spdx_id": "SPDX identifier where one exists.",
        "name": "Licence name.",
        "family": "Licence family (see `license_family`).",
        "osi_approved": "Whether the OSI approved the licence (null for a family of licences).",
        "commercial_use": "Whether commercial use is allowed: yes, no or capped.",
        "mot_open": "Whether the Model Openness Tool counts the licence as open.",
        "source": "Where the mapping comes from (SPDX list, Hub docs, licence text).",
        "note": "Remarks on the mapping.",
    },
    "datasets": {
        "dataset_id": "Hub dataset repository id, `org/name`.",
        "revision": "Commit sha of the dataset repository when observed.",
        "exists": "Whether the dataset repository exists on the Hub.",
    },
    "papers": {
        "title": "Paper title.",
        "authors": "Author names.",
        "published_at": "First version's date on arXiv.",
        "updated_at": "Latest version's date on arXiv.",
        "categories": "arXiv subject categories.",
        "doi": "DOI, where arXiv records one.",
    },
    "release_papers": {
        "source": "Where the citation was found: tag, card link or Hub paper page.",
    },
    "crawl_runs": {
        "run_key": "Unique key of the crawl run.",
        "crawl_date": "The daily partition the run crawled.",
        "started_at": "When the run started (UTC).",
        "finished_at": "When the run finished (UTC).",
        "endpoint": "The Hub endpoint crawled (the real Hub or a mirror).",
        "scope": "What the run covered (e.g. a shard of repo ids, or a backfill).",
        "status": "Outcome of the run.",
        "pages": "Listing pages read.",
        "models_listed": "Models seen in the listing.",
        "models_new": "Models not seen before.",
        "models_changed": "Models whose commit changed.",
        "models_deleted": "Models found deleted.",
        "readmes_fetched": "Cards (README.md) fetched.",
        "requests_api": "Requests counted against the Hub's API rate-limit bucket.",
        "requests_resolvers": "Requests counted against the Hub's file-resolution bucket.",
        "bytes_total": "Bytes received.",
        "status_429": "Responses with HTTP 429 (rate limited).",
        "status_5xx": "Responses with an HTTP 5xx status.",
        "seconds": "Wall-clock duration in seconds.",
        "watermark": "The lastModified the listing was read back to.",
        "reached_watermark": "Whether the listing reached the watermark (false: the run stopped early).",
        "detail": "Free-text notes on the run.",
    },
}

UNDOCUMENTED = "(undocumented)"


def column_meaning(table: str, column: str, overrides: dict[str, dict[str, str]] | None = None) -> str:
    """The one-line meaning of a column: overrides, then the table's dictionary, then the shared one."""
    for docs in ((overrides or {}).get(table, {}), COLUMN_DOCS.get(table, {}), COMMON_COLUMNS):
        if column in docs:
            return docs[column]
    return UNDOCUMENTED
