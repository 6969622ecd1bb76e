"""The Hub client: every network call the crawler makes to the Hugging Face Hub goes through here.

It uses huggingface_hub's own transport (`http_backoff`, which honours `RateLimit`/`Retry-After` and
retries 429/5xx, and `hf_hub_download` for files) so that it behaves exactly as the official client,
but it keeps the raw JSON of every answer for the append-only raw layer. `install` routes that transport
through the Hub's rate-limit buckets and the step's request counters (pipelines/transport.py).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.error import URLError
from urllib.parse import quote

import httpx2
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import (
    hf_raise_for_status,
    http_backoff,
    http_stream_backoff,
    parse_ratelimit_headers,
)

from pipelines.hub.ids import InvalidIdentifier, validate_repo_id, validate_revision
from pipelines.hub.provenance import is_real_hub
from pipelines.hub_transport import (
    HTTP,
    READ_CHUNK,
    default_quotas,
    hub_headers,
    install,
)
from pipelines.transport import RETRY_STATUSES, retry_after_seconds

# What the rubric needs from the listing (reference/hub-api.md 1.2); baseModels is not accepted there. The usage
# counts (downloads: the last 30 days; downloadsAllTime, likes, trendingScore) feed core.release_metrics.
LISTING_EXPAND = (
    "author",
    "sha",
    "lastModified",
    "createdAt",
    "private",
    "disabled",
    "gated",
    "tags",
    "cardData",
    "siblings",
    "library_name",
    "pipeline_tag",
    "downloads",
    "downloadsAllTime",
    "likes",
    "trendingScore",
    "inference",
    "inferenceProviderMapping",
)
MALFORMED_RETRIES = 3
# A hub mirror's mark on a 404 for a repo kind its recording does not hold (docs/mirror.md): not a Hub fact.
UNRECORDED_HEADER = "X-Mirror-Unrecorded"
GIT_BLOB_ID = re.compile(r"[0-9a-f]{40}")
RETRY_STATUS = (408, *sorted(RETRY_STATUSES))  # and 408: huggingface_hub's own retry also covers it
# A file (README, licence file) is asked at most 1 + FILE_RETRIES times in one step, at one level (the client's
# loop; huggingface_hub's own retry is off for these reads): a file that still fails is recorded as `error`
# and asked again by the next crawl, and a longer outage is left to the crawl assets' Dagster RetryPolicy.
FILE_RETRIES = 3
# A mirror's mark on an answer that rests on a reconstruction (docs/mirror.md, "Provenance"); the real Hub
# never sends it, so against huggingface.co every `reconstructed` stays None.
RECONSTRUCTED_HEADER = "x-mirror-reconstructed"


def reconstructed_kinds(*values: str | None) -> str | None:
    """The union of `X-Mirror-Reconstructed` values as one sorted "kind, kind" string (None: no mark)."""
    kinds = {k.strip() for value in values for k in (value or "").split(",") if k.strip()}
    return ", ".join(sorted(kinds)) or None


def _mark(response: httpx2.Response) -> str | None:
    return reconstructed_kinds(response.headers.get(RECONSTRUCTED_HEADER))


class CrawlError(RuntimeError):
    """A crawl step that cannot complete; the partition fails with this message."""


@dataclass(frozen=True)
class ListingPage:
    """One page of `GET /api/models`: the URL asked, the raw JSON text, its items and the next URL."""

    url: str
    body: str
    items: list[dict]
    next_url: str | None
    reconstructed: str | None = None  # the page's X-Mirror-Reconstructed kinds (a mirror's mark), else None


@dataclass(frozen=True)
class FileResult:
    """The outcome of reading one file at one revision.

    A file longer than the read's `max_bytes` is not read to its end: `content` holds its first
    `max_bytes + 1` bytes (so that `len(content) > max_bytes` tells it was cut), `truncated` is True and
    `size` is the file's real size as the server declared it (Content-Length), None if it did not say.
    """

    status: str  # ok | missing | gated | repo_missing | revision_missing | error
    content: bytes | None
    detail: str = ""
    size: int | None = None  # the file's size in bytes (the real one, also when truncated)
    truncated: bool = False  # content is only the first max_bytes + 1 bytes of the file
    reconstructed: str | None = None  # the answer's X-Mirror-Reconstructed kinds (a mirror's mark), else None


class HubClient:
    """A small interface over the Hub's REST API, configured by endpoint and token."""

    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        timeout: float = 30.0,
        page_size: int | None = 1000,
        max_retries: int = 5,
        base_wait: float = 1.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token: str | bool = token or False  # False: never pick up a token from the machine
        self.timeout = timeout
        self.page_size = page_size
        self.max_retries = max_retries
        self.base_wait = base_wait  # first backoff wait; doubles up to 8x (429s wait as the server says)

    def __repr__(self) -> str:  # never show the token
        return f"HubClient(endpoint={self.endpoint!r}, authenticated={bool(self._token)})"

    @property
    def authenticated(self) -> bool:
        """Whether a token is sent."""
        return bool(self._token)

    def _headers(self) -> dict[str, str]:
        return hub_headers(self._token)

    def _get_json(
        self, url: str, params: list[tuple[str, str]] | None = None
    ) -> tuple[str, object, str | None]:
        """GET a JSON document with the Hub client's retries; malformed bodies are retried, then fail.
        Returns (final URL, the JSON, the answer's reconstruction mark or None)."""
        last_error = ""
        for _ in range(MALFORMED_RETRIES):
            response = http_backoff(
                "GET",
                url,
                params=params,
                headers=self._headers(),
                timeout=self.timeout,
                max_retries=self.max_retries,
                base_wait_time=self.base_wait,
                max_wait_time=8 * self.base_wait,
            )
            hf_raise_for_status(response)
            try:
                return str(response.url), response.json(), _mark(response)
            except (json.JSONDecodeError, UnicodeDecodeError, httpx2.DecodingError) as exc:
                last_error = f"malformed JSON from {response.url}: {exc}"
        raise CrawlError(f"giving up on {url} after {MALFORMED_RETRIES} attempts: {last_error}")

    def listing_pages(
        self,
        *,
        sort: str = "lastModified",
        author: str | None = None,
        search: str | None = None,
        filters: tuple[str, ...] = (),
        start_url: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[ListingPage]:
        """Yield listing pages newest-first; resume from `start_url` (a saved next link) if given."""
        url: str | None
        params: list[tuple[str, str]] | None
        if start_url:
            url, params = start_url, None  # a next link already carries every parameter
        else:
            url = f"{self.endpoint}/api/models"
            params = [("sort", sort), ("direction", "-1")]
            params += [("expand", e) for e in LISTING_EXPAND]
            params += [("filter", f) for f in filters]
            if author:
                params.append(("author", author))
            if search:
                params.append(("search", search))
            if page_size or self.page_size:
                params.append(("limit", str(page_size or self.page_size)))
        while url:
            for attempt in range(MALFORMED_RETRIES):
                response = http_backoff(
                    "GET",
                    url,
                    params=params,
                    headers=self._headers(),
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    base_wait_time=self.base_wait,
                    max_wait_time=8 * self.base_wait,
                )
                hf_raise_for_status(response)
                try:
                    items = response.json()
                except (json.JSONDecodeError, UnicodeDecodeError, httpx2.DecodingError) as exc:
                    if attempt == MALFORMED_RETRIES - 1:
                        raise CrawlError(
                            f"listing page {response.url} is not valid JSON after "
                            f"{MALFORMED_RETRIES} attempts: {exc}"
                        ) from exc
                    continue
                break
            if not isinstance(items, list):
                raise CrawlError(f"listing page {response.url} is not a JSON array")
            next_url = response.links.get("next", {}).get("url")
            yield ListingPage(
                url=str(response.url),
                body=response.text,
                items=items,
                next_url=next_url,
                reconstructed=_mark(response),
            )
            url, params = next_url, None

    def model_info(self, repo_id: str, revision: str | None = None, blobs: bool = False) -> dict | None:
        """The raw `GET /api/models/{id}[/revision/{rev}]` body, or None if the repo or revision is gone."""
        return self.model_info_marked(repo_id, revision, blobs)[0]

    def model_info_marked(
        self, repo_id: str, revision: str | None = None, blobs: bool = False
    ) -> tuple[dict | None, str | None]:
        """(`model_info`, the answer's reconstruction mark or None)."""
        validate_repo_id(repo_id)
        url = f"{self.endpoint}/api/models/{repo_id}"
        if revision:
            validate_revision(revision)
            url += f"/revision/{quote(revision, safe='')}"
        try:
            _url, info, mark = self._get_json(url, [("blobs", "true")] if blobs else None)
        except (RepositoryNotFoundError, RevisionNotFoundError):
            return None, None
        return info, mark  # type: ignore[return-value]

    def dataset_info(self, dataset_id: str) -> dict | None:
        """The raw `GET /api/datasets/{id}` body, or None if the dataset does not exist (or is not recorded)."""
        return self.dataset_lookup(dataset_id)[1]

    def dataset_lookup(self, dataset_id: str) -> tuple[str, dict | None]:
        """(`ok`, the raw `GET /api/datasets/{id}` body); (`missing`, None) when the Hub says the dataset does
        not exist; (`unrecorded`, None) when a mirror answers that its recording does not hold datasets (a 404
        with `X-Mirror-Unrecorded`, which the Hub never sends): unknown, not non-existent."""
        from pipelines.hub.datasets import is_dataset_id

        if not is_dataset_id(dataset_id):
            raise InvalidIdentifier(f"not a valid Hub dataset id: {dataset_id[:200]!r}")
        try:
            return "ok", self._get_json(f"{self.endpoint}/api/datasets/{dataset_id}")[1]  # type: ignore[return-value]
        except RepositoryNotFoundError as err:
            response = getattr(err, "response", None)
            if response is not None and response.headers.get(UNRECORDED_HEADER):
                return "unrecorded", None
            return "missing", None

    def list_commits(self, repo_id: str, repo_type: str = "model") -> list[dict] | None:
        """Every commit of a repo's main branch, newest first (raw items, all pages); None if the repo is gone."""
        return self.list_commits_marked(repo_id, repo_type)[0]

    def list_commits_marked(
        self, repo_id: str, repo_type: str = "model"
    ) -> tuple[list[dict] | None, str | None]:
        """(`list_commits`, the union of its pages' reconstruction marks or None)."""
        try:
            return self._list_commits(repo_id, repo_type)
        except RepositoryNotFoundError:
            return None, None

    def _list_commits(self, repo_id: str, repo_type: str) -> tuple[list[dict], str | None]:
        validate_repo_id(repo_id)
        url: str | None = f"{self.endpoint}/api/{repo_type}s/{repo_id}/commits/main"
        commits: list[dict] = []
        mark: str | None = None
        while url:
            # A malformed page is asked again, as listing pages and revision infos are (a body cut or
            # mangled on the way); only one that stays malformed fails the step.
            for attempt in range(1, MALFORMED_RETRIES + 1):
                response = http_backoff(
                    "GET",
                    url,
                    headers=self._headers(),
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    base_wait_time=self.base_wait,
                    max_wait_time=8 * self.base_wait,
                )
                hf_raise_for_status(response)
                try:
                    page = response.json()
                    break
                except (json.JSONDecodeError, UnicodeDecodeError, httpx2.DecodingError) as exc:
                    if attempt == MALFORMED_RETRIES:
                        raise CrawlError(
                            f"commit page {response.url} is not valid JSON after {MALFORMED_RETRIES} "
                            f"attempts: {exc}"
                        ) from exc
            if not isinstance(page, list):
                raise CrawlError(f"commit page {response.url} is not a JSON array")
            commits.extend(page)
            mark = reconstructed_kinds(mark, _mark(response))
            url = response.links.get("next", {}).get("url")
        return commits, mark

    def read_file(
        self,
        repo_id: str,
        revision: str,
        filename: str = "README.md",
        repo_type: str = "model",
        max_bytes: int = 5_000_000,
    ) -> FileResult:
        """Read one file at one revision (one GET of its resolve URL); absence is a status, not an error.

        The body is streamed and read up to `max_bytes + 1` bytes only, so a huge file costs no more memory
        than the cap (see FileResult). Transient failures (429, 5xx, timeouts, cut bodies) are retried at
        most FILE_RETRIES times with backoff; a file that still fails comes back as status `error` and is
        asked again by the next crawl.
        """
        url = self._resolve_url(repo_id, revision, filename, repo_type)
        # One GET of the resolve URL (huggingface_hub's http_backoff and error mapping): hf_hub_download
        # would send a HEAD first, doubling the resolver calls of every README.
        return self._retrying(
            lambda: self._read_once(url, max_bytes),
            lambda exc: f"HTTP {_status_code(exc)}: {_first_line(exc)}",
        )

    def file_blob(self, repo_id: str, revision: str, filename: str, repo_type: str = "model") -> FileResult:
        """The git blob id of one file at one revision from a HEAD of its resolve URL (no body is read).

        The Hub's ETag on the resolve URL of a file stored in git (not LFS) is its git blob id; it comes back
        as the `detail` of an `ok` result, or "" when the ETag is not a git blob id (an LFS or Xet file, whose
        ETag is a sha256). Absence and gating are statuses, as in `read_file`; a file that still fails after
        the retries is `error`.
        """
        url = self._resolve_url(repo_id, revision, filename, repo_type)
        return self._retrying(lambda: self._head_once(url), _head_error)

    def _resolve_url(self, repo_id: str, revision: str, filename: str, repo_type: str) -> str:
        """The resolve URL of one file at one revision, after validating the ids (untrusted input)."""
        if repo_type == "dataset":
            from pipelines.hub.datasets import is_dataset_id

            if not is_dataset_id(repo_id):
                raise InvalidIdentifier(f"not a valid Hub dataset id: {repo_id[:200]!r}")
        else:
            validate_repo_id(repo_id)
        validate_revision(revision)
        prefix = "datasets/" if repo_type == "dataset" else ""
        return f"{self.endpoint}/{prefix}{repo_id}/resolve/{quote(revision, safe='')}/{quote(filename)}"

    @property
    def file_attempts(self) -> int:
        """How many requests one file read or HEAD may cost at most (the first and its retries)."""
        return 1 + min(self.max_retries, FILE_RETRIES)

    def _retrying(
        self, once: Callable[[], FileResult], describe: Callable[[HfHubHTTPError], str]
    ) -> FileResult:
        """`once()` with backoff on transient failures (retried statuses, transport errors, cut bodies), at
        most `file_attempts` requests in all; any other HTTP error is the file's `error`, described by
        `describe`. A 429 waits as the Hub says (RateLimit, else Retry-After), as huggingface_hub does."""
        detail = ""
        attempts = self.file_attempts
        for attempt in range(attempts):
            wait = min(self.base_wait * (2**attempt), 8 * self.base_wait)
            try:
                return once()
            except HfHubHTTPError as exc:
                status = _status_code(exc)
                if status not in RETRY_STATUS:
                    return FileResult("error", None, describe(exc))
                detail = f"HTTP {status}"
                if status == 429 and exc.response is not None:
                    wait = _rate_limit_wait(exc.response.headers, wait)
            except (httpx2.TransportError, httpx2.TimeoutException, OSError) as exc:
                detail = f"{type(exc).__name__}: {_first_line(exc)}"
            if attempt < attempts - 1:
                time.sleep(wait)
        return FileResult("error", None, f"gave up after {attempts} attempts: {detail}")

    def _request(self, method: str, url: str, headers: dict[str, str]) -> httpx2.Response:
        """One request (no retry: `_retrying` is the only retry level) through huggingface_hub's transport."""
        response = http_backoff(
            method, url, headers=headers, timeout=self.timeout, max_retries=0, follow_redirects=True
        )
        hf_raise_for_status(response)
        return response

    def _head_once(self, url: str) -> FileResult:
        try:
            response = self._request("HEAD", url, {**self._headers(), "Accept-Encoding": "identity"})
        except _ABSENCE_ERRORS as exc:
            return FileResult(_absence_status(exc), None, _head_error(exc))
        etag = (response.headers.get("x-linked-etag") or response.headers.get("etag") or "").strip()
        etag = etag.removeprefix("W/").strip('"').lower()
        return FileResult("ok", None, etag if GIT_BLOB_ID.fullmatch(etag) else "")

    def _read_once(self, url: str, max_bytes: int) -> FileResult:
        """One streamed GET: at most `max_bytes + 1` bytes of the body are read (no retry here)."""
        # Identity encoding: the Content-Length is then the file's size, and the cap counts the file's bytes.
        headers = {**self._headers(), "Accept-Encoding": "identity"}
        with http_stream_backoff(
            "GET", url, headers=headers, timeout=self.timeout, max_retries=0, follow_redirects=True
        ) as response:
            try:
                hf_raise_for_status(response)
            except _ABSENCE_ERRORS as exc:
                return FileResult(_absence_status(exc), None, _first_line(exc))
            declared = response.headers.get("content-length")
            size = int(declared) if declared is not None and declared.isdigit() else None
            body = bytearray()
            for chunk in response.iter_bytes(READ_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    break  # the rest is never read: the connection is closed with the response
        truncated = len(body) > max_bytes
        if truncated and size is not None:
            HTTP.unread(url, size - len(body))  # the account counts the bytes read, not the declared size
        if not truncated and size is not None and size != len(body):
            raise httpx2.RemoteProtocolError(f"truncated body: {len(body)} of {declared} bytes")
        size = size if size is not None else (None if truncated else len(body))
        detail = f"{size if size is not None else 'more than ' + str(max_bytes)} bytes"
        if truncated:
            detail += f" (capped: first {max_bytes + 1} bytes kept)"
        return FileResult(
            "ok",
            bytes(body[: max_bytes + 1]),
            detail,
            size=size,
            truncated=truncated,
            reconstructed=_mark(response),
        )


# The Hub's answers that a file is gated or absent, and the file's status for each (the most specific
# first: a GatedRepoError is a RepositoryNotFoundError).
_ABSENCE = (
    (GatedRepoError, "gated"),
    (RevisionNotFoundError, "revision_missing"),
    (RepositoryNotFoundError, "repo_missing"),
    ((EntryNotFoundError, RemoteEntryNotFoundError), "missing"),
)
_ABSENCE_ERRORS = tuple(k for kinds, _ in _ABSENCE for k in (kinds if isinstance(kinds, tuple) else (kinds,)))


def _absence_status(exc: BaseException) -> str:
    """The status of a file the Hub answered gated or absent for (one of _ABSENCE_ERRORS)."""
    return next(status for kinds, status in _ABSENCE if isinstance(exc, kinds))


def _rate_limit_wait(headers: httpx2.Headers, default: float) -> float:
    """Seconds to wait after a 429: the RateLimit reset + 1 s, else Retry-After + 1 s, else `default`."""
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds) + 1
    retry_after = retry_after_seconds(headers.get("retry-after"))
    return retry_after + 1 if retry_after is not None else default


def _status_code(exc: HfHubHTTPError) -> int | None:
    return exc.response.status_code if exc.response is not None else None


def _head_error(exc: HfHubHTTPError) -> str:
    """A HEAD's error in one line: its status and the Hub's X-Error-Message (a HEAD has no body)."""
    response = exc.response
    if response is None:
        return _first_line(exc)
    message = response.headers.get("x-error-message") or response.reason_phrase or ""
    return f"HTTP {response.status_code} (HEAD): {message}"[:300]


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


__all__ = [
    "HTTP",
    "CrawlError",
    "FileResult",
    "HfHubHTTPError",
    "HubClient",
    "LISTING_EXPAND",
    "ListingPage",
    "default_quotas",
    "install",
]


def mirror_manifest(endpoint: str, timeout: float = 10.0) -> dict | None:
    """A hub mirror's manifest (its mirror.json, as its `/_mirror/health` answers it); None for the real Hub or
    an endpoint that is not a hub mirror (the real Hub is never asked)."""
    if is_real_hub(endpoint):
        return None
    base = endpoint.rstrip("/").split("/as-of/", 1)[0]
    try:
        with urllib.request.urlopen(f"{base}/_mirror/health", timeout=timeout) as response:  # noqa: S310
            if response.headers.get("Server", "").split("/", 1)[0] != "hub-mirror":
                return None
            body = json.loads(response.read(1 << 24))
    except (URLError, OSError, ValueError):
        return None
    manifest = body.get("manifest") if isinstance(body, dict) else None
    return manifest if isinstance(manifest, dict) else None


def describe_mirror(manifest: dict) -> dict:
    """What a mirror's manifest says about the mirror: title, format and how many reconstructions it lists
    (affected paths per kind)."""
    entries = manifest.get("reconstructions")
    kinds: dict[str, int] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("kind"), str):
            affects = entry.get("affects")
            kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + (
                len(affects) if isinstance(affects, list) else 0
            )
    return {
        "kind": "hub-mirror",
        "format": manifest.get("format"),
        "title": manifest.get("title") if isinstance(manifest.get("title"), str) else None,
        "reconstructions": dict(sorted(kinds.items())),
    }


def mirror_source(endpoint: str, timeout: float = 10.0) -> dict | None:
    """What a hub mirror says about itself (its `/_mirror/health`): title, format and how many
    reconstructions it lists (per kind); None for the real Hub or an endpoint that is not a hub mirror."""
    manifest = mirror_manifest(endpoint, timeout=timeout)
    return None if manifest is None else describe_mirror(manifest)
