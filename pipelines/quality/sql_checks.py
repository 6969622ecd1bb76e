"""Plain-SQL integrity checks (the fast, always-on layer under the Great Expectations suites)."""

from __future__ import annotations

import duckdb


def revision_keys(con: duckdb.DuckDBPyConnection) -> dict:
    """(repo_id, revision) unique and not null in core.revisions."""
    nulls, dups = con.execute(
        "SELECT count(*) FILTER (WHERE repo_id IS NULL OR revision IS NULL), "
        "count(*) - count(DISTINCT (repo_id, revision)) FROM core.revisions"
    ).fetchone()
    return {"passed": nulls == 0 and dups == 0, "metadata": {"null_keys": nulls, "duplicate_keys": dups}}


def releases_match_revisions(con: duckdb.DuckDBPyConnection) -> dict:
    """Every repo in core.revisions has exactly one release row, and every release has revisions."""
    missing, orphans, dups = con.execute("""
        SELECT
          (SELECT count(DISTINCT repo_id) FROM core.revisions r
            WHERE NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = r.repo_id)),
          (SELECT count(*) FROM core.releases x
            WHERE NOT EXISTS (SELECT 1 FROM core.revisions r WHERE r.repo_id = x.repo_id)),
          (SELECT count(*) - count(DISTINCT repo_id) FROM core.releases)
    """).fetchone()
    return {
        "passed": missing == 0 and orphans == 0 and dups == 0,
        "metadata": {
            "repos_without_release": missing,
            "releases_without_revisions": orphans,
            "duplicate_releases": dups,
        },
    }
