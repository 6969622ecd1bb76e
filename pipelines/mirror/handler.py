"""The HTTP request handler of the hub mirror: logging, fault injection, and writing replies to the socket.

Every reply carries an exact Content-Length (HTTP/1.1 keep-alive); faults are applied here, on the wire:
429/5xx replace the answer, a stall withholds the body, a truncation sends half of it and hangs up, and a
malformed reply is valid HTTP whose JSON body is broken.
"""

from __future__ import annotations

import hashlib
import logging
import re
import select
import socket
import time
from dataclasses import replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pipelines.mirror.control import control
from pipelines.mirror.faults import Fault
from pipelines.mirror.github_serve import is_github_path, serve_github
from pipelines.mirror.replies import HubError, Reply, json_reply
from pipelines.mirror.routes import bucket_of, route

if TYPE_CHECKING:
    from pipelines.mirror.server import MirrorServer

logger = logging.getLogger(__name__)

MAX_TARGET = 8192  # bytes in the request target (path and query)
MAX_BODY = 1 << 20  # request bodies are only meaningful for the control endpoints
POLL_SECONDS = 0.05
_QUOTAS = {"api": 1000, "resolvers": 5000, "pages": 200}  # a free user's 5-minute quotas
_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


class Handler(BaseHTTPRequestHandler):
    """One connection's requests; the server object carries the MirrorServer as `.mirror`."""

    protocol_version = "HTTP/1.1"
    server_version = "hub-mirror/1"
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    # Headers and body are separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms per reply.
    disable_nagle_algorithm = True

    @property
    def mirror(self) -> MirrorServer:
        """The MirrorServer this connection belongs to."""
        return self.server.mirror  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.mirror.track(self.connection, True)

    def finish(self) -> None:
        self.mirror.track(self.connection, False)
        super().finish()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors raised by the HTTP layer itself (bad request line, unsupported method) as JSON."""
        self.close_connection = True
        if not str(getattr(self, "request_version", "")).startswith("HTTP/1."):
            self.request_version = "HTTP/1.0"  # else the stdlib answers HTTP/0.9-style, with no status line
        text = message or self.responses.get(code, ("Error",))[0]
        self._write(json_reply({"error": text}, code), head_only=self.command == "HEAD")

    # ---- one request -----------------------------------------------------------------------------
    def _serve(self, method: str) -> None:
        self._started = False
        try:
            self._handle(method)
        except Exception:  # the server must never crash on a request: any bug becomes a logged 500
            logger.exception("hub mirror: unexpected error on %s %s", method, self.path)
            self.close_connection = True
            if not self._started:
                self._write(HubError(500, "Internal Error").reply(), method == "HEAD")

    def _handle(self, method: str) -> None:
        mirror = self.mirror
        try:
            body = self._read_body()
            if len(self.path) > MAX_TARGET:
                raise HubError(414, "Request-URI Too Long")
        except HubError as err:
            self.close_connection = True
            self._write(err.reply(), method == "HEAD")
            return
        target = self.path
        path, _, query = target.partition("?")
        if not path.startswith("/"):  # absolute-form request target
            parts = urlsplit(target)
            path, query = parts.path or "/", parts.query
        if path == "/_mirror" or path.startswith("/_mirror/"):
            self._write(control(mirror, method, path, body), method == "HEAD")
            return
        fault = mirror.draw_fault(method, target, path)
        if is_github_path(path):
            self._github(method, path, query, fault)
            return
        if fault is not None and fault.kind in ("primary", "secondary"):
            fault = replace(fault, kind="429")  # GitHub's limits: on the Hub's paths, the Hub's 429
        if fault is not None and fault.kind in ("429", "5xx"):
            reply = _fault_reply(fault, path)
        else:
            reply = self._answer(method, path, query)
            if fault is not None and fault.kind == "malformed" and (method == "HEAD" or not reply.is_json):
                fault = replace(fault, kind="5xx")  # only JSON bodies can be malformed
                reply = _fault_reply(fault, path)
        entry = {
            "method": method,
            "path": path,
            "query": parse_qs(query, keep_blank_values=True),
            "status": reply.status,
            "bucket": bucket_of(path),
            "ts": time.time(),
            "fault": fault.kind if fault else None,
            "token": _token_fingerprint(self.headers.get("Authorization")),
        }
        if fault is not None and fault.kind == "truncate" and method == "HEAD":
            entry["status"] = None  # nothing is sent: the connection just drops
        mirror.record(entry)
        self._write(reply, method == "HEAD", fault)

    def _github(self, method: str, path: str, query: str, fault: Fault | None) -> None:
        """A GitHub API request: answered by github_serve, logged in the `github` bucket with its cost."""
        mirror = self.mirror
        headers = {k.lower(): v for k, v in self.headers.items()}
        origin = self._origin()
        served = serve_github(mirror.code, mirror.quota, method, path, query, headers, fault, origin)
        counted = served.counted
        if fault is not None and fault.kind == "malformed" and (method == "HEAD" or not served.reply.is_json):
            fault = replace(fault, kind="5xx")  # only JSON bodies can be malformed
            served = serve_github(mirror.code, mirror.quota, method, path, query, headers, fault, origin)
        entry = {
            "method": method,
            "path": path,
            "query": parse_qs(query, keep_blank_values=True),
            "status": served.reply.status,
            "bucket": "github",
            "ts": time.time(),
            "fault": fault.kind if fault else None,
            "counted": counted,
            # body bytes sent (0 for a HEAD or a 304), so a run's byte count can be checked on the log
            "bytes": 0 if method == "HEAD" else len(served.reply.body),
        }
        if fault is not None and fault.kind == "truncate" and method == "HEAD":
            entry["status"] = None
        mirror.record(entry)
        self._write(served.reply, method == "HEAD", fault)

    def _answer(self, method: str, path: str, query: str) -> Reply:
        mirror = self.mirror
        try:
            if method not in ("GET", "HEAD"):
                raise HubError(405, f"Method {method} not allowed")
            headers = {k.lower(): v for k, v in self.headers.items()}
            return route(mirror.store, method, path, query, headers, mirror.page_size, self._origin())
        except HubError as err:
            return err.reply()
        except Exception:  # the server must never crash on a request: any bug becomes a logged 500
            logger.exception("hub mirror: unexpected error on %s %s", method, self.path)
            return HubError(500, "Internal Error").reply()

    def _origin(self) -> str:
        host = self.headers.get("Host", "")
        return f"http://{host}" if _HOST.fullmatch(host) else self.mirror.url

    def _read_body(self) -> bytes:
        """The request body (b'' if none); a chunked, malformed or oversized one is refused."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise HubError(400, "Bad request body")  # the caller closes: the stream cannot be resynced
        if length > MAX_BODY:
            raise HubError(413, "Request body too large")
        return self.rfile.read(length) if length else b""

    # ---- writing ---------------------------------------------------------------------------------
    def _write(self, reply: Reply, head_only: bool, fault: Fault | None = None) -> None:
        kind = fault.kind if fault else None
        try:
            if head_only and kind == "truncate":
                self.close_connection = True
                return
            if head_only and kind == "stall" and not self._stall(fault):
                return  # no body to withhold: the headers were withheld, and the client left
            body = _malform(reply.body) if kind == "malformed" else reply.body
            self._started = True
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection or kind == "truncate":
                self.send_header("Connection", "close")
            self.end_headers()
            if head_only:
                return
            if kind == "stall" and not self._stall(fault):
                return
            if kind == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _stall(self, fault: Fault | None) -> bool:
        """Wait stall_seconds (or until the client goes away or the server stops); False if the client left."""
        deadline = time.monotonic() + (fault.stall_seconds if fault else 0.0)
        while time.monotonic() < deadline and not self.mirror.stopping.is_set():
            if _client_gone(self.connection):
                self.close_connection = True
                return False
            time.sleep(POLL_SECONDS)
        return True


def _token_fingerprint(authorization: str | None) -> str | None:
    """The first 16 hex digits of the sha256 of a bearer token, never the token itself; None without one."""
    value = (authorization or "").strip()
    if not value.startswith("Bearer ") or not value[7:].strip():
        return None
    return hashlib.sha256(value[7:].strip().encode()).hexdigest()[:16]


def _client_gone(conn: socket.socket) -> bool:
    """True when the client closed its end (readable with nothing to read); never blocks."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        # A socket with a timeout would wait in recv() even with MSG_DONTWAIT: only peek when readable.
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _malform(body: bytes) -> bytes:
    """Valid UTF-8 that is not valid JSON: the first half of the text, cut on a character boundary."""
    text = body.decode("utf-8", "replace")
    return (text[: len(text) // 2] + "\u2026<malformed>").encode("utf-8")


def _fault_reply(fault: Fault, path: str) -> Reply:
    """The answer a 429 or 5xx fault replaces the real one with."""
    if fault.kind != "429":
        return HubError(fault.status, HTTPStatus(fault.status).phrase).reply()
    bucket = bucket_of(path)
    headers = [("Retry-After", str(fault.retry_after))]
    if bucket == "arxiv":  # arXiv sends no rate-limit headers, only a plain refusal
        return Reply(429, b"Rate exceeded.", "text/plain; charset=utf-8", headers, is_json=False)
    quota = _QUOTAS[bucket]
    headers += [
        ("RateLimit", f'"{bucket}";r=0;t={fault.retry_after}'),
        ("RateLimit-Policy", f'"fixed window";"{bucket}";q={quota};w=300'),
    ]
    message = (
        f"We had to rate limit you, you hit the quota of {quota} {bucket} requests per 5 minutes period. "
        "Upgrade to a PRO user or Team/Enterprise organization account (https://hf.co/pricing) to get "
        "higher limits. See https://huggingface.co/docs/hub/rate-limits"
    )
    return HubError(429, message, headers=headers).reply()
