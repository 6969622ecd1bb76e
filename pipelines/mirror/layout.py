"""Writing hub-mirror/1 folders (see MIRROR_FORMAT.md): the one place that knows the on-disk layout.

Used by the sample-corpus builder, the tests that make small mirrors, and the benchmark generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

FORMAT = "hub-mirror/1"
KINDS = ("models", "datasets")
# What mirror.json `unrecorded` may list: a repo kind, or `papers` (arXiv entries and Hub paper pages).
UNRECORDABLE = (*KINDS, "papers")


def mirror_problem(root: Path) -> str | None:
    """Why `root` is not a hub-mirror/1 folder (one line, saying what to give instead), or None if it is one."""
    root = Path(root)
    hint = "give a hub-mirror/1 folder (MIRROR_FORMAT.md), e.g. the bundled pipelines/mirror/sample"
    if not root.exists():
        return f"{root} does not exist; {hint}"
    if not root.is_dir():
        return f"{root} is not a folder; {hint}"
    manifest = root / "mirror.json"
    if not manifest.is_file():
        return f"{root} is not a hub mirror: it has no mirror.json; {hint}"
    try:
        fmt = json.loads(manifest.read_text(encoding="utf-8")).get("format")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return f"{manifest} is not a JSON object; {hint}"
    if fmt != FORMAT:
        return f"{manifest} says format {fmt!r}, expected {FORMAT!r}; {hint}"
    try:
        unrecorded_kinds(json.loads(manifest.read_text(encoding="utf-8")))
    except ValueError as err:
        return f"{manifest}: {err}"
    return None


def unrecorded_kinds(manifest: dict[str, Any]) -> frozenset[str]:
    """The kinds a mirror declares it did not record in full (mirror.json `unrecorded`, default none): repo
    kinds, or `papers`. For those, what the folder lacks is unknown, not absent from the Hub or arXiv."""
    value = manifest.get("unrecorded", [])
    if not isinstance(value, list) or not all(isinstance(k, str) and k in UNRECORDABLE for k in value):
        raise ValueError(
            f"'unrecorded' must be a list of repo kinds or papers, among {list(UNRECORDABLE)}, got {value!r}"
        )
    return frozenset(value)


@dataclass
class Commit:
    """One commit of a repo, as `GET /api/{kind}/{id}/commits/main` lists it."""

    id: str
    date: str
    title: str = ""
    message: str = ""
    authors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The commit in the Hub's wire format."""
        return {
            "id": self.id,
            "date": self.date,
            "title": self.title,
            "message": self.message,
            "authors": [{"user": a} for a in self.authors],
        }


def parse_date(value: str) -> datetime:
    """Parse an ISO 8601 date as the Hub writes it (a trailing Z means UTC)."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"commit date without a timezone: {value!r}")
    return dt


def repo_dir(root: Path, kind: str, repo_id: str) -> Path:
    """Folder of one repo inside a mirror."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    org, sep, name = repo_id.partition("/")
    if not sep or not org or not name or "/" in name or org in (".", "..") or name in (".", ".."):
        raise ValueError(f"repo id must be 'org/name', got {repo_id!r}")
    return root / kind / org / name


class MirrorWriter:
    """Builds a hub-mirror/1 folder commit by commit; `finish()` writes commits.json and mirror.json."""

    def __init__(self, root: Path, title: str, sources: str | list[str] = "") -> None:
        self.root = Path(root)
        self.title = title
        self.sources = sources
        self.extra: dict[str, Any] = {}
        self._commits: dict[tuple[str, str], list[Commit]] = {}

    def add_revision(
        self,
        kind: str,
        repo_id: str,
        commit: Commit,
        info: dict[str, Any] | None = None,
        files: dict[str, bytes | str] | None = None,
    ) -> Path | None:
        """Record a commit; with `info` (and optional files) also write its revision folder."""
        self._commits.setdefault((kind, repo_id), []).append(commit)
        if info is None:
            return None
        rev = repo_dir(self.root, kind, repo_id) / "revisions" / commit.id
        rev.mkdir(parents=True, exist_ok=True)
        body = dict(info)
        body["sha"] = commit.id
        (rev / "info.json").write_text(
            json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for name, content in (files or {}).items():
            path = rev / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return rev

    def add_paper(self, arxiv_id: str, entry_xml: str | None = None, hf_json: dict | None = None) -> None:
        """Store an arXiv Atom <entry> and/or a Hub papers body for one paper id."""
        safe = arxiv_id.replace("/", "_")
        if entry_xml is not None:
            path = self.root / "papers" / "arxiv" / f"{safe}.xml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(entry_xml, encoding="utf-8")
        if hf_json is not None:
            path = self.root / "papers" / "hf" / f"{safe}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(hf_json, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def finish(self) -> None:
        """Write every repo's commits.json (newest first) and the mirror.json manifest."""
        self.root.mkdir(parents=True, exist_ok=True)
        for (kind, repo_id), commits in sorted(self._commits.items()):
            ordered = sorted(commits, key=lambda c: parse_date(c.date), reverse=True)
            path = repo_dir(self.root, kind, repo_id) / "commits.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                json.dumps([c.to_json() for c in ordered], indent=1, ensure_ascii=False) + "\n",
                encoding="utf-8",
            )
        manifest = {"format": FORMAT, "title": self.title, "sources": self.sources, **self.extra}
        (self.root / "mirror.json").write_text(
            json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
