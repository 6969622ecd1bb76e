"""What a tree shows, on the real trees of the sample corpus's code repositories (pure, no network)."""

from __future__ import annotations

import json

import pytest

from pipelines.code.tree import KINDS, classify_tree, file_kinds, licence_file_kind, licence_files, path_words
from tests.code.conftest import REPOS


def head_tree(repo: str) -> dict:
    commits = json.loads((REPOS / repo / "commits.json").read_text())
    return json.loads((REPOS / repo / "revisions" / commits[0]["sha"] / "tree.json").read_text())


# (repo, training, preprocessing, evaluation, inference, a path that must be evidence of training or None)
EXPECTED = [
    ("allenai/open-instruct", True, True, True, True, "configs/train_configs/sft/olmo_7b_17_remix_sft.yaml"),
    ("huggingface/alignment-handbook", True, False, False, False, "scripts/sft.py"),
    ("jzhang38/TinyLlama", True, True, False, True, "pretrain/tinyllama.py"),
    ("TurkuNLP/Megatron-DeepSpeed", True, True, True, True, "examples/pretrain_gpt.sh"),
    ("tatsu-lab/stanford_alpaca", True, False, False, True, "train.py"),
    ("bigcode-project/starcoder", True, False, False, True, "finetune/finetune.py"),
    ("QwenLM/Qwen", True, False, True, True, "finetune/ds_config_zero3.json"),
    ("meta-llama/llama", False, False, False, True, None),
    ("openai/human-eval", False, False, True, False, None),
    ("defog-ai/sql-eval", False, False, True, True, None),
    ("Stability-AI/StableLM", False, False, False, False, None),
]


@pytest.mark.parametrize(("repo", "training", "prep", "evaluation", "inference", "train_path"), EXPECTED)
def test_real_trees(repo, training, prep, evaluation, inference, train_path) -> None:
    tree = head_tree(repo)
    found = classify_tree(tree["tree"], truncated=tree.get("truncated", False))
    assert found.values == {
        "training_code": training,
        "preprocessing_code": prep,
        "evaluation_code": evaluation,
        "inference_code": inference,
    }
    for kind in KINDS:
        assert bool(found.evidence.get(kind)) == bool(found.values[kind])
    if train_path:
        row = found.as_row()
        assert row["evidence"]["training_code"]["count"] >= 1
        # the evidence list is capped; the path is found among the matching files
        assert "training_code" in file_kinds(train_path)


def test_unknown_tree_is_null_and_truncated_tree_without_match_is_null() -> None:
    assert classify_tree(None).values == dict.fromkeys(KINDS)
    found = classify_tree(
        [{"path": "README.md", "type": "blob"}, {"path": "train.py", "type": "blob"}], truncated=True
    )
    assert found.values["training_code"] is True
    assert found.values["evaluation_code"] is None
    complete = classify_tree([{"path": "README.md", "type": "blob"}])
    assert complete.values == dict.fromkeys(KINDS, False)


@pytest.mark.parametrize(
    ("path", "kinds"),
    [
        ("train.py", {"training_code"}),
        ("scripts/run_fine-tune.sh", {"training_code"}),
        ("configs/ds_config.json", {"training_code"}),
        ("recipes/zephyr/dpo/config_full.yaml", {"training_code"}),
        ("config.json", set()),  # a config file alone shows nothing
        ("evals/external/EleutherAI_gpt-neox-20B.json", set()),  # evaluation results, not a run config
        ("fine-tune/data/belle_chat_10k.json", set()),  # data, not a run config
        ("fastchat/data/split_train_test.py", {"preprocessing_code"}),
        ("scripts/prepare_slimpajama.py", {"preprocessing_code"}),
        ("eval/evaluate_mmlu.py", {"evaluation_code"}),
        ("cli_demo.py", {"inference_code"}),
        ("llama/generation.py", {"inference_code"}),
        ("tests/test_train.py", set()),  # tests are not the release's code
        ("docs/training.md", set()),  # documentation
        ("assets/train_curve.png", set()),
        ("data/humaneval.jsonl", set()),
    ],
)
def test_file_kinds(path: str, kinds: set[str]) -> None:
    assert file_kinds(path) == kinds


def test_path_words_split_separators_and_case() -> None:
    assert path_words("src/FineTune_LoRA-v2.py") == ["src", "fine", "tune", "lo", "ra", "v2", "py"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("LICENSE", "licence"),
        ("LICENCE.md", "licence"),
        ("COPYING", "licence"),
        ("MODEL_LICENSE", "licence"),
        ("LICENSE-CODE", "licence"),
        ("DATA_LICENSE", "licence"),
        ("Tongyi Qianwen LICENSE AGREEMENT", "licence"),
        ("USE_POLICY.md", "policy"),
        ("ACCEPTABLE_USE_POLICY", "policy"),
        ("docs/LICENSE", None),  # only root-level files, as GitHub's detector reads them
        ("license_check.py", None),
        ("README.md", None),
    ],
)
def test_licence_file_kind(path: str, kind: str | None) -> None:
    assert licence_file_kind(path) == kind


def test_licence_files_of_real_trees() -> None:
    llama = licence_files(head_tree("meta-llama/llama")["tree"])
    assert [(f["path"], f["kind"]) for f in llama] == [("LICENSE", "licence"), ("USE_POLICY.md", "policy")]
    assert all(len(f["sha"]) == 40 for f in llama)
    alpaca = [f["path"] for f in licence_files(head_tree("tatsu-lab/stanford_alpaca")["tree"])]
    assert alpaca == ["DATA_LICENSE", "LICENSE", "WEIGHT_DIFF_LICENSE"]
    assert licence_files(head_tree("FlagAI-Open/Aquila2")["tree"]) == []
