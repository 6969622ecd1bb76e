"""parse_card: the 29 real model cards, hostile and broken inputs, and a property test over any bytes."""

from __future__ import annotations

import csv
import hashlib
import json
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.hub.cards import CardFacts, parse_card

CARDS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "cards"
PROVENANCE = {
    row["hf_repo_id"]: row for row in csv.DictReader((CARDS / "PROVENANCE.csv").open(encoding="utf-8"))
}
CARD_FILES = sorted(CARDS.glob("*.md"))

# What each card declares, read by hand from the files (license_raw / license_name also match PROVENANCE.csv).
EXPECTED = {
    "HuggingFaceH4__zephyr-7b-beta": dict(
        license_raw="mit",
        base_models=["mistralai/Mistral-7B-v0.1"],
        datasets=["HuggingFaceH4/ultrachat_200k", "HuggingFaceH4/ultrafeedback_binarized"],
        arxiv={"2305.18290", "2310.16944"},
        has_model_index=True,
    ),
    "allenai__tulu-2-dpo-70b": dict(
        license_raw="other",
        license_name="ai2-impact-license-low-risk",
        license_link="https://allenai.org/impact-license",
        base_models=["meta-llama/Llama-2-70b-hf"],
        arxiv={"2305.18290", "2311.10702"},
        has_model_index=False,
    ),
    "allenai__tulu-2-7b": dict(
        license_raw=None, base_models=["meta-llama/Llama-2-7b-hf"], has_model_index=False
    ),
    "google__gemma-2b-it": dict(
        license_raw="other", license_name="gemma-terms-of-use", library_name="transformers"
    ),
    "google__gemma-2b-sfp-cpp": dict(
        license_raw="gemma", library_name="gemma.cpp", pipeline_tag="text-generation"
    ),
    "deepseek-ai__deepseek-coder-6.7b-instruct": dict(
        license_raw="other", license_name="deepseek", license_link="LICENSE"
    ),
    "meta-llama__Llama-2-7b-chat-hf": dict(license_raw=None, arxiv={"2307.09288"}, languages=["en"]),
    "codellama__CodeLlama-7b-hf": dict(license_raw="llama2", arxiv={"2308.12950"}, languages=["code"]),
    "runwayml__stable-diffusion-v1-5": dict(license_raw="creativeml-openrail-m"),
    "berkeley-nest__Starling-LM-7B-alpha": dict(
        license_raw="cc-by-nc-4.0", datasets=["berkeley-nest/Nectar"]
    ),
    "defog__sqlcoder-7b": dict(license_raw="cc-by-sa-4.0", code={"https://github.com/defog-ai/sql-eval"}),
    "stabilityai__stablelm-zephyr-3b": dict(license_raw="other", license_name=None, has_model_index=True),
    "tiiuae__falcon-40b": dict(
        license_raw=None, datasets=["tiiuae/falcon-refinedweb"], languages=["en", "de", "es", "fr"]
    ),
    "Qwen__Qwen-7B": dict(license_raw=None, arxiv={"2309.16609"}, code={"https://github.com/qwenlm/qwen"}),
    "lmsys__vicuna-7b-v1.5": dict(license_raw="llama2", arxiv={"2307.09288", "2306.05685"}),
    "mistralai__Mistral-7B-v0.1": dict(
        license_raw="apache-2.0", arxiv={"2310.06825"}, sections_include="model architecture"
    ),
}


def _provenance(path: Path) -> dict[str, str]:
    return next(row for row in PROVENANCE.values() if row["file"] == f"cards/{path.name}")


def test_all_29_reference_cards_are_here() -> None:
    assert len(CARD_FILES) == 29


@pytest.mark.parametrize("path", CARD_FILES, ids=lambda p: p.stem)
def test_real_card(path: Path) -> None:
    raw = path.read_bytes()
    facts = parse_card(raw)
    assert isinstance(facts, CardFacts)
    assert facts.readme_status == "ok" and facts.yaml_error is None
    assert facts.card_bytes == len(raw) and facts.card_sha256 == hashlib.sha256(raw).hexdigest()
    json.dumps(facts.metadata)  # JSON-safe: no dates, sets or Python objects left
    assert facts.sections, "every reference card has headings"
    assert all(s == s.lower() for s in facts.sections)
    assert all(a.count("v") == 0 or "/" in a for a in facts.arxiv_ids), "version suffixes are dropped"
    assert all(
        u.startswith(("https://github.com/", "https://gitlab.com/")) and u.count("/") == 4
        for u in facts.code_urls
    )
    # The licence as PROVENANCE.csv records it ("other / <license_name>" when there is a name).
    recorded = _provenance(path)["card_license"]
    declared = (
        facts.license_raw + (f" / {facts.license_name}" if facts.license_name else "")
        if facts.license_raw
        else ""
    )
    assert declared == recorded
    for key, want in EXPECTED.get(path.stem, {}).items():
        if key == "arxiv":
            assert want <= set(facts.arxiv_ids)
        elif key == "code":
            assert want <= set(facts.code_urls)
        elif key == "sections_include":
            assert want in facts.sections
        else:
            assert getattr(facts, key) == want, key


def test_revision_columns_match_the_schema() -> None:
    from pipelines.hub.schema import REVISIONS_SCHEMA

    cols = parse_card((CARDS / "HuggingFaceH4__zephyr-7b-beta.md").read_bytes()).revision_columns()
    assert set(cols) <= set(REVISIONS_SCHEMA)
    assert cols["card_sections"][0] == "model card for zephyr 7b β"


def test_missing_readme() -> None:
    facts = parse_card(None)
    assert facts.readme_status == "missing" and facts.metadata == {} and facts.card_bytes == 0


def test_no_front_matter() -> None:
    facts = parse_card(
        b"# A model\n\nSee https://arxiv.org/abs/2401.00001v3 and https://github.com/Org/Repo.git.\n"
    )
    assert facts.readme_status == "ok" and facts.metadata == {}
    assert facts.arxiv_ids == ["2401.00001"] and facts.code_urls == ["https://github.com/org/repo"]
    assert facts.sections == ["a model"]


def test_bom_is_stripped_like_repocard_load() -> None:
    facts = parse_card(b"\xef\xbb\xbf---\nlicense: mit\n---\n# x\n")
    assert facts.readme_status == "ok" and facts.license_raw == "mit"


def test_malformed_yaml_keeps_the_body() -> None:
    facts = parse_card(
        b"---\nlicense: [mit\ndatasets: x\n---\n## Training\nhttps://huggingface.co/papers/2310.06825\n"
    )
    assert facts.readme_status == "malformed_yaml" and facts.yaml_error and facts.metadata == {}
    assert facts.sections == ["training"] and facts.arxiv_ids == ["2310.06825"]


def test_front_matter_that_is_a_list() -> None:
    facts = parse_card(b"---\n- a\n- b\n---\nbody\n")
    assert facts.readme_status == "malformed_yaml" and "should be a dict" in facts.yaml_error


def test_empty_front_matter_is_an_empty_dict() -> None:
    assert parse_card(b"---\n\n---\nbody\n").metadata == {}


def test_python_objects_are_never_built() -> None:
    facts = parse_card(b"---\nlicense: !!python/object/apply:os.system ['echo pwned']\n---\n")
    assert facts.readme_status == "malformed_yaml" and facts.metadata == {}


def test_yaml_values_are_made_json_safe() -> None:
    facts = parse_card(
        b"---\ndate: 2024-01-02\nwhen: 2024-01-02T03:04:05Z\nn: 12345678901234567890\nx: .nan\n"
        b"license: 2.0\ntags: !!set {a: null}\n1: one\n---\n"
    )
    assert facts.readme_status == "ok"
    json.dumps(facts.metadata, allow_nan=False)
    assert facts.metadata["date"] == "2024-01-02" and facts.metadata["1"] == "one"
    assert facts.license_raw == "2.0"


def test_license_list_is_joined() -> None:
    assert parse_card(b"---\nlicense: [apache-2.0, mit]\n---\n").license_raw == "apache-2.0,mit"


def test_non_utf8_is_decoded_with_replacement() -> None:
    facts = parse_card(b"---\nlicense: mit\n---\n# Caf\xe9 model\nhttps://arxiv.org/pdf/2307.09288v2.pdf\n")
    assert facts.readme_status == "non_utf8" and facts.license_raw == "mit"
    assert facts.sections == ["caf\ufffd model"] and facts.arxiv_ids == ["2307.09288"]


def test_oversized_readme_parses_the_head_and_says_so() -> None:
    raw = (
        b"---\nlicense: apache-2.0\n---\n# Head\n"
        + b"x" * 5000
        + b"\n# Tail https://arxiv.org/abs/2310.06825\n"
    )
    facts = parse_card(raw, max_bytes=1000)
    assert facts.readme_status == "oversized" and facts.card_bytes == len(raw)
    assert facts.license_raw == "apache-2.0" and facts.sections == ["head"] and facts.arxiv_ids == []


def test_truncation_inside_a_multibyte_character_is_not_non_utf8() -> None:
    raw = b"---\nlicense: mit\n---\n" + "é".encode() * 100
    assert parse_card(raw, max_bytes=len(raw) - 1).readme_status == "oversized"


def test_50_mb_readme_in_under_a_second() -> None:
    raw = b"---\nlicense: mit\n---\n" + (b"# heading\nsome text https://github.com/a/b\n" * 1_200_000)
    assert len(raw) > 50_000_000
    # CPU time of this process: the parser's own cost, whatever else the machine is running.
    start = time.process_time()
    facts = parse_card(raw)
    assert time.process_time() - start < 1.0
    assert facts.readme_status == "oversized" and facts.license_raw == "mit"


BILLION_LAUGHS = b"""---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
---
"""
# Few aliases, huge expansion: passes the alias count, caught by the node budget.
QUIET_BOMB = (
    b"---\n"
    + b"".join(
        b"l%d: &l%d [%s]\n" % (k, k, b",".join([b"*l%d" % (k - 1)] * 2) if k else b'"x","x"')
        for k in range(30)
    )
    + b"---\n"
)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(BILLION_LAUGHS, "aliases"), (QUIET_BOMB, "expands")],
    ids=["billion-laughs", "few-aliases"],
)
def test_alias_bomb_is_refused_fast_and_small(raw: bytes, reason: str) -> None:
    start = time.process_time()  # CPU time of this process: the parser's cost, whatever else the machine runs
    facts = parse_card(raw)
    elapsed = time.process_time() - start
    tracemalloc.start()  # a second run for memory: tracing slows allocation down
    parse_card(raw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert facts.readme_status == "malformed_yaml" and facts.metadata == {} and reason in facts.yaml_error
    assert elapsed < 1.0 and peak < 50_000_000


def test_deep_nesting_is_refused() -> None:
    raw = b"---\nx: " + b"[" * 50_000 + b"]" * 50_000 + b"\n---\n"
    start = time.process_time()  # CPU time of this process, as above
    facts = parse_card(raw)
    assert time.process_time() - start < 1.0
    assert facts.readme_status == "malformed_yaml" and "nesting" in facts.yaml_error


def test_arxiv_ids_forms() -> None:
    text = (
        b"https://arxiv.org/abs/2310.06825v2 http://arxiv.org/pdf/1706.03762.pdf https://huggingface.co/papers/2402.00838 "
        b"https://arxiv.org/abs/hep-th/9901001v1 arxiv.org/abs/math.GT/0309136 https://arxiv.org/abs/1234.5678\n"
    )
    facts = parse_card(b"---\ntags:\n- arxiv:2501.00656\narxiv: 2307.09288\n---\n" + text)
    assert facts.arxiv_ids == [
        "2310.06825",
        "1706.03762",
        "2402.00838",
        "hep-th/9901001",
        "math.GT/0309136",
        "2501.00656",
        "2307.09288",
    ]
    assert facts.invalid_arxiv_ids == ["1234.5678"]  # month 34: not an id


@pytest.mark.parametrize(
    ("link", "ids", "invalid"),
    [
        ("https://arxiv.org/abs/2307.092881", [], ["2307.092881"]),  # a typo is not another paper
        ("arxiv.org/abs/2307.09288\u0663", [], ["2307.09288\u0663"]),  # an Arabic-Indic digit follows
        (
            "arxiv.org/abs/\uff12\uff13\uff10\uff17.\uff10\uff19\uff12\uff18\uff18",
            [],
            ["\uff12\uff13\uff10\uff17.\uff10\uff19\uff12\uff18\uff18"],
        ),
        ("(see arxiv.org/pdf/2307.09288v2.pdf).", ["2307.09288"], []),
        ("https://arxiv.org/html/2307.09288v2/#S3", ["2307.09288"], []),
        ("https://huggingface.co/papers/0704.0001.", ["0704.0001"], []),
    ],
    ids=["typo", "arabic-indic-digit", "fullwidth-digits", "pdf", "html-anchor", "hub-page"],
)
def test_arxiv_links_follow_the_strict_grammar(link: str, ids: list[str], invalid: list[str]) -> None:
    facts = parse_card(f"# Model\n\nPaper: {link}\n".encode())
    assert facts.arxiv_ids == ids and facts.invalid_arxiv_ids == invalid


def test_code_urls_normalised() -> None:
    facts = parse_card(
        b"[x](https://github.com/Org/Repo/tree/main/eval) github.com/org/repo.git https://gitlab.com/g/p "
        b"https://gist.github.com/u/abc https://github.com/features/copilot https://raw.githubusercontent.com/a/b/c "
        b"(https://github.com/a/b).\n"
    )
    assert facts.code_urls == [
        "https://github.com/org/repo",
        "https://gitlab.com/g/p",
        "https://github.com/a/b",
    ]


def test_headings_in_code_fences_are_not_sections() -> None:
    facts = parse_card(b"# Real\n```python\n# not a heading\n```\n## Also *real*\n")
    assert facts.sections == ["real", "also real"]


def test_model_index_stub_is_not_results() -> None:
    assert parse_card(b"---\nmodel-index:\n- name: x\n  results: []\n---\n").has_model_index is False
    facts = parse_card(
        b"---\nmodel-index:\n- name: x\n  results:\n  - dataset: {type: ai2_arc}\n    metrics: []\n---\n"
    )
    assert facts.has_model_index is True and facts.eval_datasets == ["ai2_arc"]


@settings(max_examples=200, deadline=1000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=4096) | st.builds(lambda b: b"---\n" + b + b"\n---\n" + b, st.binary(max_size=2048))
)
def test_any_bytes_give_card_facts(raw: bytes) -> None:
    facts = parse_card(raw, max_bytes=3000)
    assert isinstance(facts, CardFacts)
    assert facts.readme_status in {"ok", "malformed_yaml", "non_utf8", "oversized"}
    json.dumps(facts.metadata)
    assert parse_card(raw, max_bytes=3000) == facts  # pure
