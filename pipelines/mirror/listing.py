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
from typing import Any
from urllib.parse import urlencode

from pipelines.mirror.names import hub_date, micros
from pipelines.mirror.replies import Reply, bad_request, json_reply
from pipelines.mirror.store import MirrorStore, State

MAX_LIMIT = 1000
SORTS = ("lastModified", "createdAt", "downloads", "likes", "trendingScore")
# Expandable properties, as huggingface_hub 2.4.0 types them (hf_api.py ExpandModelProperty_T etc.).
MODEL_EXPAND = frozenset({
    "author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt", "disabled", "downloads",
    "downloadsAllTime", "evalResults", "gated", "gguf", "inference", "inferenceProviderMapping", "lastModified",
    "library_name", "likes", "mask_token", "model-index", "pipeline_tag", "private", "resourceGroup",
    "safetensors", "sha", "siblings", "spaces", "tags", "transformersInfo", "trendingScore", "usedStorage",
    "widgetData",
})
DATASET_EXPAND = frozenset({
    "author", "cardData", "citation", "createdAt", "description", "disabled", "downloads", "downloadsAllTime",
    "gated", "lastModified", "likes", "mainSize", "paperswithcode_id", "private", "resourceGroup", "sha",
    "siblings", "tags", "trendingScore", "usedStorage",
})
# Accepted by /api/models/{id} only, not by the listing (huggingface_hub PR #3182).
_INFO_ONLY = frozenset({"baseModels", "childrenModelCount", "usedStorage"})
_MODEL_DEFAULT = ("likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name",
                  "createdAt")
_MODEL_FULL = ("author", "gated", "lastModified", "sha", "siblings", "disabled", "private")
_DATASET_DEFAULT = ("author", "sha", "lastModified", "private", "gated", "disabled", "likes", "trendingScore",
                    "tags", "description", "downloads", "createdAt")
_DEFAULTS: dict[str, Any] = {"private": False, "disabled": False, "gated": False, "downloads": 0, "likes": 0,
                             "trendingScore": 0, "tags": []}
_CURSOR_KEY = b"hub-mirror/1 cursor"


def is_true(value: str | None) -> bool:
    """A boolean query flag as clients send it (`true`, `True`, `1`)."""
    return (value or "").lower() in ("true", "1", "yes")


def expandable(kind: str, listing: bool) -> frozenset[str]:
    """The expand values accepted for a kind, on the listing or on the single-repo endpoint."""
    props = MODEL_EXPAND if kind == "models" else DATASET_EXPAND
    return props - _INFO_ONLY if listing else props


def check_expand(kind: str, values: list[str], listing: bool) -> list[str]:
    """Refuse unknown expand values with a 400, like the Hub; keep order, drop repeats."""
    allowed = expandable(kind, listing)
    for value in values:
        if value not in allowed:
            raise bad_request(f'"expand" must be one of {sorted(allowed)}, got {value!r}')
    return list(dict.fromkeys(values))


def _prop(store: MirrorStore, state: State, info: dict[str, Any], name: str, listing: bool) -> tuple[bool, Any]:
    """(present?, value) of one property of a repo state; state-derived fields win over info.json."""
    if name == "sha":
        return True, state.commit.id
    if name == "lastModified":
        return True, hub_date(state.commit.date)
    if name == "createdAt":
        return True, store.created_at(state)
    if name == "author":
        return True, store.record(state).author
    if name == "siblings":
        siblings = info.get("siblings")
        if not isinstance(siblings, list):
            siblings = [{"rfilename": f} for f in store.revision_files(state)]
        if listing:  # list responses carry only rfilename (no size, blobId, lfs)
            siblings = [{"rfilename": s.get("rfilename")} for s in siblings if isinstance(s, dict)]
        return True, siblings
    if name in info:
        return True, info[name]
    if name in _DEFAULTS:
        return True, _DEFAULTS[name]
    return False, None


def build_item(store: MirrorStore, state: State, names: list[str], listing: bool,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """`_id`, `id`, then the named properties that the state has, then `extra`."""
    info = store.info(state.repo.kind, state.repo.id, state.folder)
    item: dict[str, Any] = {"_id": store.record(state).oid, "id": state.repo.id}
    for name in names:
        present, value = _prop(store, state, info, name, listing)
        if present:
            item[name] = value
    item.update(extra or {})
    return item


def ordered(store: MirrorStore, kind: str, as_of: datetime | None, sort: str, descending: bool
            ) -> tuple[list[tuple], list[State]]:
    """Every repo existing as of T, sorted (ties by id): (sort keys, states), memoised per query shape."""
    def compute() -> tuple[list[tuple], list[State]]:
        rows = []
        for repo in store.repos(kind).values():
            state = repo.state_at(as_of)
            if state is not None:
                rows.append((sort_key(store, state, sort, descending), state))
        rows.sort(key=lambda r: r[0])
        return [r[0] for r in rows], [r[1] for r in rows]

    return store.memo(("ordered", kind, None if as_of is None else micros(as_of), sort, descending), compute)


def sort_key(store: MirrorStore, state: State, sort: str, descending: bool) -> tuple[float, str]:
    """(value, repo id); a missing count sorts as the 0 it is shown as, and ties go by id ascending."""
    if sort == "lastModified":
        value: float = state.commit.us
    elif sort == "createdAt":
        value = store.record(state).created_us
    else:
        rec = store.record(state)
        value = {"downloads": rec.downloads, "likes": rec.likes, "trendingScore": rec.trending}[sort] or 0
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
        if made_for != shape or isinstance(value, bool) or not isinstance(value, int | float) \
                or not isinstance(repo_id, str):
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
        rec = store.record(state)
        if self.pipeline_tag and rec.pipeline_tag != self.pipeline_tag:
            return False
        if self.gated is not None and rec.gated != self.gated:
            return False
        return all(f in rec.tags for f in self.filters)

    def fields(self, kind: str) -> list[str]:
        """The property names of one item, in order."""
        if self.expand:
            return self.expand
        names = list(_MODEL_DEFAULT if kind == "models" else _DATASET_DEFAULT)
        if "full" in self.flags:
            names += _MODEL_FULL if kind == "models" else ("cardData", "siblings")
        if "cardData" in self.flags:
            names.append("cardData")
        if "config" in self.flags:
            names.append("config")
        return list(dict.fromkeys(names))


def list_repos(store: MirrorStore, kind: str, pairs: list[tuple[str, str]], as_of: datetime | None,
               page_size: int, next_base: str) -> Reply:
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
    names = query.fields(kind)
    with_model_id = kind == "models" and not query.expand  # the default item repeats id as modelId
    items = [build_item(store, states[i], names, listing=True,
                        extra={"modelId": states[i].repo.id} if with_model_id else None) for i in page]
    headers = []
    if more:
        kept = [(k, v) for k, v in pairs if k != "cursor"]
        url = f"{next_base}?{urlencode(kept + [('cursor', encode_cursor(query.shape, keys[page[-1]]))])}"
        headers.append(("Link", f'<{url}>; rel="next"'))
    return json_reply(items, headers=headers)
