"""Reading a mirror's optional `code/github/` folder: each code repository's history, trees and files as of T.

Layout (MIRROR_FORMAT.md, "Code repositories"): `code/github/<owner>/<repo>/` holds repo.json,
commits.json (the default branch, newest first), optional moved.json and gone.json, and
`revisions/<sha>/{repo.json, tree.json, files/<path>}`. A commit without a revision folder is answered
with the nearest older revision's tree and files (the commit touched other files).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from pipelines.mirror.layout import parse_date
from pipelines.mirror.names import HEX_COMMIT, is_repo_part

logger = logging.getLogger(__name__)

CODE_HOSTS = ("github",)


@dataclass(frozen=True)
class CodeCommit:
    """One commit of the default branch: its sha, committer date and the item as commits.json stores it."""

    sha: str
    date: datetime
    raw: dict[str, Any]

    @property
    def parent(self) -> str | None:
        """The first parent's sha (None for a root commit)."""
        parents = self.raw.get("parents") or []
        first = parents[0] if parents and isinstance(parents[0], dict) else {}
        sha = first.get("sha")
        return sha if isinstance(sha, str) else None

    @property
    def tree_sha(self) -> str | None:
        """The sha of the commit's own tree, as commits.json records it."""
        tree = (self.raw.get("commit") or {}).get("tree") or {}
        sha = tree.get("sha")
        return sha if isinstance(sha, str) else None


def _commit_date(item: dict[str, Any]) -> datetime:
    commit = item["commit"]
    person = commit.get("committer") or commit.get("author")
    return parse_date(person["date"])


def _inside(path: Path, root: Path) -> bool:
    """True when `path`, with every symlink resolved, lies inside `root` (already resolved)."""
    real = os.path.realpath(path)
    return real.startswith(str(root) + os.sep)


def _read_json(path: Path, root: Path) -> Any:
    """A JSON file of the mirror, or None (missing, unreadable, or a symlink out of the mirror)."""
    if not (path.is_file() and _inside(path, root)):
        return None
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


class CodeRepo:
    """One code repository of the mirror, read lazily from its folder."""

    def __init__(
        self, host: str, full_name: str, path: Path, commits: list[CodeCommit] | None, root: Path
    ) -> None:
        self.host = host
        self.root = root  # the mirror folder (resolved): nothing outside it is ever read
        self.full_name = full_name
        self.path = path
        self.commits = commits or []
        self.has_history = commits is not None
        self.index = {c.sha: i for i, c in enumerate(self.commits)}
        self._lock = threading.Lock()
        self._trees: dict[str, dict[str, Any] | None] = {}
        self._entries: dict[str | None, dict[str, dict[str, Any]]] = {}

    # ---- facts of the repo -------------------------------------------------------------------------
    @cached_property
    def repo_json(self) -> dict[str, Any] | None:
        """The top-level repo.json (the newest state), or None."""
        body = _read_json(self.path / "repo.json", self.root)
        return body if isinstance(body, dict) else None

    @cached_property
    def moved(self) -> dict[str, Any] | None:
        """moved.json ({"to": "owner/repo", optional "since"}), or None."""
        body = _read_json(self.path / "moved.json", self.root)
        return body if isinstance(body, dict) and isinstance(body.get("to"), str) else None

    @cached_property
    def gone(self) -> dict[str, Any] | None:
        """gone.json ({"status": 404 | 451, "since": ISO 8601}), or None."""
        body = _read_json(self.path / "gone.json", self.root)
        if not isinstance(body, dict) or body.get("status") not in (404, 451):
            return None
        return body

    @cached_property
    def created(self) -> datetime | None:
        """When the repo came to exist: the earlier of its first commit and repo.json's created_at."""
        dates = [self.commits[-1].date] if self.commits else []
        created = (self.repo_json or {}).get("created_at")
        if isinstance(created, str):
            try:
                dates.append(parse_date(created))
            except ValueError:
                pass
        return min(dates) if dates else None

    @cached_property
    def folders(self) -> list[str | None]:
        """For each commit, the sha of the revision folder that answers it (the nearest older one)."""
        present = set()
        revisions = self.path / "revisions"
        if revisions.is_dir():
            present = {
                e.name
                for e in os.scandir(revisions)
                if HEX_COMMIT.fullmatch(e.name) and e.is_dir() and _inside(Path(e.path), self.root)
            }
        out: list[str | None] = [None] * len(self.commits)
        nearest: str | None = None
        for i in range(len(self.commits) - 1, -1, -1):
            if self.commits[i].sha in present:
                nearest = self.commits[i].sha
            out[i] = nearest
        return out

    def since(self, key: str, body: dict[str, Any] | None) -> datetime | None:
        """The `since` time of moved.json / gone.json (None: always in force)."""
        value = (body or {}).get("since")
        if not isinstance(value, str):
            return None
        try:
            return parse_date(value)
        except ValueError:
            logger.warning("%s %s: unreadable since %r in %s", self.host, self.full_name, value, key)
            return None

    def in_force(self, key: str, body: dict[str, Any] | None, as_of: datetime | None) -> bool:
        """True when moved.json / gone.json applies at `as_of` (None: now)."""
        if body is None:
            return False
        since = self.since(key, body)
        return since is None or as_of is None or as_of >= since

    def exists(self, as_of: datetime | None) -> bool:
        """True when the repo existed at `as_of` (None: now)."""
        if as_of is None:
            return True
        return self.created is not None and self.created <= as_of

    # ---- history -----------------------------------------------------------------------------------
    def history(self, as_of: datetime | None) -> list[int]:
        """Indices of the commits that existed at `as_of`, newest first (list order)."""
        if as_of is None:
            return list(range(len(self.commits)))
        return [i for i, c in enumerate(self.commits) if c.date <= as_of]

    def head(self, as_of: datetime | None) -> int | None:
        """Index of the default branch's head at `as_of`, or None (an empty repo)."""
        hist = self.history(as_of)
        return hist[0] if hist else None

    def find(self, ref: str, as_of: datetime | None) -> int | None:
        """Index of the commit `ref` names (a full sha or a unique prefix of 7+), if it existed at `as_of`."""
        i = self.index.get(ref)
        if i is None and 7 <= len(ref) < 40:
            hits = [j for sha, j in self.index.items() if sha.startswith(ref)]
            i = hits[0] if len(hits) == 1 else None
        if i is None or (as_of is not None and self.commits[i].date > as_of):
            return None
        return i

    def parent_index(self, i: int) -> int | None:
        """Index of commit i's first parent if the mirror has it, else of the next older commit listed."""
        parent = self.commits[i].parent
        if parent is None:
            return None
        j = self.index.get(parent)
        if j is not None:
            return j
        return i + 1 if i + 1 < len(self.commits) else None

    # ---- one revision ------------------------------------------------------------------------------
    def tree(self, i: int) -> dict[str, Any] | None:
        """The tree.json body that answers commit i (its own folder's, else the nearest older one's)."""
        folder = self.folders[i]
        if folder is None:
            return None
        with self._lock:
            if folder in self._trees:
                return self._trees[folder]
        body = _read_json(self.path / "revisions" / folder / "tree.json", self.root)
        if not isinstance(body, dict) or not isinstance(body.get("tree"), list):
            body = None
        with self._lock:
            self._trees[folder] = body
        return body

    def entries(self, i: int) -> dict[str, dict[str, Any]]:
        """The tree entries answering commit i, by path (built once per revision folder; do not modify)."""
        folder = self.folders[i]
        with self._lock:
            if folder in self._entries:
                return self._entries[folder]
        body = self.tree(i)
        found = (
            {e["path"]: e for e in body["tree"] if isinstance(e, dict) and isinstance(e.get("path"), str)}
            if body is not None
            else {}
        )
        with self._lock:
            self._entries[folder] = found
        return found

    def entry_sha(self, i: int | None, path: str) -> str | None:
        """The blob or tree sha at `path` in commit i (None: absent); '' is the root tree."""
        if i is None:
            return None
        if path == "":
            body = self.tree(i)
            return body.get("sha") if body else None
        entry = self.entries(i).get(path)
        return entry.get("sha") if entry else None

    def changed(self, i: int, path: str) -> bool:
        """True when commit i changed `path` (a file or folder) relative to its first parent."""
        return self.entry_sha(i, path) != self.entry_sha(self.parent_index(i), path)

    def repo_body(self, i: int | None, as_of: datetime | None) -> dict[str, Any] | None:
        """The repo body: newest state → repo.json; as of T → the answering revision's repo.json if stored."""
        if as_of is not None and i is not None and self.folders[i] is not None:
            body = _read_json(self.path / "revisions" / str(self.folders[i]) / "repo.json", self.root)
            if isinstance(body, dict):
                return body
        return self.repo_json

    def file(self, i: int, path: str) -> bytes | None:
        """The stored bytes of `path` (already validated) at commit i, or None if not stored."""
        folder = self.folders[i]
        if folder is None:
            return None
        base = self.path / "revisions" / folder / "files"
        target = base / path
        if not (target.is_file() and _inside(target, self.root)):
            return None
        if not os.path.realpath(target).startswith(os.path.realpath(base) + os.sep):
            return None  # a path that climbs out of its revision's files/
        return target.read_bytes()


class CodeStore:
    """The code repositories of a mirror folder, indexed once (names matched case-insensitively)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._repos: dict[tuple[str, str], CodeRepo] | None = None
        self._lock = threading.Lock()

    def load(self) -> CodeStore:
        """Read every code repo's commits.json (once)."""
        with self._lock:
            if self._repos is None:
                self._repos = {}
                for host in CODE_HOSTS:
                    self._scan(host)
                if self._repos:
                    logger.info("code mirror %s indexed: %d repos", self.root, len(self._repos))
        return self

    def _scan(self, host: str) -> None:
        assert self._repos is not None
        base = self.root / "code" / host
        if not base.is_dir():
            return
        for owner in sorted(base.iterdir()):
            if not (owner.is_dir() and is_repo_part(owner.name)):
                continue
            for folder in sorted(owner.iterdir()):
                if not (folder.is_dir() and is_repo_part(folder.name)):
                    continue
                if not str(folder.resolve()).startswith(str(self.root) + os.sep):
                    continue  # a symlink out of the mirror
                repo = self._read(host, f"{owner.name}/{folder.name}", folder)
                if repo is not None:
                    self._repos[(host, repo.full_name.lower())] = repo

    def _read(self, host: str, full_name: str, folder: Path) -> CodeRepo | None:
        raw = _read_json(folder / "commits.json", self.root)
        commits: list[CodeCommit] | None = None
        if isinstance(raw, list):
            try:
                commits = [CodeCommit(c["sha"], _commit_date(c), c) for c in raw]
            except (KeyError, TypeError, ValueError) as err:
                logger.warning("skipping %s %s: unreadable commits.json (%s)", host, full_name, err)
                return None
            if not all(isinstance(c.sha, str) and HEX_COMMIT.fullmatch(c.sha) for c in commits):
                logger.warning("skipping %s %s: a commit sha is not 40 lowercase hex", host, full_name)
                return None
        elif not ((folder / "moved.json").is_file() or (folder / "repo.json").is_file()):
            return None
        return CodeRepo(host, full_name, folder, commits, self.root)

    def repo(self, host: str, full_name: str) -> CodeRepo | None:
        """One code repo by `owner/name` (case-insensitive), or None."""
        self.load()
        assert self._repos is not None
        return self._repos.get((host, full_name.lower()))

    def count(self, host: str = "github") -> int:
        """How many code repos the mirror holds for `host`."""
        self.load()
        assert self._repos is not None
        return sum(1 for h, _ in self._repos if h == host)
