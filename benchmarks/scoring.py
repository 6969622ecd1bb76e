"""Scoring benchmark: synthetic Hub-like revisions through licence resolution, detection and scoring."""

from __future__ import annotations

import datetime as dt
import os
import resource
import time
from typing import Any

import numpy as np
import polars as pl

from pipelines.hub.schema import DATASETS_SCHEMA, REVISIONS_SCHEMA
from pipelines.openness.rubric import load_rubric
from pipelines.openness.run import score_in_batches
from pipelines.openness.signals import PAPERS_SCHEMA, weight_facts

# Shapes seen on the Hub (rough shares), used to draw realistic rows.
_LICENSES = [
    ("apache-2.0", None, 0.25),
    ("mit", None, 0.12),
    (None, None, 0.33),
    ("llama3.1", None, 0.03),
    ("llama2", None, 0.03),
    ("other", "deepseek", 0.01),
    ("other", "llama3", 0.01),
    ("other", "tongyi-qianwen", 0.01),
    ("other", None, 0.02),
    ("other", "custom-research-license", 0.01),
    ("cc-by-nc-4.0", None, 0.03),
    ("openrail", None, 0.03),
    ("cc-by-4.0", None, 0.02),
    ("gemma", None, 0.02),
    ("creativeml-openrail-m", None, 0.02),
    ("cc-by-sa-4.0", None, 0.01),
    ("gpl-3.0", None, 0.005),
    ("Apache 2.0", None, 0.005),
    ("my-license", None, 0.005),
    ("mit,apache-2.0", None, 0.002),
    ("afl-3.0", None, 0.003),
    ("bigscience-openrail-m", None, 0.005),
    ("unknown", None, 0.005),
]
_FILES = [
    (
        [
            "README.md",
            ".gitattributes",
            "config.json",
            "generation_config.json",
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
        ],
        0.30,
    ),
    (
        ["README.md", ".gitattributes", "config.json", "pytorch_model.bin", "tokenizer.json", "vocab.txt"],
        0.15,
    ),
    (["README.md", ".gitattributes", "model-q4_k_m.gguf", "model-q8_0.gguf"], 0.10),
    (
        [
            "README.md",
            ".gitattributes",
            "adapter_config.json",
            "adapter_model.safetensors",
            "training_args.bin",
        ],
        0.10,
    ),
    (["README.md", ".gitattributes"], 0.08),
    ([".gitattributes"], 0.02),
    (
        [
            "README.md",
            "config.json",
            "model.safetensors",
            "trainer_state.json",
            "training_args.bin",
            "checkpoint-500/model.safetensors",
            "checkpoint-500/optimizer.pt",
            "train.py",
            "all_results.json",
        ],
        0.08,
    ),
    (
        [
            "README.md",
            "config.json",
            "modeling_custom.py",
            "configuration_custom.py",
            "model.safetensors",
            "tokenizer.json",
        ],
        0.05,
    ),
    (
        [
            "README.md",
            "model_index.json",
            "unet/config.json",
            "unet/diffusion_pytorch_model.safetensors",
            "vae/config.json",
            "vae/diffusion_pytorch_model.safetensors",
            "scheduler/scheduler_config.json",
        ],
        0.05,
    ),
    (["README.md", "config.json", "model.onnx", "tokenizer.json"], 0.03),
    (
        [
            "README.md",
            "config.json",
            "modules.json",
            "model.safetensors",
            "sentence_bert_config.json",
            "1_Pooling/config.json",
        ],
        0.04,
    ),
]
_SECTIONS = [
    (
        [
            "model card",
            "model details",
            "uses",
            "training details",
            "training data",
            "evaluation",
            "results",
            "bias, risks, and limitations",
            "intended uses & limitations",
        ],
        0.25,
    ),
    (
        [
            "model description",
            "intended uses & limitations",
            "training and evaluation data",
            "training procedure",
            "training hyperparameters",
            "training results",
            "framework versions",
        ],
        0.35,
    ),
    (["usage"], 0.2),
    ([], 0.2),
]
_FAMILIES = [
    "llama",
    "mistral",
    "qwen",
    "gemma",
    "phi",
    "falcon",
    "bert",
    "whisper",
    "sdxl",
    "olmo",
    "pythia",
    "bloom",
]
_LIBS = [
    ("transformers", 0.55),
    ("peft", 0.1),
    ("diffusers", 0.05),
    ("sentence-transformers", 0.05),
    ("gguf", 0.08),
    (None, 0.12),
    ("timm", 0.02),
    ("mlx", 0.03),
]
_STATUS = [
    ("ok", 0.8),
    ("missing", 0.07),
    ("gated", 0.04),
    ("malformed_yaml", 0.02),
    ("not_fetched", 0.06),
    ("non_utf8", 0.01),
]
_GATED = [("false", 0.92), ("auto", 0.05), ("manual", 0.03)]


def _pick(rng: np.random.Generator, options: list[tuple[Any, ...]], n: int) -> np.ndarray:
    p = np.array([o[-1] for o in options], dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def _hex40(rng: np.random.Generator, n: int) -> pl.Series:
    raw = np.frombuffer(rng.bytes(20 * n).hex().encode(), dtype="S40")
    return pl.Series(raw).cast(pl.String)


def _pool_lists(rng: np.random.Generator, pool: list[str], n: int, share: float, most: int) -> pl.Series:
    """Lists of 0..most ids drawn from `pool`; a `share` of rows get a non-empty list."""
    sizes = pl.Series(np.where(rng.random(n) < share, rng.integers(1, most + 1, n), 0))
    flat = pl.Series(pool, dtype=pl.String).gather(rng.integers(0, len(pool), n * most))
    lists = flat.reshape((n, most)).arr.to_list()
    return (
        pl.DataFrame({"l": lists, "k": sizes})
        .select(pl.col("l").list.head(pl.col("k")).list.unique(maintain_order=True))
        .to_series()
    )


def synthetic_revisions(n: int, seed: int = 0) -> pl.DataFrame:
    """`n` Hub-like revisions (REVISIONS_SCHEMA) with realistic shares of licences, files and card facts."""
    rng = np.random.default_rng(seed)
    n_repos = max(1, n // 3)
    repo_idx = rng.integers(0, n_repos, n)
    repos = pl.Series(
        [f"org{i % max(1, n_repos // 8)}/{_FAMILIES[i % len(_FAMILIES)]}-{i}" for i in range(n_repos)],
        dtype=pl.String,
    )
    lic = _pick(rng, _LICENSES, n)
    files_idx = _pick(rng, _FILES, n)
    sections_idx = _pick(rng, _SECTIONS, n)
    lic_raw = pl.Series([o[0] for o in _LICENSES], dtype=pl.String).gather(lic)
    lic_name = pl.Series([o[1] for o in _LICENSES], dtype=pl.String).gather(lic)
    conflict = rng.random(n) < 0.01
    tags = (
        pl.DataFrame({"r": lic_raw, "c": conflict})
        .select(
            pl.when(pl.col("c"))
            .then(pl.lit(["apache-2.0"]))
            .otherwise(pl.col("r").str.to_lowercase().str.replace_all(" ", "-").str.split(",").fill_null([]))
        )
        .to_series()
    )
    base_pool = repos.gather(rng.integers(0, n_repos, 2000)).to_list() + [
        "meta-llama/Llama-2-7b-hf",
        "mistralai/Mistral-7B-v0.1",
    ]
    start_us = int(dt.datetime(2022, 3, 2, tzinfo=dt.UTC).timestamp()) * 1_000_000
    df = pl.DataFrame(
        {
            "repo_id": repos.gather(repo_idx),
            "revision": _hex40(rng, n),
            "committed_at": pl.Series(start_us + rng.integers(0, 4 * 365 * 86400, n) * 1_000_000).cast(
                pl.Datetime("us", "UTC")
            ),
            "source": pl.Series(["listing"] * n, dtype=pl.String),
            "license_raw": lic_raw,
            "license_name": lic_name,
            "license_tags": tags,
            "gated": pl.Series([o[0] for o in _GATED], dtype=pl.String).gather(_pick(rng, _GATED, n)),
            "files": pl.Series([o[0] for o in _FILES], dtype=pl.List(pl.String)).gather(files_idx),
            "datasets": _pool_lists(rng, [f"ds-org/dataset-{i}" for i in range(2000)], n, 0.2, 3),
            "arxiv_ids": _pool_lists(
                rng, [f"{2100 + i % 400}.{10000 + i:05d}" for i in range(5000)], n, 0.15, 2
            ),
            "code_urls": _pool_lists(
                rng,
                [
                    f"https://github.com/org{i}/{k}"
                    for i in range(300)
                    for k in ("train-recipes", "model", "eval-suite", "data-prep")
                ],
                n,
                0.12,
                2,
            ),
            "base_models": _pool_lists(rng, base_pool, n, 0.4, 1),
            "library_name": pl.Series([o[0] for o in _LIBS], dtype=pl.String).gather(_pick(rng, _LIBS, n)),
            "readme_status": pl.Series([o[0] for o in _STATUS], dtype=pl.String).gather(
                _pick(rng, _STATUS, n)
            ),
            "card_bytes": pl.Series(rng.integers(200, 30_000, n), dtype=pl.Int64),
            "card_sections": pl.Series([o[0] for o in _SECTIONS], dtype=pl.List(pl.String)).gather(
                sections_idx
            ),
            "has_model_index": pl.Series(rng.random(n) < 0.1, dtype=pl.Boolean),
        }
    )
    df = df.with_columns(
        observed_at=pl.col("committed_at") + pl.duration(days=1),
        pipeline_tag=pl.lit("text-generation"),
        tags=pl.lit([], dtype=pl.List(pl.String)),
    )
    for col, dtype in REVISIONS_SCHEMA.items():
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    return weight_facts(df, rubric=load_rubric()).select(
        [pl.col(c).cast(t) for c, t in REVISIONS_SCHEMA.items()]
    )


def synthetic_context(seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The datasets and papers frames the synthetic revisions refer to."""
    rng = np.random.default_rng(seed + 1)
    lic = np.array(["apache-2.0", "mit", "cc-by-4.0", "cc-by-nc-4.0", "odc-by", None, "other"], dtype=object)
    k = 2000
    datasets = pl.DataFrame(
        {
            "dataset_id": [f"ds-org/dataset-{i}" for i in range(k)],
            "revision": _hex40(rng, k),
            "observed_at": [dt.datetime(2025, 1, 1, tzinfo=dt.UTC)] * k,
            "exists": rng.random(k) < 0.95,
            "license_raw": lic[rng.integers(0, len(lic), k)].tolist(),
            "gated": np.where(rng.random(k) < 0.1, "manual", "false").tolist(),
            "readme_status": ["ok"] * k,
            "card_bytes": rng.integers(100, 20_000, k),
        }
    )
    datasets = datasets.with_columns(pl.lit(None, dtype=pl.String).alias("license_name")).select(
        [pl.col(c).cast(t) for c, t in DATASETS_SCHEMA.items()]
    )
    papers = pl.DataFrame(
        {
            "arxiv_id": [f"{2100 + i % 400}.{10000 + i:05d}" for i in range(5000)],
            "title": [
                f"{_FAMILIES[i % len(_FAMILIES)].title()} {i}: technical report"
                if i % 3 == 0
                else f"A study of topic {i}"
                for i in range(5000)
            ],
            "journal_ref": [None if i % 4 else "NeurIPS 2024" for i in range(5000)],
            "license_url": [
                None if i % 2 else "http://creativecommons.org/licenses/by/4.0/" for i in range(5000)
            ],
        }
    )
    for col, dtype in PAPERS_SCHEMA.items():
        if col not in papers.columns:
            papers = papers.with_columns(pl.lit(None, dtype=dtype).alias(col))
    return datasets, papers.select(list(PAPERS_SCHEMA))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scoring_bench(n: int = 3_000_000, seed: int = 0, batch_size: int = 300_000) -> dict[str, Any]:
    """Time licence resolution + component detection + scoring of `n` synthetic revisions; report peak RSS.

    Revisions go through `score_in_batches` (the pipeline's bounded-memory path); each batch's
    disclosures are counted and dropped, as a writer would flush them, and the openness rows are kept.
    """
    rubric = load_rubric()
    t0 = time.perf_counter()
    revisions = synthetic_revisions(n, seed)
    datasets, papers = synthetic_context(seed)
    generated = time.perf_counter()
    cpu0 = time.process_time()
    rss_before = _rss_mib()
    disclosure_rows = 0
    scored = []
    # Licences are resolved batch by batch inside score_in_batches.
    # As the pipeline calls it: the base models' own verdicts are scored first (base_verdicts).
    for disclosures, openness in score_in_batches(
        revisions, datasets, papers, rubric=rubric, batch_size=batch_size
    ):
        disclosure_rows += disclosures.height
        scored.append(openness)
    openness = pl.concat(scored)
    t_score = time.perf_counter()
    load1, _, _ = os.getloadavg()
    return {
        "revisions": n,
        "batch_size": batch_size,
        "disclosures_rows": disclosure_rows,
        "openness_rows": openness.height,
        "generate_s": round(generated - t0, 2),
        "seconds": round(t_score - generated, 2),
        "cpu_seconds": round(time.process_time() - cpu0, 2),
        "peak_rss_mib_before_scoring": round(rss_before),
        "peak_rss_mib": round(_rss_mib()),
        "threads": pl.thread_pool_size(),
        "load_average_1m_at_end": round(load1, 2),
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """Rows for docs/benchmarks.md: (figure, value, target, met)."""
    n = result["revisions"]
    at_scale = n >= 3_000_000
    return [
        (
            f"resolve + detect + score {n:,} revisions ({result['disclosures_rows']:,} disclosures)",
            f"{result['seconds']} s",
            "< 60 s for 3,000,000 on 2 cores",
            result["seconds"] < 60 if at_scale else None,
        ),
        ("CPU time of that run", f"{result['cpu_seconds']} s", "", None),
        ("peak RSS", f"{result['peak_rss_mib']} MiB", "", None),
        (
            "1-minute load average at the end (other processes on the machine)",
            str(result["load_average_1m_at_end"]),
            "",
            None,
        ),
    ]


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run_scoring_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000)))
