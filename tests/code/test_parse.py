"""Raw captures -> rows (pure): licence mapping, release links and the supporting-library rule."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.code.parse import catalogue_licence, licence_of
from pipelines.code.release_code import SUPPORTING_MIN_ORGS, release_code_rows


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("apache-2.0", ("apache-2.0", "osi-permissive")),
        ("Apache-2.0", ("apache-2.0", "osi-permissive")),  # GitHub's spdx_id
        ("MIT", ("mit", "osi-permissive")),
        ("gpl-3.0", ("gpl-3.0", "osi-copyleft")),
        ("NOASSERTION", ("other", "unknown")),  # GitHub: a licence file it could not name
        ("no-such-licence", ("other", "unknown")),
        (None, (None, None)),
    ],
)
def test_catalogue_licence(key, expected) -> None:
    assert catalogue_licence(key) == expected


def test_several_licences_take_the_most_restrictive_family() -> None:
    assert licence_of("cc-by-nc-4.0,mit") == ("cc-by-nc-4.0,mit", "non-commercial")
    assert licence_of("llama2") == ("llama2", "community")


def _links(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["repo_id", "url", "linked_via"], orient="row")


def test_release_code_roles() -> None:
    rows = [
        ("lmsys/vicuna-7b-v1.5", "https://github.com/lm-sys/fastchat", "card"),
        ("lmsys/vicuna-7b-v1.5", "https://github.com/huggingface/transformers", "card"),
        ("allenai/tulu-2-7b", "https://github.com/allenai/open-instruct", "card"),
        ("allenai/tulu-2-7b", "https://github.com/allenai/open-instruct", "paper"),
        ("allenai/tulu-2-7b", "https://gitlab.com/x/y", "card"),  # not GitHub: not a code repo here
        ("huggingface/smol", "https://github.com/huggingface/transformers", "card"),  # its own library
    ]
    out = release_code_rows(_links(rows))
    roles = {(r["repo_id"], r["code_repo"], r["linked_via"]): r["role"] for r in out.iter_rows(named=True)}
    assert roles == {
        ("allenai/tulu-2-7b", "allenai/open-instruct", "card"): "release_code",
        ("allenai/tulu-2-7b", "allenai/open-instruct", "paper"): "release_code",
        ("huggingface/smol", "huggingface/transformers", "card"): "release_code",
        ("lmsys/vicuna-7b-v1.5", "huggingface/transformers", "card"): "supporting_library",
        ("lmsys/vicuna-7b-v1.5", "lm-sys/fastchat", "card"): "release_code",
    }


def test_a_repo_linked_by_many_organisations_is_a_supporting_library() -> None:
    orgs = [f"org{i}" for i in range(SUPPORTING_MIN_ORGS)]
    rows = [(f"{o}/model", "https://github.com/someone/fine-tuner", "card") for o in orgs]
    rows.append(("someone/model", "https://github.com/someone/fine-tuner", "card"))
    out = release_code_rows(_links(rows))
    roles = dict(zip(out["repo_id"], out["role"], strict=True))
    assert {roles[f"{o}/model"] for o in orgs} == {"supporting_library"}
    assert roles["someone/model"] == "release_code"  # the owner's own release
    fewer = release_code_rows(_links(rows[: SUPPORTING_MIN_ORGS - 1]))
    # Too few organisations for a library, and not theirs: someone else's code.
    assert set(fewer["role"]) == {"third_party"}


def test_someone_elses_repository_is_third_party_not_the_releases_code() -> None:
    """A card naming another publisher's repository (falcon-40b's card names Stability AI's StableLM) says
    nothing of the release's own training code; the publisher's own repository under a variant of its name
    (lmsys / lm-sys, Qwen / QwenLM, openchat / imoneoi/openchat) is its code."""
    rows = [
        ("tiiuae/falcon-40b", "https://github.com/Stability-AI/StableLM", "card"),
        ("Qwen/Qwen-7B", "https://github.com/QwenLM/Qwen", "card"),
        ("lmsys/vicuna-7b-v1.5", "https://github.com/lm-sys/FastChat", "card"),
        ("openchat/openchat_3.5", "https://github.com/imoneoi/openchat", "card"),
        ("LumiOpen/Poro-34B", "https://github.com/TurkuNLP/Megatron-DeepSpeed", "card"),
    ]
    roles = {
        (r, c): role
        for r, c, role in release_code_rows(_links(rows)).select("repo_id", "code_repo", "role").iter_rows()
    }
    assert roles == {
        ("tiiuae/falcon-40b", "stability-ai/stablelm"): "third_party",
        ("Qwen/Qwen-7B", "qwenlm/qwen"): "release_code",
        ("lmsys/vicuna-7b-v1.5", "lm-sys/fastchat"): "release_code",
        ("openchat/openchat_3.5", "imoneoi/openchat"): "release_code",
        # Poro was trained by TurkuNLP with Silo AI, but nothing recorded ties the two names: not shown.
        ("LumiOpen/Poro-34B", "turkunlp/megatron-deepspeed"): "third_party",
    }


def test_code_links_from_the_latest_card_and_cited_papers() -> None:
    from pipelines.code.release_code import code_links, repos_to_crawl

    revisions = pl.DataFrame(
        {
            "repo_id": ["lmsys/vicuna", "lmsys/vicuna", "allenai/tulu"],
            "committed_at": ["2023-01-01", "2023-06-01", "2023-11-01"],
            "code_urls": [["https://github.com/old/repo"], ["https://github.com/lm-sys/fastchat"], []],
        }
    )
    papers = pl.DataFrame(
        {
            "arxiv_id": ["2311.10702"],
            "code_urls": [["https://github.com/allenai/open-instruct", "https://gitlab.com/a/b"]],
        }
    )
    release_papers = pl.DataFrame({"repo_id": ["allenai/tulu"], "arxiv_id": ["2311.10702"]})
    links = code_links(revisions, papers, release_papers)
    assert links.rows() == [
        ("allenai/tulu", "https://github.com/allenai/open-instruct", "paper"),
        ("allenai/tulu", "https://gitlab.com/a/b", "paper"),
        ("lmsys/vicuna", "https://github.com/lm-sys/fastchat", "card"),
    ]
    assert repos_to_crawl(links) == ["allenai/open-instruct", "lm-sys/fastchat"]


@pytest.mark.parametrize(
    ("paths", "code"),
    [
        (["DATA_LICENSE", "LICENSE", "WEIGHT_DIFF_LICENSE"], ["LICENSE"]),  # tatsu-lab/stanford_alpaca
        (["LICENSE-CODE", "LICENSE-MODEL"], ["LICENSE-CODE"]),  # deepseek-ai/DeepSeek-Coder
        (["LICENSE", "Tongyi Qianwen LICENSE AGREEMENT"], ["LICENSE"]),  # QwenLM/Qwen
        (["MODEL_LICENSE"], ["MODEL_LICENSE"]),  # nothing generic: every licence file
        (["COPYING", "COPYING.LESSER"], ["COPYING", "COPYING.LESSER"]),
    ],
)
def test_code_licence_paths(paths, code) -> None:
    from pipelines.code.parse import code_licence_paths

    assert code_licence_paths(paths) == code
