"""The arXiv id grammar: what is accepted, how it is normalised, and what never reaches a URL."""

from __future__ import annotations

import pytest

from pipelines.arxiv_ids import (
    ArxivId,
    InvalidArxivId,
    base_id_or_none,
    is_valid_arxiv_id,
    normalise_arxiv_id,
    parse_arxiv_id,
)


@pytest.mark.parametrize(
    ("raw", "base", "version"),
    [
        ("2307.09288", "2307.09288", None),
        ("2307.09288v2", "2307.09288", 2),
        ("1605.08386v1", "1605.08386", 1),
        ("0704.0001", "0704.0001", None),  # the first new-style id
        ("1412.9999v12", "1412.9999", 12),  # last month of four-digit numbers
        ("1501.00001", "1501.00001", None),  # first month of five-digit numbers
        ("hep-th/9901001v1", "hep-th/9901001", 1),
        ("astro-ph/0601001", "astro-ph/0601001", None),
        ("quant-ph/0201082v1", "quant-ph/0201082", 1),
        ("math.GT/0309136", "math.GT/0309136", None),
        ("cs/0503050", "cs/0503050", None),
        ("hep-th/9108001", "hep-th/9108001", None),  # the old scheme's first month
        ("arXiv:2307.09288v3", "2307.09288", 3),
        ("  2104.12255v1 ", "2104.12255", 1),
    ],
)
def test_valid_ids_normalise(raw: str, base: str, version: int | None) -> None:
    assert normalise_arxiv_id(raw) == (base, version)
    assert str(parse_arxiv_id(raw)) == base + (f"v{version}" if version else "")
    assert base_id_or_none(raw) == base


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "",
        "0000.0000",
        "0808.05394",  # well-formed for arXiv's API, but no such id can exist
        "1413.0001",
        "2307.9288",
        "2307.092881",
        "1412.00001",
        "1501.0001",
        "0703.0001",
        "2307.09288v0",
        "2307.09288v",
        "2307.09288V2",
        "hep-th/990100",
        "hep-th/0713001",
        "HEP-TH/9901001",
        "hep-th/9107001",
        "hep-th/0801001",
        "hep-th//9901001",
        "2307.09288,1605.08386",
        "2307.09288&start=5",
        "2307.09288#x",
        "../2307.09288",
        "2307.09288/",
        "２３０７.09288",
        "2307.０9288",
        "https://arxiv.org/abs/2307.09288",
    ],
)
def test_malformed_ids_are_refused(raw: str) -> None:
    assert not is_valid_arxiv_id(raw)
    assert base_id_or_none(raw) is None
    with pytest.raises(InvalidArxivId):
        parse_arxiv_id(raw)


def test_non_strings_are_not_ids() -> None:
    assert not is_valid_arxiv_id(2307.09288)
    assert not is_valid_arxiv_id(None)


def test_parsed_ids_compare_by_value() -> None:
    assert ArxivId("2307.09288", 2) == parse_arxiv_id("2307.09288v2")
    assert parse_arxiv_id("arXiv:2307.09288") == ArxivId("2307.09288")
