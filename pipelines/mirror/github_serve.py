"""Serving one GitHub request (`/api/v3/...`, `/as-of/<T>/api/v3/...`): routing, quota, ETag/304, faults.

GitHub Enterprise Server answers its REST API under `/api/v3`, so a real client (PyGithub, githubkit)
is pointed at `http://127.0.0.1:PORT/api/v3` with its base-URL setting. Every answer carries GitHub's
`X-RateLimit-*` headers; a conditional request whose `If-None-Match` matches is answered 304 and, like
`GET /rate_limit`, is not counted against the quota.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from pipelines.mirror import github_api as api
from pipelines.mirror.faults import Fault
from pipelines.mirror.github_api import GITHUB_API, Answer, GitHubError
from pipelines.mirror.github_quota import Quota, Window
from pipelines.mirror.names import BadName, check_file_path, decode_segment, is_repo_part, parse_as_of
from pipelines.mirror.replies import Reply

if TYPE_CHECKING:
    from pipelines.mirror.github_store import CodeStore

API_BASE = "/api/v3"
_PRIMARY = "API rate limit exceeded for {who}."
_ANONYMOUS_HINT = (
    " (But here's the good news: Authenticated requests get a higher rate limit. "
    "Check out the documentation for more details.)"
)
_SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
_RATE_DOC = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


def is_github_path(path: str) -> bool:
    """True for `/api/v3[/...]` and `/as-of/<T>/api/v3[/...]` (raw path, before decoding)."""
    segments = path.split("/")[1:]
    if segments[:1] == ["as-of"]:
        segments = segments[2:]
    return segments[:2] == ["api", "v3"]


@dataclass
class Served:
    """A finished GitHub reply and whether it was counted against the caller's quota."""

    reply: Reply
    counted: bool


def serve_github(
    store: CodeStore,
    quota: Quota,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    fault: Fault | None,
    origin: str,
) -> Served:
    """Answer one GitHub request; `headers` are lower-cased, `origin` is "http://host:port"."""
    caller = quota.caller(headers.get("authorization"))
    raw = path.split("/")[1:]
    prefix = "/".join(raw[:2]) if raw[:1] == ["as-of"] else ""
    base = origin + ("/" + prefix if prefix else "") + API_BASE
    if fault is not None and fault.kind in ("429", "5xx", "primary", "secondary"):
        return Served(_finish(_fault_answer(fault, caller, quota), base, quota.peek(caller)), False)
    try:
        as_of = parse_as_of(decode_segment(raw[1])) if prefix else None
        segs = [decode_segment(s) for s in (raw[4:] if prefix else raw[2:])]
        if len(segs) > 1 and segs[-1] == "":
            segs.pop()
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=200)
    except ValueError as err:
        return Served(
            _finish(GitHubError(400, f"Bad Request: {err}").answer(), base, quota.peek(caller)), False
        )
    if segs == ["rate_limit"] and method in ("GET", "HEAD"):
        return Served(_finish(_rate_limit(quota.peek(caller)), base, quota.peek(caller)), False)
    window = quota.peek(caller)
    if window.remaining <= 0:
        return Served(_finish(_primary(caller, window.reset, window.limit), base, window), False)
    try:
        if method not in ("GET", "HEAD"):
            raise api.not_found()
        answer = _route(store, segs, pairs, headers.get("accept", ""), as_of, base + "/" + "/".join(segs))
    except GitHubError as err:
        answer = err.answer()
    except BadName as err:
        answer = GitHubError(404, "Not Found", str(err)).answer()
    etag = _etag(answer) if answer.status == 200 else None
    if etag is not None and _matches(headers.get("if-none-match"), etag):
        reply = _finish(Answer(304, b"", answer.content_type, [("ETag", etag)], rewrite=False), base, window)
        return Served(reply, False)
    charged = quota.charge(caller)
    if charged is None:  # another request took the last one meanwhile
        window = quota.peek(caller)
        return Served(_finish(_primary(caller, window.reset, window.limit), base, window), False)
    if etag is not None:
        answer.headers.append(("ETag", etag))
    return Served(_finish(answer, base, charged), True)


def _route(
    store: CodeStore,
    segs: list[str],
    pairs: list[tuple[str, str]],
    accept: str,
    as_of: datetime | None,
    self_url: str,
) -> Answer:
    if len(segs) < 3 or segs[0] != "repos":
        raise api.not_found()
    owner, name, rest = segs[1], segs[2], segs[3:]
    if not (is_repo_part(owner) and is_repo_part(name)):
        raise api.not_found()
    repo = api.open_repo(store, owner, name, rest, as_of)
    params = dict(pairs)
    if not rest:
        return api.get_repo(repo, as_of)
    if rest == ["commits"]:
        return api.list_commits(repo, pairs, as_of, self_url)
    if len(rest) >= 2 and rest[0] == "commits":
        return api.get_commit(repo, "/".join(rest[1:]), as_of)
    if len(rest) >= 2 and rest[0] == "branches":
        return api.get_branch(repo, "/".join(rest[1:]), as_of)
    if len(rest) >= 3 and rest[:2] == ["git", "trees"]:
        recursive = "recursive" in params  # GitHub: any value turns it on; omit it for one level
        return api.get_tree(repo, "/".join(rest[2:]), recursive, as_of)
    if rest[0] == "contents":
        path = check_file_path(rest[1:]) if len(rest) > 1 else ""
        return api.get_contents(repo, path, params.get("ref") or None, accept, as_of)
    if rest == ["license"]:
        return api.get_license(repo, params.get("ref") or None, as_of)
    raise api.not_found()


def _etag(answer: Answer) -> str:
    """A weak ETag over the stored-form body and its type: the same on every server and port."""
    digest = hashlib.sha256(answer.content_type.encode() + b"\n" + answer.body).hexdigest()
    return f'W/"{digest}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


def _rate_limit(window: Window) -> Answer:
    core = {"limit": window.limit, "used": window.used, "remaining": window.remaining, "reset": window.reset}
    search = {
        "limit": 30 if window.limit > 60 else 10,
        "used": 0,
        "remaining": 30 if window.limit > 60 else 10,
    }
    resources = {"core": core, "search": {**search, "reset": int(time.time()) + 60}}
    return api.json_answer({"resources": resources, "rate": core})


def _primary(caller: str, reset: int, limit: int, status: int = 403) -> Answer:
    who = "127.0.0.1" if caller == "anonymous" else "user ID 1"
    message = _PRIMARY.format(who=who) + (_ANONYMOUS_HINT if caller == "anonymous" else "")
    headers = [
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", "0"),
        ("X-RateLimit-Reset", str(reset)),
    ]
    return GitHubError(status, message, _RATE_DOC, headers).answer()


def _fault_answer(fault: Fault, caller: str, quota: Quota) -> Answer:
    if fault.kind == "primary":
        window = quota.peek(caller)
        return _primary(caller, int(time.time()) + fault.retry_after, window.limit, fault.limit_status)
    if fault.kind in ("secondary", "429"):
        status = 429 if fault.kind == "429" else fault.limit_status
        headers = [("Retry-After", str(fault.retry_after))]
        return GitHubError(status, _SECONDARY, _RATE_DOC, headers).answer()
    if fault.status == 503:  # as recorded: GitHub's 503 is an HTML page
        html = b"<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>"
        return Answer(503, html, "text/html", rewrite=False)
    body = api._dumps({"message": HTTPStatus(fault.status).phrase})
    return Answer(fault.status, body)


def _finish(answer: Answer, base: str, window: Window) -> Reply:
    """The reply on the wire: URLs naming this server, GitHub's rate-limit and cache headers."""
    body = answer.body.replace(GITHUB_API.encode(), base.encode()) if answer.rewrite else answer.body
    given = {name.lower() for name, _ in answer.headers}
    headers = [
        (n, v.replace(GITHUB_API, base) if n in ("Location", "Link") else v) for n, v in answer.headers
    ]
    headers += [(n, v) for n, v in window.headers() if n.lower() not in given]
    headers += [
        ("Cache-Control", "private, max-age=60, s-maxage=60"),
        ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP"),
        ("X-GitHub-Media-Type", "github.v3; format=json"),
        (
            "Access-Control-Expose-Headers",
            "ETag, Link, Location, Retry-After, X-RateLimit-Limit, "
            "X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset",
        ),
    ]
    return Reply(answer.status, body, answer.content_type, headers, is_json=answer.rewrite)
