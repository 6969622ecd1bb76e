"""The papers' raw captures: one row per HTTP answer, registered with the raw store (pipelines/storage/raw.py)."""

from __future__ import annotations

import polars as pl

from pipelines.storage.raw import register

UTC_TS = pl.Datetime("us", "UTC")

# One row per arXiv query API answer (a batch of up to 100 ids).
ARXIV_RAW_SCHEMA: dict[str, pl.DataType] = register(
    "arxiv",
    {
        "fetched_at": UTC_TS,
        "url": pl.String,
        "status_code": pl.Int64,
        "body": pl.String,
        # A hub mirror's X-Mirror-Unrecorded (`papers`): an asked id missing from this feed is not recorded,
        # not absent from arXiv (docs/mirror.md). Null on arXiv's own answers and on older captures.
        "unrecorded": pl.String,
    },
)
# One row per Hub paper page answer (status `unrecorded` for a mirror's 404 with X-Mirror-Unrecorded).
HF_RAW_SCHEMA: dict[str, pl.DataType] = register(
    "hf_paper",
    {
        "fetched_at": UTC_TS,
        "arxiv_id": pl.String,
        "status": pl.String,
        "body": pl.String,
    },
)
