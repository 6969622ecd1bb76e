"""The card parsing benchmark at small scale: both parsers parse every card, and agree on the metadata."""

from __future__ import annotations

import pytest

from benchmarks.cards import bench_cards, compare_metadata, cross_check, run_cards_bench, table_rows


@pytest.fixture(scope="module")
def result() -> dict:
    return run_cards_bench(200)


def test_both_parsers_parse_every_card(result):
    assert result["ours_parsed"] == result["theirs_parsed"] == result["cards"] == 200
    assert result["ours_cards_per_cpu_second"] > 0 and result["theirs_cards_per_cpu_second"] > 0
    assert result["ratio_ours_to_theirs"] == pytest.approx(
        result["ours_cards_per_cpu_second"] / result["theirs_cards_per_cpu_second"], rel=0.01
    )
    # Real and synthetic cards alternate, so that any prefix of the cycle mixes both.
    assert (
        result["real_cards"] == 100 and result["distinct_real"] >= 169 and result["distinct_synthetic"] >= 169
    )


def test_our_metadata_has_the_keys_of_modelcard(result):
    # Every one of the 200 cards parsed by both (the real ones are all UTF-8 with a valid front matter), and on
    # each one our metadata holds the keys of ModelCard's data.to_dict(), up to the documented differences
    # (cross_check: null values and an empty model-index, which ModelCardData drops and we keep).
    assert result["cross_check_compared"] == 200 and result["cross_check_theirs_failed"] == 0
    assert result["cross_check_mismatches"] == []
    assert (
        dict((f, ok) for f, _, _, ok in table_rows(result))[
            "metadata cross-check: cards compared / mismatches"
        ]
        == "yes"
    )


def test_the_comparison_sees_differences():
    # A card with a key ModelCardData keeps, a null one it drops and an empty model-index: no difference. Our
    # metadata of one real card against ModelCard's of another: differences (the comparison is not vacuous).
    from huggingface_hub import ModelCard

    from pipelines.hub.cards import parse_card

    card = b"---\nlicense: mit\nlicense_name:\nmodel-index: []\ntags:\n- a\n---\n# Card\n"
    assert cross_check([("card", card)]) == {"compared": 1, "theirs_failed": 0, "mismatches": []}
    (_, real), (_, synthetic) = bench_cards(2)[0]
    ours = parse_card(real).metadata
    assert ours["license"] and compare_metadata("real", ours, ModelCard(real.decode()).data.to_dict()) == []
    assert compare_metadata("mixed", ours, ModelCard(synthetic.decode()).data.to_dict())
    same_keys_other_values = {k: "x" for k, v in ours.items() if v is not None}
    assert {"card": "values", "key": "license", "ours": ours["license"], "theirs": "x"} in compare_metadata(
        "values", ours, same_keys_other_values
    )
