"""The raw layer in a bucket of an S3-compatible server on loopback (moto), through the same RawStore API."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from pipelines.storage.raw import CRAWL_RUN_SCHEMA, RawStore
from pipelines.storage.warehouse import Warehouse
from tests.s3_server import aws_environment, create_bucket, object_keys

PAYLOAD = ["run_key"]


def _runs(*keys: str, drop: tuple[str, ...] = ()) -> pl.DataFrame:
    rows = [{**dict.fromkeys(CRAWL_RUN_SCHEMA), "run_key": k, "pages": i} for i, k in enumerate(keys)]
    return pl.DataFrame(rows, schema=CRAWL_RUN_SCHEMA).drop(drop)


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest):
    """(store at s3://<fresh bucket>/raw, boto3 client, bucket name)."""
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    client = create_bucket(s3_endpoint, name)
    return RawStore(f"s3://{name}/raw", environ=aws_environment(s3_endpoint)), client, name


def test_append_is_one_object_per_digest_and_dedups(bucket) -> None:
    store, client, name = bucket
    assert store.is_empty()
    path, written = store.append("crawl_run", "2024-01-01", _runs("a", "b"), PAYLOAD)
    again, rewritten = store.append("crawl_run", "2024-01-01", _runs("a", "b"), PAYLOAD)
    assert written and not rewritten and again == path
    # Only committed, digest-named objects: no temporary name was ever left in the bucket.
    keys = object_keys(client, name)
    assert keys == [f"raw/crawl_run/crawl_date=2024-01-01/{path.name}"]
    assert re.fullmatch(r"[0-9a-f]{64}\.parquet", path.name)
    assert not store.is_empty()
    assert store.clean_temporaries() == 0 and object_keys(client, name) == keys
    # Another process's store (no shared listing cache) sees the object at once, and reads it back.
    other = RawStore(store.url, environ=aws_environment(client.meta.endpoint_url))
    assert other.files("crawl_run") == [path]
    assert other.relative(path) == f"crawl_run/crawl_date=2024-01-01/{path.name}"
    assert other.read(other.path(other.relative(path)), ["run_key"])["run_key"].to_list() == ["a", "b"]
    assert "pages" in other.columns(path)


def test_append_new_reads_the_partition_back_from_the_bucket(bucket) -> None:
    store, client, name = bucket
    store.append("crawl_run", "2024-01-01", _runs("a", "b"), PAYLOAD)
    assert store.captured_rows("crawl_run", "2024-01-01", PAYLOAD) == store.captured_rows(
        "crawl_run", "2024-01-01", PAYLOAD
    )
    assert len(store.captured_rows("crawl_run", "2024-01-01", PAYLOAD)) == 2
    path, rows = store.append_new("crawl_run", "2024-01-01", _runs("b", "c", "c"), PAYLOAD)
    assert rows == 1 and store.read(path, ["run_key"])["run_key"].to_list() == ["c"]
    assert store.append_new("crawl_run", "2024-01-01", _runs("a", "c"), PAYLOAD) == (None, 0)
    assert store.captured_rows("crawl_run", "2024-01-02", PAYLOAD) == set()  # another date: nothing yet
    assert len(object_keys(client, name)) == 2


def test_scan_reads_every_capture_with_its_date_and_file(bucket) -> None:
    store, _, _ = bucket
    first, _ = store.append("crawl_run", "2024-01-01", _runs("a", drop=("detail",)), PAYLOAD)  # an older file
    second, _ = store.append("crawl_run", "2024-01-03", _runs("b", "c"), PAYLOAD)
    frame = store.scan("crawl_run", CRAWL_RUN_SCHEMA, with_file=True).collect().sort("run_key")
    assert frame.columns == [*CRAWL_RUN_SCHEMA, "raw_file"]
    assert frame["crawl_date"].to_list() == ["2024-01-01", "2024-01-03", "2024-01-03"]
    assert frame["raw_file"].to_list() == [str(first), str(second), str(second)]  # as `files` names them
    assert frame["detail"].to_list() == [None, None, None]  # the column the older file lacks
    until = store.scan("crawl_run", CRAWL_RUN_SCHEMA, until="2024-01-02").collect()
    assert until["run_key"].to_list() == ["a"]
    loose = store.scan("crawl_run").collect()  # no declared schema: each file's own columns
    assert sorted(loose["run_key"].to_list()) == ["a", "b", "c"]
    assert store.crawl_dates("crawl_run") == ["2024-01-01", "2024-01-03"]
    assert store.scan("hub_listing", {"repo_id": pl.String}).collect().height == 0


def test_any_fsspec_url_through_file_objects() -> None:
    """A protocol Polars cannot open itself (here fsspec's in-memory one) is read through fsspec."""
    store = RawStore("memory://raw-store-test/raw")
    path, _ = store.append("crawl_run", "2024-01-01", _runs("a"), PAYLOAD)
    frame = store.scan("crawl_run", CRAWL_RUN_SCHEMA, with_file=True).collect()
    assert frame["run_key"].to_list() == ["a"] and frame["raw_file"].to_list() == [str(path)]
    assert store.captured_rows("crawl_run", "2024-01-01", PAYLOAD) and store.read(path).height == 1


def test_the_warehouse_takes_its_raw_layer_from_the_setting(tmp_path: Path, monkeypatch, s3_endpoint) -> None:
    monkeypatch.setenv("OPENNESS_RAW_URL", "s3://somewhere/raw")
    for key, value in aws_environment(s3_endpoint).items():
        monkeypatch.setenv(key, value)
    wh = Warehouse(tmp_path / "wh")
    assert wh.raw.url == "s3://somewhere/raw" and not wh.raw.local
    assert wh.work_db == (tmp_path / "wh" / "work.duckdb").resolve()  # the DuckDB file stays local
    monkeypatch.delenv("OPENNESS_RAW_URL")
    assert Warehouse(tmp_path / "wh").raw.root == (tmp_path / "wh" / "raw").resolve()
    assert (
        Warehouse(tmp_path / "wh", raw_url=f"file://{tmp_path}/elsewhere").raw.root == tmp_path / "elsewhere"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENNESS_RAW_URL", "shared/raw")  # a relative folder: where the setting was read
    assert Warehouse(tmp_path / "wh").raw.root == (tmp_path / "shared" / "raw").resolve()
