"""Property-based tests: any input to the listing normaliser, the Atom parser or the licence normaliser
gives a result or a recorded flag, never an exception that stops a partition. Fixed seed, time budget."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.hub.ids import is_commit_sha, is_valid_repo_id
from pipelines.hub.raw import LISTING_RAW_SCHEMA
from pipelines.incremental.normalise import update_revisions
from pipelines.openness.catalogue import resolve_licenses
from pipelines.papers.atom import AtomError, parse_feed
from pipelines.storage.warehouse import Warehouse

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HOSTILE = st.sampled_from(
    [
        "../../etc/passwd",
        "a/b'; DROP TABLE core.revisions; --",
        "org/..",
        "/abs/path",
        "org/name\x00",
        "org\\name",
        "ok/repo",
        "x" * 300,
        "",
        "org/na me",
        "%2e%2e/x",
    ]
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "id": HOSTILE | st.text(max_size=40),
        "sha": st.text(alphabet="0123456789abcdef", min_size=0, max_size=40) | JSONISH,
        "lastModified": st.sampled_from(["2024-01-01T00:00:00.000Z", "garbage", ""]) | JSONISH,
        "tags": st.lists(st.text(max_size=30), max_size=6) | JSONISH,
        "cardData": JSONISH,
        "siblings": st.lists(st.fixed_dictionaries({"rfilename": st.text(max_size=30)}), max_size=5)
        | JSONISH,
        "gated": JSONISH,
        "_id": JSONISH,
        "pipeline_tag": JSONISH,
    },
)


def _normalise(listing: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """core.revisions and core.quarantine built by the production build step from one raw listing file."""
    with tempfile.TemporaryDirectory() as tmp:
        wh = Warehouse(Path(tmp))
        wh.raw.append("hub_listing", "2024-01-02", listing, payload=list(listing.columns))
        with wh.connect() as con:
            update_revisions(wh, con, full=True, workers=1)
            return con.sql("SELECT * FROM core.revisions").pl(), con.sql("SELECT * FROM core.quarantine").pl()


@FUZZ
@given(items=st.lists(ITEM | JSONISH, min_size=1, max_size=6))
def test_listing_normaliser_never_raises(items):
    rows = [
        {
            "fetched_at": datetime(2026, 1, 1, tzinfo=UTC),
            "page_url": "u",
            "page_index": 0,
            "item_index": i,
            "repo_id": str(item.get("id"))[:300] if isinstance(item, dict) and "id" in item else None,
            "sha": item.get("sha") if isinstance(item, dict) and isinstance(item.get("sha"), str) else None,
            "last_modified": None,
            "item": json.dumps(item),
        }
        for i, item in enumerate(items)
    ]
    listing = pl.DataFrame(rows, schema=LISTING_RAW_SCHEMA)
    revisions, quarantine = _normalise(listing)
    # Each distinct capture with an invalid id or commit is quarantined with its reason (never dropped
    # silently, never a revision); the others become revisions (renames may merge two into one).
    captures = {(r["repo_id"], r["sha"]) for r in rows}
    invalid = {c for c in captures if not (is_valid_repo_id(c[0]) and is_commit_sha(c[1]))}
    reasons = quarantine.get_column("reason").to_list()
    assert reasons.count("invalid_identifier") == len(invalid)
    assert revisions.height + quarantine.height <= len(captures)
    for repo_id in revisions.get_column("repo_id").to_list():
        assert repo_id.count("/") == 1 and ".." not in repo_id and "'" not in repo_id and " " not in repo_id
    assert quarantine.get_column("reason").is_not_null().all()


@FUZZ
@given(
    body=st.binary(max_size=2000)
    | st.text(max_size=2000).map(str.encode)
    | st.sampled_from(
        [
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>x</id></entry></feed>",
            b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY b 'c'>]><feed>&b;</feed>",
        ]
    )
)
def test_atom_parser_returns_a_result_or_a_recorded_error(body):
    try:
        result = parse_feed(body)
    except AtomError as exc:
        assert str(exc)  # a clear, recorded reason
    else:
        assert isinstance(result.entries, list) and isinstance(result.errors, list)


@FUZZ
@given(
    licences=st.lists(
        st.tuples(st.none() | st.text(max_size=40) | HOSTILE, st.none() | st.text(max_size=40)),
        min_size=1,
        max_size=8,
    )
)
def test_licence_normaliser_gives_every_row_a_status(licences):
    frame = pl.DataFrame(
        {
            "repo_id": [f"o/r{i}" for i in range(len(licences))],
            "revision": [f"{i:040x}" for i in range(len(licences))],
            "license_raw": [a for a, _ in licences],
            "license_name": [b for _, b in licences],
            "license_link": [None] * len(licences),
            "license_tags": [[] for _ in licences],
        },
        schema={
            "repo_id": pl.String,
            "revision": pl.String,
            "license_raw": pl.String,
            "license_name": pl.String,
            "license_link": pl.String,
            "license_tags": pl.List(pl.String),
        },
    )
    out = resolve_licenses(frame)
    assert out.height == frame.height
    assert out.get_column("license_status").is_not_null().all()
    assert set(out.get_column("license_status").unique().to_list()) <= {
        "mapped",
        "unmapped",
        "missing",
        "conflict",
    }
