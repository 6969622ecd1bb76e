"""History backfill: recover each tracked repo's past from its commit history.

For a repo whose head commit is not yet in our history, list its commits (one API call per page),
then read the info of every commit we have not captured (`/revision/{sha}?blobs=true`: the file
list with blob ids) and the README only where its blob changed. Everything lands in the raw layer
in batches of repos (`flush_repos`, default 500, or sooner when the batch holds `flush_bytes` of READMEs):
the infos and READMEs of a batch first, its commit lists last, so a killed backfill resumes without
fetching again what was saved, and a Hub-scale backfill writes a few hundred files per source rather than
one per repo (every later crawl scans them).

The repos are walked most-downloaded first (pipelines.depth: the latest listed 30-day downloads, unknown
usage last, ties by repo id), and a walk stops before the next repo once the crawl date's budget of API
calls is spent: the repos left are walked by the next crawl date, in the same order, since a repo walked up
to its head costs nothing again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from pipelines.depth import MEASURED_API_PER_MODEL, TIERS, DepthPlan, by_usage, latest_downloads, plan_tiers
from pipelines.hub import crawl_state
from pipelines.hub.client import HubClient
from pipelines.hub.crawl import readme_capture
from pipelines.hub.ids import is_commit_sha, is_valid_repo_id
from pipelines.hub.raw import (
    COMMITS_RAW_SCHEMA,
    PRESENCE_RAW_SCHEMA,
    README_RAW_SCHEMA,
    REVISION_RAW_SCHEMA,
)
from pipelines.hub.shards import in_shard
from pipelines.storage.raw import RawStore, schema_of


@dataclass
class BackfillSummary:
    """What a backfill did."""

    repos_considered: int = 0
    repos_walked: int = 0
    commits_listed: int = 0
    revisions_read: int = 0
    readmes_read: int = 0
    readmes_skipped_same_blob: int = 0
    budget: int = 0  # API calls this walk could send (0: no limit)
    repos_deferred: int = 0  # repos with new history left to the next crawl date, once the budget was spent
    repos_missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """A JSON-safe summary."""
        return {
            **{k: v for k, v in self.__dict__.items() if k != "repos_missing"},
            "repos_missing": len(self.repos_missing),
        }


def _readme_blob(info: dict) -> str | None:
    if not isinstance(info.get("siblings"), list):
        return "present"  # the file list is unknown: ask for the README rather than assume there is none
    for sibling in info["siblings"]:
        if isinstance(sibling, dict) and sibling.get("rfilename") == "README.md":
            return sibling.get("blobId") or "present"
    return None


def backfill_state(
    raw: RawStore,
) -> tuple[dict[str, set[str]], set[tuple[str, str]], dict[tuple[str, str], tuple]]:
    """What history is captured: commit ids per repo, (repo, sha) with info, and (repo, sha) with a README
    outcome -> (git blob id of the README read in full or None, the raw file holding it)."""
    # Read from the crawl-state index (pipelines/hub/crawl_state.py), not from every capture.
    commits: dict[str, set[str]] = {}
    for repo_id, commit in crawl_state.walked_commits(raw).iter_rows():
        commits.setdefault(repo_id, set()).add(commit)
    infos = set(crawl_state.read_revisions(raw).select("repo_id", "revision").iter_rows())
    infos |= set(crawl_state.listing_commits(raw).select("repo_id", "sha").iter_rows())
    captured = crawl_state.captured_readmes(raw).select("repo_id", "revision", "blob_id", "raw_file")
    readmes = {(r, v): (b, f) for r, v, b, f in captured.iter_rows()}
    return commits, infos, readmes


def _captured_readme(raw: RawStore, repo_id: str, revision: str, raw_file: str) -> dict:
    """The README row of a captured revision, read back from the raw file holding it."""
    frame = (
        raw.scan_file(raw_file)
        .filter(
            (pl.col("repo_id") == repo_id) & (pl.col("revision") == revision) & (pl.col("status") == "ok")
        )
        .head(1)
        .collect()
    )
    return frame.row(0, named=True)


class _Batch:
    """Captures buffered across repos and written together (revisions and READMEs before commit lists)."""

    def __init__(self, raw: RawStore, crawl_date: str, flush_repos: int, flush_bytes: int) -> None:
        self.raw, self.crawl_date = raw, crawl_date
        self.flush_repos, self.flush_bytes = max(1, flush_repos), flush_bytes
        self.revisions: list[dict] = []
        self.readmes: list[dict] = []
        self.commits: list[dict] = []
        self.presence: list[dict] = []
        self.repos = 0
        self.bytes = 0
        # Digests of the commit lists and presence checks already captured on this crawl date (read on the
        # first flush): a rerun of the date (after a kill) re-walks some repos and must not capture again
        # what it recorded before.
        self.seen: dict[str, set[str]] = {}

    def repo_done(self) -> None:
        self.repos += 1
        if self.repos >= self.flush_repos or self.bytes >= self.flush_bytes:
            self.flush()

    def flush(self) -> None:
        if self.revisions:
            frame = pl.DataFrame(self.revisions, schema=REVISION_RAW_SCHEMA)
            path, written = self.raw.append(
                "hub_revision", self.crawl_date, frame, payload=["repo_id", "revision", "info"]
            )
            crawl_state.record(self.raw, "hub_revision", path if written else None, frame)
        if self.readmes:
            frame = pl.DataFrame(self.readmes, schema=README_RAW_SCHEMA)
            path, written = self.raw.append(
                "hub_readme", self.crawl_date, frame, payload=["repo_id", "revision", "status", "content"]
            )
            crawl_state.record(self.raw, "hub_readme", path if written else None, frame)
        if self.presence:
            self._append_new(
                "hub_presence", self.presence, PRESENCE_RAW_SCHEMA, ["repo_id", "present", "how"]
            )
        if self.commits:
            self._append_new(
                "hub_commits", self.commits, COMMITS_RAW_SCHEMA, ["repo_id", "status", "commits"]
            )
        self.revisions, self.readmes, self.commits, self.presence = [], [], [], []
        self.repos = self.bytes = 0

    def _append_new(self, source: str, rows: list[dict], schema: dict, payload: list[str]) -> None:
        if source not in self.seen:
            self.seen[source] = self.raw.captured_rows(source, self.crawl_date, payload)
        frame = pl.DataFrame(rows, schema=schema)
        path, _ = self.raw.append_new(source, self.crawl_date, frame, payload, self.seen[source])
        crawl_state.record(self.raw, source, path)  # the rows stored: those not captured before on the date


def tracked_heads(
    raw: RawStore,
    authors: tuple[str, ...] = (),
    shard: int = 0,
    shards: int = 1,
    until: str | None = None,
) -> dict[str, str]:
    """Each tracked repo's newest known commit (from the listing captures), for some orgs or one shard;
    with `until`, only from the listings of that crawl date and before. A date run again after later dates
    were listed (a replay after a kill, a backfill) must not walk repos it could not know yet: as of that
    date they would answer 404 and be recorded as deleted, and their commit lists would be captured again."""
    listed = crawl_state.listing_commits(raw).filter(pl.col("sha").is_not_null())
    if until is not None:
        listed = listed.filter(pl.col("crawl_date") <= until)
    frame = listed.sort("last_modified").group_by("repo_id").agg(pl.col("sha").last())
    heads = {r: s for r, s in frame.iter_rows() if is_valid_repo_id(r) and is_commit_sha(s)}
    if authors:
        heads = {r: s for r, s in heads.items() if r.split("/", 1)[0] in authors}
    return {r: s for r, s in heads.items() if in_shard(r, shard, shards)}


def api_calls_spent(raw: RawStore, crawl_date: str, step: str) -> int:
    """API calls that earlier runs of `step` (e.g. `history[0/4]`) recorded for `crawl_date` (their
    `crawl_run` accounts): a date run again spends what is left of its budget. A run that failed recorded no
    account, so what it sent is not counted."""
    if not raw.files("crawl_run"):
        return 0
    runs = raw.scan("crawl_run", schema_of("crawl_run"), until=crawl_date).filter(
        (pl.col("crawl_date") == crawl_date) & pl.col("scope").str.starts_with(f"{step}:")
    )
    return int(runs.select(pl.col("requests_api").sum()).collect().item() or 0)


def backfill_outlook(
    raw: RawStore,
    budget: int,
    api_per_model: float = MEASURED_API_PER_MODEL,
    tiers: tuple[int | None, ...] = TIERS,
) -> list[DepthPlan]:
    """Days of `budget` (API calls a day) that the history of the top 100,000 / 1,000,000 / all tracked
    repos still needs, most-downloaded first, at `api_per_model` (a first backfill's measured cost; a repo
    already walked but with a new head costs less). A repo is walked when a commit list of its head is
    captured."""
    heads = tracked_heads(raw) if raw.files("hub_listing") else {}
    walked: set[tuple[str, str]] = set()
    if raw.files("hub_commits"):
        walked = set(
            raw.scan("hub_commits", COMMITS_RAW_SCHEMA).select("repo_id", "head").collect().iter_rows()
        )
    order = by_usage(heads, latest_downloads(raw))
    return plan_tiers([(r, heads[r]) not in walked for r in order], budget, api_per_model, tiers)


def run_backfill(
    client: HubClient,
    raw: RawStore,
    crawl_date: str,
    *,
    now: datetime,
    authors: tuple[str, ...] = (),
    max_readme_bytes: int = 5_000_000,
    progress: Callable[[str], None] | None = None,
    shard: int = 0,
    shards: int = 1,
    flush_repos: int = 500,
    flush_bytes: int = 64_000_000,
    usage: Mapping[str, int] | None = None,
    budget: int = 0,
    spent: Callable[[], int] | None = None,
) -> BackfillSummary:
    """Walk the history of every tracked repo whose head commit is not yet in our commit lists, most-used
    first (`usage`: downloads per repo; None: the latest listed). With a `budget` > 0, stop before the next
    repo once `spent()` (the API calls sent so far) reaches it; the repos left wait for the next crawl date."""
    if budget < 0:
        raise ValueError(f"budget must not be negative, got {budget}")
    if budget and spent is None:
        raise ValueError("a budget needs `spent`, the count of API calls sent so far")
    summary = BackfillSummary(budget=budget)
    batch = _Batch(raw, crawl_date, flush_repos, flush_bytes)
    commits_seen, infos, readmes = backfill_state(raw)
    heads = tracked_heads(raw, authors, shard, shards, until=crawl_date)
    summary.repos_considered = len(heads)
    if usage is None:
        usage = latest_downloads(raw, until=crawl_date)
    order = by_usage(heads, usage)
    try:  # what completed repos fetched is written even when a later one fails
        for n, repo_id in enumerate(order, start=1):
            head = heads[repo_id]
            if head in commits_seen.get(repo_id, set()):
                continue  # history already known up to the head: costs nothing
            if budget and spent() >= budget:  # type: ignore[misc]
                summary.repos_deferred = sum(
                    heads[r] not in commits_seen.get(r, set()) for r in order[n - 1 :]
                )
                if progress:
                    progress(
                        f"history: budget of {budget} API calls spent, {summary.repos_deferred} repos left"
                    )
                break
            commits, commits_mark = client.list_commits_marked(repo_id)
            summary.repos_walked += 1
            if commits is None:  # vanished since it was listed: recorded, not fatal
                summary.repos_missing.append(repo_id)
                batch.commits.append(
                    {
                        "fetched_at": now,
                        "repo_id": repo_id,
                        "head": head,
                        "status": "repo_missing",
                        "commits": "[]",
                    }
                )
                batch.presence.append(
                    {"checked_at": now, "repo_id": repo_id, "present": False, "how": "commits_404"}
                )
                batch.repo_done()
                continue
            status = "ok" if commits else "empty"
            summary.commits_listed += len(commits)
            rev_rows, readme_rows = [], []
            # The README of the commit before (oldest first): its blob id and a way to get its row, so that a
            # commit whose README blob did not change costs no request (wasted requests: zero).
            previous_blob: str | None = None
            previous_row: Callable[[], dict] | None = None
            for commit in sorted(commits, key=lambda c: str(c.get("date"))):  # oldest first: compare blobs
                sha = commit.get("id")
                if not is_commit_sha(sha):
                    continue
                known = readmes.get((repo_id, sha))
                if (repo_id, sha) in infos and known is not None:
                    previous_blob = known[0]
                    previous_row = (
                        (lambda r=repo_id, v=sha, f=known[1]: _captured_readme(raw, r, v, f))
                        if known[0]
                        else None
                    )
                    continue
                info, info_mark = client.model_info_marked(repo_id, sha, blobs=True)
                if info is None:
                    summary.repos_missing.append(repo_id)
                    break
                summary.revisions_read += 1
                rev_rows.append(
                    {
                        "fetched_at": now,
                        "repo_id": repo_id,
                        "revision": sha,
                        "commit_date": str(commit.get("date")),
                        "status": "ok",
                        "info": json.dumps(info, sort_keys=True, ensure_ascii=False),
                        "reconstructed": info_mark,
                    }
                )
                blob = _readme_blob(info)
                if known is not None:
                    previous_blob = blob
                    previous_row = (
                        (lambda r=repo_id, v=sha, f=known[1]: _captured_readme(raw, r, v, f))
                        if known[0]
                        else None
                    )
                    continue
                if blob is None:
                    row = {
                        "fetched_at": now,
                        "repo_id": repo_id,
                        "revision": sha,
                        "status": "missing",
                        "detail": "no README.md at this commit",
                        "sha256": None,
                        "size": None,
                        "content": None,
                        "blob_id": None,
                        "truncated": None,
                        "reconstructed": info_mark,  # the file list said so: that answer's mark
                    }
                elif blob != "present" and blob == previous_blob and previous_row is not None:
                    # Same README blob as the commit before: reuse its bytes, no request.
                    summary.readmes_skipped_same_blob += 1
                    row = {
                        **previous_row(),
                        "fetched_at": now,
                        "revision": sha,
                        "detail": "same blob as previous commit",
                        "reconstructed": info_mark,  # this commit's answer, not the one the bytes came from
                    }
                    row = {k: row.get(k) for k in README_RAW_SCHEMA}
                else:
                    res = client.read_file(repo_id, sha, "README.md", max_bytes=max_readme_bytes)
                    summary.readmes_read += 1
                    row = {"fetched_at": now, "repo_id": repo_id, "revision": sha, **readme_capture(res)}
                readme_rows.append(row)
                previous_blob = blob if row["blob_id"] is not None else None
                previous_row = (lambda kept=row: kept) if row["blob_id"] is not None else None
            # Infos and READMEs are written before the commit lists (_Batch.flush): a kill before the last
            # write re-walks these repos but fetches only what is still missing.
            batch.revisions += rev_rows
            batch.readmes += readme_rows
            batch.bytes += sum(len(r["content"] or b"") for r in readme_rows)
            batch.commits.append(
                {
                    "fetched_at": now,
                    "repo_id": repo_id,
                    "head": head,
                    "status": status,
                    "commits": json.dumps(commits, sort_keys=True, ensure_ascii=False),
                    "reconstructed": commits_mark,
                }
            )
            batch.repo_done()
            if progress and (n % 25 == 0 or n == len(heads)):
                progress(f"history: {n}/{len(heads)} repos considered, {summary.repos_walked} walked")
    finally:
        batch.flush()
    return summary
