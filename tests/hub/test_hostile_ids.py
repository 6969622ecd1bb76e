"""A listing that names repos with SQL or path metacharacters: quarantined, never executed or written outside
the warehouse (a real HTTP server answering like the Hub, and the real client)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb

from pipelines.hub.step import run_crawl
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings

HOSTILE = [
    "../../../tmp/pwned",
    "x'; DROP TABLE core.revisions; --/y",
    "org/name/../../escape",
    "/etc/passwd",
    "org/na\x00me",
    "org/%2e%2e%2fescape",
]
DATE = "2024-05-01T10:00:00.000Z"


def _item(repo_id: str, n: int) -> dict:
    return {
        "_id": f"{n:024x}",
        "id": repo_id,
        "sha": f"{n + 1:040x}",
        "lastModified": DATE,
        "createdAt": DATE,
        "gated": False,
        "tags": ["license:mit"],
        "cardData": {"license": "mit"},
        "siblings": [{"rfilename": "README.md"}],
    }


class _Hub(BaseHTTPRequestHandler):
    """Answers the listing with hostile ids, and every other path with the Hub's 404."""

    requests: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for k, v in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).requests.append(self.path)
        if self.path.split("?")[0].endswith("/api/models"):
            items = [_item("good/model", 0)] + [_item(h, i + 1) for i, h in enumerate(HOSTILE)]
            self._reply(200, json.dumps(items).encode(), {"Content-Type": "application/json"})
        elif "/resolve/" in self.path:
            self._reply(
                200,
                b"---\nlicense: mit\n---\n# ok\n",
                {"X-Repo-Commit": "1" * 40, "ETag": '"abc"', "Content-Type": "text/plain"},
            )
        else:
            self._reply(404, b'{"error":"not found"}', {"X-Error-Code": "RepoNotFound"})

    do_HEAD = do_GET


def test_hostile_ids_are_quarantined_and_nothing_escapes_the_warehouse(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = tmp_path / "warehouse"
    wh = Warehouse(root)
    before = {p for p in tmp_path.parent.rglob("*") if tmp_path not in p.parents and p != tmp_path}
    try:
        run_crawl(
            wh,
            settings(f"http://127.0.0.1:{server.server_port}", replay=False),
            "2024-05-02",
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
    finally:
        server.shutdown()
    with wh.connect() as con:
        run_step("revisions", wh, con, full=True)
        run_step("releases", wh, con, full=True)
    with duckdb.connect(str(wh.work_db), read_only=True) as con:
        assert con.execute("SELECT repo_id FROM core.revisions").fetchall() == [("good/model",)]
        quarantined = {
            r
            for (r,) in con.execute(
                "SELECT repo_id FROM core.quarantine WHERE reason = 'invalid_identifier'"
            ).fetchall()
        }
    assert quarantined == {h[:200] for h in HOSTILE}
    # Only the good repo's README was asked for: a hostile id never reached a URL.
    sha = _item("good/model", 0)["sha"]
    assert {p for p in _Hub.requests if "/resolve/" in p} == {f"/good/model/resolve/{sha}/README.md"}
    after = {p for p in tmp_path.parent.rglob("*") if tmp_path not in p.parents and p != tmp_path}
    assert after == before  # nothing written next to the warehouse
    assert all(root in p.parents for p in root.rglob("*"))
    assert (
        not (tmp_path / "tmp").exists()
        and not list(root.rglob("*pwned*"))
        and not list(root.rglob("*escape*"))
    )
