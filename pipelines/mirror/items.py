"""What one repo looks like in a listing or a single-repo answer: default fields, `full`, and `expand`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.mirror.layout import parse_date
from pipelines.mirror.names import hub_date, micros
from pipelines.mirror.replies import bad_request
from pipelines.mirror.store import MirrorStore, State

# Expandable properties, as huggingface_hub 2.4.0 types them (hf_api.py ExpandModelProperty_T etc.).
MODEL_EXPAND = frozenset(
    {
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "usedStorage",
        "widgetData",
    }
)
DATASET_EXPAND = frozenset(
    {
        "author",
        "cardData",
        "citation",
        "createdAt",
        "description",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "gated",
        "lastModified",
        "likes",
        "mainSize",
        "paperswithcode_id",
        "private",
        "resourceGroup",
        "sha",
        "siblings",
        "tags",
        "trendingScore",
        "usedStorage",
    }
)
# Accepted by /api/models/{id} only, not by the listing (huggingface_hub PR #3182).
_INFO_ONLY = frozenset({"baseModels", "childrenModelCount", "usedStorage"})
_MODEL_DEFAULT = (
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)
_MODEL_FULL = ("author", "gated", "lastModified", "sha", "siblings", "disabled", "private")
_DATASET_DEFAULT = (
    "author",
    "sha",
    "lastModified",
    "private",
    "gated",
    "disabled",
    "likes",
    "trendingScore",
    "tags",
    "description",
    "downloads",
    "createdAt",
)
_DEFAULTS: dict[str, Any] = {
    "private": False,
    "disabled": False,
    "gated": False,
    "downloads": 0,
    "likes": 0,
    "trendingScore": 0,
    "tags": [],
}


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


@dataclass(frozen=True)
class Record:
    """The listing fields of one revision folder (what filters and sorts need), kept small for caching."""

    oid: str
    author: str
    tags: frozenset[str]
    downloads: float | None
    likes: float | None
    trending: float | None
    created_us: int
    gated: bool
    pipeline_tag: str | None


def record(store: MirrorStore, state: State) -> Record:
    """The listing fields of the folder that answers a state, read once and kept."""
    key = (state.repo.kind, state.repo.id, state.folder)
    rec = store.records.get(key)
    if rec is None:
        rec = store.records[key] = _make_record(store, state)  # a race only computes the same value twice
    return rec


def _make_record(store: MirrorStore, state: State) -> Record:
    info = store.info(state.repo.kind, state.repo.id, state.folder)
    tags = {t for t in info.get("tags") or () if isinstance(t, str)}
    tags.update(v for v in (info.get("pipeline_tag"), info.get("library_name")) if isinstance(v, str))
    try:
        created_us = micros(parse_date(store.created_at(state)))
    except (ValueError, TypeError):
        created_us = micros(state.repo.created)
    oid = info.get("_id")
    return Record(
        oid=oid if isinstance(oid, str) and oid else state.repo.oid,
        author=str(info.get("author") or state.repo.id.split("/")[0]),
        tags=frozenset(tags),
        downloads=_number(info.get("downloads")),
        likes=_number(info.get("likes")),
        trending=_number(info.get("trendingScore")),
        created_us=created_us,
        gated=bool(info.get("gated")),
        pipeline_tag=info.get("pipeline_tag") if isinstance(info.get("pipeline_tag"), str) else None,
    )


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def item_fields(kind: str, expand: list[str], flags: set[str]) -> list[str]:
    """The property names of one listing item, in order: `expand` alone, else the defaults plus the flags."""
    if expand:
        return expand
    names = list(_MODEL_DEFAULT if kind == "models" else _DATASET_DEFAULT)
    if "full" in flags:
        names += _MODEL_FULL if kind == "models" else ("cardData", "siblings")
    if "cardData" in flags:
        names.append("cardData")
    if "config" in flags:
        names.append("config")
    return list(dict.fromkeys(names))


def _prop(
    store: MirrorStore, state: State, info: dict[str, Any], name: str, listing: bool
) -> tuple[bool, Any]:
    """(present?, value) of one property of a repo state; state-derived fields win over info.json."""
    if name == "sha":
        return True, state.commit.id
    if name == "lastModified":
        return True, hub_date(state.commit.date)
    if name == "createdAt":
        return True, store.created_at(state)
    if name == "author":
        return True, record(store, state).author
    if name == "siblings":
        siblings = info.get("siblings")
        if not isinstance(siblings, list):
            return False, None  # the file list is not recorded: left out, so a client sees it as unknown
        if listing:  # list responses carry only rfilename (no size, blobId, lfs)
            siblings = [{"rfilename": s.get("rfilename")} for s in siblings if isinstance(s, dict)]
        return True, siblings
    if name == "inferenceProviderMapping" and listing and isinstance(info.get(name), dict):
        # Recorded as the single-model endpoint answers it (an object keyed by provider); listings answer a
        # list whose entries name their provider (reference/hub-api.md 1.3).
        return True, [{"provider": k, **v} for k, v in info[name].items() if isinstance(v, dict)]
    if name in info:
        return True, info[name]
    if name in _DEFAULTS:
        return True, _DEFAULTS[name]
    return False, None


def build_item(
    store: MirrorStore,
    state: State,
    names: list[str],
    listing: bool,
    extra: dict[str, Any] | None = None,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """`_id`, `id`, then the named properties that the state has, then `extra`; the usage counts are the
    repo's metrics.json as of `as_of` where it has an entry by then (else the revision's info.json)."""
    info = store.info(state.repo.kind, state.repo.id, state.folder)
    counts = store.metrics_at(state.repo, as_of)
    if counts:
        info = {**info, **counts}
    item: dict[str, Any] = {"_id": record(store, state).oid, "id": state.repo.id}
    for name in names:
        present, value = _prop(store, state, info, name, listing)
        if present:
            item[name] = value
    item.update(extra or {})
    return item
