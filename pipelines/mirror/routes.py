"""Routing one Hub or arXiv request (method, raw path, raw query) to its handler; no sockets here.

Paths are split on '/' BEFORE percent-decoding, so an encoded slash can never join two segments, and
every name is checked against the Hub's grammar before the store is asked for anything.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, parse_qsl

from pipelines.mirror import repos
from pipelines.mirror.layout import KINDS
from pipelines.mirror.listing import list_repos
from pipelines.mirror.names import (
    BadName,
    check_file_path,
    check_repo_id,
    check_revision,
    decode_segment,
    is_repo_part,
    parse_as_of,
)
from pipelines.mirror.replies import HubError, Reply, bad_request
from pipelines.mirror.store import MirrorStore

MAX_FIELDS = 200  # query parameters per request


def bucket_of(path: str) -> str:
    """The rate-limit bucket a request path falls in (the Hub's `api`/`resolvers`/`pages`, plus `arxiv`)."""
    if "/resolve/" in path:
        return "resolvers"
    if path.startswith("/arxiv/") or "/arxiv/api/" in path:
        return "arxiv"
    return "api" if "/api/" in path else "pages"


def split_as_of(path: str) -> tuple[datetime | None, list[str]]:
    """Strip an `/as-of/<date or datetime>` prefix; returns (T or None, the remaining raw segments)."""
    segments = path.split("/")[1:]
    if segments[:1] != ["as-of"]:
        return None, segments
    if len(segments) < 3:
        raise BadName("as-of needs a date and a path")
    return parse_as_of(decode_segment(segments[1])), segments[2:]


def route(
    store: MirrorStore,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    page_size: int,
    origin: str,
) -> Reply:
    """Answer one GET/HEAD request for `path?query`; `origin` is "http://host:port" for Link headers."""
    try:
        as_of, raw = split_as_of(path)
        segs = [decode_segment(s) for s in raw]
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as err:  # a bad name or as-of value (BadName), or too many query fields
        raise bad_request(str(err)) from err
    if len(segs) > 1 and segs[-1] == "" and "resolve" not in segs:
        segs.pop()  # a trailing slash on an API path
    try:
        return _dispatch(store, segs, pairs, query, as_of, headers, page_size, origin + path)
    except BadName as err:
        raise bad_request(str(err)) from err


def _dispatch(
    store: MirrorStore,
    segs: list[str],
    pairs: list[tuple[str, str]],
    query: str,
    as_of: datetime | None,
    headers: dict[str, str],
    page_size: int,
    self_url: str,
) -> Reply:
    n = len(segs)
    if n >= 2 and segs[0] == "api" and segs[1] in KINDS:
        kind = segs[1]
        if n == 2:
            return list_repos(store, kind, pairs, as_of, page_size, self_url)
        if n == 3:  # ids without a namespace (legacy canonical names) are not part of hub-mirror/1
            unrecorded = kind in store.load().unrecorded and is_repo_part(segs[2])
            raise repos.repo_not_found(unrecorded=kind if unrecorded else None)
        repo_id = check_repo_id(segs[2], segs[3])
        if n == 4:
            return repos.repo_info(store, kind, repo_id, "main", pairs, as_of)
        if n >= 6 and segs[4] == "revision":
            rev = check_revision("/".join(segs[5:]))
            return repos.repo_info(store, kind, repo_id, rev, pairs, as_of)
        if n >= 6 and segs[4] == "commits":
            rev = check_revision("/".join(segs[5:]))
            return repos.repo_commits(store, kind, repo_id, rev, pairs, as_of, self_url)
    elif n >= 3 and segs[:2] == ["api", "papers"]:
        return repos.paper(store, "/".join(segs[2:]))
    elif segs == ["arxiv", "api", "query"]:
        return repos.arxiv_query(store, parse_qs(query, keep_blank_values=True, max_num_fields=MAX_FIELDS))
    elif n >= 6 and segs[0] == "datasets" and segs[3] == "resolve":
        return _file(store, "datasets", segs[1:], as_of, headers)
    elif n >= 5 and segs[2] == "resolve":
        return _file(store, "models", segs, as_of, headers)
    elif n >= 2 and segs[1] == "resolve":
        raise repos.repo_not_found()
    raise HubError(404, "Not Found")


def _file(
    store: MirrorStore, kind: str, segs: list[str], as_of: datetime | None, headers: dict[str, str]
) -> Reply:
    repo_id = check_repo_id(segs[0], segs[1])
    rev = check_revision(segs[3])
    rel = check_file_path(segs[4:])
    return repos.resolve_file(
        store, kind, repo_id, rev, rel, as_of, headers.get("authorization"), headers.get("range")
    )
