"""The daily Hub crawl: listing pages back to the watermark, then READMEs of changed commits only.

Everything fetched lands in the raw layer before the next request, and a checkpoint (the next
listing URL) is saved after each page, so a killed crawl resumes where it stopped without fetching
again what was saved.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from pipelines.hub.client import FileResult, HubClient
from pipelines.hub.crawl_state import READMES, record
from pipelines.hub.ids import git_blob_sha1, is_commit_sha, is_valid_repo_id
from pipelines.hub.parse import inference_providers, inference_state
from pipelines.hub.raw import LISTING_RAW_SCHEMA, README_RAW_SCHEMA
from pipelines.storage import crawl_index
from pipelines.storage.raw import RawStore

log = logging.getLogger(__name__)

README_BATCH = 100


@dataclass
class Checkpoint:
    """Progress of one crawl partition, kept as a small JSON file beside the raw layer."""

    path: Path
    state: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """Read a checkpoint, or start an empty one."""
        state = json.loads(path.read_text()) if path.exists() else {}
        return cls(path, state)

    def save(self, **updates: object) -> None:
        """Merge updates and write atomically."""
        self.state.update(updates)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True, default=str))
        tmp.replace(self.path)


@dataclass
class ListingResult:
    """What a listing crawl saw."""

    pages: int = 0
    items: int = 0
    rejected: list[dict] = field(default_factory=list)
    reached_watermark: bool = False  # read back to the watermark, or to the end of the listing before it
    complete: bool = False


def _parse_ts(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _count(value: object) -> int | None:
    """A count as the Hub gives it (a non-negative integer), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def usage_counts(item: object) -> dict[str, int | float | None]:
    """The usage columns of a `hub_listing` row from one listing item: `downloads` (the last 30 days),
    `downloadsAllTime`, `likes` and `trendingScore`; None for what the item lacks or gives malformed."""
    item = item if isinstance(item, dict) else {}
    trending = item.get("trendingScore")
    ok_trending = isinstance(trending, int | float) and not isinstance(trending, bool)
    return {
        "downloads": _count(item.get("downloads")),
        "downloads_all_time": _count(item.get("downloadsAllTime")),
        "likes": _count(item.get("likes")),
        "trending_score": float(trending) if ok_trending else None,
    }


def crawl_listing(
    client: HubClient,
    raw: RawStore,
    crawl_date: str,
    checkpoint: Checkpoint,
    *,
    now: datetime,
    watermark: datetime | None,
    overlap: timedelta = timedelta(hours=1),
    author: str | None = None,
    keep: Callable[[dict], bool] | None = None,
    top_n: int = 0,
    on_page: Callable[[int, int], None] | None = None,
    only_new: bool = False,
) -> ListingResult:
    """Read the listing (newest change first) down to `watermark - overlap` into the raw layer.

    `keep` drops out-of-scope items (thresholds, watched repos) before they are stored; `top_n` reads
    one page of the N most-downloaded models instead; with `only_new`, an item whose answer is already
    stored for the crawl date is not stored again (`RawStore.append_new` on the item).
    """
    result = ListingResult(
        pages=int(checkpoint.state.get("pages", 0)), items=int(checkpoint.state.get("items", 0))
    )
    if checkpoint.state.get("listing_complete"):
        result.complete = True
        result.reached_watermark = bool(checkpoint.state.get("reached_watermark"))
        return result
    stored = raw.captured_rows("hub_listing", crawl_date, ["item"]) if only_new else None
    stop_before = watermark - overlap if watermark else None
    start_url = checkpoint.state.get("next_url")
    pages = (
        client.listing_pages(author=author, sort="downloads", page_size=top_n)
        if top_n
        else client.listing_pages(author=author, start_url=start_url)
    )
    for page in pages:
        rows, oldest = [], None
        for i, item in enumerate(page.items):
            if keep is not None and isinstance(item, dict) and not keep(item):
                continue
            repo_id = item.get("id") if isinstance(item, dict) else None
            sha = item.get("sha") if isinstance(item, dict) else None
            if not is_valid_repo_id(repo_id) or (sha is not None and not is_commit_sha(sha)):
                # Untrusted ids never reach a path or SQL; the item is kept raw for the quarantine.
                result.rejected.append({"page": page.url, "index": i, "id": str(repo_id)[:200]})
            lm = item.get("lastModified") if isinstance(item, dict) else None
            ts = _parse_ts(lm)
            if ts is not None and (oldest is None or ts < oldest):
                oldest = ts
            rows.append(
                {
                    "fetched_at": now,
                    "page_url": page.url,
                    "page_index": result.pages,
                    "item_index": i,
                    "repo_id": str(repo_id) if repo_id is not None else None,
                    "sha": sha if isinstance(sha, str) else None,
                    "last_modified": lm if isinstance(lm, str) else None,
                    "item": json.dumps(item, sort_keys=True, ensure_ascii=False),
                    **usage_counts(item),
                    "inference": inference_state(item) if isinstance(item, dict) else None,
                    "inference_providers": inference_providers(item) if isinstance(item, dict) else None,
                    "reconstructed": page.reconstructed,
                }
            )
        if rows:
            frame = pl.DataFrame(rows, schema=LISTING_RAW_SCHEMA)
            if only_new:  # the rows stored are those not captured before on the date: read back
                path, _ = raw.append_new("hub_listing", crawl_date, frame, payload=["item"], seen=stored)
                record(raw, "hub_listing", path)
            else:
                path, written = raw.append("hub_listing", crawl_date, frame, payload=["item"])
                record(raw, "hub_listing", path if written else None, frame)
        result.pages += 1
        result.items += len(rows)
        reached = stop_before is not None and oldest is not None and oldest < stop_before
        checkpoint.save(next_url=None if reached else page.next_url, pages=result.pages, items=result.items)
        if on_page:
            on_page(result.pages, result.items)
        if reached:
            result.reached_watermark = True
            break
        if top_n:
            break
    else:
        # The listing ran out before any item older than the watermark: everything changed since the
        # watermark was read (a crawl date on which every listed model changed since the previous one).
        if stop_before is not None:
            result.reached_watermark = True
    result.complete = True
    checkpoint.save(listing_complete=True, reached_watermark=result.reached_watermark, next_url=None)
    return result


def readme_blob_id(
    status: str, content: bytes | None, detail: str | None, truncated: bool | None = None
) -> str | None:
    """The git blob id of a README read in full (`ok`); None for a capped, gated or missing one."""
    # Captures before the `truncated` column say "(capped)" in their detail.
    capped = bool(truncated) or "(capped" in (detail or "")
    complete = status == "ok" and content is not None and not capped
    return git_blob_sha1(content) if complete else None


def readme_capture(res: FileResult) -> dict:
    """The outcome columns of a `hub_readme` row for one README read (status, detail, bytes, sizes)."""
    content = res.content
    return {
        "status": res.status,
        "detail": res.detail,
        "sha256": hashlib.sha256(content).hexdigest() if content is not None else None,
        "size": res.size if res.size is not None or content is None else len(content),
        "content": content,
        "blob_id": readme_blob_id(res.status, content, res.detail, res.truncated),
        "truncated": res.truncated if content is not None else None,
        "reconstructed": res.reconstructed,
    }


def captured_revisions(raw: RawStore) -> set[tuple[str, str]]:
    """(repo_id, revision) pairs whose README outcome is already in the raw layer (an `error` outcome is not
    one: the next crawl asks again); read from the crawl-state index."""
    return set(crawl_index.read(raw, READMES).select("repo_id", "revision").iter_rows())


def plan_readmes(listing: pl.DataFrame, captured: set[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """The (repo, sha, has_readme) whose README must be read: new commits only, each once."""
    plan: dict[tuple[str, str], bool] = {}
    for repo_id, sha, item in listing.select("repo_id", "sha", "item").iter_rows():
        if not is_valid_repo_id(repo_id) or not is_commit_sha(sha) or (repo_id, sha) in captured:
            continue
        try:
            siblings = json.loads(item).get("siblings")
        except (ValueError, AttributeError):
            siblings = None
        # Without a file list we must ask; with one, a repo without README.md costs no request.
        has_readme = siblings is None or any(
            isinstance(s, dict) and s.get("rfilename") == "README.md" for s in siblings
        )
        plan[(repo_id, sha)] = has_readme
    return sorted((r, s, h) for (r, s), h in plan.items())


def fetch_readmes(
    client: HubClient,
    raw: RawStore,
    crawl_date: str,
    plan: list[tuple[str, str, bool]],
    *,
    now: datetime,
    max_bytes: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Read each planned README and append the outcomes in batches; returns counts per status."""
    counts: dict[str, int] = {}
    batch: list[dict] = []

    def flush() -> None:
        if batch:
            frame = pl.DataFrame(batch, schema=README_RAW_SCHEMA)
            path, written = raw.append(
                "hub_readme", crawl_date, frame, payload=["repo_id", "revision", "status", "content"]
            )
            record(raw, "hub_readme", path if written else None, frame)
            batch.clear()

    for done, (repo_id, sha, has_readme) in enumerate(plan, start=1):
        if has_readme:
            res = client.read_file(repo_id, sha, "README.md", max_bytes=max_bytes)
        else:
            res = FileResult("missing", None, "no README.md in the file list")
        counts[res.status] = counts.get(res.status, 0) + 1
        batch.append({"fetched_at": now, "repo_id": repo_id, "revision": sha, **readme_capture(res)})
        if len(batch) >= README_BATCH:
            flush()
        if on_progress:
            on_progress(done, len(plan))
    flush()
    return counts
