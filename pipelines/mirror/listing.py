"""`GET /api/models` and `GET /api/datasets`: search, filters, sort, expand, and cursor pagination.

Pages follow the Hub's contract as huggingface_hub reads it: a JSON array, and while more remain a
`Link: <absolute next URL with every original parameter and a cursor>; rel="next"` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from bisect import bisect_right
from datetime import datetime
from urllib.parse import urlencode

from pipelines.mirror.items import build_item, check_expand, item_fields, record
from pipelines.mirror.names import micros
from pipelines.mirror.provenance import info_kinds, mark
from pipelines.mirror.replies import UNRECORDED_HEADER, Reply, bad_request, json_reply
from pipelines.mirror.store import MirrorStore, State

MAX_LIMIT = 1000
SORTS = ("lastModified", "createdAt", "downloads", "likes", "trendingScore")
_CURSOR_KEY = b"hub-mirror/1 cursor"


def is_true(value: str | None) -> bool:
    """A boolean query flag as clients send it (`true`, `True`, `1`)."""
    return (value or "").lower() in ("true", "1", "yes")


def ordered(
    store: MirrorStore, kind: str, as_of: datetime | None, sort: str, descending: bool
) -> tuple[list[tuple], list[State]]:
    """Every repo existing as of T, sorted (ties by id): (sort keys, states), memoised per query shape."""

    def compute() -> tuple[list[tuple], list[State]]:
        rows = []
        for repo in store.repos(kind).values():
            state = repo.state_at(as_of)
            if state is not None:
                rows.append((sort_key(store, state, sort, descending, as_of), state))
        rows.sort(key=lambda r: r[0])
        return [r[0] for r in rows], [r[1] for r in rows]

    return store.memo(("ordered", kind, None if as_of is None else micros(as_of), sort, descending), compute)


def sort_key(
    store: MirrorStore, state: State, sort: str, descending: bool, as_of: datetime | None = None
) -> tuple[float, str]:
    """(value, repo id); a missing count sorts as the 0 it is shown as, and ties go by id ascending. A count
    is the repo's metrics.json entry as of `as_of` where there is one, else the revision's info.json."""
    if sort == "lastModified":
        value: float = state.commit.us
    elif sort == "createdAt":
        value = record(store, state).created_us
    else:
        rec = record(store, state)
        value = {"downloads": rec.downloads, "likes": rec.likes, "trendingScore": rec.trending}[sort] or 0
        dated = store.metrics_at(state.repo, as_of).get(sort)
        value = dated if dated is not None else value
    return (-value if descending else value, state.repo.id)


def _sign(payload: bytes) -> str:
    return hmac.new(_CURSOR_KEY, payload, hashlib.sha256).hexdigest()[:16]


def encode_cursor(shape: list, key: tuple) -> str:
    """An opaque cursor for "after this sort key" in a listing of this shape: urlsafe base64 of signed JSON."""
    payload = json.dumps([*shape, *key], separators=(",", ":"))
    raw = json.dumps({"k": payload, "s": _sign(payload.encode())}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(shape: list, cursor: str) -> tuple:
    """The sort key a cursor points after; a tampered cursor, or one made for another sort, is a 400."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        payload = raw["k"]
        if not hmac.compare_digest(raw["s"], _sign(payload.encode())):
            raise ValueError("bad signature")
        *made_for, value, repo_id = json.loads(payload)
        if (
            made_for != shape
            or isinstance(value, bool)
            or not isinstance(value, int | float)
            or not isinstance(repo_id, str)
        ):
            raise ValueError("bad key")
    except (ValueError, KeyError, TypeError) as err:
        raise bad_request("Invalid cursor") from err
    return (value, repo_id)


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as err:
        raise bad_request(f"{name} must be an integer") from err


class _Query:
    """The listing parameters of one request."""

    def __init__(self, kind: str, pairs: list[tuple[str, str]], page_size: int) -> None:
        params: dict[str, list[str]] = {}
        for key, value in pairs:
            params.setdefault(key, []).append(value)
        last = {k: v[-1] for k, v in params.items()}
        self.search = [s.lower() for s in params.get("search", []) if s]
        self.author = last.get("author", "").lower()
        self.filters = [f for f in params.get("filter", []) if f]
        self.pipeline_tag = last.get("pipeline_tag") or None
        self.gated = None if "gated" not in last else is_true(last["gated"])
        self.sort = last.get("sort") or "trendingScore"  # the Hub's default sort
        if self.sort not in SORTS:
            raise bad_request(f"Invalid sort {self.sort!r}")
        self.descending = last.get("direction", "-1") in ("-1", "")  # the Hub: -1 descending, else ascending
        self.limit = page_size if not last.get("limit") else _int(last["limit"], "limit")
        if self.limit < 1:
            raise bad_request("limit must be a positive integer")
        self.limit = min(self.limit, MAX_LIMIT)
        flags = {k for k in ("full", "cardData", "config") if is_true(last.get(k))}
        self.expand = check_expand(kind, params.get("expand", []), listing=True)
        if self.expand and flags:
            raise bad_request(f"'expand' cannot be combined with {sorted(flags)}")
        self.flags = flags
        self.shape = [kind, self.sort, self.descending]
        self.cursor = decode_cursor(self.shape, last["cursor"]) if last.get("cursor") else None

    def matches(self, store: MirrorStore, state: State) -> bool:
        """True when a repo state passes search, author and every filter."""
        repo_id = state.repo.id
        if any(s not in repo_id.lower() for s in self.search):
            return False
        if self.author and repo_id.split("/")[0].lower() != self.author:
            return False
        if not (self.filters or self.pipeline_tag or self.gated is not None):
            return True
        rec = record(store, state)
        if self.pipeline_tag and rec.pipeline_tag != self.pipeline_tag:
            return False
        if self.gated is not None and rec.gated != self.gated:
            return False
        return all(f in rec.tags for f in self.filters)


def list_repos(
    store: MirrorStore,
    kind: str,
    pairs: list[tuple[str, str]],
    as_of: datetime | None,
    page_size: int,
    next_base: str,
) -> Reply:
    """One page of the listing; `next_base` is the absolute URL (with any as-of prefix) for the Link."""
    query = _Query(kind, pairs, page_size)
    keys, states = ordered(store, kind, as_of, query.sort, query.descending)
    pos = 0 if query.cursor is None else bisect_right(keys, query.cursor)
    page: list[int] = []
    i = pos
    while i < len(states) and len(page) < query.limit:
        if query.matches(store, states[i]):
            page.append(i)
        i += 1
    more = any(query.matches(store, states[j]) for j in range(i, len(states))) if page else False
    names = item_fields(kind, query.expand, query.flags)
    with_model_id = kind == "models" and not query.expand  # the default item repeats id as modelId
    items = [
        build_item(
            store,
            states[i],
            names,
            listing=True,
            extra={"modelId": states[i].repo.id} if with_model_id else None,
            as_of=as_of,
        )
        for i in page
    ]
    headers = []
    if more:
        kept = [(k, v) for k, v in pairs if k != "cursor"]
        url = f"{next_base}?{urlencode(kept + [('cursor', encode_cursor(query.shape, keys[page[-1]]))])}"
        headers.append(("Link", f'<{url}>; rel="next"'))
    if kind in store.unrecorded:  # the listing holds only what was recorded, not the Hub's repos
        headers.append((UNRECORDED_HEADER, kind))
    kinds = set().union(*(info_kinds(store, states[i]) for i in page))
    return mark(json_reply(items, headers=headers), kinds)
