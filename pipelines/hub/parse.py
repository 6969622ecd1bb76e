"""Normalisation of raw Hub captures into `revisions` rows (pure functions: raw frames in, frames out)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

import polars as pl

from pipelines.arxiv_ids import try_parse_arxiv_id
from pipelines.hub.cards import parse_card
from pipelines.hub.ids import is_dataset_id

# File extensions of model weights, by format (reference/frameworks.md section 3: "Model parameters").
WEIGHT_SUFFIXES = {
    ".safetensors": "safetensors",
    ".bin": "pytorch",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "pytorch",
    ".gguf": "gguf",
    ".ggml": "gguf",
    ".onnx": "onnx",
    ".h5": "tensorflow",
    ".tflite": "tensorflow",
    ".msgpack": "flax",
    ".nemo": "nemo",
    ".sbs": "other",
    ".mlmodel": "coreml",
    ".mlpackage": "coreml",
    ".llamafile": "gguf",
    ".pdparams": "paddle",
    ".joblib": "sklearn",
}
# Files that end in .bin but are not weights.
NOT_WEIGHTS = ("training_args.bin", "optimizer.bin", "scheduler.bin", "rng_state.bin", "tokenizer.bin")

QUARANTINE_SCHEMA = {
    "source": pl.String,
    "reference": pl.String,
    "repo_id": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "crawl_date": pl.String,
}


# More providers than any model has (the Hub lists about twenty): a longer mapping is cut, sorted by name.
MAX_PROVIDERS = 200


def inference_state(info: dict) -> str | None:
    """The Hub's `inference` expand field of a model (`warm`: served by at least one inference provider;
    `cold`); None when the capture does not carry it (older captures, history walks)."""
    value = info.get("inference")
    return value[:32] if isinstance(value, str) else None


def inference_providers(info: dict) -> str | None:
    """The Hub's `inferenceProviderMapping` of a model as compact JSON: a list of {provider, status, task}
    sorted by provider (`[]` when the Hub maps none); None when the capture does not carry the field.

    The listing answers a list of mappings that name their provider, the single-model endpoint an object
    keyed by provider (reference/hub-api.md 1.3); both give the same rows. Other keys (the provider's own
    model id, adapter details) are left out; entries that are not objects with a provider name are skipped.
    """
    if "inferenceProviderMapping" not in info:
        return None
    mapping = info["inferenceProviderMapping"]
    if isinstance(mapping, dict):
        entries = [{**v, "provider": k} for k, v in mapping.items() if isinstance(v, dict)]
    elif isinstance(mapping, list):
        entries = [e for e in mapping if isinstance(e, dict)]
    else:
        return None
    rows = {}
    for entry in entries:
        provider = entry.get("provider")
        if not isinstance(provider, str) or not provider:
            continue
        rows[provider[:100]] = {
            "provider": provider[:100],
            "status": entry["status"][:32] if isinstance(entry.get("status"), str) else None,
            "task": entry["task"][:64] if isinstance(entry.get("task"), str) else None,
        }
    return json.dumps([rows[k] for k in sorted(rows)[:MAX_PROVIDERS]], separators=(",", ":"))


def weight_formats(files: Iterable[str]) -> list[str]:
    """The weight formats present in a file list."""
    found: set[str] = set()
    for name in files:
        base = name.rsplit("/", 1)[-1].lower()
        if base in NOT_WEIGHTS or base.startswith("optimizer"):
            continue
        for suffix, fmt in WEIGHT_SUFFIXES.items():
            if base.endswith(suffix):
                found.add(fmt)
                break
    return sorted(found)


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _license_text(value: object) -> str | None:
    items = _as_list(value)
    return ",".join(items) if items else None


def _tag_values(tags: list[str], prefix: str) -> list[str]:
    return sorted({t[len(prefix) :] for t in tags if t.startswith(prefix) and len(t) > len(prefix)})


def _gated(value: object) -> str:
    if value in (None, False, "false", "False", ""):
        return "false"
    return str(value) if value in ("auto", "manual") else "manual"


def _ts(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _card(facts: object, name: str, default: object = None) -> object:
    if isinstance(facts, dict):
        return facts.get(name, default)
    return getattr(facts, name, default)


def revision_row(
    info: dict, readme_status: str, readme: bytes | None, observed_at: datetime, source: str = "listing"
) -> dict:
    """One `revisions` row from a model info body (listing item or revision info) and its README."""
    return revision_row_and_flags(info, readme_status, readme, observed_at, source)[0]


def _licence_value(value: object) -> str | None:
    """A licence that is not text (a mapping, or a list holding one) as compact JSON, else None."""
    if isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
    ):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)[:500]
    return None


def _strict_arxiv(values: Iterable[str]) -> tuple[set[str], list[str]]:
    """(base ids, values that are not arXiv ids) of `arxiv:` tag values."""
    ids, bad = set(), []
    for value in values:
        parsed = try_parse_arxiv_id(value)
        if parsed is None:
            bad.append(value[:64])
        else:
            ids.add(parsed.base)
    return ids, bad


def revision_row_and_flags(
    info: dict, readme_status: str, readme: bytes | None, observed_at: datetime, source: str = "listing"
) -> tuple[dict, list[tuple[str, str]]]:
    """The `revisions` row (as `revision_row`) and the data defects it is stored with, as (reason, detail):
    `invalid_arxiv_id` (a tag or card link that is not an arXiv id: left out, never truncated),
    `licence_not_text` (a mapping as licence: kept as JSON text, so it reads as unmapped, not missing),
    `invalid_dataset_id` (kept) and `self_base_model` (a repo naming itself as base model; kept)."""
    tags = [t for t in info.get("tags") or [] if isinstance(t, str)]
    siblings = info.get("siblings")
    # No `siblings` at all: the file list is unknown (null), which is not the same as an empty repo.
    files = (
        sorted(
            {s["rfilename"] for s in siblings if isinstance(s, dict) and isinstance(s.get("rfilename"), str)}
        )
        if isinstance(siblings, list)
        else None
    )
    card_data = info.get("cardData") if isinstance(info.get("cardData"), dict) else {}
    facts = parse_card(readme) if readme is not None else None
    status = _card(facts, "readme_status") if facts is not None else readme_status
    meta = (_card(facts, "metadata") or {}) if facts is not None and status != "malformed_yaml" else {}
    # The card's own YAML is authoritative when we could read it; else the API's cardData (same YAML,
    # parsed by the Hub) still tells licence, datasets and base model, e.g. for gated repos.
    declared = meta if meta else card_data
    license_raw = _card(facts, "license_raw") if meta else _license_text(card_data.get("license"))
    flags: list[tuple[str, str]] = []
    odd_licence = _licence_value(declared.get("license"))
    if odd_licence is not None:
        license_raw = odd_licence
        flags.append(("licence_not_text", f"license: {odd_licence}"[:300]))
    wf = weight_formats(files) if files is not None else None
    datasets = sorted(set(_as_list(declared.get("datasets"))) | set(_tag_values(tags, "dataset:")))
    arxiv, bad_tags = _strict_arxiv(_tag_values(tags, "arxiv:"))
    arxiv |= set(_as_list(_card(facts, "arxiv_ids")))
    bad_links = _as_list(_card(facts, "invalid_arxiv_ids"))
    if bad_tags or bad_links:
        said = [f"tag arxiv:{t}" for t in bad_tags] + [f"card link {t}" for t in bad_links]
        flags.append(("invalid_arxiv_id", "not arXiv ids: " + ", ".join(said)[:280]))
    bad_datasets = [d for d in datasets if not is_dataset_id(d)]
    if bad_datasets:
        flags.append(("invalid_dataset_id", ", ".join(bad_datasets)[:300]))
    base_models = _as_list(declared.get("base_model")) or [
        t for t in _tag_values(tags, "base_model:") if ":" not in t
    ]
    if info.get("id") in base_models:
        flags.append(("self_base_model", f"base_model names the repo itself: {info.get('id')}"[:300]))
    sections = _as_list(_card(facts, "sections"))
    card_bytes = len(readme) if readme is not None else None
    row = {
        "repo_id": info.get("id"),
        "repo_uid": info.get("_id") if isinstance(info.get("_id"), str) else None,
        "listed_as": info.get("id"),
        "revision": info.get("sha"),
        "committed_at": _ts(info.get("lastModified")),
        "observed_at": observed_at,
        "source": source,
        "license_raw": license_raw,
        "license_name": _license_text(declared.get("license_name")),
        "license_link": _license_text(declared.get("license_link")),
        "license_tags": _tag_values(tags, "license:"),
        "gated": _gated(info.get("gated")),
        "files": files,
        "has_weights": bool(wf) if files is not None else None,
        "weight_formats": wf,
        "datasets": datasets,
        "arxiv_ids": sorted(arxiv),
        "code_urls": sorted(set(_as_list(_card(facts, "code_urls")))),
        "base_models": sorted(set(base_models)),
        "base_model_relation": _license_text(declared.get("base_model_relation")),
        "pipeline_tag": info.get("pipeline_tag") or _license_text(declared.get("pipeline_tag")),
        "library_name": info.get("library_name") or _license_text(declared.get("library_name")),
        "tags": sorted(set(tags)),
        "readme_status": status,
        "card_sha256": None,
        "card_bytes": card_bytes,
        "card_sections": sections,
        "has_model_index": bool(_card(facts, "has_model_index"))
        if facts is not None
        else bool(card_data.get("model-index") or card_data.get("model_index")),
        "card_yaml_error": _card(facts, "yaml_error") if facts is not None else None,
        # Served as of the capture: only a listing item tells the state of the revision it lists (a commit
        # read from the history is answered with today's state, not the commit's).
        "inference": inference_state(info) if source == "listing" else None,
        "inference_providers": inference_providers(info) if source == "listing" else None,
    }
    return row, flags


def _signature(row: dict, sha: str) -> str:
    """What makes a revision worth its own row: the card, the file list, the licence tags, the gate.

    Where the README could not be read (gated without access, not fetched) we cannot know that the card
    did not change, so the revision keeps its own row (a unique signature).
    """
    if row["readme_status"] not in ("ok", "missing", "malformed_yaml", "non_utf8", "oversized"):
        return f"unknown:{sha}"
    return json.dumps([row["card_sha256"], row["files"], row["license_tags"], row["gated"]], sort_keys=True)


def canonical_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """(listed_as, repo_id): every id a repo was seen under, mapped to its newest id via the stable `_id`."""
    known = frame.filter(pl.col("repo_uid").is_not_null())
    newest = (
        known.sort("committed_at", "observed_at")
        .group_by("repo_uid")
        .agg(pl.col("listed_as").last().alias("repo_id"))
    )
    return (
        known.select("listed_as", "repo_uid")
        .unique()
        .join(newest, on="repo_uid")
        .select("listed_as", "repo_id")
    )


def follow_renames(revisions: pl.DataFrame) -> pl.DataFrame:
    """Re-key revisions of renamed repos to the current id; a commit seen under both names is kept once."""
    mapping = canonical_ids(revisions)
    out = (
        revisions.join(mapping.rename({"repo_id": "_canonical"}), on="listed_as", how="left")
        .with_columns(pl.coalesce("_canonical", "repo_id").alias("repo_id"))
        .drop("_canonical")
    )
    return out.sort("observed_at", "listed_as").unique(
        subset=["repo_id", "revision"], keep="first", maintain_order=True
    )


def first_crawl_after_commit(revisions: pl.DataFrame, listing: pl.DataFrame) -> pl.DataFrame:
    """Set `observed_at` to the first crawl date on or after each commit's day.

    That is when a daily crawl first saw the revision (as head, or by walking the history because the
    head had changed), and it depends only on the set of crawl dates, not on the order partitions ran in.
    """
    days = listing.select(pl.col("crawl_date").str.to_date().unique().sort().alias("crawl_day"))
    if days.height == 0 or revisions.height == 0:
        return revisions
    keyed = revisions.with_columns(pl.col("committed_at").dt.date().alias("_day")).sort("_day")
    joined = keyed.join_asof(days.sort("crawl_day"), left_on="_day", right_on="crawl_day", strategy="forward")
    observed = pl.coalesce(
        pl.col("crawl_day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"), pl.col("observed_at")
    )
    return (
        joined.with_columns(observed.alias("observed_at"))
        .drop("_day", "crawl_day")
        .sort("repo_id", "committed_at", "revision")
    )
