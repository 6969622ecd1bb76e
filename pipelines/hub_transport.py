"""huggingface_hub's transport as every Hub request of the pipeline uses it: the Hub crawl (pipelines/hub/) and
the Hub paper pages (pipelines/papers/) both send through here, so that they share the Hub's headers (and
token), its per-bucket rate limiters and the step's request counters.

huggingface_hub 2.x sends every request through one shared httpx client built by a factory; `install` sets a
factory whose event hooks (1) wait for the bucket's rate limiter before a request leaves and (2) count
requests, bytes, 429s and server errors per rate-limit bucket (the shared policy is in pipelines/transport.py).
Given a quota folder, the limiters are shared by every process crawling the Hub with the same token (one
file per token and bucket under that folder), so that together they keep the token's quota.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import constants as hf_constants
from huggingface_hub.utils import build_hf_headers, http_stream_backoff, set_client_factory
from huggingface_hub.utils._http import hf_request_event_hook

from pipelines.transport import RequestStats, SharedWindowLimiter, WindowLimiter, window_limiter

# Published quotas per 5-minute window (reference/hub-api.md section 4.2): (free token, anonymous).
HUB_QUOTAS = {"api": (1000, 500), "resolvers": (5000, 3000), "pages": (200, 100)}
WINDOW_SECONDS = 300.0
READ_CHUNK = 1 << 16  # bytes per read of a streamed body
LIBRARY_NAME = "openness-tracker"


def bucket_of(url: str) -> str:
    """The Hub rate-limit bucket a URL falls in (api, resolvers or pages)."""
    path = urlsplit(url).path
    if "/resolve/" in path:
        return "resolvers"
    if "/api/" in path:
        return "api"
    return "pages"


def hub_headers(token: str | bool | None) -> dict[str, str]:
    """huggingface_hub's request headers with `token` (False or None: none, never one found on the machine)."""
    return build_hf_headers(token=token or False, library_name=LIBRARY_NAME)


def get_once(
    url: str, headers: dict[str, str], timeout: float, max_bytes: int = 5_000_000
) -> tuple[int, bytes, httpx2.Headers]:
    """One GET through huggingface_hub's transport, whatever its status: (status, body, headers).

    No retry and no error mapping (the caller decides); the body is read up to `max_bytes`, and a longer one
    raises httpx2.RemoteProtocolError (treated as a cut answer).
    """
    with http_stream_backoff(
        "GET",
        url,
        headers=headers,
        timeout=timeout,
        max_retries=0,
        retry_on_status_codes=(),
        follow_redirects=True,
    ) as response:
        body = bytearray()
        for chunk in response.iter_bytes(READ_CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise httpx2.RemoteProtocolError(f"{url}: body larger than {max_bytes} bytes")
        return response.status_code, bytes(body), response.headers


class HubHttp:
    """Process-wide hooks: the active stats object and one limiter per bucket."""

    def __init__(self) -> None:
        self.stats = RequestStats()
        self.limiters: dict[str, WindowLimiter | SharedWindowLimiter] = {}
        self._lock = threading.Lock()

    def configure(
        self,
        quotas: dict[str, int] | None,
        *,
        token: str | bool | None = None,
        shared_dir: str | os.PathLike[str] | None = None,
        window: float = WINDOW_SECONDS,
    ) -> None:
        """Set the per-bucket quotas (None: no limiting, for the local mirror); with `shared_dir`, each
        bucket's quota is shared with every process that crawls the Hub with `token` through that folder."""
        with self._lock:
            self.limiters = {
                b: window_limiter(q, window, shared_dir, service="hub", bucket=b, token=token)
                for b, q in (quotas or {}).items()
            }

    def begin(self) -> RequestStats:
        """Start a fresh set of counters and return it."""
        with self._lock:
            self.stats = RequestStats()
            return self.stats

    def on_request(self, request: httpx2.Request) -> None:
        """Event hook: wait for the bucket's limiter, then count the request."""
        bucket = bucket_of(str(request.url))
        limiter = self.limiters.get(bucket)
        if limiter is not None:
            limiter.acquire()
        with self._lock:
            self.stats.requests[bucket] = self.stats.requests.get(bucket, 0) + 1
            self.stats.seen.add((request.method, str(request.url)))

    def on_response(self, response: httpx2.Response) -> None:
        """Event hook: count the answer's declared bytes, 429s and server errors."""
        bucket = bucket_of(str(response.request.url))
        # A HEAD's Content-Length is the size of a body that was not sent.
        size = 0 if response.request.method == "HEAD" else int(response.headers.get("content-length") or 0)
        with self._lock:
            self.stats.bytes[bucket] = self.stats.bytes.get(bucket, 0) + size
            if response.status_code == 429:
                self.stats.status_429 += 1
            elif response.status_code >= 500:
                self.stats.status_5xx += 1

    def unread(self, url: str, size: int) -> None:
        """Take back `size` bytes an answer declared but that were never read (a capped body left unread)."""
        bucket = bucket_of(url)
        with self._lock:
            self.stats.bytes[bucket] = max(0, self.stats.bytes.get(bucket, 0) - max(0, size))


HTTP = HubHttp()
_installed = False


def install(
    quotas: dict[str, int] | None = None,
    *,
    token: str | bool | None = None,
    shared_dir: str | os.PathLike[str] | None = None,
    window: float = WINDOW_SECONDS,
) -> HubHttp:
    """Route huggingface_hub's HTTP through our hooks (idempotent) and set the quotas: per process, or
    shared through `shared_dir` by every process crawling with `token` (see `HubHttp.configure`)."""
    global _installed
    # huggingface_hub's user-agent code fetches an "agent harness" registry from huggingface.co
    # (not from our endpoint) unless telemetry is off; the crawler must talk to its endpoint only.
    hf_constants.HF_HUB_DISABLE_TELEMETRY = True
    HTTP.configure(quotas, token=token, shared_dir=shared_dir, window=window)
    if not _installed:

        def factory() -> httpx2.Client:
            return httpx2.Client(
                event_hooks={
                    "request": [hf_request_event_hook, HTTP.on_request],
                    "response": [HTTP.on_response],
                },
                follow_redirects=True,
                timeout=None,
            )

        set_client_factory(factory)
        _installed = True
    return HTTP


def default_quotas(authenticated: bool) -> dict[str, int]:
    """The published per-window quotas for a free token or an anonymous client."""
    return {b: q[0] if authenticated else q[1] for b, q in HUB_QUOTAS.items()}
