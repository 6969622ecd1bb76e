"""Where a snapshot's data came from: the endpoints crawled and, for a hub mirror, what it reconstructed.

The crawl records the endpoint of every step (core.crawl_runs) and, for a hub mirror, what the mirror says
about itself (its `title` and `reconstructions`, in the listing step's `detail`); the raw captures keep the
mirror's per-answer marks (pipelines/hub/provenance.py). From these, `data_source` says where the data came
from and how many rows rest on a reconstruction; the manifest (`source`), the dataset card and the report
show it, so that a version built from a recording never reads as facts from huggingface.co.
"""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb

from pipelines.hub.provenance import SYNTHETIC_COMMIT_KINDS, is_real_hub, revision_marks
from pipelines.publish.markdown import plural
from pipelines.storage.warehouse import Warehouse, table_exists

_AS_OF = re.compile(r"/as-of/[^/]+/?$")
# The scopes of the Hub crawl's steps in core.crawl_runs (pipelines/hub/step.py); papers and code crawls
# read other APIs (arXiv, GitHub) and are not where the Hub facts came from.
HUB_STEPS = r"^(listing|readmes|history|license_files|datasets)\b"


def _columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return {r[0] for r in rows}


def crawled_endpoints(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dict | None]:
    """(the endpoints the Hub crawl's steps read, without a replay's `/as-of/<date>`, sorted; the newest
    mirror description a listing step recorded, or None) from core.crawl_runs."""
    if not table_exists(con, "core.crawl_runs"):
        return [], None
    rows = con.execute(
        "SELECT endpoint, detail FROM core.crawl_runs WHERE endpoint IS NOT NULL "
        "AND regexp_matches(scope, ?) ORDER BY started_at",
        [HUB_STEPS],
    ).fetchall()
    endpoints: set[str] = set()
    mirror = None
    for endpoint, detail in rows:
        endpoints.add(_AS_OF.sub("", endpoint.rstrip("/")) or endpoint)
        try:
            found = json.loads(detail or "{}").get("source")
        except (ValueError, AttributeError):
            found = None
        if isinstance(found, dict):
            mirror = found
    return sorted(endpoints), mirror


def data_source(wh: Warehouse, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Where the data came from, for the manifest's `source`: the endpoints crawled, whether that is the live
    Hub, the mirror's description (None for the Hub) and how many rows rest on a reconstruction."""
    endpoints, mirror = crawled_endpoints(con)
    counts = {
        "revisions_reconstructed": 0,
        "revisions_total": 0,
        "transitions_reconstructed": 0,
        "transitions_total": 0,
        "transitions_unlinked": 0,
    }
    if table_exists(con, "core.revisions"):
        counts["revisions_total"] = con.execute("SELECT count(*) FROM core.revisions").fetchall()[0][0]
        # A revision rests on a reconstruction when an answer about it carried the mirror's mark, or when the
        # mirror's list names it (core.reconstructions): the same rows a reader finds by joining that table.
        marks = revision_marks(wh.raw).select("repo_id", "revision")
        listed = (
            "UNION SELECT repo_id, revision FROM core.reconstructions WHERE revision IS NOT NULL"
            if table_exists(con, "core.reconstructions")
            else ""
        )
        if counts["revisions_total"]:
            con.register("revision_marks", marks)
            try:
                counts["revisions_reconstructed"] = con.execute(
                    "SELECT count(*) FROM core.revisions r SEMI JOIN ("  # noqa: S608
                    "SELECT m.repo_id, m.revision FROM revision_marks m "
                    f"{listed}) m ON m.repo_id IN (r.repo_id, coalesce(r.listed_as, r.repo_id)) "
                    "AND m.revision = r.revision"
                ).fetchall()[0][0]
            finally:
                con.unregister("revision_marks")
    if table_exists(con, "core.releases") and "existed_by" in _columns(con, "core", "releases"):
        counts["releases_total"], counts["releases_creation_bounded"] = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE created_at IS NULL AND existed_by IS NOT NULL) "
            "FROM core.releases"
        ).fetchall()[0]
    if table_exists(con, "core.transitions"):
        counts["transitions_total"] = con.execute("SELECT count(*) FROM core.transitions").fetchall()[0][0]
        if "reconstructed" in _columns(con, "core", "transitions"):
            synthetic = " OR ".join(
                f"list_contains(string_split(reconstructed, ', '), '{k}')"
                for k in sorted(SYNTHETIC_COMMIT_KINDS)
            )
            counts["transitions_reconstructed"], counts["transitions_unlinked"] = con.execute(
                "SELECT count(reconstructed), count(*) FILTER (WHERE evidence_url IS NULL AND "  # noqa: S608
                f"({synthetic})) FROM core.transitions"
            ).fetchall()[0]
    return {
        "endpoints": endpoints,
        "live_hub": bool(endpoints) and all(is_real_hub(e) for e in endpoints),
        "mirror": mirror,
        "reconstructed": counts,
    }


def source_name(source: dict | None) -> str:
    """What the data was crawled from, in a few words: `the Hugging Face Hub (https://huggingface.co)` or
    `the hub mirror "<title>" (a recording served at <endpoint>)`."""
    source = source or {}
    endpoints = source.get("endpoints") or []
    where = ", ".join(endpoints) or "an unrecorded endpoint"
    if source.get("live_hub"):
        return f"the Hugging Face Hub ({where})"
    mirror = source.get("mirror") or {}
    if mirror.get("title"):
        return f'the hub mirror "{mirror["title"]}" (a recording served at {where}, not the live Hub)'
    return f"{where} (not the live Hugging Face Hub)"


def source_sentences(source: dict | None) -> list[str]:
    """The card's and the report's statement of where the data came from and what rests on a
    reconstruction (empty when the manifest has no `source`: a version published before it existed)."""
    if not source:
        return []
    lines = [f"Data source: {source_name(source)}."]
    if source.get("live_hub"):
        return lines
    counts = source.get("reconstructed") or {}
    mirror = source.get("mirror") or {}
    kinds = mirror.get("reconstructions") or {}
    if kinds:
        lines.append(
            f"The recording lists {len(kinds)} kinds of reconstruction ({', '.join(sorted(kinds))}): facts it "
            "did not hold and rebuilt, which the live Hub may state differently."
        )
    unlinked = counts.get("transitions_unlinked", 0)
    lines.append(
        f"Reconstructed facts in this version: {counts.get('revisions_reconstructed', 0)} of {counts.get('revisions_total', 0)} "
        f"revisions and {counts.get('transitions_reconstructed', 0)} of {counts.get('transitions_total', 0)} transitions rest on "
        "at least one reconstruction (`core.reconstructions` names each reconstructed revision, file and "
        "repo fact with its kind; the `reconstructed` column of transitions names the kinds); "
        f"{plural(unlinked, 'transition')} {'has' if unlinked == 1 else 'have'} no evidence link because "
        f"{'its commit id is' if unlinked == 1 else 'their commit ids are'} a reconstruction, not a commit "
        "on huggingface.co."
    )
    bounded = counts.get("releases_creation_bounded", 0)
    if bounded:
        lines.append(
            f"The recording only bounds the creation date of {plural(bounded, 'release')} (the repo existed by "
            "the date in `existed_by`): their `created_at` is empty rather than a date the Hub may not show."
        )
    return lines
