"""Crawl one code repository: metadata (conditional), head tree, licence files and their history.

Cheap refresh: the repo body is asked with the stored ETag (a 304 costs no quota); the tree and the
licence files are read again only when `pushed_at` moved or the last read is older than the refresh
period; a licence blob is fetched once, and a licence-file commit is resolved once. Captures go to the
raw store as they are made, the `github_repo` row last, so a killed crawl resumes with the next repo.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from pipelines.code import raw
from pipelines.code.client import GitHubClient, Reply
from pipelines.code.settings import CodeSettings
from pipelines.code.state import KnownCaptures
from pipelines.code.tree import licence_file_kind, licence_files
from pipelines.storage.raw import RawStore

GONE = (404, 451)


class RepoFailure(Exception):
    """An answer this repository cannot be crawled past (recorded in the run; the others go on)."""


@dataclass
class RepoOutcome:
    """What happened to one repository in this run."""

    repo: str
    status: str  # ok | not_modified | moved | gone | empty | gone_unchecked
    contents_read: bool = False
    files_fetched: int = 0
    history_commits: int = 0
    moved_to: str | None = None


def _path(name: str, *rest: str) -> str:
    return "/repos/" + "/".join([name, *[quote(part, safe="/") for part in rest]])


def crawl_repo(
    client: GitHubClient,
    store: RawStore,
    known: KnownCaptures,
    repo: str,
    *,
    crawl_date: str,
    now: datetime,
    settings: CodeSettings,
) -> RepoOutcome:
    """Crawl one repository (key `owner/name`) into the raw store and return what happened."""
    st = known.state(repo)
    name = st.full_name or repo
    refresh = timedelta(days=settings.refresh_days)
    fresh = st.tree_read_at is not None and now - st.tree_read_at < refresh
    if st.status == "gone" and st.checked_at is not None and now - st.checked_at < refresh:
        return RepoOutcome(repo, "gone_unchecked")  # asked again after the refresh period, not daily
    reply = client.get(
        _path(name), etag=st.etag if st.status in ("ok", "moved", "not_modified", "empty") else None
    )
    row = {
        "repo": repo,
        "full_name": name,
        "fetched_at": now,
        "endpoint": client.base_url,
        "http_status": reply.status,
        "etag": reply.etag or st.etag,
        "pushed_at": st.pushed_at,
        "default_branch": st.default_branch,
        "head_sha": None,
        "body": None,
    }
    if reply.status in GONE:
        _write_repo(store, crawl_date, known, {**row, "status": "gone", "body": json.dumps(reply.body)})
        return RepoOutcome(repo, "gone")
    if reply.status == 304:
        status, changed = "not_modified", False
    elif reply.status == 200 and isinstance(reply.body, dict):
        body = reply.body
        full_name = body.get("full_name") or name
        redirected = full_name.lower() != name.lower()  # PyGithub followed a 301 just now
        if redirected:
            client.cost.note_redirect()
        # a repo known under another name stays `moved` (its new name is asked directly from then on)
        status = "moved" if full_name.lower() != repo.lower() else "ok"
        changed = body.get("pushed_at") != st.pushed_at or redirected
        row.update(
            full_name=full_name,
            pushed_at=body.get("pushed_at"),
            default_branch=body.get("default_branch"),
            body=json.dumps(body, sort_keys=True),
        )
    else:
        raise RepoFailure(f"{repo}: HTTP {reply.status} {_message(reply)}")
    outcome = RepoOutcome(repo, status, moved_to=row["full_name"] if status == "moved" else None)
    if changed or not fresh:
        if not row["default_branch"]:
            raise RepoFailure(f"{repo}: no default branch known")
        head = _read_contents(
            client,
            store,
            known,
            repo,
            row["full_name"],
            row["default_branch"],
            crawl_date,
            now,
            settings,
            outcome,
        )
        if head is None:
            row["status"] = "empty"
            outcome.status = "empty"
        row["head_sha"] = head
        outcome.contents_read = head is not None
    _write_repo(
        store,
        crawl_date,
        known,
        {"status": outcome.status, **{k: v for k, v in row.items() if k != "status"}},
    )
    return outcome


def _write_repo(store: RawStore, crawl_date: str, known: KnownCaptures, row: dict) -> None:
    raw.append(store, "github_repo", crawl_date, [row])
    st = known.state(row["repo"])
    st.done_dates.add(crawl_date)


def _message(reply: Reply) -> str:
    body = reply.body
    return str(body.get("message", ""))[:200] if isinstance(body, dict) else ""


def _read_contents(
    client: GitHubClient,
    store: RawStore,
    known: KnownCaptures,
    repo: str,
    name: str,
    branch: str,
    crawl_date: str,
    now: datetime,
    settings: CodeSettings,
    outcome: RepoOutcome,
) -> str | None:
    """Read the head commit, its tree, the licence files and their history; the head sha (None: empty)."""
    commits = client.get(_path(name, "commits"), {"sha": branch, "per_page": 1})
    if commits.status == 409:
        return None  # "Git Repository is empty."
    if commits.status != 200 or not isinstance(commits.body, list):
        raise RepoFailure(f"{repo}: commits of {branch}: HTTP {commits.status} {_message(commits)}")
    if not commits.body:
        return None
    head = commits.body[0]
    head_sha = head["sha"]
    tree = client.get(_path(name, "git", "trees", head_sha), {"recursive": 1})
    if tree.status == 409:
        return None
    if tree.status != 200 or not isinstance(tree.body, dict):
        raise RepoFailure(f"{repo}: tree {head_sha}: HTTP {tree.status} {_message(tree)}")
    entries = [
        {k: e.get(k) for k in ("path", "mode", "type", "sha", "size")} for e in tree.body.get("tree", [])
    ]
    if tree.body.get("truncated"):
        # GitHub cut the recursive listing (100,000 entries / 7 MB): the root level, where licence files
        # live, is asked on its own so they are never missed.
        root = client.get(_path(name, "git", "trees", head_sha))
        if root.status == 200 and isinstance(root.body, dict):
            listed = {e["path"] for e in entries}
            entries += [
                {k: e.get(k) for k in ("path", "mode", "type", "sha", "size")}
                for e in root.body.get("tree", [])
                if e.get("path") not in listed
            ]
    raw.append(
        store,
        "github_tree",
        crawl_date,
        [
            {
                "repo": repo,
                "commit_sha": head_sha,
                "committed_at": ((head.get("commit") or {}).get("committer") or {}).get("date"),
                "tree_sha": tree.body.get("sha"),
                "truncated": bool(tree.body.get("truncated", False)),
                "entries": entries,
                "fetched_at": now,
            }
        ],
    )
    head_files = licence_files(entries)
    for f in head_files:
        if (repo, f["path"], f["sha"]) not in known.blobs:
            _fetch_file(
                client, store, known, repo, name, f["path"], head_sha, crawl_date, now, settings, outcome
            )
    # History of every licence path ever seen here, so a deleted licence file keeps being dated.
    head_blob = {f["path"]: f["sha"] for f in head_files}
    paths = sorted(set(head_blob) | known.licence_paths.get(repo, set()))
    for path in paths:
        _read_history(
            client,
            store,
            known,
            repo,
            name,
            branch,
            path,
            head_blob.get(path),
            crawl_date,
            now,
            settings,
            outcome,
        )
    return head_sha


def _fetch_file(
    client: GitHubClient,
    store: RawStore,
    known: KnownCaptures,
    repo: str,
    name: str,
    path: str,
    ref: str,
    crawl_date: str,
    now: datetime,
    settings: CodeSettings,
    outcome: RepoOutcome,
) -> str | None:
    """Store one licence file as of `ref`; its blob sha (None: not there at that commit)."""
    reply = client.get(_path(name, "contents", path), {"ref": ref})
    if reply.status == 404:
        return None
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise RepoFailure(f"{repo}: {path}@{ref}: HTTP {reply.status} {_message(reply)}")
    body = reply.body
    blob = body.get("sha")
    size = body.get("size")
    content = None
    if (
        body.get("encoding") == "base64"
        and body.get("content") is not None
        and (size or 0) <= settings.max_file_bytes
    ):
        content = base64.b64decode(body["content"])
    if (repo, path, blob) not in known.blobs:
        raw.append(
            store,
            "github_file",
            crawl_date,
            [
                {
                    "repo": repo,
                    "path": path,
                    "kind": licence_file_kind(path) or "licence",
                    "blob_sha": blob,
                    "commit_sha": ref,
                    "size": size,
                    "content": content,
                    "fetched_at": now,
                }
            ],
        )
        known.blobs.add((repo, path, blob))
        known.licence_paths.setdefault(repo, set()).add(path)
        outcome.files_fetched += 1
    return blob


def _read_history(
    client: GitHubClient,
    store: RawStore,
    known: KnownCaptures,
    repo: str,
    name: str,
    branch: str,
    path: str,
    head_blob: str | None,
    crawl_date: str,
    now: datetime,
    settings: CodeSettings,
    outcome: RepoOutcome,
) -> None:
    """Store the commits touching one licence file, each with the file's blob after it."""
    new: list[dict] = []
    newest: str | None = None  # the newest commit touching the file
    url: str | None = _path(name, "commits")
    params: dict | None = {"sha": branch, "path": path, "per_page": settings.per_page}
    for _ in range(settings.max_history_pages):
        if url is None:
            break
        reply = client.get(url, params)
        if reply.status == 409:
            return
        if reply.status != 200 or not isinstance(reply.body, list):
            raise RepoFailure(f"{repo}: commits of {path}: HTTP {reply.status} {_message(reply)}")
        if newest is None and reply.body:
            newest = reply.body[0]["sha"]
        fresh = [c for c in reply.body if (repo, path, c["sha"]) not in known.file_commits]
        new.extend(fresh)
        if len(fresh) < len(reply.body):
            break  # newest first: the rest is stored already
        url, params = reply.next_url(), None
    rows = []
    for commit in new:
        # The newest commit touching the file left it as the head tree has it (its blob, or deleted):
        # no request needed. Older ones are read once each.
        if commit["sha"] == newest:
            blob = head_blob
        else:
            blob = _fetch_file(
                client, store, known, repo, name, path, commit["sha"], crawl_date, now, settings, outcome
            )
        info = commit.get("commit") or {}
        author = info.get("author") or {}
        committer = info.get("committer") or {}
        rows.append(
            {
                "repo": repo,
                "path": path,
                "commit_sha": commit["sha"],
                "committed_at": committer.get("date") or author.get("date"),
                "author_name": author.get("name"),
                "message": info.get("message"),
                "blob_sha": blob,
                "fetched_at": now,
            }
        )
    raw.append(store, "github_file_commits", crawl_date, rows)
    for r in rows:
        known.file_commits.add((repo, path, r["commit_sha"]))
    outcome.history_commits += len(rows)
