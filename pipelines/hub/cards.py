"""Parse a model card (README.md) into the facts the openness rubric needs; pure, never raises."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from pipelines.card_text import MAX_CARD_BYTES, REGEX_YAML_BLOCK, card_arxiv_ids, decode_readme
from pipelines.code_links import find_code_urls

# Limits that make a hostile front matter cheap to refuse (billion laughs, deep nesting, huge blocks).
MAX_YAML_CHARS = 1_000_000
MAX_YAML_EVENTS = 300_000
MAX_YAML_ALIASES = 64
MAX_YAML_ANCHORS = 64
MAX_YAML_DEPTH = 64
MAX_METADATA_NODES = 100_000

_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


@dataclass(frozen=True)
class CardFacts:
    """What one README says, as plain JSON-safe values."""

    readme_status: str  # ok | missing | malformed_yaml | non_utf8 | oversized
    yaml_error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    license_raw: str | None = None
    license_name: str | None = None
    license_link: str | None = None
    datasets: list[str] = field(default_factory=list)
    base_models: list[str] = field(default_factory=list)
    base_model_relation: str | None = None
    arxiv_ids: list[str] = field(default_factory=list)
    invalid_arxiv_ids: list[str] = field(default_factory=list)  # linked tokens that are not arXiv ids
    code_urls: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    card_bytes: int = 0
    body_chars: int = 0
    has_model_index: bool = False
    pipeline_tag: str | None = None
    library_name: str | None = None
    languages: list[str] = field(default_factory=list)
    eval_datasets: list[str] = field(default_factory=list)  # model-index results[].dataset type/name
    card_sha256: str | None = None

    def revision_columns(self) -> dict[str, Any]:
        """The REVISIONS_SCHEMA card columns this card determines."""
        return {
            "license_raw": self.license_raw,
            "license_name": self.license_name,
            "license_link": self.license_link,
            "datasets": list(self.datasets),
            "arxiv_ids": list(self.arxiv_ids),
            "code_urls": list(self.code_urls),
            "base_models": list(self.base_models),
            "base_model_relation": self.base_model_relation,
            "pipeline_tag": self.pipeline_tag,
            "library_name": self.library_name,
            "readme_status": self.readme_status,
            "card_sha256": self.card_sha256,
            "card_bytes": self.card_bytes if self.readme_status != "missing" else None,
            "card_sections": list(self.sections),
            "has_model_index": self.has_model_index,
            "card_yaml_error": self.yaml_error,
        }


class _YamlRefused(ValueError):
    """The front matter breaks a safety limit."""


def parse_card(raw: bytes | None, *, max_bytes: int = MAX_CARD_BYTES) -> CardFacts:
    """Parse README bytes into CardFacts; any input gives a result, never an exception."""
    try:
        return _parse(raw, max_bytes)
    except Exception as exc:  # the contract is "never raises"; keep the reason
        return CardFacts(
            readme_status="malformed_yaml", yaml_error=f"unexpected: {type(exc).__name__}: {exc}"[:500]
        )


def _parse(raw: bytes | None, max_bytes: int) -> CardFacts:
    if raw is None:
        return CardFacts(readme_status="missing", card_bytes=0)
    raw = bytes(raw)
    card_bytes = len(raw)
    sha = hashlib.sha256(raw).hexdigest()
    oversized = card_bytes > max_bytes
    text, utf8_ok = decode_readme(raw[:max_bytes] if oversized else raw, truncated=oversized)
    status = "oversized" if oversized else ("non_utf8" if not utf8_ok else "ok")

    match = REGEX_YAML_BLOCK.search(text)
    yaml_text = match.group(2) if match else ""
    body = text[match.end() :] if match else text
    metadata: dict[str, Any] = {}
    yaml_error: str | None = None
    if match:
        try:
            loaded = _load_yaml(yaml_text)
            if loaded is None:
                loaded = {}
            if not isinstance(loaded, dict):
                raise _YamlRefused("repo card metadata block should be a dict")
            metadata = loaded
        except Exception as exc:  # any YAML failure is data, recorded as yaml_error
            yaml_error = f"{type(exc).__name__}: {exc}"[:500]
            if status == "ok":
                status = "malformed_yaml"

    arxiv_ids, invalid_arxiv = card_arxiv_ids(text, yaml_text)
    return CardFacts(
        readme_status=status,
        yaml_error=yaml_error,
        metadata=metadata,
        license_raw=_license_text(metadata.get("license")),
        license_name=_scalar_text(metadata.get("license_name")),
        license_link=_scalar_text(metadata.get("license_link")),
        datasets=_str_list(metadata.get("datasets")),
        base_models=_str_list(metadata.get("base_model")),
        base_model_relation=_scalar_text(metadata.get("base_model_relation")),
        arxiv_ids=arxiv_ids,
        invalid_arxiv_ids=invalid_arxiv,
        code_urls=find_code_urls(text),
        sections=_sections(body),
        card_bytes=card_bytes,
        body_chars=len(body),
        has_model_index=_has_results(metadata.get("model-index")),
        pipeline_tag=_scalar_text(metadata.get("pipeline_tag")),
        library_name=_scalar_text(metadata.get("library_name")),
        languages=_str_list(metadata.get("language")),
        eval_datasets=_eval_datasets(metadata.get("model-index")),
        card_sha256=sha,
    )


def _load_yaml(text: str) -> Any:
    """yaml safe_load behind limits checked on the event stream, before anything is built."""
    if len(text) > MAX_YAML_CHARS:
        raise _YamlRefused(f"front matter larger than {MAX_YAML_CHARS} characters")
    events = aliases = anchors = depth = 0
    for event in yaml.parse(text, Loader=_SafeBase):
        events += 1
        if events > MAX_YAML_EVENTS:
            raise _YamlRefused(f"more than {MAX_YAML_EVENTS} YAML events")
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise _YamlRefused(f"more than {MAX_YAML_ALIASES} aliases (alias bomb?)")
        elif getattr(event, "anchor", None) is not None:
            anchors += 1
            if anchors > MAX_YAML_ANCHORS:
                raise _YamlRefused(f"more than {MAX_YAML_ANCHORS} anchors")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise _YamlRefused(f"nesting deeper than {MAX_YAML_DEPTH}")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    budget = [MAX_METADATA_NODES]
    return _json_safe(yaml.load(text, Loader=_SafeBase), budget)  # a safe loader: no Python objects


def _json_safe(value: Any, budget: list[int]) -> Any:
    """Copy into JSON-safe types; the node budget bounds what shared aliases can expand to."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _YamlRefused(f"metadata expands to more than {MAX_METADATA_NODES} nodes")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        # Beyond 2**53 a JSON reader that uses doubles (JavaScript, many SQL engines) loses digits: keep the text.
        return value if -(2**53) <= value <= 2**53 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {_key_text(k): _json_safe(v, budget) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, budget) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_json_safe(v, budget) for v in value), key=str)
    return str(value)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (dt.date, dt.datetime)):
        return key.isoformat()
    return str(key).lower() if isinstance(key, bool) or key is None else str(key)


def _scalar_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip() if not isinstance(value, bool) else str(value).lower()
    return text or None


def _license_text(value: Any) -> str | None:
    if isinstance(value, list):
        parts = [p for p in (_scalar_text(v) for v in value) if p]
        return ",".join(parts) or None
    return _scalar_text(value)


def _str_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        text = _scalar_text(item)
        if text and text not in out:
            out.append(text)
    return out


def _has_results(model_index: Any) -> bool:
    """True when model-index declares at least one result (Trainer stubs carry `results: []`)."""
    if not isinstance(model_index, list):
        return False
    return any(
        isinstance(e, dict) and isinstance(e.get("results"), list) and e["results"] for e in model_index
    )


def _eval_datasets(model_index: Any) -> list[str]:
    out: list[str] = []
    for entry in model_index if isinstance(model_index, list) else []:
        for result in (entry.get("results") if isinstance(entry, dict) else None) or []:
            ds = result.get("dataset") if isinstance(result, dict) else None
            name = _scalar_text(ds.get("type") or ds.get("name")) if isinstance(ds, dict) else None
            if name and name not in out:
                out.append(name)
    return out


def _sections(body: str) -> list[str]:
    """Lower-cased ATX headings outside fenced code blocks (a `# comment` in code is not a heading)."""
    out: list[str] = []
    fenced = False
    for line in body.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or "#" not in line[:4]:
            continue
        m = _HEADING.match(line)
        if m:
            title = " ".join(m.group(1).replace("*", "").replace("`", "").split()).lower()
            if title:
                out.append(title)
    return out
