"""NOTICE.md for the sample corpus: what it is, and the attribution of every file copied into it."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.mirror.sample_papers import PaperEntry
from pipelines.mirror.sample_sources import Revision

# Rows of reference/NOTICE.md that cover material copied into the corpus (kept verbatim beside the copy).
COPIED_ROWS = ("| `hub-api/", "| `arxiv/", "| `cards/", "| `history/")
ARXIV_FIXTURES_COMMIT = re.compile(r"\b([0-9a-f]{40})\b")

INTRO = """\
# NOTICE: the Openness Tracker sample hub mirror

This folder is a small hub mirror (format hub-mirror/1, see MIRROR_FORMAT.md) that ships with the project
so that the crawler, the openness scoring and the demo can run with no network. It is built by
`python -m pipelines.mirror.build_sample` from the public third-party material in the project's shared
`reference/` folder, and holds real model cards and README histories, real Hugging Face Hub API bodies and
real arXiv Atom entries, and (under `code/github/`, attributed in `code/github/NOTICE.md`) the code
repositories the cards link to. It is test and demonstration data, not a statement about any model today.

Where the reference lacked a fact that a file needs (commit ids of crawler snapshots, info.json fields
derived from a card, ...), the value was reconstructed conservatively from what the card says; a fact it
does not record at all, such as the file list of a revision known only from its README, is left out (so it
reads as unknown). Every reconstruction is listed, with the repos and paths it affects and why, under
`reconstructions` in `mirror.json`; material left out on purpose is listed under `excluded`.

## Attribution (from the reference's own NOTICE.md)
"""


def _reference_rows(reference: Path) -> list[str]:
    lines = (reference / "NOTICE.md").read_text(encoding="utf-8").splitlines()
    header = [ln for ln in lines if ln.startswith("| folder / file") or ln.startswith("|---")][:2]
    return header + [ln for ln in lines if ln.startswith(COPIED_ROWS)]


def _arxiv_commit(reference: Path) -> str:
    text = (reference / "arxiv" / "SOURCE.md").read_text(encoding="utf-8")
    found = ARXIV_FIXTURES_COMMIT.search(text[text.index("current_2026_json") :])
    return found.group(1) if found else "(see reference/arxiv/SOURCE.md)"


def notice_text(reference: Path, revisions: dict[str, list[Revision]], papers: dict[str, PaperEntry]) -> str:
    """The whole NOTICE.md, with one source line per copied file."""
    out = [INTRO, *_reference_rows(reference), ""]
    out += [
        "## Model cards and README histories",
        "",
        "Card text belongs to each model's owner and is included as test data only. Crawler snapshots come",
        "from github.com/leliuga/cohere-configurations (an MPL-2.0 repository; the card text in it is the model",
        "owner's); GitHub mirrors of Hub model repos keep the Hub's own commit ids, dates and authors.",
        "Each `README.md` below was copied byte for byte from the source named on its line.",
        "",
    ]
    for repo_id, revs in sorted(revisions.items()):
        copied = [r for r in revs if r.readme is not None and r.origin != "hub-api"]
        if not copied:
            continue
        out.append(f"- `{repo_id}`")
        out += [f"  - `revisions/{r.id}/README.md` ({r.date[:10]}): {r.source}" for r in copied]
    out += [
        "",
        "## Hugging Face Hub API bodies",
        "",
        "Real bodies of `GET /api/models/{id}` recorded from the live Hub, from the test cassettes of",
        "github.com/huggingface/huggingface_hub (Apache-2.0). Each `info.json` below is such a body as recorded",
        "(its `README.md` is reconstructed from its `cardData`, see mirror.json).",
        "",
    ]
    for repo_id, revs in sorted(revisions.items()):
        for r in revs:
            if r.origin == "hub-api":
                out.append(f"- `{repo_id}` `revisions/{r.id}/info.json`: {r.body_source}")
    out += [
        "",
        "## arXiv entries",
        "",
        "Real arXiv API Atom entries, taken verbatim from the test fixtures of github.com/lukasschwab/arxiv.py",
        f"(MIT licence) at commit {_arxiv_commit(reference)}, `tests/fixtures/`; arXiv metadata is CC0 1.0.",
        "Each entry uses the `arxiv:` prefix declared on the `<feed>` element of the response it came from.",
        "",
    ]
    for arxiv_id, paper in papers.items():
        name = arxiv_id.replace("/", "_")
        out.append(f"- `papers/arxiv/{name}.xml`: {', '.join(paper.fixtures)}")
    return "\n".join(out) + "\n"
