"""Single-repo endpoints: info at a revision, commit history, file resolution, and Hub paper pages."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from pipelines.hub.ids import git_blob_sha1
from pipelines.mirror import atom
from pipelines.mirror.items import build_item, check_expand
from pipelines.mirror.listing import MAX_LIMIT, is_true
from pipelines.mirror.names import HEX_PREFIX, BadName, check_file_path, split_arxiv_id
from pipelines.mirror.provenance import commits_kinds, file_kinds, info_kinds, mark
from pipelines.mirror.replies import (
    JSON_TYPE,
    UNRECORDED_HEADER,
    HubError,
    Reply,
    bad_request,
    json_reply,
)
from pipelines.mirror.store import MirrorStore, State

COMMITS_PAGE = 50
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_SINGULAR = {"models": "model", "datasets": "dataset"}


def repo_not_found(unrecorded: str | None = None) -> HubError:
    """404 RepoNotFound (a token-less Hub answers 401; the code is what huggingface_hub maps); with
    `unrecorded` (a kind the recording does not hold) it carries `X-Mirror-Unrecorded: <kind>`."""
    headers = [(UNRECORDED_HEADER, unrecorded)] if unrecorded else None
    return HubError(404, "Repository not found", "RepoNotFound", headers=headers)


def resolve(store: MirrorStore, kind: str, repo_id: str, rev: str, as_of: datetime | None) -> State:
    """The repo state for a revision as of T: `main` = newest commit, else a full or unique-prefix commit id."""
    repo = store.repo(kind, repo_id)
    if repo is None and kind in store.unrecorded:
        raise repo_not_found(unrecorded=kind)  # not recorded: unknown, not absent from the Hub
    head = repo.state_at(as_of) if repo is not None else None
    if head is None:
        raise repo_not_found()
    if rev == "main":
        return head
    if HEX_PREFIX.fullmatch(rev):
        # Commits newer than T did not exist yet, so only the history from the as-of head down counts.
        hits = [
            i for i in range(head.index, len(head.repo.commits)) if head.repo.commits[i].id.startswith(rev)
        ]
        if len(hits) == 1:
            return State(head.repo, hits[0])
    raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")


def repo_info(
    store: MirrorStore,
    kind: str,
    repo_id: str,
    rev: str,
    pairs: list[tuple[str, str]],
    as_of: datetime | None,
) -> Reply:
    """`GET /api/{kind}/{id}[/revision/{rev}]`: the revision's info.json, or `_id`, `id` + expanded fields."""
    state = resolve(store, kind, repo_id, rev, as_of)
    expand = check_expand(kind, [v for k, v in pairs if k == "expand"], listing=False)
    flags = {k for k, v in pairs if k in ("securityStatus", "blobs") and is_true(v)}
    if expand and flags:
        raise bad_request(f"'expand' cannot be combined with {sorted(flags)}")
    if expand:
        return mark(
            json_reply(build_item(store, state, expand, listing=False, as_of=as_of)), info_kinds(store, state)
        )
    body = store.info_at(state)
    body.update(store.metrics_at(state.repo, as_of))  # the usage counts as of T (docs/mirror.md)
    if kind == "models":
        body.setdefault("modelId", repo_id)
    if "blobs" in flags and isinstance(body.get("siblings"), list):  # an unrecorded file list stays out
        body["siblings"] = _siblings_with_blobs(store, state, body["siblings"])
    if "securityStatus" in flags:
        body.setdefault("securityRepoStatus", {"scansDone": True, "filesWithIssues": []})
    return mark(json_reply(body), info_kinds(store, state))


def _siblings_with_blobs(store: MirrorStore, state: State, siblings: list) -> list[dict]:
    out = []
    for sibling in siblings:
        if not isinstance(sibling, dict):
            continue
        sibling = dict(sibling)
        try:  # rfilename comes from the mirror's info.json: still checked before it touches the filesystem
            path = store.revision_file(state, check_file_path(str(sibling.get("rfilename", "")).split("/")))
        except BadName:
            path = None
        if path is not None and "blobId" not in sibling:
            data = path.read_bytes()
            sibling.update(blobId=git_blob_sha1(data), size=len(data))
        out.append(sibling)
    return out


def repo_commits(
    store: MirrorStore,
    kind: str,
    repo_id: str,
    rev: str,
    pairs: list[tuple[str, str]],
    as_of: datetime | None,
    next_base: str,
) -> Reply:
    """`GET /api/{kind}/{id}/commits/{rev}`: history from rev down, newest first, pages of `?p=N`."""
    state = resolve(store, kind, repo_id, rev, as_of)
    last = dict(pairs)
    try:
        page = int(last.get("p") or 0)
        limit = min(int(last.get("limit") or COMMITS_PAGE), MAX_LIMIT)
    except ValueError as err:
        raise bad_request("p and limit must be integers") from err
    if page < 0 or limit < 1:
        raise bad_request("p must be >= 0 and limit >= 1")
    history = state.repo.commits[state.index :]
    chunk = history[page * limit : (page + 1) * limit]
    headers = []
    if (page + 1) * limit < len(history):
        kept = [(k, v) for k, v in pairs if k != "p"] + [("p", str(page + 1))]
        headers.append(("Link", f'<{next_base}?{urlencode(kept)}>; rel="next"'))
    listed = (State(state.repo, state.index + page * limit + i) for i in range(len(chunk)))
    return mark(json_reply([c.raw for c in chunk], headers=headers), commits_kinds(store, listed))


def _content_type(path: str) -> str:
    if path.endswith((".md", ".txt")):
        return "text/plain; charset=utf-8"
    if path.endswith(".json"):
        return "application/json"
    return "application/octet-stream"


def resolve_file(
    store: MirrorStore,
    kind: str,
    repo_id: str,
    rev: str,
    rel: str,
    as_of: datetime | None,
    authorization: str | None,
    range_header: str | None,
) -> Reply:
    """`/{id}/resolve/{rev}/{path}`: the stored bytes with X-Repo-Commit, a quoted git-blob ETag, no Xet."""
    state = resolve(store, kind, repo_id, rev, as_of)
    info = store.info(kind, repo_id, state.folder)
    auth = authorization or ""
    token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""
    if info.get("gated") and not token:
        # A granted token is simulated: any bearer token reads the file; none gets the Hub's 401.
        raise HubError(
            401,
            f"Access to {_SINGULAR[kind]} {repo_id} is restricted. You must have access to it and be "
            "authenticated to access it. Please log in.",
            "GatedRepo",
        )
    commit_header = ("X-Repo-Commit", state.commit.id)
    path = store.revision_file(state, rel)
    if path is None:
        raise HubError(404, "Entry not found", "EntryNotFound", headers=[commit_header])
    data = path.read_bytes()
    headers = [commit_header, ("ETag", f'"{git_blob_sha1(data)}"'), ("Accept-Ranges", "bytes")]
    status = 200
    match = _RANGE.fullmatch((range_header or "").strip())
    if match and int(match.group(1)) < len(data):
        first = int(match.group(1))
        end = min(int(match.group(2)), len(data) - 1) if match.group(2) else len(data) - 1
        if end >= first:
            headers.append(("Content-Range", f"bytes {first}-{end}/{len(data)}"))
            data, status = data[first : end + 1], 206
    return mark(
        Reply(status, data, _content_type(rel), headers, is_json=False), file_kinds(store, state, rel)
    )


def paper_file(store: MirrorStore, folder: str, arxiv_id: str) -> Path | None:
    """The stored papers/<folder>/ file for an arXiv id, matching with or without a version suffix."""
    parts = split_arxiv_id(arxiv_id)
    if parts is None:
        return None
    index = store.memo(("papers", folder), lambda: _paper_index(store, folder))
    found = index.get(arxiv_id) or index.get(parts[0])
    return store.safe_file(found) if found is not None else None


def _paper_index(store: MirrorStore, folder: str) -> dict[str, Path]:
    base = store.root / "papers" / folder
    suffix = ".xml" if folder == "arxiv" else ".json"
    names = sorted(os.listdir(base)) if base.is_dir() and store.inside(base) else []
    index: dict[str, Path] = {}
    best: dict[str, tuple[int, Path]] = {}
    for name in names:
        # '/' of old-style ids is stored as '_' (no arXiv id contains '_').
        stem = name.removesuffix(suffix).replace("_", "/")
        parts = split_arxiv_id(stem) if name.endswith(suffix) else None
        if parts is None:
            continue
        index[stem] = base / name
        # For the bare id, an unversioned file wins, else the highest version.
        rank = int(parts[1][1:]) if parts[1] else 1 << 30
        if parts[0] not in best or rank > best[parts[0]][0]:
            best[parts[0]] = (rank, base / name)
    index.update({base_id: path for base_id, (_rank, path) in best.items()})
    return index


def paper(store: MirrorStore, arxiv_id: str) -> Reply:
    """`GET /api/papers/{id}`: papers/hf/<id>.json as stored; unknown -> 404 EntryNotFound, with
    `X-Mirror-Unrecorded: papers` when the recording does not hold every paper (see docs/mirror.md)."""
    path = paper_file(store, "hf", arxiv_id)
    if path is None:
        headers = [(UNRECORDED_HEADER, "papers")] if "papers" in store.load().unrecorded else None
        raise HubError(404, "Paper not found", "EntryNotFound", headers=headers)
    return Reply(200, path.read_bytes(), JSON_TYPE)


def arxiv_entry(store: MirrorStore, base_id: str) -> bytes | None:
    """The stored <entry> for an unversioned arXiv id, or None."""
    path = paper_file(store, "arxiv", base_id)
    return path.read_bytes() if path is not None else None


def arxiv_query(store: MirrorStore, params: dict[str, list[str]]) -> Reply:
    """`GET /arxiv/api/query`: the Atom feed of the stored entries asked for. When the recording does not
    hold every paper (mirror.json `unrecorded` lists `papers`) and an asked id is missing from the feed, the
    answer carries `X-Mirror-Unrecorded: papers`: that id is not recorded, not absent from arXiv."""
    missing: list[str] = []

    def load(base_id: str) -> bytes | None:
        entry = arxiv_entry(store, base_id)
        if entry is None:
            missing.append(base_id)
        return entry

    status, body = atom.query_feed(params, load)
    unrecorded = status == 200 and missing and "papers" in store.load().unrecorded
    headers = [(UNRECORDED_HEADER, "papers")] if unrecorded else []
    return Reply(status, body, atom.CONTENT_TYPE, headers=headers, is_json=False)
