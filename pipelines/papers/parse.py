"""Pure functions from raw paper captures to the `papers` and `release_papers` frames, and the refresh list.

Raw in, Polars frames with explicit schemas out; dates come in as arguments. The rubric reads
`papers.is_peer_reviewed` / `paper_kind` (technical report vs peer-reviewed paper), `papers.code_urls`
(training code) and `papers.published` (timeline), joined to releases through `release_papers`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl

from pipelines.arxiv_ids import try_parse_arxiv_id
from pipelines.code_links import normalise_code_url
from pipelines.papers.atom import AtomError, iso_utc, parse_feed
from pipelines.papers.raw import ARXIV_RAW_SCHEMA, HF_RAW_SCHEMA

UTC_TS = pl.Datetime("us", "UTC")
STR_LIST = pl.List(pl.String)
# How much a status says about a paper: a later answer replaces an earlier one that says as much or less
# (a find is kept: published papers do not disappear from arXiv).
_SAYS = {"error": 0, "unrecorded": 1, "not_found": 2, "invalid": 2, "found": 2}
# Statuses of a paper looked up with an answer: refreshed every max_age_days, not on every crawl.
ANSWERED = ("found", "not_found", "unrecorded", "invalid")

# One row per arXiv paper (id without version) that was ever asked for or seen in an answer.
PAPERS_SCHEMA: dict[str, pl.DataType] = {
    "arxiv_id": pl.String,  # without version; old-style ids keep their '/'
    "version": pl.Int64,  # the version the answer described (arXiv's latest unless one was asked for)
    "title": pl.String,
    "abstract": pl.String,
    "authors": STR_LIST,
    "categories": STR_LIST,
    "primary_category": pl.String,
    "published": UTC_TS,  # first version's date: the paper's place on the timeline
    "updated": UTC_TS,  # this version's date
    "doi": pl.String,
    "journal_ref": pl.String,
    "comment": pl.String,
    "code_urls": STR_LIST,  # github/gitlab repos from the arXiv comment and abstract + the Hub's githubRepo
    "project_page": pl.String,  # from the Hub papers API
    "license_url": pl.String,
    "is_peer_reviewed": pl.Boolean,  # a journal ref or a DOI is present (null when not found)
    "paper_kind": pl.String,  # peer_reviewed | preprint (null when not found)
    "fetched_at": UTC_TS,  # capture the row comes from
    # found | not_found | unrecorded (a mirror that does not hold it answered: unknown) | invalid | error
    # (asked, no usable answer yet)
    "status": pl.String,
}

# One row per (release repo, cited paper).
RELEASE_PAPERS_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,
    "arxiv_id": pl.String,  # without version
    "first_revision": pl.String,  # earliest commit whose card or tags cite the paper
    "first_cited_at": UTC_TS,
    "last_revision": pl.String,  # latest commit that still cites it
    "source": pl.String,  # tag (an `arxiv:<id>` Hub tag carried it) | card_link (only the card text did)
}


def _project_page(value: object) -> str | None:
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def paper_links(body: str | bytes | None) -> dict[str, Any]:
    """github_repo, project_page and published_at from a Hub papers body (top level or nested `paper`)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {"github_repo": None, "project_page": None, "published_at": None}
    # /api/papers/{id} answers at top level; daily-papers items nest the same fields under `paper`.
    paper = data.get("paper") if isinstance(data.get("paper"), dict) else data
    published = paper.get("publishedAt") or paper.get("published_at")
    return {
        "github_repo": normalise_code_url(paper.get("githubRepo")),
        "project_page": _project_page(paper.get("projectPage")),
        "published_at": iso_utc(published) if isinstance(published, str) else None,
    }


def arxiv_captures(responses: list[dict[str, Any]]) -> pl.DataFrame:
    """ArxivBatchResult.responses as a raw frame (ARXIV_RAW_SCHEMA)."""
    rows = [{k: r.get(k) for k in ARXIV_RAW_SCHEMA} for r in responses]
    return (
        pl.DataFrame(rows, schema=ARXIV_RAW_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=ARXIV_RAW_SCHEMA)
    )


def hf_captures(results: list[dict[str, Any]]) -> pl.DataFrame:
    """HubPapersClient.fetch results as a raw frame (HF_RAW_SCHEMA); ids that were never sent are left out."""
    rows = [{k: r.get(k) for k in HF_RAW_SCHEMA} for r in results if r.get("fetched_at") is not None]
    return (
        pl.DataFrame(rows, schema=HF_RAW_SCHEMA, orient="row") if rows else pl.DataFrame(schema=HF_RAW_SCHEMA)
    )


@lru_cache(maxsize=65536)
def _base(value: str) -> str | None:
    parsed = try_parse_arxiv_id(value)
    return parsed.base if parsed is not None else None


def _utc(value: Any) -> datetime | None:
    """A datetime (or ISO string) as an aware UTC datetime; naive values are taken to be UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _requested(url: str) -> list[str]:
    """Base ids named in a query URL's id_list (malformed ones dropped)."""
    values = parse_qs(urlsplit(url or "").query).get("id_list", [""])
    bases = (_base(i.strip()) for i in values[-1].split(",") if i.strip())
    return list(dict.fromkeys(b for b in bases if b is not None))


def _paper_row(entry: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    peer = bool(entry.get("journal_ref") or entry.get("doi"))
    return {
        "arxiv_id": entry["arxiv_id"],
        "version": entry.get("version"),
        "title": entry.get("title"),
        "abstract": entry.get("abstract"),
        "authors": list(entry.get("authors") or []),
        "categories": list(entry.get("categories") or []),
        "primary_category": entry.get("primary_category"),
        "published": _utc(entry.get("published")),
        "updated": _utc(entry.get("updated")),
        "doi": entry.get("doi"),
        "journal_ref": entry.get("journal_ref"),
        "comment": entry.get("comment"),
        "code_urls": list(entry.get("code_urls") or []),
        "project_page": None,
        "license_url": entry.get("license_url"),
        "is_peer_reviewed": peer,
        "paper_kind": "peer_reviewed" if peer else "preprint",
        "fetched_at": fetched_at,
        "status": "found",
    }


def _missing_row(arxiv_id: str, status: str, fetched_at: datetime) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(PAPERS_SCHEMA)
    row.update(
        arxiv_id=arxiv_id, authors=[], categories=[], code_urls=[], fetched_at=fetched_at, status=status
    )
    return row


def _arxiv_candidates(arxiv_rows: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """The winning row per paper: the latest capture that found it, else the latest that said it is not
    there (or not an id), else the latest answer of a mirror that said it does not hold it (status
    `unrecorded`: unknown), else the latest that asked for it without a usable answer (status `error`: the
    paper was looked up, and is asked for again on the next crawl)."""
    best: dict[str, dict[str, Any]] = {}
    ordered = arxiv_rows.with_row_index("_n").sort(["fetched_at", "_n"], nulls_last=False)
    for capture in ordered.iter_rows(named=True):
        status_code, fetched_at = capture.get("status_code"), _utc(capture.get("fetched_at"))
        asked = _requested(capture.get("url") or "")
        feed = None
        if status_code in (200, 400) and capture.get("body"):
            try:
                feed = parse_feed(capture["body"])
            except AtomError:
                feed = None
        rows: list[dict[str, Any]] = []
        if feed is not None and status_code == 200:
            seen = set()
            for entry in feed.entries:
                if entry["arxiv_id"] not in seen:
                    seen.add(entry["arxiv_id"])
                    rows.append(_paper_row(entry, fetched_at))
            # A mirror that marks its answer (X-Mirror-Unrecorded) does not hold the ids it left out.
            missing = "unrecorded" if capture.get("unrecorded") else "not_found"
            rows += [_missing_row(i, missing, fetched_at) for i in asked if i not in seen]
        elif feed is not None and len(asked) == 1 and feed.errors:
            rows.append(_missing_row(asked[0], "invalid", fetched_at))
        else:  # 429/5xx/empty/unreadable, or a 400 for several ids: says nothing about the papers
            rows += [_missing_row(i, "error", fetched_at) for i in asked]
        for row in rows:
            current = best.get(row["arxiv_id"])
            if current is not None and (
                row["status"] == "error" or _SAYS[row["status"]] < _SAYS[current["status"]]
            ):
                continue  # an answer, even an older one, says more than no answer or "not recorded"
            # Published papers do not disappear from arXiv: a later empty answer does not undo a find.
            if current is None or row["status"] == "found" or current["status"] != "found":
                best[row["arxiv_id"]] = row
    return best


def _hub_links(hf_rows: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per paper, the links of the latest Hub answer (found or not_found; errors and a mirror's
    `unrecorded` say nothing)."""
    latest: dict[str, dict[str, Any]] = {}
    ordered = hf_rows.with_row_index("_n").sort(["fetched_at", "_n"], nulls_last=False)
    for capture in ordered.iter_rows(named=True):
        base = _base(capture.get("arxiv_id") or "")
        if base is None or capture.get("status") not in ("found", "not_found"):
            continue
        latest[base] = paper_links(capture.get("body")) if capture["status"] == "found" else {}
    return latest


def papers_frame(arxiv_rows: pl.DataFrame, hf_rows: pl.DataFrame) -> pl.DataFrame:
    """`papers`: one row per paper id from raw arXiv captures, with code links and project page from the Hub."""
    best = _arxiv_candidates(arxiv_rows)
    hub = _hub_links(hf_rows)
    rows = []
    for arxiv_id in sorted(best):
        row = best[arxiv_id]
        links = hub.get(arxiv_id) or {}
        if row["status"] == "found":
            extra = [links["github_repo"]] if links.get("github_repo") else []
            row["code_urls"] = sorted(set(row["code_urls"]) | set(extra))
            row["project_page"] = links.get("project_page")
        rows.append(row)
    return (
        pl.DataFrame(rows, schema=PAPERS_SCHEMA, orient="row") if rows else pl.DataFrame(schema=PAPERS_SCHEMA)
    )


def release_papers_frame(revisions: pl.DataFrame) -> pl.DataFrame:
    """`release_papers`: one row per (repo_id, arxiv_id) cited by any revision, with first/last citing revision."""
    rows = []
    for rev in revisions.select("repo_id", "revision", "committed_at", "arxiv_ids", "tags").iter_rows():
        repo_id, revision, committed_at, arxiv_ids, tags = rev
        from_tags = {b for t in tags or [] if t[:6].lower() == "arxiv:" and (b := _base(t[6:])) is not None}
        from_any = {b for i in arxiv_ids or [] if (b := _base(i)) is not None} | from_tags
        rows += [(repo_id, revision, _utc(committed_at), b, b in from_tags) for b in sorted(from_any)]
    cited = pl.DataFrame(
        rows,
        orient="row",
        schema={
            "repo_id": pl.String,
            "revision": pl.String,
            "committed_at": UTC_TS,
            "arxiv_id": pl.String,
            "from_tag": pl.Boolean,
        },
    )
    out = (
        cited.sort(["repo_id", "arxiv_id", "committed_at", "revision"], nulls_last=True)
        .group_by(["repo_id", "arxiv_id"], maintain_order=True)
        .agg(
            first_revision=pl.col("revision").first(),
            first_cited_at=pl.col("committed_at").first(),
            last_revision=pl.col("revision").last(),
            from_tag=pl.col("from_tag").any(),
        )
        .with_columns(source=pl.when(pl.col("from_tag")).then(pl.lit("tag")).otherwise(pl.lit("card_link")))
    )
    return out.select(list(RELEASE_PAPERS_SCHEMA)).cast(RELEASE_PAPERS_SCHEMA)


def papers_to_refresh(
    papers: pl.DataFrame, cited_ids: list[str], today: date, max_age_days: int = 30
) -> list[str]:
    """Ids to fetch: cited ids never fetched (in citation order), then those fetched max_age_days or more ago
    (oldest first). An `unrecorded` paper is refreshed like a found or missing one, every max_age_days (a
    recording does not change from one crawl to the next); only `error` is asked again on every crawl."""
    cited = list(dict.fromkeys(b for b in (_base(i) for i in cited_ids) if b is not None))
    fetched: dict[str, date] = {}
    for arxiv_id, fetched_at, status in papers.select("arxiv_id", "fetched_at", "status").iter_rows():
        if status in ANSWERED and fetched_at is not None:
            day = _utc(fetched_at).date()  # type: ignore[union-attr]
            fetched[arxiv_id] = max(day, fetched.get(arxiv_id, day))
    never = [i for i in cited if i not in fetched]
    stale = sorted(
        (fetched[i], i) for i in cited if i in fetched and (today - fetched[i]).days >= max_age_days
    )
    return never + [i for _, i in stale]
