"""The Hub's raw captures: one schema per raw source, registered with the raw store (pipelines/storage/raw.py).

Every answer the Hub crawl keeps is one row of one of these sources, stored as it came (the JSON text of
listing items and infos, README bytes), so the normalisers can be re-run on the whole history.
"""

from __future__ import annotations

import polars as pl

from pipelines.storage.raw import register

# One row per model item of a listing page (`reconstructed`: the whole page's mark, not this item's).
LISTING_RAW_SCHEMA = register(
    "hub_listing",
    {
        "fetched_at": pl.Datetime("us", "UTC"),
        "page_url": pl.String,
        "page_index": pl.Int32,
        "item_index": pl.Int32,
        "repo_id": pl.String,
        "sha": pl.String,
        "last_modified": pl.String,
        "item": pl.String,
        # The item's usage counts as listed (null when the item has none, and in captures before 2026-12-07,
        # whose `item` still holds `downloads` and `likes`): core.release_metrics reads them.
        "downloads": pl.Int64,  # the Hub's `downloads`: the last 30 days
        "downloads_all_time": pl.Int64,
        "likes": pl.Int64,
        "trending_score": pl.Float64,
        # Hosted access as listed (pipelines/hub/parse.py inference_state / inference_providers; the item
        # holds the Hub's own fields): null in captures before 2026-12-07 and where the item has none
        "inference": pl.String,
        "inference_providers": pl.String,
        # the kinds of the answer's X-Mirror-Reconstructed header ("kind, kind"): a mirror's mark that it rests
        # on a reconstruction (docs/mirror.md); null from the real Hub and in captures before 2026-12-07
        "reconstructed": pl.String,
    },
)
# One row per README read (or why it could not be read) at one commit.
README_RAW_SCHEMA = register(
    "hub_readme",
    {
        "fetched_at": pl.Datetime("us", "UTC"),
        "repo_id": pl.String,
        "revision": pl.String,
        "status": pl.String,
        "detail": pl.String,
        "sha256": pl.String,  # of `content`, the bytes kept
        # the README's real size (the server's Content-Length), also when only its first bytes are kept;
        # before 2026-12-07 the size of the bytes kept
        "size": pl.Int64,
        "content": pl.Binary,
        # git blob id of the complete README (null when not read in full; absent from captures before 2026-11-23)
        "blob_id": pl.String,
        # True when the README is larger than the cap and `content` holds only its first cap + 1 bytes (the
        # read stopped there); null in captures before 2026-12-07 (a capped one says "(capped)" in `detail`)
        "truncated": pl.Boolean,
        # the kinds of the answer's X-Mirror-Reconstructed header ("kind, kind"): a mirror's mark that it rests
        # on a reconstruction (docs/mirror.md); null from the real Hub and in captures before 2026-12-07
        "reconstructed": pl.String,
    },
)
# One row per presence check of a tracked repo missing from a complete listing.
PRESENCE_RAW_SCHEMA = register(
    "hub_presence",
    {
        "checked_at": pl.Datetime("us", "UTC"),
        "repo_id": pl.String,
        "present": pl.Boolean,
        "how": pl.String,
    },
)
# One row per commit list of a repo (the history walk).
COMMITS_RAW_SCHEMA = register(
    "hub_commits",
    {
        "fetched_at": pl.Datetime("us", "UTC"),
        "repo_id": pl.String,
        "head": pl.String,
        "status": pl.String,
        "commits": pl.String,
        # the kinds of the answer's X-Mirror-Reconstructed header ("kind, kind"): a mirror's mark that it rests
        # on a reconstruction (docs/mirror.md); null from the real Hub and in captures before 2026-12-07
        "reconstructed": pl.String,
    },
)
# One row per model info at one commit (the history walk).
REVISION_RAW_SCHEMA = register(
    "hub_revision",
    {
        "fetched_at": pl.Datetime("us", "UTC"),
        "repo_id": pl.String,
        "revision": pl.String,
        "commit_date": pl.String,
        "status": pl.String,
        "info": pl.String,
        # the kinds of the answer's X-Mirror-Reconstructed header ("kind, kind"): a mirror's mark that it rests
        # on a reconstruction (docs/mirror.md); null from the real Hub and in captures before 2026-12-07
        "reconstructed": pl.String,
    },
)
# One row per dataset repo a card names: its info and whether it has a card.
DATASET_RAW_SCHEMA = register(
    "hub_dataset",
    {
        "fetched_at": pl.Datetime("us", "UTC"),
        "dataset_id": pl.String,
        "status": pl.String,
        "info": pl.String,
        "readme_status": pl.String,
        "readme_sha256": pl.String,
        "readme_bytes": pl.Int64,
    },
)
# One row per licence or use-policy file (pipelines.licence_names.licence_file_kind) listed in a model or
# dataset revision's file list: its git blob id and, only the first time that blob is seen, its bytes.
LICENSE_FILE_RAW_SCHEMA = register(
    "hub_license_files",
    {
        "fetched_at": pl.Datetime("us", "UTC"),
        "repo_type": pl.String,  # model | dataset
        "repo_id": pl.String,
        "revision": pl.String,
        "path": pl.String,
        "file_kind": pl.String,  # licence | policy
        # ok | missing | gated | repo_missing | revision_missing | too_large | error (asked again next crawl)
        "status": pl.String,
        "detail": pl.String,
        "blob_sha": pl.String,  # git blob id (null when the file could not be read)
        "blob_source": pl.String,  # how the blob id was known: file_list (blobId) | etag (HEAD) | content
        "size": pl.Int64,
        "content": pl.Binary,  # the bytes, only on the first row of a blob (null after: same blob as before)
    },
)
# One row per path a hub mirror's mirror.json `reconstructions` lists (docs/mirror.md, "Provenance"), read
# from its `/_mirror/health` by the listing step: what the recording did not hold and the mirror rebuilt.
# Stored once per distinct list (a file named by the digest of title, kind, why and path; a re-crawl of the
# same mirror, on any date, adds nothing); nothing is captured from the live Hub.
RECONSTRUCTIONS_RAW_SCHEMA = register(
    "hub_reconstructions",
    {
        "fetched_at": pl.Datetime("us", "UTC"),
        "endpoint": pl.String,  # the mirror's base URL when read (not part of the payload: it varies by port)
        "title": pl.String,  # the mirror's title
        "kind": pl.String,  # e.g. synthetic-commit-id, createdAt-upper-bound
        "why": pl.String,  # the mirror's explanation of the kind
        # a mirror path: `<kind>/<org>/<name>/revisions/<sha>[/<file>]`, a bare `<org>/<name>` (a repo-level
        # fact) or `<kind>/<org>/<name>` (e.g. `code/github/<owner>/<repo>`)
        "affects": pl.String,
    },
)
RECONSTRUCTIONS_PAYLOAD = ["title", "kind", "why", "affects"]
