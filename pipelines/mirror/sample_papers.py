"""Real arXiv Atom <entry> elements from the reference responses, one per paper, taken verbatim."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ENTRY_RE = re.compile(r"<entry>.*?</entry>", re.DOTALL)
ENTRY_ID_RE = re.compile(r"<id>https?://arxiv\.org/abs/([^<]+?)(?:v\d+)?</id>")


@dataclass
class PaperEntry:
    """One paper's <entry> text and the fixture files it was found in."""

    arxiv_id: str  # without version, old-style ids keep their '/'
    entry: str
    fixtures: list[str] = field(default_factory=list)


def read_arxiv_entries(reference: Path) -> tuple[dict[str, PaperEntry], list[str]]:
    """Current-format entries by arXiv id, and the ids found only in the classic (2016) responses."""
    papers: dict[str, PaperEntry] = {}
    for path in sorted((reference / "arxiv" / "current_2026_json").glob("*.json")):
        wrapper = json.loads(path.read_text(encoding="utf-8"))
        if wrapper["status_code"] != 200:
            continue  # the 400 error feed is not a paper; a server answers bad ids itself
        for m in ENTRY_RE.finditer(wrapper["body"]):
            found = ENTRY_ID_RE.search(m.group(0))
            if found is None:
                raise ValueError(f"{path.name}: entry without an arXiv abs id")
            paper = papers.setdefault(found.group(1), PaperEntry(found.group(1), m.group(0)))
            if paper.entry != m.group(0):
                raise ValueError(f"{found.group(1)}: differing entries across responses ({path.name})")
            paper.fixtures.append(path.name)
    legacy: set[str] = set()
    for path in sorted((reference / "arxiv" / "legacy_2016_xml").glob("*.xml")):
        for m in ENTRY_RE.finditer(path.read_text(encoding="utf-8")):
            found = ENTRY_ID_RE.search(m.group(0))
            if found and found.group(1) not in papers:
                legacy.add(found.group(1))
    return dict(sorted(papers.items())), sorted(legacy)
