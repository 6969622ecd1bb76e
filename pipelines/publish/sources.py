"""Where a snapshot is downloaded from: a local snapshots folder, an HTTP(S) base URL, or any fsspec URL.

Every source answers the same three questions (read a small file, append a file's bytes from an offset
to a local `.part` file, list a version folder) so that the download logic, its checks and its resume
behaviour are written once. Sources treat everything they read as untrusted: sizes are capped, local
symlinks are refused, and nothing here decides where a file lands (the caller passes the `.part` path).
Over HTTP, a connection error or a 429/5xx answer is retried with backoff (urllib3 `Retry`, honouring
`Retry-After`, bounded: `download_retry`), and a body cut off in the middle is resumed from the bytes
that arrived (`BODY_RETRIES` times). Each source reports how far a file has got (`Moved`), for a progress bar.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

BLOCK = 1 << 20
# An HTTP body is read in smaller blocks: the block being read when the connection breaks is lost.
HTTP_BLOCK = 1 << 16
TIMEOUT = (10, 60)  # connect, read (seconds)
RETRY_STATUSES = (429, 500, 502, 503, 504)
BODY_RETRIES = 3  # a response body cut off in the middle: resumed from the bytes that arrived
# moved(position): the file's bytes present in its `.part` so far (it can go back when a fetch restarts).
Moved = Callable[[int], None]


def download_retry(backoff_factor: float = 0.5) -> Retry:
    """The HTTP retry policy of downloads: 5 retries of a GET on connection errors and 429/5xx answers,
    waiting `Retry-After` (at most 60 s) or backing off 0, 1, 2, 4, 8 s (with the default factor)."""
    return Retry(
        total=5,
        connect=5,
        read=5,
        status=5,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        backoff_max=30,
        respect_retry_after_header=True,
        retry_after_max=60,
        raise_on_status=False,  # the last answer is returned, so the error names its status
    )


def retrying_session(retry: Retry | None = None) -> requests.Session:
    """A requests session whose HTTP(S) adapter retries with `retry` (default: `download_retry()`)."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry or download_retry())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class SnapshotRefused(ValueError):
    """The source holds something a download must not trust (a symlink, an oversized small file)."""


class SourceUnavailable(OSError):
    """The source cannot be opened or read (unknown scheme, missing filesystem package, host unreachable)."""


class SnapshotSource(Protocol):
    """Read access to the files of a published snapshots root (the folder or URL that holds LATEST)."""

    def read_small(self, rel: str, limit: int) -> bytes:
        """The whole file at `rel` (e.g. `LATEST`), refusing one larger than `limit` bytes."""

    def fetch(self, rel: str, part: Path, offset: int, limit: int, moved: Moved | None = None) -> int:
        """Append the bytes of `rel` from `offset` to `part` (at most `limit` in all); return the offset used.
        `moved` is told the bytes present after each block."""

    def listing(self, version: str) -> list[str] | None:
        """Names in a version folder, or None when the source cannot list (HTTP)."""

    def versions(self) -> list[str] | None:
        """Names of the folders at the root that hold a `manifest.json`, or None when the source cannot list."""


def _append(part: Path, offset: int, chunks: Iterable[bytes], limit: int, moved: Moved | None = None) -> None:
    # Truncating to `offset` drops whatever a restart must not keep; at most limit + 1 bytes are stored,
    # enough for the size check to see that the source sent too much.
    tell = moved or (lambda _position: None)
    with open(part, "r+b" if part.exists() else "wb") as out:
        out.truncate(offset)
        out.seek(offset)
        tell(offset)
        budget = limit + 1 - offset
        for chunk in chunks:
            if budget <= 0:
                break
            out.write(chunk[:budget])
            budget -= len(chunk)
            tell(out.tell())


class LocalSource:
    """A snapshots folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _open(self, rel: str) -> BinaryIO:
        path = self.root / rel
        # lstat for a clear message, then O_NOFOLLOW so a symlink swapped in meanwhile is not followed either.
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise SnapshotRefused(
                f"refused: {rel} is a symlink in the source; a snapshot holds regular files only"
            )
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SnapshotRefused(f"refused: {rel} is a symlink in the source") from exc
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SnapshotRefused(f"refused: {rel} is not a regular file")
        return os.fdopen(fd, "rb")

    def read_small(self, rel: str, limit: int) -> bytes:
        """The whole file at `rel`, refusing one larger than `limit` bytes."""
        with self._open(rel) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise SnapshotRefused(f"refused: {rel} is larger than {limit} bytes")
        return data

    def fetch(self, rel: str, part: Path, offset: int, limit: int, moved: Moved | None = None) -> int:
        """Append the bytes of `rel` from `offset` to `part`; return the offset used."""
        with self._open(rel) as fh:
            fh.seek(offset)
            _append(part, offset, iter(lambda: fh.read(BLOCK), b""), limit, moved)
        return offset

    def listing(self, version: str) -> list[str] | None:
        """Names in the version folder."""
        return sorted(os.listdir(self.root / version))

    def versions(self) -> list[str] | None:
        """Names of the folders at the root that hold a `manifest.json`."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "manifest.json").is_file())


class HttpSource:
    """Files served at `<base>/LATEST` and `<base>/<version>/<file>` over HTTP(S)."""

    def __init__(
        self, base: str, session: requests.Session | None = None, retry: Retry | None = None
    ) -> None:
        self.base = base.rstrip("/")
        self.session = session or retrying_session(retry)

    def _url(self, rel: str) -> str:
        return f"{self.base}/{quote(rel)}"

    def _get(self, rel: str, headers: dict[str, str] | None = None) -> requests.Response:
        response = self.session.get(self._url(rel), headers=headers or {}, stream=True, timeout=TIMEOUT)
        if response.status_code == 404:
            response.close()
            raise FileNotFoundError(f"{self._url(rel)} not found (404)")
        return response

    def read_small(self, rel: str, limit: int) -> bytes:
        """The whole file at `rel`, refusing one larger than `limit` bytes."""
        with self._get(rel) as response:
            response.raise_for_status()
            data = b""
            for chunk in response.iter_content(BLOCK):
                data += chunk
                if len(data) > limit:
                    raise SnapshotRefused(f"refused: {rel} is larger than {limit} bytes")
        return data

    def fetch(self, rel: str, part: Path, offset: int, limit: int, moved: Moved | None = None) -> int:
        """Append from `offset` with a Range request; restart from 0 when the server ignores the range. A body
        cut off in the middle is asked for again from the bytes that arrived (`BODY_RETRIES` times)."""
        first = offset
        for attempt in range(BODY_RETRIES + 1):
            arrived = [offset]  # the bytes present once this attempt's body started to arrive

            def track(position: int, arrived: list[int] = arrived) -> None:
                arrived[0] = position
                if moved:
                    moved(position)

            try:
                used = self._fetch_once(rel, part, offset, limit, track)
                return first if attempt else used
            except requests.exceptions.ChunkedEncodingError:  # the body broke after the answer began
                if attempt == BODY_RETRIES:
                    raise
            except requests.exceptions.ConnectionError:
                # A read that timed out in the body; a connection that failed was retried by urllib3 already.
                if attempt == BODY_RETRIES or arrived[0] <= offset:
                    raise
            offset = min(arrived[0], limit)
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_once(self, rel: str, part: Path, offset: int, limit: int, moved: Moved | None) -> int:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self._get(rel, headers)
        if offset and response.status_code == 416:  # the range is past the end: the .part is stale
            response.close()
            offset, response = 0, self._get(rel)
        with response:
            response.raise_for_status()
            if offset and not (
                response.status_code == 206
                and response.headers.get("Content-Range", "").startswith(f"bytes {offset}-")
            ):
                offset = 0  # the server sent the whole file (200) or another range: start over
            _append(part, offset, response.iter_content(HTTP_BLOCK), limit, moved)
        return offset

    def listing(self, version: str) -> list[str] | None:
        """None: HTTP has no listing, so only the manifest's files are ever requested."""
        return None

    def versions(self) -> list[str] | None:
        """None: HTTP has no listing."""
        return None


class FsspecSource:
    """A snapshots root on any fsspec filesystem (s3://, gs://, hf://, ...)."""

    def __init__(self, url: str, storage_options: dict | None = None) -> None:
        import fsspec

        self.url = url
        scheme = url.split("://", 1)[0]
        try:
            self.fs, root = fsspec.url_to_fs(url, **(storage_options or {}))
        except ImportError as exc:
            raise SourceUnavailable(
                f"{url}: reading {scheme}:// needs a package that is not installed ({exc})"
            ) from exc
        except ValueError as exc:
            if "Protocol not known" not in str(exc):
                raise
            raise SourceUnavailable(
                f"{url}: {scheme}:// is not a known source; give a snapshots folder, an http(s) base URL "
                "or an fsspec URL (s3://, gs://, hf://, ...)"
            ) from exc
        self.fs.invalidate_cache()  # fsspec reuses filesystem instances: drop listings cached by earlier calls
        self.root = root.rstrip("/")

    def _unavailable(self, exc: Exception) -> SourceUnavailable:
        """A filesystem's own error (each backend has its own types) as one line naming the source."""
        return SourceUnavailable(
            f"{self.url} cannot be read ({type(exc).__name__}: {exc}); "
            "check the URL, the network and the credentials (OPENNESS_STORAGE_OPTIONS)"
        )

    def _path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def read_small(self, rel: str, limit: int) -> bytes:
        """The whole file at `rel`, refusing one larger than `limit` bytes."""
        path = self._path(rel)
        try:
            if not self.fs.isfile(path):
                raise FileNotFoundError(f"{path} not found")
            if self.fs.size(path) > limit:
                raise SnapshotRefused(f"refused: {rel} is larger than {limit} bytes")
            return self.fs.cat_file(path)
        except (FileNotFoundError, SnapshotRefused):
            raise
        except Exception as exc:  # noqa: BLE001 - any backend's error becomes one line
            raise self._unavailable(exc) from exc

    def fetch(self, rel: str, part: Path, offset: int, limit: int, moved: Moved | None = None) -> int:
        """Append the bytes of `rel` from `offset` (ranged reads) to `part`; return the offset used."""
        try:
            with self.fs.open(self._path(rel), "rb") as fh:
                fh.seek(offset)
                _append(part, offset, iter(lambda: fh.read(BLOCK), b""), limit, moved)
        except (FileNotFoundError, SnapshotRefused):
            raise
        except Exception as exc:  # noqa: BLE001 - any backend's error becomes one line
            raise self._unavailable(exc) from exc
        return offset

    def listing(self, version: str) -> list[str] | None:
        """Names in the version folder."""
        try:
            self.fs.invalidate_cache()
            found = self.fs.ls(self._path(version), detail=False)
        except Exception as exc:  # noqa: BLE001 - any backend's error becomes one line
            raise self._unavailable(exc) from exc
        return sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in found)

    def versions(self) -> list[str] | None:
        """Names of the folders at the root that hold a `manifest.json`."""
        try:
            self.fs.invalidate_cache()
            if not self.fs.isdir(self.root):
                return []
            names = [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self.root, detail=False)]
            return sorted(n for n in names if self.fs.isfile(self._path(f"{n}/manifest.json")))
        except Exception as exc:  # noqa: BLE001 - any backend's error becomes one line
            raise self._unavailable(exc) from exc


def open_source(
    source: str, storage_options: dict | None = None, retry: Retry | None = None
) -> SnapshotSource:
    """The reader for a snapshots folder path, an http(s) base URL (retrying with `retry`), or an fsspec URL."""
    if source.startswith(("http://", "https://")):
        return HttpSource(source, retry=retry)
    if source.startswith("file://"):
        return LocalSource(Path(source.removeprefix("file://")))
    if "://" in source:
        return FsspecSource(source, storage_options)
    return LocalSource(Path(source))


def storage_options_from_env(environ: Mapping[str, str]) -> dict:
    """fsspec storage options from `OPENNESS_STORAGE_OPTIONS` (a JSON object), for the command line."""
    raw = environ.get("OPENNESS_STORAGE_OPTIONS", "").strip()
    if not raw:
        return {}
    options = json.loads(raw)
    if not isinstance(options, dict):
        raise ValueError("OPENNESS_STORAGE_OPTIONS must be a JSON object")
    return options


USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact(message: str, secrets: Iterable[str | None] = ()) -> str:
    """A message with the given secrets and any `user:password@` in URLs replaced, safe to print or log."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return USERINFO.sub("***@", message)
