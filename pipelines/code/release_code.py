"""How releases link to code repositories (pure): the links from cards and cited papers, and each
link's role, a release's own code or a supporting library (the documented rule below)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.code.links import repo_key_or_none

RELEASE_CODE_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,
    "code_repo": pl.String,
    "linked_via": pl.String,
    "role": pl.String,
}

# General libraries and tools that many cards link to: a release's supporting library, not its own code.
# Each entry with its source (the project's own description of itself).
SUPPORTING_LIBRARIES: Mapping[str, str] = {
    "huggingface/transformers": "https://github.com/huggingface/transformers (library of model definitions)",
    "huggingface/peft": "https://github.com/huggingface/peft (parameter-efficient fine-tuning library)",
    "huggingface/trl": "https://github.com/huggingface/trl (post-training library)",
    "huggingface/accelerate": "https://github.com/huggingface/accelerate (training launcher library)",
    "huggingface/text-generation-inference": "https://github.com/huggingface/text-generation-inference (server)",
    "vllm-project/vllm": "https://github.com/vllm-project/vllm (inference and serving engine)",
    "pytorch/pytorch": "https://github.com/pytorch/pytorch (tensor library)",
    "ggerganov/llama.cpp": "https://github.com/ggerganov/llama.cpp (inference in C/C++)",
    "ggml-org/llama.cpp": "https://github.com/ggml-org/llama.cpp (inference in C/C++)",
    "dao-ailab/flash-attention": "https://github.com/Dao-AILab/flash-attention (attention kernels)",
    "timdettmers/bitsandbytes": "https://github.com/TimDettmers/bitsandbytes (quantisation library)",
    "bitsandbytes-foundation/bitsandbytes": "https://github.com/bitsandbytes-foundation/bitsandbytes",
    "microsoft/deepspeed": "https://github.com/microsoft/DeepSpeed (optimisation library)",
    "nvidia/megatron-lm": "https://github.com/NVIDIA/Megatron-LM (training library)",
    "eleutherai/lm-evaluation-harness": "https://github.com/EleutherAI/lm-evaluation-harness (eval framework)",
    "openaccess-ai-collective/axolotl": "https://github.com/OpenAccess-AI-Collective/axolotl (fine-tuning tool)",
    "axolotl-ai-cloud/axolotl": "https://github.com/axolotl-ai-cloud/axolotl (fine-tuning tool)",
    "hiyouga/llama-factory": "https://github.com/hiyouga/LLaMA-Factory (fine-tuning tool)",
    "ollama/ollama": "https://github.com/ollama/ollama (local inference tool)",
    "casper-hansen/autoawq": "https://github.com/casper-hansen/AutoAWQ (quantisation tool)",
    "autogptq/autogptq": "https://github.com/AutoGPTQ/AutoGPTQ (quantisation tool)",
    "mlc-ai/mlc-llm": "https://github.com/mlc-ai/mlc-llm (inference engine)",
    "sgl-project/sglang": "https://github.com/sgl-project/sglang (serving engine)",
    "openai/human-eval": "https://github.com/openai/human-eval (evaluation harness)",
}
# A repository linked from the cards of this many distinct organisations other than its owner is a
# supporting library of each of them, whether or not it is in the list above. Either way, a release of
# the repository's own organisation links its own code (role `release_code`).
SUPPORTING_MIN_ORGS = 5


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def owned_by_release(repo_id: str, code_repo: str) -> bool:
    """Whether a code repository belongs to the release's publisher: the GitHub owner and the Hub
    organisation are the same name apart from case and punctuation, or one contains the other
    (`lmsys` / `lm-sys`, `Qwen` / `QwenLM`), or the repository is named after the organisation
    (`imoneoi/openchat` for `openchat/...`). Anything else a card names is someone else's code."""
    org = _squash(repo_id.split("/", 1)[0])
    owner, _, name = code_repo.partition("/")
    owner, name = _squash(owner), _squash(name)
    if not org or not owner:
        return False
    return org == owner or (min(len(org), len(owner)) >= 4 and (org in owner or owner in org)) or name == org


def release_code_rows(links: pl.DataFrame, *, min_orgs: int = SUPPORTING_MIN_ORGS) -> pl.DataFrame:
    """core.release_code from (repo_id, url, linked_via) links: each release's code repos and their role:
    `release_code` (the publisher's own repository, `owned_by_release`), `supporting_library` (a general
    library by the documented rule) or `third_party` (someone else's code the card or paper names: it
    says nothing of the release's own code, so it counts neither for nor against it)."""
    rows = []
    for repo_id, url, via in links.select("repo_id", "url", "linked_via").iter_rows():
        key = repo_key_or_none(url)
        if key is not None:
            rows.append({"repo_id": repo_id, "code_repo": key, "linked_via": via})
    frame = pl.DataFrame(
        rows, schema={k: RELEASE_CODE_SCHEMA[k] for k in ("repo_id", "code_repo", "linked_via")}
    )
    frame = frame.unique(maintain_order=True)
    orgs = (
        frame.with_columns(
            pl.col("repo_id").str.split("/").list.first().str.to_lowercase().alias("_org"),
            pl.col("code_repo").str.split("/").list.first().alias("_owner"),
        )
        .filter(pl.col("_org") != pl.col("_owner"))
        .group_by("code_repo")
        .agg(pl.col("_org").n_unique().alias("_orgs"))
    )
    widely = set(orgs.filter(pl.col("_orgs") >= min_orgs)["code_repo"])
    listed = set(SUPPORTING_LIBRARIES) | widely
    own = pl.struct("repo_id", "code_repo").map_elements(
        lambda r: owned_by_release(r["repo_id"], r["code_repo"]), return_dtype=pl.Boolean
    )
    return (
        frame.with_columns(own.alias("_own"))
        .with_columns(
            pl.when(pl.col("_own"))
            .then(pl.lit("release_code"))
            .when(pl.col("code_repo").is_in(sorted(listed)))
            .then(pl.lit("supporting_library"))
            .otherwise(pl.lit("third_party"))
            .alias("role")
        )
        .drop("_own")
        .sort("repo_id", "code_repo", "linked_via")
    )


def code_links(revisions: pl.DataFrame, papers: pl.DataFrame, release_papers: pl.DataFrame) -> pl.DataFrame:
    """(repo_id, url, linked_via) from each release's latest card (`code_urls` of core.revisions) and from
    the papers it cites (`code_urls` of core.papers through core.release_papers); the input of
    release_code_rows and of the list of repositories to crawl."""
    schema = {"repo_id": pl.String, "url": pl.String, "linked_via": pl.String}
    card = (
        revisions.sort("committed_at")
        .group_by("repo_id", maintain_order=True)
        .last()
        .select("repo_id", pl.col("code_urls").alias("url"))
        .explode("url")
        .with_columns(pl.lit("card").alias("linked_via"))
    )
    paper = (
        release_papers.select("repo_id", "arxiv_id")
        .join(papers.select("arxiv_id", "code_urls"), on="arxiv_id")
        .select("repo_id", pl.col("code_urls").alias("url"))
        .explode("url")
        .with_columns(pl.lit("paper").alias("linked_via"))
    )
    out = pl.concat([card.cast(schema), paper.cast(schema)]).drop_nulls("url").unique(maintain_order=True)
    return out.sort("repo_id", "linked_via", "url")


def repos_to_crawl(links: pl.DataFrame) -> list[str]:
    """The distinct GitHub repositories (owner/name) that the links name, sorted."""
    return sorted({k for k in (repo_key_or_none(u) for u in links["url"]) if k is not None})
