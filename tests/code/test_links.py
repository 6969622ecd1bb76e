"""GitHub repository keys from card and paper links and from what users type (pure)."""

from __future__ import annotations

import pytest

from pipelines.code.links import BadRepoUrl, repo_key, repo_keys


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://github.com/allenai/open-instruct", "allenai/open-instruct"),
        ("https://github.com/QwenLM/Qwen.git", "qwenlm/qwen"),
        ("http://www.github.com/meta-llama/llama/tree/main/llama", "meta-llama/llama"),
        ("github.com/tatsu-lab/stanford_alpaca#data-release", "tatsu-lab/stanford_alpaca"),
        ("git@github.com:young-geng/EasyLM.git", "young-geng/easylm"),
        ("jzhang38/TinyLlama", "jzhang38/tinyllama"),
        ("https://github.com/openai/human-eval?tab=readme", "openai/human-eval"),
        ("https://github.com/huggingface/alignment-handbook.", "huggingface/alignment-handbook"),
    ],
)
def test_repo_key(url: str, key: str) -> None:
    assert repo_key(url) == key


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty repository URL"),
        ("https://gitlab.com/foo/bar", "not a GitHub repository (only github.com is crawled)"),
        ("https://github.com/allenai", "not a GitHub repository URL"),
        ("https://github.com/topics/llm", "not a GitHub repository URL"),
        ("https://huggingface.co/meta-llama/Llama-2-7b", "not a GitHub repository URL"),
        ("-bad/name", "not a GitHub repository URL"),
    ],
)
def test_bad_urls_are_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(BadRepoUrl) as err:
        repo_key(url)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_repo_keys_from_normalised_card_links() -> None:
    # pipelines/code_links.py normalises card and paper links to lower-case https URLs
    urls = [
        "https://github.com/lm-sys/fastchat",
        "https://gitlab.com/x/y",
        "https://github.com/LM-SYS/FastChat",
        None,
        "https://github.com/openai/human-eval",
    ]
    assert repo_keys(urls) == ["lm-sys/fastchat", "openai/human-eval"]
