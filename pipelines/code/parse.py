"""Raw captures of code repositories -> rows (pure): the latest state per repository, the dated history
of its licence files, and how releases link to code repositories.

Column lists are in docs/code.md. Licence identification of file texts is not done here: it is the job
of pipelines.openness.license_files.identify_licence (ScanCode); when that module is not installed the
file-evidenced licence is null and GitHub's own detection (licensee) is used, marked as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache

import polars as pl

from pipelines.code.links import repo_key_or_none
from pipelines.code.tree import KINDS, classify_tree
from pipelines.openness.catalogue import _RESTRICTIVENESS, load_aliases, load_catalogue

Identify = Callable[[str], str | None]  # licence text -> catalogue licence id (None: not identified)

CODE_REPO_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,
    "full_name": pl.String,
    "status": pl.String,
    "license_id": pl.String,
    "license_family": pl.String,
    "license_source": pl.String,
    "github_license": pl.String,
    "file_license": pl.String,
    "archived": pl.Boolean,
    "fork": pl.Boolean,
    "parent": pl.String,
    "default_branch": pl.String,
    "created_at": pl.String,
    "pushed_at": pl.String,
    "head_sha": pl.String,
    "training_code": pl.Boolean,
    "preprocessing_code": pl.Boolean,
    "evaluation_code": pl.Boolean,
    "inference_code": pl.Boolean,
    "evidence": pl.String,
    "observed_at": pl.Datetime("us", "UTC"),
}
LICENCE_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,
    "commit_sha": pl.String,
    "committed_at": pl.String,
    "files": pl.String,  # JSON {path: blob sha} of the licence files after this commit
    "changed_paths": pl.List(pl.String),
    "license_id": pl.String,
    "message": pl.String,
}
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


def identify_seam() -> Identify | None:
    """The licence identifier of pipelines.openness (ScanCode), or None when that module
    or ScanCode is not installed: then only GitHub's own detection is used (license_source `github`)."""
    try:
        from pipelines.openness.license_detect import identify_licence
    except ImportError:
        try:
            from pipelines.openness.license_files import identify_licence
        except ImportError:
            return None
    broken: list[bool] = []

    def identify(text: str) -> str | None:
        if broken:
            return None
        try:
            result = identify_licence(text)
        except ImportError:  # the module is there, ScanCode is not
            broken.append(True)
            return None
        found = result if isinstance(result, str) or result is None else getattr(result, "license_id", None)
        return None if not found or found == "unknown" else found

    return identify


@cache
def _licence_lookup() -> dict[str, tuple[str, str]]:
    """Normalised key -> (catalogue id, family), from the catalogue's ids, SPDX ids and aliases."""
    cat = load_catalogue()
    family = dict(zip(cat["id"], cat["family"], strict=True))
    out: dict[str, tuple[str, str]] = {}
    for row in cat.iter_rows(named=True):
        out[_norm(row["id"])] = (row["id"], row["family"])
        if row["spdx_id"]:
            out.setdefault(_norm(row["spdx_id"]), (row["id"], row["family"]))
    for alias, cid in load_aliases().select("alias", "id").iter_rows():
        if cid in family:
            out.setdefault(_norm(alias), (cid, family[cid]))
    return out


def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().strip("\"'").lower())


def catalogue_licence(key: str | None) -> tuple[str | None, str | None]:
    """(catalogue id, family) of a licence key or SPDX id; ('other', 'unknown') when not in the catalogue."""
    if not key:
        return None, None
    if key.upper() == "NOASSERTION":
        key = "other"
    return _licence_lookup().get(_norm(key), ("other", "unknown"))


def _github_licence(body: Mapping) -> str | None:
    lic = body.get("license")
    if not isinstance(lic, Mapping):
        return None
    spdx = lic.get("spdx_id")
    return lic.get("key") if not spdx or spdx == "NOASSERTION" else spdx


def _file_licence(texts: Iterable[bytes | None], identify: Identify | None) -> str | None:
    """The licence the licence files show: one catalogue id, or several joined by `,` (sorted)."""
    if identify is None:
        return None
    found: set[str] = set()
    for text in texts:
        if text is not None:
            found.update((identify(text.decode("utf-8", "replace")) or "").split(","))
    found.discard("")
    return ",".join(sorted(found)) or None


def licence_of(license_id: str | None) -> tuple[str | None, str | None]:
    """(id, family) of an identified licence; for several (`a,b`) the most restrictive family decides."""
    if not license_id:
        return None, None
    parts = license_id.split(",")
    families = [catalogue_licence(p)[1] or "unknown" for p in parts]
    if len(parts) == 1:
        return catalogue_licence(license_id)
    return license_id, min(families, key=lambda f: _RESTRICTIVENESS.index(f) if f in _RESTRICTIVENESS else 0)


def code_repo_rows(
    repos: pl.DataFrame, trees: pl.DataFrame, files: pl.DataFrame, *, identify: Identify | None = None
) -> pl.DataFrame:
    """core.code_repos: one row per repository, its latest state (raw frames of pipelines/code/raw.py)."""
    rows = []
    trees_by_key = {(r["repo"], r["commit_sha"]): r for r in trees.iter_rows(named=True)}
    blobs = {(r["repo"], r["path"], r["blob_sha"]): r for r in files.iter_rows(named=True)}
    for key, group in repos.sort("fetched_at").group_by("repo", maintain_order=True):
        history = group.to_dicts()
        latest = history[-1]
        body = next(
            (json.loads(r["body"]) for r in reversed(history) if r["body"] and r["status"] != "gone"), {}
        )
        head = next((r["head_sha"] for r in reversed(history) if r["head_sha"]), None)
        tree = trees_by_key.get((key[0], head)) if head else None
        entries = tree["entries"] if tree else None
        findings = classify_tree(entries, truncated=bool(tree and tree["truncated"]))
        texts = []
        licence_paths = []
        for entry in entries or []:
            blob = blobs.get((key[0], entry["path"], entry["sha"]))
            if blob is not None and blob["kind"] == "licence":
                texts.append(blob["content"])
                licence_paths.append(entry["path"])
        github = _github_licence(body)
        file_lic = _file_licence(texts, identify)
        source = "files" if file_lic else ("github" if github else None)
        license_id, family = licence_of(file_lic) if file_lic else catalogue_licence(github)
        parent = body.get("parent") if isinstance(body.get("parent"), Mapping) else None
        found = findings.as_row()
        evidence = {
            "code": found["evidence"],
            "licence_files": licence_paths,
            "github_license": body.get("license"),
            "tree": {"commit": head, "truncated": bool(tree and tree["truncated"])} if tree else None,
        }
        rows.append(
            {
                "repo": key[0],
                "full_name": latest["full_name"],
                # a 304 says "as before": the last answer with a body tells the state
                "status": next(
                    (r["status"] for r in reversed(history) if r["status"] != "not_modified"), "ok"
                ),
                "license_id": license_id,
                "license_family": family,
                "license_source": source,
                "github_license": github,
                "file_license": file_lic,
                "archived": body.get("archived"),
                "fork": body.get("fork"),
                "parent": parent.get("full_name") if parent else None,
                "default_branch": body.get("default_branch"),
                "created_at": body.get("created_at"),
                "pushed_at": body.get("pushed_at"),
                "head_sha": head,
                **{kind: found[kind] for kind in KINDS},
                "evidence": json.dumps(evidence, sort_keys=True),
                "observed_at": latest["fetched_at"],
            }
        )
    return pl.DataFrame(rows, schema=CODE_REPO_SCHEMA)


def licence_history_rows(
    commits: pl.DataFrame, files: pl.DataFrame, *, identify: Identify | None = None
) -> pl.DataFrame:
    """The licence-file history: one row per commit that changed a repository's licence files, oldest
    first, with the set of licence files after it and (if identified) the licence they show."""
    text = {(r["repo"], r["path"], r["blob_sha"]): r["content"] for r in files.iter_rows(named=True)}
    rows = []
    dedup = commits.unique(["repo", "path", "commit_sha"], keep="first")
    for (repo,), group in dedup.sort("committed_at", "commit_sha").group_by("repo", maintain_order=True):
        state: dict[str, str] = {}
        for commit_sha, changes in group.group_by("commit_sha", maintain_order=True):
            changed = []
            for change in changes.iter_rows(named=True):
                changed.append(change["path"])
                if change["blob_sha"] is None:
                    state.pop(change["path"], None)
                else:
                    state[change["path"]] = change["blob_sha"]
            first = changes.row(0, named=True)
            texts = [text.get((repo, p, b)) for p, b in state.items() if _is_licence(p)]
            rows.append(
                {
                    "repo": repo,
                    "commit_sha": commit_sha[0],
                    "committed_at": first["committed_at"],
                    "files": json.dumps(dict(sorted(state.items()))),
                    "changed_paths": sorted(changed),
                    "license_id": licence_of(_file_licence(texts, identify))[0],
                    "message": (first["message"] or "").split("\n", 1)[0][:200],
                }
            )
    return pl.DataFrame(rows, schema=LICENCE_HISTORY_SCHEMA)


def _is_licence(path: str) -> bool:
    from pipelines.code.tree import licence_file_kind

    return licence_file_kind(path) == "licence"


def release_code_rows(links: pl.DataFrame, *, min_orgs: int = SUPPORTING_MIN_ORGS) -> pl.DataFrame:
    """core.release_code from (repo_id, url, linked_via) links: each release's code repos and their role
    (`supporting_library` by the documented rule, else `release_code`)."""
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
    own = (
        pl.col("repo_id").str.split("/").list.first().str.to_lowercase()
        == pl.col("code_repo").str.split("/").list.first()
    )
    return frame.with_columns(
        pl.when(pl.col("code_repo").is_in(sorted(listed)) & ~own)
        .then(pl.lit("supporting_library"))
        .otherwise(pl.lit("release_code"))
        .alias("role")
    ).sort("repo_id", "code_repo", "linked_via")


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
