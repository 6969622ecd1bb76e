"""The arXiv identifier grammar as the papers source imports it; it lives in pipelines/arxiv_ids.py, shared
with the Hub source's card parser (the two sources never import each other)."""

from pipelines.arxiv_ids import (
    ArxivId,
    InvalidArxivId,
    base_id_or_none,
    is_valid_arxiv_id,
    normalise_arxiv_id,
    parse_arxiv_id,
    try_parse_arxiv_id,
)

__all__ = [
    "ArxivId",
    "InvalidArxivId",
    "base_id_or_none",
    "is_valid_arxiv_id",
    "normalise_arxiv_id",
    "parse_arxiv_id",
    "try_parse_arxiv_id",
]
