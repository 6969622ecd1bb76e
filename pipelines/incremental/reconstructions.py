"""core.reconstructions: which model repos, revisions and files of the warehouse rest on a hub mirror's
reconstruction.

A hub mirror lists in its mirror.json `reconstructions` what the recording did not hold and the mirror
rebuilt (docs/mirror.md, "Provenance"); the listing step keeps that list in raw `hub_reconstructions`
(pipelines/hub/provenance.py `capture_reconstructions`). Each affected path names a repo (`<org>/<name>`,
`models/<org>/<name>`), a revision (`models/<org>/<name>/revisions/<sha>`) or one file of it
(`.../revisions/<sha>/<file>`). The table keeps the paths of model repos the warehouse holds, at their
current id (renames followed through core.revisions), and of revisions that are rows of core.revisions.

The table is the union of every list captured, rebuilt whole on every build (a few rows per repo), so it
is the same whatever the order the crawl dates were captured in. Against the live Hub it is empty.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from pipelines.hub.raw import RECONSTRUCTIONS_RAW_SCHEMA
from pipelines.mirror.layout import KINDS
from pipelines.storage.warehouse import Warehouse, transaction

# The kind of reconstruction whose creation date is only an upper bound: core.releases states no
# created_at for such a repo (sql/core/releases.sql), only `existed_by`.
CREATED_UPPER_BOUND = "createdAt-upper-bound"
PATHS_SCHEMA = {
    "path_id": pl.String,
    "revision": pl.String,
    "file": pl.String,
    "kind": pl.String,
    "why": pl.String,
}


def parse_affects(path: str) -> tuple[str, str | None, str | None] | None:
    """(repo id, revision, file) a model-repo path of mirror.json `affects` names (revision and file None
    when it does not name them); None for another kind of repo (`datasets/...`, `code/github/...`) or a
    path that is not well-formed."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) == 2 and parts[0] not in KINDS and parts[0] != "code":
        return f"{parts[0]}/{parts[1]}", None, None
    if len(parts) < 3 or parts[0] != "models":
        return None
    repo_id = f"{parts[1]}/{parts[2]}"
    if len(parts) == 3:
        return repo_id, None, None
    if parts[3] != "revisions" or len(parts) < 5:
        return None
    return repo_id, parts[4], "/".join(parts[5:]) or None


def _paths(wh: Warehouse) -> pl.DataFrame:
    listed = (
        wh.raw.scan("hub_reconstructions", RECONSTRUCTIONS_RAW_SCHEMA)
        .select("kind", "why", "affects")
        .unique()
        .collect()
    )
    rows = []
    for kind, why, affects in listed.iter_rows():
        parsed = parse_affects(affects or "") if kind else None
        if parsed is not None:
            rows.append(
                {"path_id": parsed[0], "revision": parsed[1], "file": parsed[2], "kind": kind, "why": why}
            )
    return pl.DataFrame(rows, schema=PATHS_SCHEMA)


# The listed paths at the current repo ids, kept where the repo (and the revision, if named) is known.
_BUILD = """
WITH named AS (
    SELECT listed_as, repo_id, revision FROM core.revisions
    WHERE listed_as IN (SELECT path_id FROM reconstruction_paths)
       OR repo_id IN (SELECT path_id FROM reconstruction_paths)
),
ids AS (
    SELECT DISTINCT listed_as AS path_id, repo_id FROM named
    UNION SELECT DISTINCT repo_id, repo_id FROM named
),
revs AS (
    SELECT DISTINCT listed_as AS path_id, repo_id, revision FROM named
    UNION SELECT DISTINCT repo_id, repo_id, revision FROM named
),
placed AS (
    SELECT i.repo_id, p.revision, p.file, p.kind, p.why
    FROM reconstruction_paths p JOIN ids i ON i.path_id = p.path_id
    WHERE p.revision IS NULL
    UNION ALL
    SELECT r.repo_id, p.revision, p.file, p.kind, p.why
    FROM reconstruction_paths p JOIN revs r ON r.path_id = p.path_id AND r.revision = p.revision
)
SELECT repo_id, revision, file, kind, min(why) AS why
FROM placed
GROUP BY repo_id, revision, file, kind
ORDER BY repo_id, revision NULLS FIRST, file NULLS FIRST, kind
"""


def update_reconstructions(
    wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False
) -> dict[str, Any]:
    """Rebuild core.reconstructions whole (both modes: it is small) from raw hub_reconstructions and
    core.revisions; the repos whose rows changed are queued for core.releases (their `created_at`)."""
    del full  # the same whole rebuild in both modes
    paths = _paths(wh)
    if paths.height == 0 and not con.execute("SELECT count(*) FROM core.reconstructions").fetchall()[0][0]:
        return {"reconstructions": 0}  # the live Hub: nothing listed, nothing to read
    con.register("reconstruction_paths", paths)
    try:
        fresh = con.sql(_BUILD).pl()
    finally:
        con.unregister("reconstruction_paths")
    old = con.sql("SELECT repo_id, revision, file, kind, why FROM core.reconstructions").pl()
    key = ["repo_id", "revision", "file", "kind", "why"]
    changed = sorted(
        set(old.join(fresh, on=key, how="anti", nulls_equal=True)["repo_id"])
        | set(fresh.join(old, on=key, how="anti", nulls_equal=True)["repo_id"])
    )
    if not changed:
        return {"reconstructions": fresh.height}
    con.register("reconstructions_frame", fresh)
    con.register("reconstructions_changed", pl.DataFrame({"repo_id": changed}, schema={"repo_id": pl.String}))
    try:
        # The queue first (another database: its own transaction): a failure after it costs a rebuild of
        # those releases, never a release left out of date.
        with transaction(con):
            con.execute("INSERT INTO incr.pending SELECT 'releases', repo_id FROM reconstructions_changed")
        with transaction(con):
            con.execute("DELETE FROM core.reconstructions")
            con.execute("INSERT INTO core.reconstructions BY NAME SELECT * FROM reconstructions_frame")
    finally:
        con.unregister("reconstructions_frame")
        con.unregister("reconstructions_changed")
    return {"reconstructions": fresh.height}
