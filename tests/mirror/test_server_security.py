"""Untrusted input: traversal in every spelling answers 4xx and serves nothing outside the mirror."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from pipelines.mirror.server import MirrorServer


def raw_request(srv: MirrorServer, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Send the target exactly as written (http.client does not normalise `..`)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


TRAVERSALS = [
    "/acme/evolving/resolve/main/../../../../commits.json",
    "/acme/evolving/resolve/main/../../../../../outside/secret.txt",
    "/acme/evolving/resolve/main/%2e%2e/%2e%2e/%2e%2e/%2e%2e/mirror.json",
    "/acme/evolving/resolve/main/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/outside/secret.txt",
    "/acme/evolving/resolve/main/..%2f..%2f..%2f..%2fmirror.json",
    "/acme/evolving/resolve/main/..%2F..%2F..%2F..%2F..%2Foutside%2Fsecret.txt",
    "/acme/evolving/resolve/main//etc/passwd",
    "/acme/evolving/resolve/main/%2fetc%2fpasswd",
    "/acme/evolving/resolve/main/..%5c..%5cmirror.json",
    "/acme/evolving/resolve/main/README.md%00.txt",
    "/acme/evolving/resolve/main/info.json",
    "/acme/evolving/resolve/%2e%2e/README.md",
    "/acme/evolving/resolve/..%2F..%2Fcommits.json/README.md",
    "/acme/..%2F..%2Foutside/resolve/main/secret.txt",
    "/%2e%2e/%2e%2e/resolve/main/secret.txt",
    "/datasets/acme/corpus/resolve/main/../../../../../../outside/secret.txt",
    "/api/models/../../../outside/secret.txt",
    "/api/models/acme/%2e%2e/revision/main",
    "/api/models/acme%2F..%2F..%2Foutside",
    "/api/models/acme/evolving/revision/..%2F..%2F..",
    "/api/models/acme/evolving/commits/%2e%2e",
    "/api/papers/..%2F..%2F..%2Foutside%2Fsecret",
    "/as-of/..%2F..%2Foutside/api/models",
    "/acme/linked/resolve/main/README.md",  # a symlink pointing outside the mirror
    "/acme/linked/resolve/main/sub/secret.txt",  # a symlinked folder pointing outside
    "http://127.0.0.1/acme/linked/resolve/main/README.md",  # absolute-form request target
    "/etc/passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_traversal_answers_4xx_and_leaks_nothing(
    srv: MirrorServer, secret: bytes, target: str, method: str
) -> None:
    status, headers, body = raw_request(srv, target, method)
    assert 400 <= status < 500, (target, status, body)
    assert secret not in body and b"hub-mirror/1" not in body and b"root:" not in body
    if method == "GET":  # (a HEAD answer announces the GET's length but has no body)
        assert "error" in json.loads(body) and headers["content-length"] == str(len(body))


def test_files_inside_are_still_served(srv: MirrorServer) -> None:
    assert raw_request(srv, "/acme/linked/resolve/main/notes.txt")[2] == b"inside\n"
    status, _, body = raw_request(srv, "/acme/linked/resolve/main/README.md")
    assert status == 404 and json.loads(body) == {"error": "Entry not found"}


def test_bad_names_are_400(srv: MirrorServer) -> None:
    for target in [
        "/api/models/acme/ev--olving",
        "/api/models/-acme/x",
        "/api/models/acme/x.git",
        "/api/models/acme/evolving/revision/main..x",
        "/api/models/a%ff/b",
    ]:
        assert raw_request(srv, target)[0] == 400, target


def test_limits_and_garbage_never_crash_the_server(srv: MirrorServer) -> None:
    assert raw_request(srv, "/api/models?search=" + "a" * 9000)[0] == 414
    assert raw_request(srv, "/api/models?" + "&".join(f"f{i}=1" for i in range(300)))[0] == 400
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(b"DELETE /api/models HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 501")
    assert raw_request(srv, "/api/models", "POST")[0] == 405
    assert raw_request(srv, "/api/models?limit=1")[0] == 200  # still serving


def test_keep_alive_with_exact_lengths(srv: MirrorServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        for target in [
            "/api/models?limit=2",
            "/api/models/acme/missing",
            "/acme/evolving/resolve/main/README.md",
            "/arxiv/api/query?id_list=abc",
            "/api/models/acme/evolving",
        ]:
            conn.request("GET", target)
            r = conn.getresponse()
            body = r.read()
            assert int(r.getheader("content-length")) == len(body) and not r.will_close
        assert len({r["path"] for r in srv.requests}) == 5
    finally:
        conn.close()


def test_binds_to_loopback_by_default(mirror_root) -> None:
    srv = MirrorServer(mirror_root)
    assert srv.host == "127.0.0.1"
    with srv:
        assert srv.url.startswith("http://127.0.0.1:") and srv.arxiv_url == srv.url + "/arxiv/api/query"
