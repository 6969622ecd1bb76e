"""Fixtures for snapshot tests: a tiny migrated warehouse, and real servers on loopback (HTTP, S3)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from pipelines.storage.warehouse import migrate

TRANSITIONS_DDL = """CREATE TABLE core.transitions (repo_id VARCHAR, changed_at TIMESTAMPTZ, dimension VARCHAR,
    from_value VARCHAR, to_value VARCHAR, direction VARCHAR, from_revision VARCHAR, to_revision VARCHAR,
    evidence_url VARCHAR)"""


def add_release(
    con: duckdb.DuckDBPyConnection, repo_id: str, day: str, license_raw: str = "apache-2.0"
) -> None:
    """One release with one revision, first seen on `day`."""
    org, name = repo_id.split("/")
    sha = (repo_id.encode().hex() * 3)[:40]
    con.execute(
        "INSERT INTO core.revisions (repo_id, revision, committed_at, observed_at, license_raw, has_weights, "
        "weight_formats) VALUES (?, ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, ?, true, ['safetensors'])",
        [repo_id, sha, day, day, license_raw],
    )
    con.execute(
        "INSERT INTO core.releases (repo_id, org, name, first_seen, last_seen, modality, latest_revision, "
        "revision_count) VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 'text', ?, 1)",
        [repo_id, org, name, day, day, sha],
    )


def add_crawl(con: duckdb.DuckDBPyConnection, day: str) -> None:
    """A finished crawl run on `day`."""
    con.execute(
        "INSERT INTO core.crawl_runs (run_key, crawl_date, started_at, status, models_listed) "
        "VALUES (?, ?::DATE, ?::TIMESTAMPTZ, 'success', 3)",
        [f"crawl-{day}", day, day],
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated DuckDB file with three releases, one crawl and an empty transitions table."""
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    migrate(con)
    con.execute(TRANSITIONS_DDL)
    for repo in ("acme/alpha", "acme/beta", "zeta/gamma"):
        add_release(con, repo, "2024-03-01")
    add_crawl(con, "2024-03-01")
    yield con
    con.close()


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves a folder, records every GET with its Range header, and honours `bytes=N-` when enabled.

    `server.faults[path]` lists what the next GETs of that path get instead of the file, in turn: a status
    (with its headers), or "cut": the file's headers and only half its bytes, then the connection closes.
    """

    def log_message(self, *args: object) -> None:  # the test reads server.log instead of stderr
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        rng = self.headers.get("Range")
        self.server.log.append((self.path, rng))
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        path = Path(self.translate_path(self.path))
        planned = self.server.faults.get(self.path)
        if planned:
            return self._fault(planned.pop(0), path)
        if not (self.server.ranges and match and path.is_file()):
            return super().do_GET()
        data, start = path.read_bytes(), int(match[1])
        if start >= len(data):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.end_headers()
            return None
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])
        return None

    def _fault(self, fault: tuple[int, dict[str, str]] | str, path: Path) -> None:
        if fault == "cut":
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        status, headers = fault
        self.send_response(status)
        for name, value in {**headers, "Content-Length": "0"}.items():
            self.send_header(name, value)
        self.end_headers()


@pytest.fixture
def http_server():
    """Start servers on 127.0.0.1: `serve(folder, ranges=True)` -> (base URL, server with .log, .faults)."""
    servers = []

    def serve(folder: Path, ranges: bool = True) -> tuple[str, ThreadingHTTPServer]:
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(RangeHandler, directory=str(folder)))
        server.log, server.ranges, server.faults = [], ranges, {}
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def s3_bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> tuple[str, dict]:
    """A fresh bucket on the loopback S3 server and the fsspec storage options that reach it."""
    import boto3

    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    return name, options
