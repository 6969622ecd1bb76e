"""What the card and report say about the data's source, for the live Hub, a mirror, and old manifests."""

from __future__ import annotations

from pipelines.publish.card import render_dataset_card
from pipelines.publish.provenance import source_sentences
from pipelines.publish.report_html import render_report

HUB = {"endpoints": ["https://huggingface.co"], "live_hub": True, "mirror": None, "reconstructed": {}}
MIRROR = {
    "endpoints": ["http://127.0.0.1:8080"],
    "live_hub": False,
    "mirror": {"title": "a <recording>", "reconstructions": {"synthetic-commit-id": 3}},
    "reconstructed": {
        "revisions_reconstructed": 4,
        "revisions_total": 9,
        "transitions_reconstructed": 2,
        "transitions_total": 7,
        "transitions_unlinked": 1,
    },
}


def _card(source: dict | None) -> str:
    manifest = {"version": "2024-01-01.1", "tables": {}, "crawl_window": {"from": "a", "to": "b"}}
    return render_dataset_card({**manifest, **({"source": source} if source else {})}, {})


def test_a_version_from_the_live_hub_says_so_and_nothing_more():
    card = _card(HUB)
    assert "Data source: the Hugging Face Hub (https://huggingface.co)." in card
    assert "Not the live Hub" not in card and "Reconstructed facts" not in card
    assert "Hub API (https://huggingface.co)" in card  # the licence section names the Hub it was read from


def test_a_version_from_a_mirror_names_it_and_counts_what_is_reconstructed():
    card = _card(MIRROR)
    assert card.count('the hub mirror "a <recording>" (a recording served at http://127.0.0.1:8080') == 3
    assert "Not the live Hub" in card and "Hub API (https://huggingface.co)" not in card
    assert "4 of 9 revisions and 2 of 7 transitions rest on at least one reconstruction" in card
    assert "1 transition has no evidence link because its commit id is a reconstruction" in card
    assert source_sentences(None) == []  # a manifest from before `source` existed claims nothing
    assert "only bounds the creation date" not in card  # no release's creation date is bounded here


def test_a_mirror_that_only_bounds_creation_dates_says_so():
    counts = {**MIRROR["reconstructed"], "releases_total": 5, "releases_creation_bounded": 2}
    card = _card({**MIRROR, "reconstructed": counts})
    assert "The recording only bounds the creation date of 2 releases" in card
    assert "their `created_at` is empty" in card


def test_the_report_header_carries_the_source_escaped(tmp_path):
    import duckdb

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        html = render_report(con, {"version": "v", "source": MIRROR})
    assert "the hub mirror &quot;a &lt;recording&gt;&quot;" in html and "<recording>" not in html
    assert "4 of 9 revisions" in html
