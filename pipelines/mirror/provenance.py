"""Which answers of a mirror rest on a reconstruction, and the header that says so.

mirror.json's `reconstructions` list what the recording did not hold and the mirror rebuilt: each has a
`kind`, a `why` and `affects`, mirror paths of three grains: a repo (`<org>/<name>` or
`<kind>/<org>/<name>`), a revision folder (`<kind>/<org>/<name>/revisions/<sha>`) or one file of it
(`.../revisions/<sha>/<path>`). The real Hub never sends `X-Mirror-Reconstructed`: the mirror adds it,
with the sorted kinds, to every answer that rests on one of them (see docs/mirror.md, "Provenance").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.mirror.layout import KINDS
from pipelines.mirror.replies import Reply, header_safe
from pipelines.mirror.store import MirrorStore, State

HEADER = "X-Mirror-Reconstructed"


@dataclass
class Reconstructions:
    """mirror.json's reconstructions indexed by what they affect: repo ids and mirror paths -> kinds."""

    repos: dict[str, set[str]] = field(default_factory=dict)  # "<org>/<name>" (any repo kind)
    paths: dict[str, set[str]] = field(default_factory=dict)  # "<kind>/<org>/<name>[/revisions/<sha>[/...]]"

    @classmethod
    def parse(cls, manifest: dict) -> Reconstructions:
        """The index of a manifest's `reconstructions` (entries that are not well-formed are skipped)."""
        index = cls()
        entries = manifest.get("reconstructions")
        for entry in entries if isinstance(entries, list) else []:
            kind = entry.get("kind") if isinstance(entry, dict) else None
            affects = entry.get("affects") if isinstance(entry, dict) else None
            if not isinstance(kind, str) or not kind or not isinstance(affects, list):
                continue
            for path in affects:
                if not isinstance(path, str):
                    continue
                parts = path.strip("/").split("/")
                target = index.repos if len(parts) == 2 and parts[0] not in KINDS else index.paths
                target.setdefault("/".join(parts), set()).add(kind)
        return index

    def repo(self, kind: str, repo_id: str) -> set[str]:
        """Kinds affecting a whole repo (its ids, dates, authors)."""
        return self.repos.get(repo_id, set()) | self.paths.get(f"{kind}/{repo_id}", set())

    def revision(self, kind: str, repo_id: str, sha: str | None) -> set[str]:
        """Kinds affecting one revision folder or commit."""
        return self.paths.get(f"{kind}/{repo_id}/revisions/{sha}", set()) if sha else set()

    def state(self, state: State) -> set[str]:
        """Kinds affecting a repo at one commit: the commit itself and the revision folder answering it."""
        kind, repo_id = state.repo.kind, state.repo.id
        return self.revision(kind, repo_id, state.commit.id) | self.revision(kind, repo_id, state.folder)

    def file(self, state: State, rel: str) -> set[str]:
        """Kinds affecting one file answer: the state's revision kinds and the file's own."""
        found = self.state(state)
        if state.folder:
            found |= self.paths.get(
                f"{state.repo.kind}/{state.repo.id}/revisions/{state.folder}/{rel}", set()
            )
        return found


def reconstructions(store: MirrorStore) -> Reconstructions:
    """The store's reconstruction index (built from its mirror.json once, then kept on the store)."""
    index = getattr(store, "_reconstructions", None)
    if index is None:  # built twice in a race at worst: the result is the same
        index = Reconstructions.parse(store.load().manifest)
        store._reconstructions = index  # type: ignore[attr-defined]
    return index


def info_kinds(store: MirrorStore, state: State) -> set[str]:
    """Kinds an info answer (single repo or one listing item) rests on: the repo's and the state's."""
    index = reconstructions(store)
    return index.repo(state.repo.kind, state.repo.id) | index.state(state)


def commits_kinds(store: MirrorStore, states: Iterable[State]) -> set[str]:
    """Kinds a page of commits rests on: the repo's and those of every commit listed."""
    found: set[str] = set()
    index = reconstructions(store)
    for state in states:
        if not found:
            found |= index.repo(state.repo.kind, state.repo.id)
        found |= index.revision(state.repo.kind, state.repo.id, state.commit.id)
    return found


def file_kinds(store: MirrorStore, state: State, rel: str) -> set[str]:
    """Kinds a file answer rests on."""
    return reconstructions(store).file(state, rel)


def mark(reply: Reply, kinds: Iterable[str]) -> Reply:
    """The reply with an `X-Mirror-Reconstructed: <kind>, <kind>` header when `kinds` is not empty."""
    found = sorted(set(kinds))
    if found:
        reply.headers.append((HEADER, header_safe(", ".join(found))))
    return reply


def parse_header(value: str | None) -> list[str]:
    """The kinds an `X-Mirror-Reconstructed` value names, sorted (none for a missing or empty header)."""
    return sorted({k.strip() for k in (value or "").split(",") if k.strip()})
