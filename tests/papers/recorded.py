"""Recorded material for the papers tests: the real arXiv responses in the reference, and the mirror's content.

The mirror's arXiv entries are the bundled sample corpus's (verbatim slices of real 2026 responses), so the
client tests run even where /work/shared/reference is absent; the Hub paper pages are made up here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pipelines.mirror

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "arxiv"
CURRENT = REFERENCE / "current_2026_json"
LEGACY = REFERENCE / "legacy_2016_xml"
SAMPLE_ENTRIES = Path(pipelines.mirror.__file__).parent / "sample" / "papers" / "arxiv"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"{REFERENCE} is absent")

# Ten real papers from the sample corpus (file stem = id, '/' stored as '_').
MIRROR_IDS = [
    "1605.08386",
    "1707.08567",
    "1706.00679",
    "2104.12255",
    "astro-ph/0601001",
    "quant-ph/0201082",
    "1812.11470",
    "1009.3186",
    "1106.3680",
    "1202.4527",
]
# Hub paper pages (synthetic bodies in the shape of GET /api/papers/{id}, reference/hub-api.md 3.4).
HF_PAPERS = {
    "1706.00679": {
        "id": "1706.00679",
        "title": "Testing Gaussian Process with Applications to Super-Resolution",
        "publishedAt": "2017-06-02T13:17:03.000Z",
        "upvotes": 2,
        "githubRepo": "https://github.com/YdeCastro/Super-Resolution-Testing.git",
        "projectPage": "https://example.org/srt",
        "authors": [{"name": "Yohann De Castro"}],
    },
    "1605.08386": {
        "id": "1605.08386",
        "title": "Heat-bath random walks with Markov bases",
        "publishedAt": "2016-05-26T17:59:46.000Z",
        "upvotes": 0,
        "authors": [],
    },
}


def current_wrappers() -> list[Path]:
    """The 20 recorded 2026 responses (JSON wrappers {url, status_code, body})."""
    return sorted(CURRENT.glob("*.json")) if CURRENT.is_dir() else []


def legacy_feeds() -> list[Path]:
    """The 5 recorded 2016 classic-format feeds."""
    return sorted(LEGACY.glob("*.xml")) if LEGACY.is_dir() else []


def wrapper(name_prefix: str) -> dict:
    """The recorded response whose file name starts with `name_prefix`."""
    (path,) = [p for p in current_wrappers() if p.name.startswith(name_prefix)]
    return json.loads(path.read_text(encoding="utf-8"))


def sample_entry(arxiv_id: str) -> str:
    """A real <entry> from the bundled sample corpus."""
    return (SAMPLE_ENTRIES / f"{arxiv_id.replace('/', '_')}.xml").read_text(encoding="utf-8")
