"""Deriving a Hub-format info.json from a model card, for revisions the reference has no API body for.

Only what the card itself says is used; each derivation is reported back so that the builder can list it
in mirror.json's reconstructions.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

# The regex huggingface_hub 2.4.0 uses for the front matter block (repocard.py).
FRONT_MATTER_RE = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
ARXIV_RE = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|huggingface\.co/papers/)"
    r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})",
    re.IGNORECASE,
)
WEIGHT_EXTENSIONS = ("bin", "safetensors", "ckpt", "pt", "pth", "gguf", "sbs", "h5", "msgpack", "onnx", "ot")
LOAD_RE = re.compile(
    r"from_pretrained|pipeline\(|hf_hub_download|snapshot_download|huggingface-cli download", re.IGNORECASE
)
# Sentences with which a card states that this very repo holds the weights.
WEIGHTS_HERE_RE = re.compile(
    r"this is the repository for the [^.\n]*model"
    r"|downloading our model weights from the hugging ?face repo"
    r"|this is a compressed version of the weights",
    re.IGNORECASE,
)
# Gate wording that says a person reviews each request (else the Hub's automatic approval is assumed).
MANUAL_GATE_RE = re.compile(r"will be processed in|will not be approved|reviewed by|manually", re.IGNORECASE)
GENERIC_WEIGHTS = "model.safetensors"


@dataclass
class CardFacts:
    """What the builder derived from a card, and how (for the reconstructions list)."""

    info: dict[str, Any]
    weights: str  # named | generic | none | no-readme: what the card shows (used to infer the library only)
    gated_inferred: bool = False
    library_inferred: bool = False
    base_relation_inferred: bool = False
    parse_error: str | None = None
    notes: list[str] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The card's YAML front matter as yaml.safe_load reads it (None if absent) and a parse error, if any."""
    m = FRONT_MATTER_RE.match(text)
    if not m:
        return None, None
    try:
        data = yaml.safe_load(m.group(2))
    except yaml.YAMLError as exc:
        return None, f"YAML error: {exc}"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return None, "front matter is not a mapping"
    return data, None


def json_safe(value: Any) -> Any:
    """YAML values made JSON-safe the way the Hub shows them (dates as ISO strings, keys as strings)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def arxiv_ids(text: str) -> list[str]:
    """arXiv ids linked from card text (arxiv.org/abs|pdf, huggingface.co/papers), in order of appearance."""
    seen: dict[str, None] = {}
    for m in ARXIV_RE.finditer(text):
        seen.setdefault(m.group(1), None)
    return list(seen)


def weights_in_card(text: str, repo_id: str) -> tuple[str, list[str]]:
    """Whether the card shows weights in this repo: ('named', files) | ('generic', []) | ('none', [])."""
    link = re.compile(
        r"huggingface\.co/"
        + re.escape(repo_id)
        + r"/(?:resolve|blob)/[^/\s)\"']+/([^\s)\"'?#]+\.(?:"
        + "|".join(WEIGHT_EXTENSIONS)
        + r"))\b",
        re.IGNORECASE,
    )
    named = sorted({m.group(1) for m in link.finditer(text)})
    if named:
        return "named", named
    quoted = re.search(r"[\"']" + re.escape(repo_id) + r"[\"']", text, re.IGNORECASE)
    if (quoted and LOAD_RE.search(text)) or WEIGHTS_HERE_RE.search(text):
        return "generic", [GENERIC_WEIGHTS]
    return "none", []


def inferred_library(text: str, weights: str) -> str | None:
    """Library a card loads this repo with, when it shows weights here and imports that library."""
    if weights == "none":
        return None
    if re.search(r"from diffusers import|import diffusers", text):
        return "diffusers"
    if re.search(r"from transformers import|import transformers|🤗 Transformers", text):
        return "transformers"
    return None


def gate_mode(meta: dict[str, Any]) -> str | bool:
    """`gated` as the card's extra_gated_* fields suggest: False, "auto", or "manual" if a person reviews."""
    gate = {k: v for k, v in meta.items() if str(k).startswith("extra_gated_")}
    if not gate:
        return False
    wording = " ".join(str(v) for v in gate.values())
    return "manual" if MANUAL_GATE_RE.search(wording) else "auto"


def compute_tags(meta: dict[str, Any], text: str, library: str | None) -> list[str]:
    """Hub-style tags from the card: library, task, card tags, languages, datasets, arXiv, base model, licence."""
    tags: list[str] = []
    tags += [library] if library else []
    tags += _as_list(meta.get("pipeline_tag"))
    tags += _as_list(meta.get("tags"))
    tags += _as_list(meta.get("language"))
    tags += [f"dataset:{d}" for d in _as_list(meta.get("datasets"))]
    tags += [f"arxiv:{a}" for a in arxiv_ids(text)]
    bases = _as_list(meta.get("base_model"))
    relation = meta.get("base_model_relation") or ("merge" if len(bases) > 1 else "finetune")
    for base in bases:
        tags += [f"base_model:{base}", f"base_model:{relation}:{base}"]
    tags += [f"license:{lic}" for lic in _as_list(meta.get("license"))]
    tags.append("region:us")
    return list(dict.fromkeys(tags))


def card_facts(repo_id: str, sha: str, date: str, readme: bytes | None, repo: dict[str, Any]) -> CardFacts:
    """info.json for one revision, derived from its README (or its absence) and the repo's known facts."""
    # `siblings` is left out: the reference records a revision's README and sometimes its licence file
    # names, never its whole file list, and a partial list would read as "these files only" (no weights).
    org = repo_id.split("/")[0]
    info: dict[str, Any] = {"_id": repo["_id"], "id": repo_id, "private": False}
    if readme is None:
        info.update(
            tags=["region:us"],
            modelId=repo_id,
            author=org,
            sha=sha,
            lastModified=date,
            gated=False,
            disabled=False,
            createdAt=repo["createdAt"],
        )
        return CardFacts(info, "no-readme")
    text = readme.decode("utf-8")
    meta, error = split_front_matter(text)
    weights, _weight_files = weights_in_card(text, repo_id)
    facts = CardFacts(info, weights, parse_error=error)
    meta = meta or {}
    library = meta.get("library_name")
    if library is None:
        library = inferred_library(text, weights)
        facts.library_inferred = library is not None
    if meta.get("pipeline_tag"):
        info["pipeline_tag"] = meta["pipeline_tag"]
    if library:
        info["library_name"] = library
    info["tags"] = compute_tags(meta, text, library)
    facts.base_relation_inferred = bool(meta.get("base_model")) and not meta.get("base_model_relation")
    gated = gate_mode(meta)
    facts.gated_inferred = gated is not False
    info.update(modelId=repo_id, author=org, sha=sha, lastModified=date, gated=gated, disabled=False)
    if error is None and FRONT_MATTER_RE.match(text):
        info["cardData"] = json_safe(meta)
    info["createdAt"] = repo["createdAt"]
    return facts


def front_matter_from_card_data(card_data: dict[str, Any] | None) -> bytes:
    """A README holding only the YAML front matter rebuilt from a real `cardData` (empty if there is none)."""
    if not card_data:
        return b""
    dumped = yaml.safe_dump(card_data, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(dumped) != card_data:
        raise ValueError("cardData does not survive a YAML round trip")
    return ("---\n" + dumped + "---\n").encode("utf-8")
