"""Parsing arXiv query API answers (Atom feeds) into plain dicts: both the current and the classic format.

Elements are found by namespaced name, never by position: the current backend (2025-) reorders entry
elements and declares the namespaces once on <feed>, the classic one re-declares `arxiv:`/`opensearch:`
on every element. The HTTP 400 answer is a feed whose single entry is the error; it goes to `errors`.
XML is parsed with defusedxml and any DTD is refused, so entity expansion or external entities never run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from pipelines.arxiv_ids import try_parse_arxiv_id
from pipelines.code_links import find_code_urls

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
MAX_FEED_BYTES = 50 * 1024 * 1024  # 2000 entries (arXiv's page maximum) stay far below this

_ABS_ID = re.compile(r"^https?://(?:export\.)?arxiv\.org/abs/(.+)$")
_ERROR_ID = re.compile(r"^https?://(?:export\.)?arxiv\.org/api/errors(?:#.*)?$")
_BAD_ID_MESSAGE = re.compile(r"^incorrect id format for (.+)$")
_SPACE = re.compile(r"\s+")
_DOI_LINK = re.compile(r"^https?://(?:dx\.)?doi\.org/(.+)$")


class AtomError(ValueError):
    """A response that is not a usable arXiv Atom feed (malformed, hostile, or not a feed at all)."""


@dataclass
class FeedResult:
    """One parsed feed: paper entries, opensearch paging fields, and API error entries."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def _text(el: Element | None) -> str | None:
    """Whitespace-collapsed text of an element, None when absent or empty."""
    if el is None:
        return None
    collapsed = _SPACE.sub(" ", "".join(el.itertext())).strip()
    return collapsed or None


def _int(el: Element | None) -> int | None:
    text = _text(el)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def iso_utc(value: str | None) -> str | None:
    """An Atom date as an ISO 8601 UTC string (`2016-05-26T17:59:46Z`), None when missing or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # arXiv always gives a zone; a bare time is read as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _links(entry: Element) -> tuple[str | None, str | None, str | None, str | None]:
    """(abs URL, pdf URL, DOI from a doi link, licence URL) from an entry's <link> elements."""
    abs_url = pdf_url = doi = license_url = None
    for link in entry.findall(f"{ATOM}link"):
        href = (link.get("href") or "").strip() or None
        rel, title, kind = link.get("rel"), link.get("title"), link.get("type")
        if href is None:
            continue
        if rel == "alternate" and abs_url is None:
            abs_url = href
        elif title == "pdf" or kind == "application/pdf":
            pdf_url = pdf_url or href
        elif title == "doi":
            match = _DOI_LINK.match(href)
            doi = doi or (match.group(1) if match else None)
        elif rel == "license":
            license_url = license_url or href
    return abs_url, pdf_url, doi, license_url


def _license(entry: Element, from_link: str | None) -> str | None:
    el = entry.find(f"{ARXIV}license")
    if el is not None:
        return (el.get("href") or "").strip() or _text(el) or from_link
    return from_link


def _authors(entry: Element) -> tuple[list[str], list[list[str]]]:
    names: list[str] = []
    affiliations: list[list[str]] = []
    for author in entry.findall(f"{ATOM}author"):
        name = _text(author.find(f"{ATOM}name"))
        if name is None:
            continue
        names.append(name)
        affiliations.append([a for a in (_text(x) for x in author.findall(f"{ARXIV}affiliation")) if a])
    return names, affiliations


def _paper(entry: Element, arxiv_id: str, version: int | None) -> dict[str, Any]:
    abs_url, pdf_url, doi_from_link, license_link = _links(entry)
    authors, affiliations = _authors(entry)
    categories = list(
        dict.fromkeys(
            term for term in ((c.get("term") or "").strip() for c in entry.findall(f"{ATOM}category")) if term
        )
    )
    primary_el = entry.find(f"{ARXIV}primary_category")
    primary = (primary_el.get("term") or "").strip() if primary_el is not None else ""
    abstract = _text(entry.find(f"{ATOM}summary"))
    comment = _text(entry.find(f"{ARXIV}comment"))
    return {
        "arxiv_id": arxiv_id,
        "version": version,
        "title": _text(entry.find(f"{ATOM}title")),
        "abstract": abstract,
        "authors": authors,
        "affiliations": affiliations,  # one list per author, aligned with `authors`
        "categories": categories,
        "primary_category": primary or None,
        "published": iso_utc(_text(entry.find(f"{ATOM}published"))),
        "updated": iso_utc(_text(entry.find(f"{ATOM}updated"))),
        "doi": _text(entry.find(f"{ARXIV}doi")) or doi_from_link,
        "journal_ref": _text(entry.find(f"{ARXIV}journal_ref")),
        "comment": comment,
        "abs_url": abs_url,
        "pdf_url": pdf_url,
        "license_url": _license(entry, license_link),
        "code_urls": find_code_urls(comment, abstract),
    }


def _entry(entry: Element, result: FeedResult) -> None:
    entry_id = _text(entry.find(f"{ATOM}id")) or ""
    if _ERROR_ID.match(entry_id):
        message = _text(entry.find(f"{ATOM}summary")) or _text(entry.find(f"{ATOM}title")) or ""
        error: dict[str, Any] = {"id": entry_id, "message": message}
        bad = _BAD_ID_MESSAGE.match(message)
        if bad:
            error["bad_id"] = bad.group(1)
        result.errors.append(error)
        return
    match = _ABS_ID.match(entry_id)
    parsed = try_parse_arxiv_id(match.group(1)) if match else None
    if parsed is None:
        result.errors.append({"id": entry_id, "message": "entry without a recognisable arXiv abs id"})
        return
    result.entries.append(_paper(entry, parsed.base, parsed.version))


def parse_feed(xml: bytes | str) -> FeedResult:
    """Parse one arXiv API answer (current or classic Atom); raises AtomError if it is not a usable feed."""
    if len(xml) > MAX_FEED_BYTES:
        raise AtomError(f"feed larger than {MAX_FEED_BYTES} bytes")
    try:
        # forbid_dtd: a feed never needs a DTD, and refusing it stops entity bombs before any expansion.
        root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise AtomError(f"refused hostile XML: {type(err).__name__}: {err}") from err
    except ParseError as err:
        raise AtomError(f"malformed XML: {err}") from err
    if root.tag != f"{ATOM}feed":
        raise AtomError(f"not an Atom feed: root element {root.tag!r}")
    result = FeedResult(
        total_results=_int(root.find(f"{OPENSEARCH}totalResults")),
        start_index=_int(root.find(f"{OPENSEARCH}startIndex")),
        items_per_page=_int(root.find(f"{OPENSEARCH}itemsPerPage")),
    )
    for entry in root.findall(f"{ATOM}entry"):
        _entry(entry, result)
    return result
