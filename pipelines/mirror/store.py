"""Reading a hub-mirror/1 folder: the repo index, the "as of T" state of each repo, and safe file access.

The index (every repo's commits.json) is read once; per-revision info, listing fields and sorted listings
are cached, so paging through a mirror of 100,000 repos does not re-read every info.json per request.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import stat
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pipelines.mirror.layout import KINDS, parse_date, unrecorded_kinds
from pipelines.mirror.names import HEX_COMMIT, hub_date, is_repo_part, micros

logger = logging.getLogger(__name__)

_MEMO_SIZE = 32
T = TypeVar("T")


@dataclass(frozen=True)
class Commit:
    """One commit of a repo: its parsed date and the item exactly as commits.json stores it."""

    id: str
    date: datetime
    us: int
    raw: dict[str, Any]


@dataclass(frozen=True)
class State:
    """A repo at one commit: the commit, and the commit whose folder holds its files (None: no folder)."""

    repo: Repo
    index: int

    @property
    def commit(self) -> Commit:
        """The commit this state is at."""
        return self.repo.commits[self.index]

    @property
    def folder(self) -> str | None:
        """The commit id of the revision folder that answers for this commit."""
        return self.repo.folders[self.index]


class Repo:
    """One repo of the mirror: its history (newest first) and which revision folder answers each commit."""

    def __init__(
        self, kind: str, repo_id: str, path: str, commits: list[Commit], list_folders: Callable[[], set[str]]
    ) -> None:
        self.kind = kind
        self.id = repo_id
        self.path = path  # a str: a Path per repo costs seconds at 100,000 repos
        # Stable sort: commits.json order is kept for equal dates.
        self.commits = sorted(commits, key=lambda c: c.us, reverse=True)
        self._neg_us = [-c.us for c in self.commits]
        self._list_folders = list_folders
        self._folders: list[str | None] | None = None
        self.created = self.commits[-1].date
        self.oid = hashlib.sha1(f"{kind}/{repo_id}".encode()).hexdigest()[:24]

    @property
    def folders(self) -> list[str | None]:
        """For each commit, the id of the revision folder that answers it (listed on first use)."""
        if self._folders is None:  # computing twice in a race is harmless: the result is the same
            present = self._list_folders()
            folders: list[str | None] = [None] * len(self.commits)
            nearest: str | None = None
            for i in range(
                len(self.commits) - 1, -1, -1
            ):  # oldest to newest: a commit without a folder inherits
                if self.commits[i].id in present:
                    nearest = self.commits[i].id
                folders[i] = nearest
            self._folders = folders
        return self._folders

    def state_at(self, as_of: datetime | None) -> State | None:
        """The repo's newest commit dated at or before `as_of` (None = latest); None if it did not exist yet."""
        if as_of is None:
            return State(self, 0)
        i = bisect_left(self._neg_us, -micros(as_of))
        return State(self, i) if i < len(self.commits) else None


class MirrorStore:
    """A hub-mirror/1 folder, indexed once, answering "what did repo X look like as of T"."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.manifest: dict[str, Any] = {}
        self.unrecorded: frozenset[str] = frozenset()  # kinds the recording does not hold (mirror.json)
        self._repos: dict[str, dict[str, Repo]] = {}
        self._lock = threading.RLock()
        # Listing fields per (kind, repo id, revision folder), filled by listing.record: never evicted.
        self.records: dict[tuple[str, str, str | None], Any] = {}
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self.info = lru_cache(maxsize=4096)(self._read_info)

    # ---- the index -------------------------------------------------------------------------------
    def load(self) -> MirrorStore:
        """Read mirror.json and every repo's commits.json (once; revision folders are listed lazily)."""
        if self._repos:  # published whole, below: no lock on the hot path
            return self
        with self._lock:
            if not self._repos:
                manifest = self.read_fixed(str(self.root / "mirror.json"))
                self.manifest = json.loads(manifest) if manifest is not None else {}
                self.unrecorded = unrecorded_kinds(self.manifest)
                repos = {kind: self._scan(kind) for kind in KINDS}
                logger.info("hub mirror %s indexed: %s", self.root, {k: len(v) for k, v in repos.items()})
                self._repos = repos
        return self

    def _scan(self, kind: str) -> dict[str, Repo]:
        repos: dict[str, Repo] = {}
        base = self.root / kind
        if not (base.is_dir() and self.inside(base)):
            return repos
        for org in self._subdirs(str(base), is_repo_part):
            for entry in self._subdirs(org.path, is_repo_part):
                repo = self._read_repo(kind, f"{org.name}/{entry.name}", entry.path)
                if repo is not None:
                    repos[repo.id] = repo
        return repos

    def _subdirs(self, path: str, accept: Callable[[str], bool]) -> list[os.DirEntry]:
        """Sub-folders with acceptable names; a symlinked one only if it resolves inside the mirror."""
        # DirEntry types come from the directory listing itself: no stat or realpath per entry.
        return sorted(
            (
                e
                for e in os.scandir(path)
                if accept(e.name) and e.is_dir() and (not e.is_symlink() or self.inside(e.path))
            ),
            key=lambda e: e.name,
        )

    def _read_repo(self, kind: str, repo_id: str, path: str) -> Repo | None:
        raw = self.read_fixed(os.path.join(path, "commits.json"))
        if raw is None:
            return None
        try:
            commits = [Commit(c["id"], d := parse_date(c["date"]), micros(d), c) for c in json.loads(raw)]
            if not all(isinstance(c.id, str) and HEX_COMMIT.fullmatch(c.id) for c in commits):
                raise ValueError("a commit id is not 40 lowercase hex")  # ids end up in URLs and headers
        except (ValueError, KeyError, TypeError) as err:
            logger.warning("skipping %s %s: unreadable commits.json (%s)", kind, repo_id, err)
            return None
        if not commits:
            return None
        return Repo(kind, repo_id, path, commits, lambda: self._revision_folders(path))

    def _revision_folders(self, path: str) -> set[str]:
        revisions = os.path.join(path, "revisions")
        try:  # one open() on a real folder; a symlinked one must resolve inside the mirror
            fd = os.open(revisions, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as err:
            if err.errno == errno.ELOOP and self.inside(revisions):
                return {e.name for e in self._subdirs(revisions, HEX_COMMIT.fullmatch)}
            return set()
        try:
            with os.scandir(fd) as entries:
                return {
                    e.name
                    for e in entries
                    if HEX_COMMIT.fullmatch(e.name)
                    and e.is_dir()
                    and (not e.is_symlink() or self.inside(os.path.join(revisions, e.name)))
                }
        finally:
            os.close(fd)

    def repos(self, kind: str) -> dict[str, Repo]:
        """All repos of one kind (`models` or `datasets`)."""
        return self.load()._repos.get(kind, {})

    def repo(self, kind: str, repo_id: str) -> Repo | None:
        """One repo, or None."""
        return self.repos(kind).get(repo_id)

    # ---- safe file access ------------------------------------------------------------------------
    def inside(self, path: str | Path) -> bool:
        """True when `path`, with every symlink resolved, is inside the mirror folder."""
        real = os.path.realpath(path)
        return real == str(self.root) or real.startswith(str(self.root) + os.sep)

    def safe_file(self, path: Path) -> Path | None:
        """`path` if it is a regular file that really lies inside the mirror, else None."""
        return path if path.is_file() and self.inside(path) else None

    def read_fixed(self, path: str) -> bytes | None:
        """Read a file whose folder is already known to be inside the mirror (commits.json, info.json)."""
        # O_NOFOLLOW makes the common case one open(); a symlinked file takes the full realpath check.
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as err:
            if err.errno != errno.ELOOP:
                return None
            safe = self.safe_file(Path(path))
            return safe.read_bytes() if safe is not None else None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def revision_file(self, state: State, rel: str) -> Path | None:
        """The stored file `rel` (already validated) at a state, or None; info.json is not a repo file."""
        if state.folder is None or rel == "info.json":
            return None
        return self.safe_file(Path(state.repo.path, "revisions", state.folder, rel))

    def revision_files(self, state: State) -> list[str]:
        """Repo-relative names of the files stored for a state (without info.json)."""
        if state.folder is None:
            return []
        top = os.path.join(state.repo.path, "revisions", state.folder)
        found = []
        for dirpath, _dirs, files in os.walk(top):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), top).replace(os.sep, "/")
                if rel != "info.json" and self.safe_file(Path(dirpath) / name):
                    found.append(rel)
        return sorted(found)

    # ---- revision contents -----------------------------------------------------------------------
    def _read_info(self, kind: str, repo_id: str, folder: str | None) -> dict[str, Any]:
        repo = self.repo(kind, repo_id)
        raw = (
            None
            if repo is None or folder is None
            else self.read_fixed(os.path.join(repo.path, "revisions", folder, "info.json"))
        )
        if raw is None:
            return {}
        try:
            body = json.loads(raw)
        except ValueError as err:
            logger.warning("unreadable info.json for %s %s@%s: %s", kind, repo_id, folder, err)
            return {}
        return body if isinstance(body, dict) else {}

    def info_at(self, state: State) -> dict[str, Any]:
        """The revision's info.json (a fresh copy) with `sha` and `lastModified` of the state's own commit."""
        body = dict(self.info(state.repo.kind, state.repo.id, state.folder))
        body.setdefault("_id", state.repo.oid)
        body.setdefault("id", state.repo.id)
        body["sha"] = state.commit.id
        body["lastModified"] = hub_date(state.commit.date)
        return body

    def created_at(self, state: State) -> str:
        """createdAt as the info states it, else the date of the repo's first commit."""
        value = self.info(state.repo.kind, state.repo.id, state.folder).get("createdAt")
        return value if isinstance(value, str) and value else hub_date(state.repo.created)

    # ---- memo for derived views ------------------------------------------------------------------
    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A small LRU of derived views (e.g. sorted listings per as-of time), computed outside the lock."""
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = compute()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        return value
