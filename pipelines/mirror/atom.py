"""Building arXiv query API answers (Atom feeds in arXiv's current format) around stored entries.

The envelope copies the real 2026 responses in reference/arxiv/current_2026_json: feed id, title and link
shapes, opensearch counts (itemsPerPage echoes max_results), and the HTTP 400 error feed for a bad id.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from pipelines.mirror.names import split_arxiv_id

CONTENT_TYPE = "application/atom+xml; charset=utf-8"
DEFAULT_MAX_RESULTS = 10  # arXiv's default when max_results is absent
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")
_FEED_OPEN = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_feed(message: str) -> bytes:
    """arXiv's HTTP 400 body: a feed whose single entry is the error (e.g. "incorrect id format for abc")."""
    anchor = "https://arxiv.org/api/errors#" + re.sub(r"\s+", "_", message)
    now = _now()
    return (
        _FEED_OPEN
        + "  <id>https://arxiv.org/</id>\n"
        + "  <title>arXiv Search Results</title>\n"
        + f"  <updated>{now}</updated>\n"
        + "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        + "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        + "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        + "  <entry>\n"
        + f"    <id>{escape(anchor)}</id>\n"
        + "    <title>Error</title>\n"
        + f"    <updated>{now}</updated>\n"
        + f'    <link href={quoteattr(anchor)} rel="alternate" type="text/html"/>\n'
        + f"    <summary>{escape(message)}</summary>\n"
        + "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        + "  </entry>\n</feed>\n"
    ).encode("utf-8")


def _int_param(params: dict[str, list[str]], name: str, default: int) -> int:
    values = params.get(name)
    if not values or values[-1] == "":
        return default
    try:
        value = int(values[-1])
    except ValueError as err:
        raise ValueError(f"{name} must be an integer") from err
    if value < 0:
        raise ValueError(f"{name} must be non-negative")
    return value


def query_feed(params: dict[str, list[str]], load_entry: Callable[[str], bytes | None]) -> tuple[int, bytes]:
    """Answer `/api/query` for parsed query params; `load_entry(base_id)` returns a stored <entry> or None."""
    id_list = (params.get("id_list") or [""])[-1]
    search_query = (params.get("search_query") or [""])[-1]
    try:
        start = _int_param(params, "start", 0)
        max_results = _int_param(params, "max_results", DEFAULT_MAX_RESULTS)
    except ValueError as err:
        return 400, error_feed(str(err))
    requested = [i.strip() for i in id_list.split(",") if i.strip()]
    entries: list[bytes] = []
    seen: set[str] = set()
    for arxiv_id in requested:
        parts = split_arxiv_id(arxiv_id)
        if parts is None:
            return 400, error_feed(f"incorrect id format for {arxiv_id}")
        if parts[0] in seen:
            continue
        seen.add(parts[0])
        entry = load_entry(parts[0])
        if entry is not None:
            entries.append(entry)
    # Only id_list queries are answered from the mirror; a bare search_query finds nothing.
    page = entries[start : start + max_results]
    query = f"search_query={search_query}&id_list={id_list}&start={start}&max_results={max_results}"
    link = f"https://arxiv.org/api/query?search_query={search_query}&start={start}&max_results={max_results}&id_list={id_list}"
    feed_id = base64.b64encode(hashlib.sha1(query.encode("utf-8")).digest()).decode("ascii").rstrip("=")
    head = (
        _FEED_OPEN
        + f"  <id>https://arxiv.org/api/{feed_id}</id>\n"
        + f"  <title>arXiv Query: {escape(query)}</title>\n"
        + f"  <updated>{_now()}</updated>\n"
        + f'  <link href={quoteattr(link)} type="application/atom+xml"/>\n'
        + f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>\n"
        + f"  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>\n"
        + f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    ).encode("utf-8")
    # Stored entries are embedded byte for byte (only an XML declaration, if any, is dropped).
    body = b"".join(b"  " + _XML_DECL.sub(b"", e).strip() + b"\n" for e in page)
    return 200, head + body + b"</feed>\n"
