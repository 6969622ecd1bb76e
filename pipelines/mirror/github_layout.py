"""Writing a mirror's `code/github/<owner>/<repo>/` folders (MIRROR_FORMAT.md, "Code repositories").

For tests and small hand-made mirrors: give each commit its files, and the writer computes the git blob
shas, a recursive tree (sha, tree, truncated) and GitHub's commit items, newest first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.hub.ids import git_blob_sha1
from pipelines.mirror.names import is_repo_part


@dataclass
class CodeRevision:
    """One commit of the default branch: its files (stored and listed in the tree) or None (no folder)."""

    sha: str
    date: str  # ISO 8601 with Z
    message: str = ""
    author: str = "someone"
    files: dict[str, bytes | str] | None = None  # stored in files/ and listed in tree.json
    tree_only: dict[str, int] = field(default_factory=dict)  # listed in tree.json only: path -> size
    repo: dict[str, Any] | None = None  # revisions/<sha>/repo.json


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def tree_body(owner_repo: str, files: dict[str, bytes], tree_only: dict[str, int]) -> dict[str, Any]:
    """A recursive git tree body for the given files, with folder entries and deterministic tree shas."""
    blobs: dict[str, tuple[str, int]] = {p: (git_blob_sha1(d), len(d)) for p, d in files.items()}
    blobs |= {p: (hashlib.sha1(f"absent {p}".encode()).hexdigest(), n) for p, n in tree_only.items()}
    folders = sorted({"/".join(p.split("/")[:i]) for p in blobs for i in range(1, p.count("/") + 1)})

    def folder_sha(prefix: str) -> str:
        inside = sorted(f"{p}:{s}" for p, (s, _) in blobs.items() if p.startswith(prefix))
        return hashlib.sha1(("tree " + "\n".join(inside)).encode()).hexdigest()

    entries = [{"path": f, "mode": "040000", "type": "tree", "sha": folder_sha(f + "/")} for f in folders]
    entries += [
        {"path": p, "mode": "100644", "type": "blob", "sha": s, "size": n} for p, (s, n) in blobs.items()
    ]
    entries.sort(key=lambda e: e["path"])
    sha = folder_sha("")
    url = f"https://api.github.com/repos/{owner_repo}/git/trees/{sha}"
    return {"sha": sha, "url": url, "tree": entries, "truncated": False}


def write_code_repo(
    root: Path,
    owner_repo: str,
    repo: dict[str, Any] | None,
    commits: list[CodeRevision],
    moved: dict[str, Any] | None = None,
    gone: dict[str, Any] | None = None,
) -> Path:
    """Write one repo under `<root>/code/github/`; `commits` in any order (written newest first)."""
    owner, _, name = owner_repo.partition("/")
    if not (is_repo_part(owner) and is_repo_part(name)):
        raise ValueError(f"repo must be 'owner/name', got {owner_repo!r}")
    folder = Path(root) / "code" / "github" / owner / name
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(commits, key=lambda c: c.date)  # oldest first: parents and inherited files
    items: list[dict[str, Any]] = []
    current: dict[str, bytes] = {}
    current_only: dict[str, int] = {}
    for i, commit in enumerate(ordered):
        if commit.files is not None:
            current = {p: _bytes(d) for p, d in commit.files.items()}
            current_only = dict(commit.tree_only)
        tree = tree_body(owner_repo, current, current_only)
        if commit.files is not None:
            rev = folder / "revisions" / commit.sha
            rev.mkdir(parents=True, exist_ok=True)
            (rev / "tree.json").write_text(json.dumps(tree), encoding="utf-8")
            for path, data in current.items():
                (rev / "files" / path).parent.mkdir(parents=True, exist_ok=True)
                (rev / "files" / path).write_bytes(data)
            if commit.repo is not None:
                (rev / "repo.json").write_text(json.dumps(commit.repo, indent=1), encoding="utf-8")
        person = {"name": commit.author, "date": commit.date}
        items.append(
            {
                "sha": commit.sha,
                "commit": {
                    "author": person,
                    "committer": person,
                    "message": commit.message,
                    "tree": {"sha": tree["sha"]},
                },
                "parents": [{"sha": ordered[i - 1].sha}] if i else [],
            }
        )
    (folder / "commits.json").write_text(json.dumps(items[::-1], indent=1), encoding="utf-8")
    for name_, body in (("repo.json", repo), ("moved.json", moved), ("gone.json", gone)):
        if body is not None:
            (folder / name_).write_text(json.dumps(body, indent=1), encoding="utf-8")
    return folder


def repo_body(owner_repo: str, created: str, pushed: str, license_key: str | None, **extra: Any) -> dict:
    """A repo.json body in GitHub's format (licence objects as GitHub sends them)."""
    licences = {
        "apache-2.0": ("Apache License 2.0", "Apache-2.0", "MDc6TGljZW5zZTI="),
        "mit": ("MIT License", "MIT", "MDc6TGljZW5zZTEz"),
        "other": ("Other", "NOASSERTION", "MDc6TGljZW5zZTA="),
    }
    licence = None
    if license_key is not None:
        name, spdx, node = licences[license_key]
        url = None if license_key == "other" else f"https://api.github.com/licenses/{license_key}"
        licence = {"key": license_key, "name": name, "spdx_id": spdx, "url": url, "node_id": node}
    owner, _, name = owner_repo.partition("/")
    return {
        "name": name,
        "full_name": owner_repo,
        "owner": {"login": owner},
        "private": False,
        "html_url": f"https://github.com/{owner_repo}",
        "url": f"https://api.github.com/repos/{owner_repo}",
        "fork": False,
        "created_at": created,
        "pushed_at": pushed,
        "default_branch": "main",
        "visibility": "public",
        "license": licence,
        **extra,
    }
