"""What the raw layer already knows about each code repository (pure, over raw frames).

The crawl keeps no state file of its own: every capture is committed to the raw store as soon as it is
made, and a repository's `github_repo` row is written last. So the next run (or a resumed one) reads
here which ETag to send, when the tree was last read, which blobs and licence-file commits are stored,
and which repositories are already done for this crawl date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl


@dataclass
class RepoState:
    """The newest known state of one repository."""

    repo: str
    full_name: str | None = None
    etag: str | None = None
    status: str | None = None
    pushed_at: str | None = None
    default_branch: str | None = None
    head_sha: str | None = None
    tree_read_at: datetime | None = None
    checked_at: datetime | None = None
    done_dates: set[str] = field(default_factory=set)


@dataclass
class KnownCaptures:
    """Per repository: its state, the blobs stored, the licence-file commits stored, the licence paths."""

    repos: dict[str, RepoState] = field(default_factory=dict)
    blobs: set[tuple[str, str, str]] = field(default_factory=set)  # (repo, path, blob_sha)
    file_commits: set[tuple[str, str, str]] = field(default_factory=set)  # (repo, path, commit_sha)
    licence_paths: dict[str, set[str]] = field(default_factory=dict)  # repo -> paths ever seen

    def state(self, repo: str) -> RepoState:
        """The state of a repository (an empty one if never seen)."""
        return self.repos.setdefault(repo, RepoState(repo=repo))


def known_captures(
    repo_rows: pl.DataFrame, file_rows: pl.DataFrame, commit_rows: pl.DataFrame
) -> KnownCaptures:
    """Fold the raw captures of the three sources into what the crawl needs to know."""
    known = KnownCaptures()
    for row in repo_rows.sort("fetched_at").iter_rows(named=True):
        st = known.state(row["repo"])
        st.done_dates.add(row["crawl_date"])
        st.status = row["status"]
        st.checked_at = row["fetched_at"]
        if row["status"] in ("ok", "moved", "not_modified", "empty"):
            st.full_name = row["full_name"] or st.full_name
            st.etag = row["etag"] or st.etag
            st.pushed_at = row["pushed_at"] or st.pushed_at
            st.default_branch = row["default_branch"] or st.default_branch
        if row["head_sha"]:
            st.head_sha = row["head_sha"]
            st.tree_read_at = row["fetched_at"]
        elif row["status"] == "empty":  # nothing to read: as good as a read tree until the refresh
            st.head_sha = None
            st.tree_read_at = row["fetched_at"]
    for row in file_rows.select("repo", "path", "blob_sha").iter_rows():
        known.blobs.add(row)
        known.licence_paths.setdefault(row[0], set()).add(row[1])
    for row in commit_rows.select("repo", "path", "commit_sha").iter_rows():
        known.file_commits.add(row)
        known.licence_paths.setdefault(row[0], set()).add(row[1])
    return known
