"""The hub mirror server: answers like the Hugging Face Hub and the arXiv query API from a hub-mirror/1 folder.

Standard library only (`ThreadingHTTPServer`, HTTP/1.1 keep-alive, exact Content-Length everywhere), bound
to 127.0.0.1 by default. See docs/mirror.md for the endpoints, the as-of rule and the fault options.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pipelines.mirror.faults import Fault, FaultConfig
from pipelines.mirror.github_quota import ANONYMOUS_LIMIT, TOKEN_LIMIT, Quota
from pipelines.mirror.github_store import CodeStore
from pipelines.mirror.handler import POLL_SECONDS, Handler
from pipelines.mirror.store import MirrorStore

__all__ = ["FaultConfig", "MirrorServer", "Quota", "serve_forever"]

logger = logging.getLogger(__name__)


class MirrorServer:
    """A local Hub + arXiv + GitHub look-alike over a mirror folder, serving from a background daemon thread.

    `quota` is GitHub's primary rate limit for the `code/` endpoints (default 5,000 requests an hour per
    token, 60 anonymous).
    """

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        page_size: int = 1000,
        quota: Quota | None = None,
    ) -> None:
        self.store = MirrorStore(Path(root))
        self.code = CodeStore(Path(root))
        self.quota = quota if quota is not None else Quota(TOKEN_LIMIT, ANONYMOUS_LIMIT)
        self.host = host
        self.port = port
        self.page_size = page_size
        self._faults = faults
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._seen: Counter[tuple[str, str]] = Counter()
        self._conns: set[socket.socket] = set()
        self.stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------------
    def bind(self) -> MirrorServer:
        """Index the mirror and open the listening socket (without serving yet)."""
        if self._httpd is None:
            self.stopping.clear()
            self.store.load()
            self.code.load()
            self._httpd = _HTTPServer((self.host, self.port), Handler, self)
            self.port = self._httpd.server_address[1]
        return self

    def start(self) -> MirrorServer:
        """Serve in a background daemon thread; returns self."""
        if self._thread is None:
            httpd = self.bind()._httpd
            assert httpd is not None
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": POLL_SECONDS},
                name=f"hub-mirror:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end stalled responses and close every open connection."""
        self.stopping.set()
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread.join()
            self._httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd, self._thread = None, None

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- public state ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL of the Hub API, e.g. http://127.0.0.1:PORT (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def arxiv_url(self) -> str:
        """Base URL of the arXiv query API on this server."""
        return self.url + "/arxiv/api/query"

    @property
    def github_url(self) -> str:
        """Base URL of the GitHub REST API on this server (GitHub Enterprise style), for a client's base URL."""
        return self.url + "/api/v3"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log: method, path, query, status, bucket, ts, fault for every request.

        GitHub requests (bucket `github`) also say whether they were `counted` against the quota and how
        many body `bytes` were sent.
        """
        with self._lock:
            return [dict(e) for e in self._log]

    @property
    def faults(self) -> FaultConfig | None:
        """The fault config in force (None: no faults)."""
        return self._faults

    def reset_log(self) -> None:
        """Empty the request log and restart the per-request occurrence counts the faults draw on."""
        with self._lock:
            self._log.clear()
            self._seen.clear()

    def set_quota(self, quota: Quota) -> None:
        """Replace GitHub's quota (its windows start afresh)."""
        with self._lock:
            self.quota = quota

    def set_faults(self, faults: FaultConfig | None) -> None:
        """Replace the fault config (None turns faults off); occurrence counts restart."""
        with self._lock:
            self._faults = faults
            self._seen.clear()

    # ---- used by the handler ---------------------------------------------------------------------
    def draw_fault(self, method: str, target: str, path: str) -> Fault | None:
        """Count this request and decide its fault (a pure function of the config and the count)."""
        with self._lock:
            n = self._seen[(method, target)]
            self._seen[(method, target)] = n + 1
            faults = self._faults
        if faults is None or not faults.applies_to(path):
            return None
        return faults.decide(method, target, n)

    def record(self, entry: dict[str, Any]) -> None:
        """Append one entry to the request log."""
        with self._lock:
            self._log.append(entry)

    def track(self, conn: socket.socket, open_: bool) -> None:
        """Remember open connections so that stop() can close them."""
        with self._lock:
            (self._conns.add if open_ else self._conns.discard)(conn)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, mirror: MirrorServer) -> None:
        self.mirror = mirror
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return  # the client went away (killed, or gave up after its timeout): nothing to report
        logger.exception("hub mirror: error while handling a request from %s", client_address)


def serve_forever(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    faults: FaultConfig | None = None,
    page_size: int = 1000,
    quota: Quota | None = None,
) -> None:
    """Serve a mirror folder in the foreground until interrupted (the `openness mirror serve DIR` command)."""
    server = MirrorServer(Path(root), host, port, faults, page_size, quota).bind()
    github = f", GitHub: {server.github_url}" if server.code.count() else ""
    print(f"hub mirror {server.store.root} on {server.url} (arXiv: {server.arxiv_url}{github})", flush=True)
    httpd = server._httpd
    assert httpd is not None
    try:
        httpd.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
