"""GitHub REST endpoints over the code mirror: repos, commits, git trees, contents, license.

Each handler returns an `Answer` whose JSON still names `https://api.github.com` (as GitHub's own bodies
and the stored files do); `github_serve` rewrites that to the server's base URL, adds GitHub's headers
and applies ETags, quotas and faults. Errors are raised as `GitHubError`, answered with GitHub's body
`{"message", "documentation_url", "status"}`.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from pipelines.mirror.github_store import CodeRepo, CodeStore
from pipelines.mirror.layout import parse_date

GITHUB_API = "https://api.github.com"
DOCS = "https://docs.github.com/rest"
RAW_TYPES = ("application/vnd.github.raw", "application/vnd.github.v3.raw")
PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 100
# licensee's preference among licence file names (exact names first, then any licence-like name).
_LICENSE_EXACT = ("license", "licence", "license.md", "license.txt", "licence.md", "licence.txt", "copying")
_LICENSE_LIKE = re.compile(r"(?i)(^|[-_. ])(licen[cs]e|copying)([-_. ]|$)")


@dataclass
class Answer:
    """A GitHub answer before headers: status, body bytes, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    rewrite: bool = True  # a JSON body whose api.github.com URLs name this server


class GitHubError(Exception):
    """An error answered as GitHub does: JSON {"message", "documentation_url", "status"}."""

    def __init__(
        self,
        status: int,
        message: str,
        doc: str = "",
        headers: list[tuple[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.doc = doc
        self.headers = list(headers or [])
        self.extra = extra

    def answer(self) -> Answer:
        """The error as an answer."""
        body: dict[str, Any] = {"message": self.message, **self.extra}
        body["documentation_url"] = self.doc or DOCS
        body["status"] = str(self.status)
        return Answer(self.status, _dumps(body), headers=list(self.headers))


def not_found(doc: str = "") -> GitHubError:
    """GitHub's 404."""
    return GitHubError(404, "Not Found", doc)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_answer(obj: Any, headers: list[tuple[str, str]] | None = None) -> Answer:
    """A 200 JSON answer."""
    return Answer(200, _dumps(obj), headers=list(headers or []))


# ---- the repo as of T ------------------------------------------------------------------------------
def open_repo(store: CodeStore, owner: str, name: str, rest: list[str], as_of: datetime | None) -> CodeRepo:
    """The repo `owner/name` as of T, or the error GitHub answers (404, 301 moved, 404/451 gone)."""
    repo = store.repo("github", f"{owner}/{name}")
    doc = f"{DOCS}/repos/repos#get-a-repository"
    if repo is None:
        raise not_found(doc)
    if repo.in_force("moved", repo.moved, as_of):
        target = str(repo.moved["to"]) if repo.moved else ""
        location = f"{GITHUB_API}/repos/{target}" + "".join("/" + quote(s, safe="") for s in rest)
        raise GitHubError(
            301,
            "Moved Permanently",
            "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
            headers=[("Location", location)],
            url=location,
        )
    if repo.moved and not repo.has_history:  # before the move: the history is kept under the new name
        moved_to = store.repo("github", str(repo.moved["to"]))
        repo = moved_to if moved_to is not None else repo
    if repo.in_force("gone", repo.gone, as_of):
        gone = repo.gone or {}
        if gone.get("status") == 451:
            block = {"reason": gone.get("reason", "unavailable"), "created_at": gone.get("since")}
            if isinstance(gone.get("html_url"), str):
                block["html_url"] = gone["html_url"]
            raise GitHubError(451, "Repository access blocked", block=block)
        raise not_found(doc)
    if not repo.exists(as_of) or (repo.repo_json is None and not repo.commits):
        raise not_found(doc)
    return repo


def _repo_body(repo: CodeRepo, i: int | None, as_of: datetime | None) -> dict[str, Any]:
    body = repo.repo_body(i, as_of)
    if body is not None:
        return dict(body)
    owner = repo.full_name.split("/")[0]
    return {
        "name": repo.full_name.split("/")[1],
        "full_name": repo.full_name,
        "owner": {"login": owner},
        "html_url": f"https://github.com/{repo.full_name}",
        "url": f"{GITHUB_API}/repos/{repo.full_name}",
    }


def default_branch(repo: CodeRepo, as_of: datetime | None) -> str:
    """The default branch's name (repo.json's default_branch, else `main`)."""
    value = _repo_body(repo, repo.head(as_of), as_of).get("default_branch")
    return value if isinstance(value, str) and value else "main"


def resolve_ref(repo: CodeRepo, ref: str | None, as_of: datetime | None, doc: str) -> int:
    """The commit index `ref` names as of T: none/HEAD/the default branch → head; a sha or unique prefix."""
    head = repo.head(as_of)
    if head is None:
        raise GitHubError(409, "Git Repository is empty.", doc)
    if ref in (None, "", "HEAD"):
        return head
    name = ref.removeprefix("refs/heads/")
    if name == default_branch(repo, as_of):
        return head
    found = repo.find(ref, as_of)
    if found is None:
        raise GitHubError(404, f"No commit found for the ref {ref}", doc)
    return found


# ---- endpoints -------------------------------------------------------------------------------------
def get_repo(repo: CodeRepo, as_of: datetime | None) -> Answer:
    """`GET /repos/{o}/{r}`: repo.json (as of T: the answering revision's repo.json if stored)."""
    return json_answer(_repo_body(repo, repo.head(as_of), as_of))


def _commit_item(repo: CodeRepo, i: int) -> dict[str, Any]:
    item = dict(repo.commits[i].raw)
    item.setdefault("url", f"{GITHUB_API}/repos/{repo.full_name}/commits/{item['sha']}")
    item.setdefault("html_url", f"https://github.com/{repo.full_name}/commit/{item['sha']}")
    return item


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    value = params.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as err:
        raise GitHubError(422, f"Invalid value for parameter '{name}': {value!r}") from err


def _time_param(params: dict[str, str], name: str) -> datetime | None:
    value = params.get(name, "")
    if value == "":
        return None
    try:
        return parse_date(value if ("T" in value or "t" in value) else value + "T00:00:00Z")
    except ValueError as err:
        raise GitHubError(422, f"Invalid value for parameter '{name}': {value!r}") from err


def list_commits(
    repo: CodeRepo, pairs: list[tuple[str, str]], as_of: datetime | None, self_url: str
) -> Answer:
    """`GET /repos/{o}/{r}/commits?sha=&path=&since=&until=&per_page=&page=` with GitHub's Link header."""
    doc = f"{DOCS}/commits/commits#list-commits"
    params = dict(pairs)
    per_page = min(max(_int_param(params, "per_page", PER_PAGE_DEFAULT), 1), PER_PAGE_MAX)
    page = max(_int_param(params, "page", 1), 1)
    since, until = _time_param(params, "since"), _time_param(params, "until")
    start = resolve_ref(repo, params.get("sha"), as_of, doc)
    path = params.get("path", "").strip("/")
    picked = [
        i
        for i in repo.history(as_of)
        if i >= start
        and (since is None or repo.commits[i].date >= since)
        and (until is None or repo.commits[i].date <= until)
        and (not path or repo.changed(i, path))
    ]
    items = [_commit_item(repo, i) for i in picked[(page - 1) * per_page : page * per_page]]
    last = max((len(picked) + per_page - 1) // per_page, 1)
    return json_answer(items, _link(self_url, pairs, page, last))


def _link(self_url: str, pairs: list[tuple[str, str]], page: int, last: int) -> list[tuple[str, str]]:
    """GitHub's Link header: prev/next/last/first, page numbers in every other parameter kept."""

    def url(n: int) -> str:
        kept = [(k, v) for k, v in pairs if k != "page"] + [("page", str(n))]
        return f"<{self_url}?{urlencode(kept)}>"

    links = []
    if page > 1:
        links.append(f'{url(min(page - 1, last))}; rel="prev"')
    if page < last:
        links += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
    if page > 1:
        links.append(f'{url(1)}; rel="first"')
    return [("Link", ", ".join(links))] if links else []


def get_commit(repo: CodeRepo, ref: str, as_of: datetime | None) -> Answer:
    """`GET /repos/{o}/{r}/commits/{ref}`: the commit as commits.json stores it."""
    doc = f"{DOCS}/commits/commits#get-a-commit"
    try:
        i = resolve_ref(repo, ref, as_of, doc)
    except GitHubError as err:
        if err.status == 404:
            raise GitHubError(422, f"No commit found for SHA: {ref}", doc) from err
        raise
    return json_answer(_commit_item(repo, i))


def get_branch(repo: CodeRepo, name: str, as_of: datetime | None) -> Answer:
    """`GET /repos/{o}/{r}/branches/{branch}`: the default branch (the only one recorded) and its head."""
    doc = f"{DOCS}/branches/branches#get-a-branch"
    if repo.head(as_of) is None or name != default_branch(repo, as_of):
        raise GitHubError(404, "Branch not found", doc)
    head = _commit_item(repo, resolve_ref(repo, None, as_of, doc))
    url = f"{GITHUB_API}/repos/{repo.full_name}/branches/{quote(name, safe='')}"
    return json_answer(
        {"name": name, "commit": head, "_links": {"self": url}, "protected": False, "protection_url": url}
    )


def get_tree(repo: CodeRepo, ref: str, recursive: bool, as_of: datetime | None) -> Answer:
    """`GET /repos/{o}/{r}/git/trees/{ref}[?recursive=1]`: a branch, commit sha, or tree sha (root or sub)."""
    doc = f"{DOCS}/git/trees#get-a-tree"
    if repo.head(as_of) is None:
        raise GitHubError(409, "Git Repository is empty.", doc)
    history = repo.history(as_of)
    i: int | None = None
    try:
        i = resolve_ref(repo, ref, as_of, doc)
    except GitHubError:
        i = next((j for j in history if repo.commits[j].tree_sha == ref), None)
    if i is not None:
        body = repo.tree(i)
        if body is None:
            raise not_found(doc)
        return json_answer(body if recursive else _top_level(body))
    for j in history:  # a sub-tree sha, as the non-recursive walk asks for
        entries = repo.entries(j)
        folder = next(
            (p for p, e in entries.items() if e.get("type") == "tree" and e.get("sha") == ref), None
        )
        if folder is None:
            continue
        prefix = folder + "/"
        tree = []
        for p, e in entries.items():
            rel = p[len(prefix) :]
            if p.startswith(prefix) and (recursive or "/" not in rel):
                tree.append({**e, "path": rel})
        url = f"{GITHUB_API}/repos/{repo.full_name}/git/trees/{ref}"
        return json_answer({"sha": ref, "url": url, "tree": tree, "truncated": False})
    raise not_found(doc)


def _top_level(body: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    out["tree"] = [e for e in body["tree"] if "/" not in str(e.get("path", ""))]
    return out


def _file_links(repo: CodeRepo, path: str, sha: str, ref: str, kind: str) -> dict[str, Any]:
    full = repo.full_name
    self_url = f"{GITHUB_API}/repos/{full}/contents/{quote(path)}?ref={quote(ref, safe='')}"
    git_url = f"{GITHUB_API}/repos/{full}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
    html_url = f"https://github.com/{full}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quote(path)}"
    download = f"https://raw.githubusercontent.com/{full}/{ref}/{quote(path)}" if kind == "file" else None
    return {
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": download,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


def _file_body(repo: CodeRepo, i: int, path: str, ref: str, data: bytes) -> dict[str, Any]:
    entry = repo.entries(i).get(path) or {}
    sha = str(entry.get("sha", ""))
    encoded = base64.encodebytes(data).decode("ascii")  # GitHub's 60-character lines ending in a newline
    body = {"name": path.rsplit("/", 1)[-1], "path": path, "sha": sha, "size": len(data)}
    return {
        **body,
        **_file_links(repo, path, sha, ref, "file"),
        "type": "file",
        "content": encoded,
        "encoding": "base64",
    }


def get_contents(repo: CodeRepo, path: str, ref: str | None, accept: str, as_of: datetime | None) -> Answer:
    """`GET /repos/{o}/{r}/contents/{path}?ref=`: a file (JSON base64, or raw bytes) or a folder listing."""
    doc = f"{DOCS}/repos/contents#get-repository-content"
    if repo.head(as_of) is None:
        raise GitHubError(404, "This repository is empty.", doc)
    i = resolve_ref(repo, ref, as_of, doc)
    shown_ref = ref or default_branch(repo, as_of)
    entries = repo.entries(i)
    entry = entries.get(path) if path else {"type": "tree"}
    if entry is None:
        raise not_found(doc)
    if entry.get("type") == "tree":
        prefix = path + "/" if path else ""
        listing = []
        for p, e in sorted(entries.items()):
            if not p.startswith(prefix) or "/" in p[len(prefix) :]:
                continue
            kind = {"tree": "dir", "commit": "submodule"}.get(str(e.get("type")), "file")
            item = {"name": p.rsplit("/", 1)[-1], "path": p, "sha": e.get("sha"), "size": e.get("size", 0)}
            listing.append({**item, **_file_links(repo, p, str(e.get("sha")), shown_ref, kind), "type": kind})
        return json_answer(listing)
    data = repo.file(i, path) if entry.get("type") == "blob" else None
    if data is None:  # in the tree, but its bytes are not recorded by the mirror
        raise not_found(doc)
    if any(t in accept for t in RAW_TYPES):
        return Answer(200, data, "application/vnd.github.raw; charset=utf-8", rewrite=False)
    return json_answer(_file_body(repo, i, path, shown_ref, data))


def license_file(repo: CodeRepo, i: int) -> str | None:
    """The root licence file GitHub would show (licensee's name preference), among the stored files."""
    names = [p for p, e in repo.entries(i).items() if "/" not in p and e.get("type") == "blob"]
    ranked = sorted(
        (n for n in names if n.lower() in _LICENSE_EXACT or _LICENSE_LIKE.search(n)),
        key=lambda n: (_LICENSE_EXACT.index(n.lower()) if n.lower() in _LICENSE_EXACT else 99, n),
    )
    return next((n for n in ranked if repo.file(i, n) is not None), None)


def get_license(repo: CodeRepo, ref: str | None, as_of: datetime | None) -> Answer:
    """`GET /repos/{o}/{r}/license?ref=`: the licence file, its base64 content and GitHub's detection."""
    doc = f"{DOCS}/licenses/licenses#get-the-license-for-a-repository"
    if repo.head(as_of) is None:
        raise not_found(doc)
    i = resolve_ref(repo, ref, as_of, doc)
    detected = _repo_body(repo, i, as_of if ref is None else repo.commits[i].date).get("license")
    name = license_file(repo, i)
    if not detected or name is None:
        raise not_found(doc)
    data = repo.file(i, name) or b""
    body = _file_body(repo, i, name, ref or default_branch(repo, as_of), data)
    body["license"] = detected
    return json_answer(body)
