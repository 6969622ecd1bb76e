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
    ".gitattributes",
    "README.md",
    "config.json",
    "generation_config.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "model.safetensors.index.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer.model",
    "tokenizer_config.json",
]
TRANSFORMERS_BIN = [
    ".gitattributes",
    "README.md",
    "config.json",
    "generation_config.json",
    "pytorch_model-00001-of-00002.bin",
    "pytorch_model-00002-of-00002.bin",
    "pytorch_model.bin.index.json",
    "special_tokens_map.json",
    "tokenizer.model",
    "tokenizer_config.json",
]
CUSTOM_CODE = [
    ".gitattributes",
    "README.md",
    "config.json",
    "configuration_qwen.py",
    "generation_config.json",
    "modeling_qwen.py",
    "model-00001-of-00008.safetensors",
    "model.safetensors.index.json",
    "qwen.tiktoken",
    "tokenization_qwen.py",
    "tokenizer_config.json",
]
DIFFUSERS = [
    ".gitattributes",
    "README.md",
    "model_index.json",
    "v1-5-pruned-emaonly.safetensors",
    "v1-5-pruned.ckpt",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "scheduler/scheduler_config.json",
]
FALCON = [
    ".gitattributes",
    "README.md",
    "config.json",
    "configuration_RW.py",
    "generation_config.json",
    "modelling_RW.py",
    "pytorch_model-00001-of-00009.bin",
    "pytorch_model-00009-of-00009.bin",
    "pytorch_model.bin.index.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
]
GEMMA_CPP = [".gitattributes", "README.md", "2b-it-sfp.sbs", "tokenizer.spm"]
TRAINER_OUTPUT = [
    ".gitattributes",
    "README.md",
    "config.json",
    "model.safetensors",
    "trainer_state.json",
    "training_args.bin",
    "all_results.json",
    "train_results.json",
    "checkpoint-500/model.safetensors",
    "checkpoint-500/optimizer.pt",
    "train.py",
    "eval_mmlu.py",
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
    tags = (
        list(license_tags)
        if license_tags is not None
        else (facts.license_raw.split(",") if facts.license_raw else [])
    )
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


# One row per reference card: (card file stem, repo id, files, gated, library_name the Hub reports, license tags).
# File lists and gating are the repos' shapes (gemma/SD/stablelm gate with automatic approval, Llama 2 by hand);
# library_name is what the Hub API reports for transformers repos whose card does not set it.
CARD_REPOS: list[tuple[str, str, list[str] | None, str, str | None, list[str] | None]] = [
    ("BAAI__AquilaChat2-34B", "BAAI/AquilaChat2-34B", CARD_ONLY, "false", None, None),
    (
        "HuggingFaceH4__zephyr-7b-beta",
        "HuggingFaceH4/zephyr-7b-beta",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    (
        "Intel__neural-chat-7b-v3-1",
        "Intel/neural-chat-7b-v3-1",
        TRANSFORMERS_BIN,
        "false",
        "transformers",
        None,
    ),
    ("LumiOpen__Poro-34B", "LumiOpen/Poro-34B", TRANSFORMERS_SAFETENSORS, "false", "transformers", None),
    ("Qwen__Qwen-7B-Chat", "Qwen/Qwen-7B-Chat", CUSTOM_CODE, "false", "transformers", None),
    ("Qwen__Qwen-7B", "Qwen/Qwen-7B", CUSTOM_CODE, "false", "transformers", None),
    (
        "TinyLlama__TinyLlama-1.1B-Chat-v1.0",
        "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    ("allenai__tulu-2-7b", "allenai/tulu-2-7b", TRANSFORMERS_BIN, "false", "transformers", None),
    ("allenai__tulu-2-dpo-70b", "allenai/tulu-2-dpo-70b", TRANSFORMERS_BIN, "false", "transformers", None),
    (
        "baichuan-inc__Baichuan2-13B-Chat",
        "baichuan-inc/Baichuan2-13B-Chat",
        CUSTOM_CODE,
        "false",
        "transformers",
        None,
    ),
    (
        "berkeley-nest__Starling-LM-7B-alpha",
        "berkeley-nest/Starling-LM-7B-alpha",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    (
        "codellama__CodeLlama-7b-hf",
        "codellama/CodeLlama-7b-hf",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    (
        "deepseek-ai__deepseek-coder-6.7b-instruct",
        "deepseek-ai/deepseek-coder-6.7b-instruct",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    ("defog__sqlcoder-7b", "defog/sqlcoder-7b", TRANSFORMERS_BIN, "false", "transformers", None),
    ("google__gemma-2b-it", "google/gemma-2b-it", TRANSFORMERS_SAFETENSORS, "auto", "transformers", None),
    ("google__gemma-2b-sfp-cpp", "google/gemma-2b-sfp-cpp", GEMMA_CPP, "auto", None, None),
    ("lmsys__vicuna-7b-v1.5", "lmsys/vicuna-7b-v1.5", TRANSFORMERS_BIN, "false", "transformers", None),
    (
        "meta-llama__Llama-2-13b-hf",
        "meta-llama/Llama-2-13b-hf",
        TRANSFORMERS_SAFETENSORS,
        "manual",
        "transformers",
        ["llama2"],
    ),
    (
        "meta-llama__Llama-2-70b-chat-hf",
        "meta-llama/Llama-2-70b-chat-hf",
        TRANSFORMERS_SAFETENSORS,
        "manual",
        "transformers",
        ["llama2"],
    ),
    (
        "meta-llama__Llama-2-7b-chat-hf",
        "meta-llama/Llama-2-7b-chat-hf",
        TRANSFORMERS_BIN,
        "manual",
        "transformers",
        ["llama2"],
    ),
    (
        "mistralai__Mistral-7B-Instruct-v0.1",
        "mistralai/Mistral-7B-Instruct-v0.1",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    (
        "mistralai__Mistral-7B-Instruct-v0.2",
        "mistralai/Mistral-7B-Instruct-v0.2",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    (
        "mistralai__Mistral-7B-v0.1",
        "mistralai/Mistral-7B-v0.1",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
    ("openchat__openchat_3.5", "openchat/openchat_3.5", TRANSFORMERS_BIN, "false", "transformers", None),
    (
        "runwayml__stable-diffusion-v1-5",
        "runwayml/stable-diffusion-v1-5",
        DIFFUSERS,
        "auto",
        "diffusers",
        None,
    ),
    (
        "stabilityai__StableBeluga-7b",
        "stabilityai/StableBeluga-7b",
        TRANSFORMERS_BIN,
        "false",
        "transformers",
        None,
    ),
    (
        "stabilityai__stablelm-zephyr-3b",
        "stabilityai/stablelm-zephyr-3b",
        TRANSFORMERS_SAFETENSORS,
        "auto",
        "transformers",
        None,
    ),
    ("tiiuae__falcon-40b", "tiiuae/falcon-40b", FALCON, "false", "transformers", None),
    (
        "upstage__SOLAR-10.7B-v1.0",
        "upstage/SOLAR-10.7B-v1.0",
        TRANSFORMERS_SAFETENSORS,
        "false",
        "transformers",
        None,
    ),
]


FALCON_SNAPSHOT = dt.datetime(2023, 5, 26, 12, 9, tzinfo=dt.UTC)  # PROVENANCE.csv: content_last_changed


def edit_front_matter(card: bytes, old: bytes, new: bytes) -> bytes:
    """A variant of a real card with one front-matter line changed (the rest of the card is verbatim)."""
    assert old in card
    return card.replace(old, new, 1)


def variant_rows() -> list[dict[str, Any]]:
    """Real cards in states the 29 snapshots do not show, each documented by hub-api.md section 6."""
    aquila = card_bytes("BAAI__AquilaChat2-34B")
    llama_chat = card_bytes("meta-llama__Llama-2-7b-chat-hf")
    falcon = card_bytes("tiiuae__falcon-40b")
    return [
        # A custom licence named the way the card text names it, which the catalogue does not know.
        revision_row(
            edit_front_matter(
                aquila,
                b"license: other\n",
                b"license: other\nlicense_name: baai-aquila-model-license-agreement\n",
            ),
            repo_id="BAAI/AquilaChat2-34B-weights",
            files=TRANSFORMERS_BIN,
            library_name="transformers",
        ),
        # A quantised mirror that declares apache-2.0 on a Llama 2 base (the relicensing pattern of section 6c).
        revision_row(
            edit_front_matter(
                llama_chat,
                b"language:\n",
                b"license: apache-2.0\nbase_model: meta-llama/Llama-2-7b-chat-hf\n"
                b"base_model_relation: quantized\nlanguage:\n",
            ),
            repo_id="example-mirror/Llama-2-7B-Chat-GGUF",
            files=[".gitattributes", "README.md", "llama-2-7b-chat.Q4_K_M.gguf"],
        ),
        # falcon-40b on 2023-05-30 (commit eddb07e): the retired Hub id tii-falcon-llm.
        revision_row(
            edit_front_matter(falcon, b"inference: false\n", b"inference: false\nlicense: tii-falcon-llm\n"),
            repo_id="tiiuae/falcon-40b",
            files=FALCON,
            library_name="transformers",
            committed_at=dt.datetime(2023, 5, 30, tzinfo=dt.UTC),
        ),
        # Card YAML and the Hub's license:* tag disagree.
        revision_row(
            card_bytes("mistralai__Mistral-7B-Instruct-v0.1"),
            repo_id="example/conflicting-licence",
            files=TRANSFORMERS_SAFETENSORS,
            library_name="transformers",
            license_tags=["mit"],
        ),
    ]


# Facts about the dataset repos and papers the cards name. Test inputs: the licences, card sizes, venues and
# licence URLs below exercise the rules; they are not claims about those datasets and papers.
DATASETS = [
    {
        "dataset_id": "HuggingFaceH4/ultrachat_200k",
        "exists": True,
        "license_raw": "mit",
        "gated": "false",
        "readme_status": "ok",
        "card_bytes": 6000,
    },
    {
        "dataset_id": "HuggingFaceH4/ultrafeedback_binarized",
        "exists": True,
        "license_raw": "mit",
        "gated": "false",
        "readme_status": "ok",
        "card_bytes": 4000,
    },
    {
        "dataset_id": "tiiuae/falcon-refinedweb",
        "exists": True,
        "license_raw": "odc-by",
        "gated": "false",
        "readme_status": "ok",
        "card_bytes": 9000,
    },
    {
        "dataset_id": "allenai/tulu-v2-sft-mixture",
        "exists": True,
        "license_raw": "odc-by",
        "gated": "false",
        "readme_status": "ok",
        "card_bytes": 3000,
    },
    {
        "dataset_id": "berkeley-nest/Nectar",
        "exists": True,
        "license_raw": "cc-by-nc-4.0",
        "gated": "false",
        "readme_status": "ok",
        "card_bytes": 300,
    },
]
PAPERS = [
    {"arxiv_id": "2307.09288", "title": "Llama 2: Open Foundation and Fine-Tuned Chat Models"},
    {
        "arxiv_id": "2310.06825",
        "title": "Mistral 7B",
        "license_url": "http://creativecommons.org/licenses/by/4.0/",
    },
    {"arxiv_id": "2310.16944", "title": "Zephyr: Direct Distillation of LM Alignment"},
    {"arxiv_id": "2311.10702", "title": "Camels in a Changing Climate: Enhancing LM Adaptation with Tulu 2"},
    {"arxiv_id": "2309.16609", "title": "Qwen Technical Report"},
    {
        "arxiv_id": "2308.12950",
        "title": "Code Llama: Open Foundation Models for Code",
        "license_url": "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    },
    {
        "arxiv_id": "2305.18290",
        "title": "Direct Preference Optimization: Your Language Model is Secretly a Reward Model",
        "journal_ref": "NeurIPS 2023",
    },
]


@pytest.fixture(scope="session")
def world(rubric: dict[str, Any]) -> dict[str, pl.DataFrame]:
    """All 29 cards plus the variants, through licences, detection, scoring and the derivatives check."""
    from pipelines.openness.catalogue import resolve_licenses
    from pipelines.openness.components import detect_components
    from pipelines.openness.derivatives import link_derivatives
    from pipelines.openness.scoring import base_facts, score_revisions

    rows = [
        revision_row(
            card_bytes(stem),
            repo_id=repo,
            files=files,
            gated=gated,
            library_name=lib,
            license_tags=tags,
            committed_at=FALCON_SNAPSHOT if repo == "tiiuae/falcon-40b" else None,
        )
        for stem, repo, files, gated, lib, tags in CARD_REPOS
    ] + variant_rows()
    revisions = resolve_licenses(revisions_frame(rows))
    datasets, papers = datasets_frame(DATASETS), papers_frame(PAPERS)
    disclosures = detect_components(revisions, datasets, papers, rubric=rubric)
    openness = score_revisions(revisions, disclosures, rubric=rubric, bases=base_facts(revisions))
    return {
        "revisions": revisions,
        "datasets": datasets,
        "papers": papers,
        "disclosures": disclosures,
        "openness": openness,
        "derivatives": link_derivatives(revisions, rubric=rubric),
    }
