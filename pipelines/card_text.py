"""A README as the card parser reads it (its text, its front matter) and the arXiv ids its links name.

Shared by the Hub source's card parser (pipelines/hub/cards.py) and the papers source (pipelines/papers/
step.py), which never import each other: the papers step must ask arXiv for exactly the ids the parser
records for a card (a cited paper never looked up fails the build's `references:papers` check), so both
read a README with these same functions.
"""

from __future__ import annotations

import codecs
import re

from pipelines.arxiv_ids import try_parse_arxiv_id

# huggingface_hub 2.4.0 repocard.REGEX_YAML_BLOCK, verbatim, so we find the same front matter as the Hub.
REGEX_YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
MAX_CARD_BYTES = 2_000_000  # what the card parser reads of a README (the rest is left, the card `oversized`)

# An arXiv link or `arxiv:` key takes the whole token after its prefix (letters and digits of any script,
# '.', '-', and one '/' after an old-style archive name), then the strict id grammar
# (pipelines/arxiv_ids.py) decides: a token that is not an id (`2307.092881`, a typo; non-ASCII digits)
# is reported, never cut down to one that is.
_ARXIV_TOKEN = r"((?:[A-Za-z][A-Za-z.\-]*/)?(?:[^\W_]|[.\-])+)"
_ARXIV_LINK = re.compile(r"(?i:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/)" + _ARXIV_TOKEN)
# `arxiv: 2307.09288` keys and `arxiv:<id>` tags inside the front matter (YAML would turn the id into a float).
_ARXIV_YAML = re.compile(r"(?i:\barxiv)\s*:\s*['\"]?" + _ARXIV_TOKEN)


def decode_readme(raw: bytes, *, truncated: bool) -> tuple[str, bool]:
    """(text, was valid UTF-8): UTF-8 with the BOM stripped, like RepoCard.load; on failure decoded with
    replacement characters."""
    try:
        # An incremental decoder tolerates a multi-byte character cut by truncation.
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(raw, final=not truncated)
        ok = True
    except UnicodeDecodeError:
        text, ok = raw.decode("utf-8", errors="replace"), False
    return text.removeprefix("\ufeff"), ok


def card_arxiv_ids(text: str, yaml_text: str = "") -> tuple[list[str], list[str]]:
    """(arXiv ids, invalid tokens) that a card's links (`arxiv.org/abs|pdf|html/`, `huggingface.co/papers/`)
    and its front matter's `arxiv:` keys name, in order of appearance. Ids go through the strict grammar and
    come back without version; a token that looks like one (it starts with a digit of any script, or names
    an archive) but is not is returned apart, unchanged (`https` after an `arxiv:` key is not reported)."""
    tokens = [m.group(1) for m in _ARXIV_LINK.finditer(text)]
    tokens += [m.group(1) for m in _ARXIV_YAML.finditer(yaml_text)]
    found: list[str] = []
    invalid: list[str] = []
    for token in dict.fromkeys(tokens):
        token = _strip_suffix(token)
        parsed = try_parse_arxiv_id(token)
        if parsed is not None:
            found.append(parsed.base)
        elif token[:1].isdigit() or "/" in token:
            invalid.append(token[:64])
    return list(dict.fromkeys(found)), list(dict.fromkeys(invalid))


def readme_arxiv_ids(raw: bytes, *, max_bytes: int = MAX_CARD_BYTES) -> list[str]:
    """The arXiv ids the card parser records for README bytes (same decoding, front matter and grammar),
    without parsing the YAML."""
    text, _ = decode_readme(raw[:max_bytes], truncated=len(raw) > max_bytes)
    match = REGEX_YAML_BLOCK.search(text)
    return card_arxiv_ids(text, match.group(2) if match else "")[0]


def _strip_suffix(token: str) -> str:
    """A link's token without what may follow an id in a URL or a sentence (`.pdf`, a final '.')."""
    if token.lower().endswith(".pdf"):
        token = token[:-4]
    return token.rstrip(".-")
