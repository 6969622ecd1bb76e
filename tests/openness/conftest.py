"""Fixtures: revision rows built from the real model cards in ../shared/reference/cards."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.hub.cards import parse_card
from pipelines.hub.schema import DATASETS_SCHEMA, REVISIONS_SCHEMA
from pipelines.openness.rubric import load_rubric
from pipelines.openness.signals import PAPERS_SCHEMA, weight_facts

SHARED = Path(os.environ.get("OPENNESS_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
CARDS = SHARED / "reference" / "cards"
CONFORMANCE = SHARED / "reference" / "mof-conformance"

# Realistic sibling lists (rfilename) of the repo shapes the cards come from.
TRANSFORMERS_SAFETENSORS = [
    ".gitattributes", "README.md", "config.json", "generation_config.json", "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors", "model.safetensors.index.json", "special_tokens_map.json", "tokenizer.json",
    "tokenizer.model", "tokenizer_config.json",
]
TRANSFORMERS_BIN = [
    ".gitattributes", "README.md", "config.json", "generation_config.json", "pytorch_model-00001-of-00002.bin",
    "pytorch_model-00002-of-00002.bin", "pytorch_model.bin.index.json", "special_tokens_map.json", "tokenizer.model",
    "tokenizer_config.json",
]
CUSTOM_CODE = [
    ".gitattributes", "README.md", "config.json", "configuration_qwen.py", "generation_config.json", "modeling_qwen.py",
    "model-00001-of-00008.safetensors", "model.safetensors.index.json", "qwen.tiktoken", "tokenization_qwen.py",
    "tokenizer_config.json",
]
DIFFUSERS = [
    ".gitattributes", "README.md", "model_index.json", "v1-5-pruned-emaonly.safetensors", "v1-5-pruned.ckpt",
    "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json", "text_encoder/model.safetensors",
    "tokenizer/vocab.json", "tokenizer/merges.txt", "scheduler/scheduler_config.json",
]
GEMMA_CPP = [".gitattributes", "README.md", "2b-it-sfp.sbs", "tokenizer.spm"]
TRAINER_OUTPUT = [
    ".gitattributes", "README.md", "config.json", "model.safetensors", "trainer_state.json", "training_args.bin",
    "all_results.json", "train_results.json", "checkpoint-500/model.safetensors", "checkpoint-500/optimizer.pt",
    "train.py", "eval_mmlu.py",
]
CARD_ONLY = [".gitattributes", "README.md"]


def card_bytes(name: str) -> bytes:
    """The raw bytes of one reference card, e.g. 'mistralai__Mistral-7B-v0.1'."""
    return (CARDS / f"{name}.md").read_bytes()


def revision_row(
    card: bytes | None,
    *,
    repo_id: str,
    files: list[str] | None,
    gated: str = "false",
    library_name: str | None = None,
    license_tags: list[str] | None = None,
    committed_at: dt.datetime | None = None,
    extra_arxiv: list[str] | None = None,
) -> dict[str, Any]:
    """A REVISIONS_SCHEMA row for a card and a file list, as the crawler would store it."""
    facts = parse_card(card)
    row: dict[str, Any] = {c: None for c in REVISIONS_SCHEMA}
    row.update(facts.revision_columns())
    when = committed_at or dt.datetime(2024, 1, 15, tzinfo=dt.UTC)
    tags = list(license_tags) if license_tags is not None else (facts.license_raw.split(",") if facts.license_raw else [])
    row.update(
        repo_id=repo_id,
        revision=hashlib.sha1(f"{repo_id}:{facts.card_sha256}:{files}".encode()).hexdigest(),
        committed_at=when,
        observed_at=when + dt.timedelta(days=1),
        source="listing",
        license_tags=tags,
        gated=gated,
        files=files,
        library_name=facts.library_name or library_name,
        arxiv_ids=facts.arxiv_ids + list(extra_arxiv or []),
        tags=[],
    )
    return row


def revisions_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows -> a REVISIONS_SCHEMA frame with has_weights / weight_formats derived from files."""
    df = pl.DataFrame(rows, schema=REVISIONS_SCHEMA)
    return weight_facts(df, rubric=load_rubric()).select(list(REVISIONS_SCHEMA))


def datasets_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A DATASETS_SCHEMA frame (missing columns null)."""
    full = [{c: r.get(c) for c in DATASETS_SCHEMA} for r in rows]
    return pl.DataFrame(full, schema=DATASETS_SCHEMA)


def papers_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A papers frame (arxiv_id, title, journal_ref, doi, published, comment, license_url)."""
    full = [{c: r.get(c) for c in PAPERS_SCHEMA} for r in rows]
    return pl.DataFrame(full, schema=PAPERS_SCHEMA)


@pytest.fixture(scope="session")
def rubric() -> dict[str, Any]:
    """The shipped rubric."""
    return load_rubric()
