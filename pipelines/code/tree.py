"""What a repository's tree shows (pure): training, preprocessing, evaluation and inference code, and
which files are licence or use-policy documents.

Input is the `tree` list of GitHub's `GET /repos/{o}/{r}/git/trees/{sha}?recursive=1` (entries with
`path` and `type`). Each kind of code is decided from file paths only, by the rules below (documented in
docs/code.md): a file counts when it is code or a run configuration, is not a test, documentation,
asset or vendored file, and one of its path words (directory or file name, split on `/ _ - .` and
case changes) names the kind. The answer is True with the matching paths as evidence, False when the
tree is known, complete and has none, and None when the tree is unknown (or truncated without a match).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

KINDS = ("training_code", "preprocessing_code", "evaluation_code", "inference_code")
MAX_EVIDENCE = 20  # paths kept as evidence per kind (the count is kept in full)

CODE_EXTENSIONS = frozenset(
    "py sh bash zsh slurm sbatch ipynb js ts rs go c cc cpp cu cuh h hpp java scala jl lua r pl rb swift".split()
)
CONFIG_EXTENSIONS = frozenset("yaml yml json toml cfg ini conf jsonnet gin".split())
# Path parts that hold no code of the release itself.
SKIPPED_DIRS = frozenset(
    "test tests testing __tests__ docs doc documentation assets asset images img imgs figures figure media "
    ".github .circleci .devcontainer __pycache__ third_party third-party thirdparty vendor vendors "
    "node_modules site-packages".split()
)

# Words (lower-case) that name each kind. Two-word forms ("fine tune") are matched on adjacent words.
TRAINING_WORDS = frozenset(
    "train training trainer trainers finetune finetuning pretrain pretraining "
    "sft dpo ipo kto orpo simpo grpo ppo rlhf rlaif reward_model rm_train lora qlora "
    "deepspeed ds_config zero2 zero3 fsdp megatron neox gpt_neox composer axolotl trl accelerate_config".split()
)
TRAINING_BIGRAMS = frozenset({("fine", "tune"), ("fine", "tuning"), ("ds", "config"), ("reward", "model")})
PREPROCESSING_WORDS = frozenset(
    "preprocess preprocessing preprocessor prepare prep clean cleaning cleanup dedup deduplicate "
    "deduplication dedupe filter filtering tokenize tokenization tokenise detokenize pack packing "
    "data_prep dataprep build_dataset make_dataset generate_dataset create_dataset split_data "
    "data_processing dataprocessing".split()
)
PREPROCESSING_DIRS = frozenset(
    "data data_processing dataprocessing datasets dataset preprocessing scripts_data".split()
)
EVALUATION_WORDS = frozenset(
    "eval evals evaluate evaluation evaluations evaluator evaluators benchmark benchmarks harness "
    "lm_eval humaneval mbpp mmlu cmmlu ceval gsm8k llm_judge judge mt_bench alpaca_eval".split()
)
INFERENCE_WORDS = frozenset(
    "infer inference inferencer generate generation generator predict prediction serve serving "
    "api_server openai_api_server demo cli_demo web_demo gradio chat_completion completion interactive".split()
)

_SPLIT = re.compile(r"[/_\-.\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def path_words(path: str) -> list[str]:
    """The lower-case words of a path: its parts split on `/ _ - .`, spaces and case changes."""
    words: list[str] = []
    for part in _SPLIT.split(path):
        words.extend(w.lower() for w in _CAMEL.split(part) if w)
    return words


def _joined_words(path: str) -> set[str]:
    """Each file/dir name whole (lower-case, separators as `_`) and its words: `cli_demo`, `cli`, `demo`."""
    out: set[str] = set()
    for part in path.split("/"):
        stem = part.rsplit(".", 1)[0] if "." in part[1:] else part
        out.add(re.sub(r"[\-\s]+", "_", stem.lower()))
    return out


def _extension(path: str) -> str:
    suffix = PurePosixPath(path).suffix
    return suffix[1:].lower() if suffix else ""


def _skipped(path: str) -> bool:
    parts = [p.lower() for p in path.split("/")]
    name = parts[-1]
    if any(p in SKIPPED_DIRS for p in parts[:-1]):
        return True
    return name.startswith("test_") or name == "conftest.py"


def _has(words: list[str], joined: set[str], vocabulary: frozenset[str]) -> bool:
    return any(w in vocabulary for w in words) or any(j in vocabulary for j in joined)


def _has_bigram(words: list[str], bigrams: frozenset[tuple[str, str]]) -> bool:
    return any(pair in bigrams for pair in zip(words, words[1:], strict=False))


def file_kinds(path: str) -> set[str]:
    """The kinds of code one file path counts as (empty for data, docs, assets, tests and such)."""
    ext = _extension(path)
    is_code, is_config = ext in CODE_EXTENSIONS, ext in CONFIG_EXTENSIONS
    if not (is_code or is_config) or _skipped(path):
        return set()
    words, joined = path_words(path), _joined_words(path)
    kinds: set[str] = set()
    preprocessing = is_code and (
        _has(words, joined, PREPROCESSING_WORDS)
        or any(p.lower() in PREPROCESSING_DIRS for p in path.split("/")[:-1])
    )
    if preprocessing:
        kinds.add("preprocessing_code")
    training = {w for w in (*words, *joined) if w in TRAINING_WORDS}
    if _has_bigram(words, TRAINING_BIGRAMS):
        training.add("finetune")
    # A data script that only says "train" (split_train_test.py) is preprocessing, not training; a run
    # configuration counts only when it is named for training (a config file alone shows nothing).
    if is_config and (
        _has(words, joined, EVALUATION_WORDS)
        or any(p.lower() in PREPROCESSING_DIRS for p in path.split("/")[:-1])
    ):
        training = set()  # results or data stored as JSON/YAML, not a run configuration
    if training and not (preprocessing and training <= {"train"}):
        kinds.add("training_code")
    if is_code and _has(words, joined, EVALUATION_WORDS):
        kinds.add("evaluation_code")
    if (
        is_code
        and _has(words, joined, INFERENCE_WORDS)
        and not kinds & {"training_code", "preprocessing_code"}
    ):
        kinds.add("inference_code")
    return kinds


@dataclass(frozen=True)
class TreeFindings:
    """What one tree shows: per kind True/False/None, the matching paths (capped) and their count."""

    known: bool
    truncated: bool = False
    values: Mapping[str, bool | None] = field(default_factory=dict)
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)

    def as_row(self) -> dict:
        """Flat columns: one per kind, plus `evidence` {kind: {"paths": [...], "count": n}}."""
        row: dict = {kind: self.values.get(kind) for kind in KINDS}
        row["evidence"] = {
            kind: {"paths": list(self.evidence.get(kind, ())), "count": self.counts.get(kind, 0)}
            for kind in KINDS
            if self.counts.get(kind)
        }
        return row


def classify_tree(entries: Sequence[Mapping] | None, *, truncated: bool = False) -> TreeFindings:
    """Decide the four kinds of code from a tree's entries (None: the tree is unknown)."""
    if entries is None:
        return TreeFindings(known=False, values=dict.fromkeys(KINDS))
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for entry in entries:
        if entry.get("type", "blob") != "blob":
            continue
        path = entry.get("path")
        if not isinstance(path, str):
            continue
        for kind in file_kinds(path):
            found[kind].append(path)
    values: dict[str, bool | None] = {}
    for kind, paths in found.items():
        values[kind] = True if paths else (None if truncated else False)
    return TreeFindings(
        known=True,
        truncated=truncated,
        values=values,
        # shallow paths first: a top-level train.py says more than the 40th config under recipes/
        evidence={
            k: tuple(sorted(v, key=lambda p: (p.count("/"), p))[:MAX_EVIDENCE]) for k, v in found.items() if v
        },
        counts={k: len(v) for k, v in found.items() if v},
    )


# Licence and use-policy files: at the repository root, as licensee (GitHub's detector) looks for them.
_LICENCE_NAME = re.compile(r"^(?:.*licen[sc]e.*|copying(?:[.\-_].*)?|copyright(?:[.\-_].*)?)$", re.IGNORECASE)
_POLICY_NAME = re.compile(r"^(?:acceptable[_\-]?)?use[_\-]?policy(?:[.\-_].*)?$", re.IGNORECASE)
_NOT_TEXT = frozenset("png jpg jpeg gif svg pdf py sh ipynb js ts json yaml yml".split())


def licence_file_kind(path: str) -> str | None:
    """`licence` or `policy` for a root-level licence or use-policy file, else None.

    Only root-level files count, as GitHub's detector (licensee) reads them; a vendored
    third_party/x/LICENSE is not the repository's licence. The name rule is
    pipelines.openness.license_files.licence_file_kind when that module is installed (one rule for Hub
    repos and code repos); the fallback here covers LICENSE*, LICENCE*, COPYING*, MODEL_LICENSE*,
    *LICENSE*.txt|md (DATA_LICENSE, LICENSE-CODE, ...), USE_POLICY* and ACCEPTABLE_USE_POLICY*.
    """
    if "/" in path:
        return None
    shared = _shared_kind()
    if shared is not None:
        return shared(path)
    if _POLICY_NAME.match(path):
        return "policy"
    if _LICENCE_NAME.match(path) and _extension(path) not in _NOT_TEXT:
        return "licence"
    return None


def _shared_kind():  # noqa: ANN202 - the licence module's function, if that module is installed
    try:
        from pipelines.openness.license_files import licence_file_kind as shared
    except ImportError:
        return None
    return shared


def licence_files(entries: Iterable[Mapping]) -> list[dict]:
    """The licence and policy files of a tree: [{path, sha, size, kind}], sorted by path."""
    out = []
    for entry in entries:
        if entry.get("type", "blob") != "blob" or not isinstance(entry.get("path"), str):
            continue
        kind = licence_file_kind(entry["path"])
        if kind is not None:
            out.append(
                {"path": entry["path"], "sha": entry.get("sha"), "size": entry.get("size"), "kind": kind}
            )
    return sorted(out, key=lambda f: f["path"])
