"""Where the Hub captures came from: a mirror's reconstruction marks per revision, and the mirror itself.

A hub mirror marks every answer that rests on a reconstruction with `X-Mirror-Reconstructed` (docs/mirror.md,
"Provenance"); the crawl keeps the kinds in the raw captures' `reconstructed` column. Here they are put
together per revision (the info answer at that commit and its README answer), so that derived rows can
say they rest on a reconstruction. Against the real Hub nothing is marked and every result is empty.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import polars as pl

from pipelines.hub.raw import (
    README_RAW_SCHEMA,
    RECONSTRUCTIONS_PAYLOAD,
    RECONSTRUCTIONS_RAW_SCHEMA,
    REVISION_RAW_SCHEMA,
)
from pipelines.storage.raw import RawStore, payload_digest
from pipelines.transport import HUB_ENDPOINT

# Kinds that say a commit id is not the Hub's: no link to huggingface.co may name such a commit.
SYNTHETIC_COMMIT_KINDS = frozenset({"synthetic-commit-id"})
MARKS_SCHEMA = {"repo_id": pl.String, "revision": pl.String, "reconstructed": pl.String}


def join_kinds(values: list[str | None] | None) -> str | None:
    """The union of "kind, kind" strings as one sorted "kind, kind" string (None: no kind at all)."""
    kinds = (
        {k.strip() for value in values if value for k in value.split(",") if k.strip()}
        if values is not None
        else set()
    )
    return ", ".join(sorted(kinds)) or None


def revision_marks(raw: RawStore, repo_ids: list[str] | None = None) -> pl.DataFrame:
    """(repo_id as captured, revision, reconstructed): every revision whose info or README answer was marked,
    with the union of its kinds; empty when no capture carries a mark (the real Hub, older captures)."""
    parts = []
    for source, schema in (("hub_revision", REVISION_RAW_SCHEMA), ("hub_readme", README_RAW_SCHEMA)):
        lf = raw.scan(source, schema).select("repo_id", "revision", "reconstructed")
        if repo_ids is not None:
            lf = lf.filter(pl.col("repo_id").is_in(repo_ids))
        parts.append(lf.filter(pl.col("reconstructed").is_not_null()).collect())
    marks = pl.concat(parts) if parts else pl.DataFrame(schema=MARKS_SCHEMA)
    if marks.height == 0:
        return pl.DataFrame(schema=MARKS_SCHEMA)
    return (
        marks.group_by("repo_id", "revision")
        .agg(pl.col("reconstructed"))
        .with_columns(
            pl.col("reconstructed").map_elements(lambda v: join_kinds(list(v)), return_dtype=pl.String)
        )
        .sort("repo_id", "revision")
    )


def is_real_hub(endpoint: str | None) -> bool:
    """Whether an endpoint is the Hugging Face Hub itself (huggingface.co or hf.co)."""
    host = (urlsplit(endpoint or "").hostname or "").lower()
    return host in {"huggingface.co", "hf.co"} or endpoint == HUB_ENDPOINT


def synthetic_commits(marks: pl.DataFrame) -> list[str]:
    """The commit ids that `revision_marks` says a mirror made up (SYNTHETIC_COMMIT_KINDS), sorted."""
    if marks.height == 0:
        return []
    kinds = pl.col("reconstructed").str.split(", ")
    made_up = pl.lit(False)
    for kind in sorted(SYNTHETIC_COMMIT_KINDS):
        made_up = made_up | kinds.list.contains(kind).fill_null(False)
    return sorted(set(marks.filter(made_up).get_column("revision").to_list()))


_HUB_URL = r'"https?://(?:huggingface\.co|hf\.co)/[^"]*?/(?:commit|blob|resolve|tree)/(?:'


def unlink_commits(frame: pl.DataFrame, column: str, shas: list[str], chunk: int = 500) -> pl.DataFrame:
    """`frame` with every JSON string in its text `column` that links a Hub commit of `shas` (or a file at that
    commit) replaced by JSON null: evidence never sends a reader to a commit that is not on the Hub."""
    shas = [s for s in shas if len(s) == 40 and all(c in "0123456789abcdef" for c in s)]
    if not shas or frame.height == 0 or column not in frame.columns:
        return frame
    expr = pl.col(column)
    for start in range(0, len(shas), chunk):
        pattern = _HUB_URL + "|".join(shas[start : start + chunk]) + r')(?:/[^"]*)?"'
        expr = expr.str.replace_all(pattern, "null")
    return frame.with_columns(expr.alias(column))


def reconstruction_rows(manifest: dict, endpoint: str, fetched_at: datetime) -> pl.DataFrame:
    """One row per (kind, affected path) of a mirror manifest's `reconstructions` (RECONSTRUCTIONS_RAW_SCHEMA),
    sorted and without duplicates; entries that are not well-formed are skipped."""
    title = manifest.get("title") if isinstance(manifest.get("title"), str) else None
    entries = manifest.get("reconstructions")
    rows = set()
    for entry in entries if isinstance(entries, list) else []:
        kind = entry.get("kind") if isinstance(entry, dict) else None
        affects = entry.get("affects") if isinstance(entry, dict) else None
        if not isinstance(kind, str) or not kind or not isinstance(affects, list):
            continue
        why = entry.get("why") if isinstance(entry.get("why"), str) else None
        rows |= {
            (kind, why, path.strip("/")) for path in affects if isinstance(path, str) and path.strip("/")
        }
    base = endpoint.rstrip("/").split("/as-of/", 1)[0]
    return pl.DataFrame(
        [
            {"fetched_at": fetched_at, "endpoint": base, "title": title, "kind": k, "why": w, "affects": a}
            for k, w, a in sorted(rows, key=lambda r: (r[2], r[0], r[1] or ""))
        ],
        schema=RECONSTRUCTIONS_RAW_SCHEMA,
    )


def capture_reconstructions(
    raw: RawStore, crawl_date: str, manifest: dict | None, endpoint: str, fetched_at: datetime
) -> int:
    """Keep a mirror's reconstruction list in raw `hub_reconstructions` unless the same list (same digest of
    title, kind, why and path) is already stored under any crawl date; returns the rows written (0 for the
    real Hub, whose `manifest` is None, a mirror that lists none, or a list stored before)."""
    if manifest is None:
        return 0
    frame = reconstruction_rows(manifest, endpoint, fetched_at)
    if frame.height == 0:
        return 0
    name = f"{payload_digest(frame, RECONSTRUCTIONS_PAYLOAD)}.parquet"
    if any(path.name == name for path in raw.files("hub_reconstructions")):
        return 0
    raw.append("hub_reconstructions", crawl_date, frame, RECONSTRUCTIONS_PAYLOAD)
    return frame.height
