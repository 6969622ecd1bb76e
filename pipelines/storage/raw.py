"""The raw layer: append-only, content-addressed Parquet files under `<raw>/<source>/crawl_date=D/`.

A file is named by the sha256 of its payload columns and never rewritten or deleted: re-capturing the
same answer is a no-op, and an interrupted write leaves no partial file behind. `<raw>` is a local
folder (default `warehouse/raw`, where a file is written to a temporary name and renamed into place) or
any fsspec URL (`OPENNESS_RAW_URL`, e.g. `s3://bucket/raw`, where a file is one PUT under its final name:
an object store shows an object whole or not at all, so no rename is needed). Everything that reads
raw files goes through `RawStore` (`files`, `read`, `scan`, `relative`), so no reader assumes a local disk.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import json
import os
import pkgutil
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from datetime import date
from pathlib import Path, PurePath, PurePosixPath

import polars as pl

# Each source declares its raw captures in its own `raw.py` (`register(name, schema)` at import);
# `schema_of` and `folder` find the declarations of every `pipelines.<package>.raw` module on first use.
_SCHEMAS: dict[str, dict[str, pl.DataType]] = {}
_DISCOVERED = False
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FILE = re.compile(r"[a-z][a-z0-9_]*/crawl_date=\d{4}-\d{2}-\d{2}/[^/]+\.parquet")  # under the root


def register(source: str, schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """Declare a raw source and its schema (from the source's raw.py); returns the schema."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", source):
        raise ValueError(f"a raw source name is lower-case letters, digits and '_', got {source!r}")
    known = _SCHEMAS.get(source)
    if known is not None and known != schema:
        raise ValueError(f"raw source {source!r} is already registered with another schema")
    _SCHEMAS[source] = schema
    return schema


def _discover() -> None:
    """Import the raw.py of every package of `pipelines` once, so that each registers its sources."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import pipelines

    for module in pkgutil.iter_modules(pipelines.__path__):
        if module.ispkg and importlib.util.find_spec(f"pipelines.{module.name}.raw") is not None:
            importlib.import_module(f"pipelines.{module.name}.raw")
    _DISCOVERED = True


def sources() -> tuple[str, ...]:
    """Every registered raw source, sorted."""
    _discover()
    return tuple(sorted(_SCHEMAS))


def schema_of(source: str) -> dict[str, pl.DataType]:
    """The declared schema of a raw source; a clear error for an unknown one."""
    if source not in _SCHEMAS:
        _discover()
    if source not in _SCHEMAS:
        raise ValueError(f"unknown raw source {source!r}")
    return _SCHEMAS[source]


# The store's own source: one row per step of a crawl (any source), with what it did and cost
# (pipelines/storage/accounts.py writes it; core.crawl_runs reads it).
CRAWL_RUN_SCHEMA = {
    "run_key": pl.String,
    "crawl_date": pl.String,
    "started_at": pl.Datetime("us", "UTC"),
    "finished_at": pl.Datetime("us", "UTC"),
    "endpoint": pl.String,
    "scope": pl.String,
    "status": pl.String,
    "pages": pl.Int64,
    "models_listed": pl.Int64,
    "models_new": pl.Int64,
    "models_changed": pl.Int64,
    "models_deleted": pl.Int64,
    "readmes_fetched": pl.Int64,
    "requests_api": pl.Int64,
    "requests_resolvers": pl.Int64,
    "bytes_total": pl.Int64,
    "retries": pl.Int64,
    "status_429": pl.Int64,
    "status_5xx": pl.Int64,
    "seconds": pl.Float64,
    "watermark": pl.Datetime("us", "UTC"),
    "reached_watermark": pl.Boolean,
    "detail": pl.String,
}
register("crawl_run", CRAWL_RUN_SCHEMA)


def _update(digest, row: tuple) -> None:
    for value in row:
        if isinstance(value, bytes):
            digest.update(b"b" + len(value).to_bytes(8, "big") + value)
        else:
            text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False).encode()
            digest.update(b"j" + len(text).to_bytes(8, "big") + text)


def payload_digest(frame: pl.DataFrame, columns: list[str]) -> str:
    """sha256 over the given columns, row by row, in a canonical serialisation."""
    digest = hashlib.sha256()
    for row in frame.select(columns).iter_rows():
        _update(digest, row)
    return digest.hexdigest()


def row_digests(frame: pl.DataFrame, columns: list[str]) -> list[str]:
    """One `payload_digest` per row of `frame` (over the given columns)."""
    digests = []
    for row in frame.select(columns).iter_rows():
        digest = hashlib.sha256()
        _update(digest, row)
        digests.append(digest.hexdigest())
    return digests


# Object stores Polars reads natively (its own client: one multi-file scan, ranged reads); any other
# fsspec protocol is read through fsspec file objects.
_NATIVE = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"}


def object_store_options(protocol: str, environ: Mapping[str, str] | None = None) -> tuple[dict, dict]:
    """(fsspec options, Polars `storage_options`) for a raw layer on `protocol`, from the standard AWS
    variables for S3 (AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN, AWS_REGION or AWS_DEFAULT_REGION); empty for other protocols, whose clients read
    their own environment. Unset variables are left to each client's default credential chain."""
    env = os.environ if environ is None else environ
    if protocol not in ("s3", "s3a"):
        return {}, {}
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    key, secret, token = (
        env.get(v) for v in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    )
    client = {k: v for k, v in (("endpoint_url", endpoint), ("region_name", region)) if v}
    fs = {k: v for k, v in (("key", key), ("secret", secret), ("token", token)) if v}
    fs.update({"client_kwargs": client} if client else {})
    native = {
        k: v
        for k, v in (
            ("aws_endpoint_url", endpoint),
            ("aws_access_key_id", key),
            ("aws_secret_access_key", secret),
            ("aws_session_token", token),
            ("aws_region", region),
        )
        if v
    }
    if endpoint and endpoint.startswith("http://"):
        native["aws_allow_http"] = "true"  # an S3-compatible server without TLS (on loopback, in tests)
    return fs, native


def _date_of(path: PurePath) -> str:
    return path.parent.name.split("=", 1)[1]


# --- The crawl-state index (pipelines/storage/crawl_index.py): derived files kept beside the captures ---
# under `<raw>/_index/<view>/`, read and written only through these methods so that they live wherever the
# raw layer lives (a local folder, or an fsspec URL). They are not captures: `files`, `scan` and
# `crawl_dates` never see them.

INDEX_FOLDER = "_index"


def _index_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.=-]+", name) or name.startswith("."):
        raise ValueError(f"an index file name is letters, digits and '_.=-', got {name!r}")
    return name


class _IndexMethods:
    """The index IO of RawStore (mixed in below, so that the store's own methods stay as they are)."""

    root: PurePath
    local: bool
    protocol: str

    @property
    def opened(self) -> list[str]:
        """The capture files read through this store so far (`scan`, `captured_rows`, `read_captures`)."""
        if "_opened" not in self.__dict__:
            self.__dict__["_opened"] = []
        return self.__dict__["_opened"]

    def _index_dir(self, view: str) -> PurePath:
        return self.root / INDEX_FOLDER / _index_name(view)

    def index_path(self, view: str, name: str) -> PurePath:
        """The path of one file of an index view (a local path, or the object key at a URL)."""
        return self._index_dir(view) / _index_name(name)

    def index_names(self, view: str, prefix: str = "") -> list[str]:
        """The names of an index view's committed files starting with `prefix`, sorted."""
        if self.local:
            folder = Path(self._index_dir(view))
            names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        else:
            self.fs.invalidate_cache()
            try:
                names = [PurePosixPath(f).name for f in self.fs.ls(str(self._index_dir(view)), detail=False)]
            except FileNotFoundError:
                names = []
        return sorted(n for n in names if n.startswith(prefix) and not n.startswith("."))

    def _index_write(self, view: str, name: str, data: bytes) -> None:
        path = self.index_path(view, name)
        if not self.local:  # one PUT: an object is visible whole or not at all
            self.fs.pipe_file(str(path), data)
            return
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def write_index_frame(self, view: str, name: str, frame: pl.DataFrame) -> None:
        """Write one Parquet file of an index view atomically (temporary name then rename, or one PUT)."""
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="zstd")
        self._index_write(view, name, buffer.getvalue())

    def read_index_frame(self, view: str, name: str) -> pl.DataFrame:
        """Read one Parquet file of an index view (FileNotFoundError when it is gone)."""
        path = self.index_path(view, name)
        if self.local:
            return pl.read_parquet(path)
        return pl.read_parquet(io.BytesIO(self.fs.cat_file(str(path))))

    def write_index_text(self, view: str, name: str, text: str) -> None:
        """Write one text file of an index view atomically."""
        self._index_write(view, name, text.encode())

    def read_index_text(self, view: str, name: str) -> str | None:
        """One text file of an index view, or None when it does not exist."""
        path = self.index_path(view, name)
        try:
            return Path(path).read_text() if self.local else self.fs.cat_file(str(path)).decode()
        except FileNotFoundError:
            return None

    def remove_index_file(self, view: str, name: str) -> None:
        """Remove one file of an index view (no error when it is already gone)."""
        path = self.index_path(view, name)
        if self.local:
            Path(path).unlink(missing_ok=True)
            return
        try:
            self.fs.rm_file(str(path))
        except FileNotFoundError:
            pass

    def clean_index(self, view: str, keep: set[str], older_than: float = 3600.0) -> int:
        """Remove the files of an index view not named in `keep` (a compaction that lost a race, temporaries
        of a killed writer) last written more than `older_than` seconds ago; returns how many."""
        limit = time.time() - older_than
        removed = 0
        if self.local:
            folder = Path(self._index_dir(view))
            for path in folder.iterdir() if folder.is_dir() else []:
                if path.name not in keep and path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
                    removed += 1
            return removed
        for name in self.index_names(view):
            if name in keep:
                continue
            try:
                written = self.fs.modified(str(self.index_path(view, name))).timestamp()
            except (FileNotFoundError, NotImplementedError):
                continue
            if written < limit:
                self.remove_index_file(view, name)
                removed += 1
        return removed

    def remove_index(self, view: str | None = None) -> None:
        """Remove an index view (or every view): it is rebuilt from the captures on its next read."""
        folder = self._index_dir(view) if view else self.root / INDEX_FOLDER
        if self.local:
            if Path(folder).is_dir():
                shutil.rmtree(folder)
        elif self.fs.exists(str(folder)):
            self.fs.rm(str(folder), recursive=True)

    def capture_id(self, source: str, path: PurePath | str) -> str:
        """The id of a capture file within its source (`crawl_date=D/<digest>.parquet`)."""
        path = PurePosixPath(str(path).replace("\\", "/"))
        return f"{path.parent.name}/{path.name}"

    def capture_ids(self, source: str) -> list[str]:
        """The ids of every committed capture file of a source (listed, none opened)."""
        return [self.capture_id(source, p) for p in self.files(source)]

    def capture_path(self, source: str, capture_id: str) -> PurePath:
        """The path of a capture file from its id."""
        part, name = capture_id.split("/", 1)
        return self.folder(source, part.split("=", 1)[1]) / name

    def read_captures(
        self, source: str, capture_ids: list[str], columns: list[str] | None = None
    ) -> pl.DataFrame:
        """The rows of the given capture files of a source (the declared schema, older files' missing columns
        null) with `crawl_date` and `capture_id` columns; each file read is noted in `opened`."""
        schema = schema_of(source)
        columns = [c for c in (columns or schema) if c != "crawl_date"]
        unknown = [c for c in columns if c not in schema]
        if unknown:
            raise ValueError(f"raw source {source!r} has no column(s) {unknown}")
        out_schema = {**{c: schema[c] for c in columns}, "crawl_date": pl.String, "capture_id": pl.String}
        if not capture_ids:
            return pl.DataFrame(schema=out_schema)
        paths = [self.capture_path(source, c) for c in capture_ids]
        self.opened.extend(str(p) for p in paths)
        # One multi-file scan, as `scan` does (columns a file lacks come back null), reading only `columns`.
        options = {"schema": schema, "missing_columns": "insert", "extra_columns": "raise"}
        if self.local or self.protocol in _NATIVE:
            lf = pl.scan_parquet(
                [self._uri(p) for p in paths],
                **options,
                include_file_paths="_capture_path",
                hive_partitioning=False,
                **({} if self.local else {"storage_options": self._native}),
            )
        else:  # another fsspec protocol: each file read through fsspec
            lf = pl.concat(
                [
                    pl.scan_parquet(io.BytesIO(self.fs.cat_file(str(p))), **options).with_columns(
                        pl.lit(str(p)).alias("_capture_path")
                    )
                    for p in paths
                ]
            )
        capture_id = pl.col("_capture_path").str.extract(r"(crawl_date=\d{4}-\d{2}-\d{2}/[^/]+)$", 1)
        return lf.select(
            *columns,
            capture_id.str.slice(11, 10).alias("crawl_date"),
            capture_id.alias("capture_id"),
        ).collect()


class RawStore(_IndexMethods):
    """Reads and appends raw captures for each source, in a local folder or at an fsspec URL.

    Paths handed out (`files`, `folder`, `append`) are `Path`s for a local folder and `PurePosixPath`s of
    the object key (`bucket/prefix/...`, no scheme) for a URL: read them with `read`/`scan_file` and
    name them with `relative`, never with local file calls."""

    def __init__(self, root: Path | str, environ: Mapping[str, str] | None = None) -> None:
        text = str(root)
        if "://" not in text or text.startswith("file://"):
            self.local, self.fs, self.protocol = True, None, "file"
            self.root: PurePath = Path(text.removeprefix("file://"))
            self.url = str(self.root)
            self._native: dict = {}
            return
        import fsspec  # only a raw layer at a URL needs it

        self.local, self.url = False, text.rstrip("/")
        self.protocol = self.url.split("://", 1)[0].lower()
        options, self._native = object_store_options(self.protocol, environ)
        if self.protocol in ("s3", "s3a"):
            # Listings are never cached: other processes append to the same prefix.
            options = {**options, "use_listings_cache": False, "skip_instance_cache": True}
        try:
            self.fs, base = fsspec.core.url_to_fs(self.url, **options)
        except (ImportError, ValueError) as exc:
            raise ValueError(f"raw layer {self.url!r}: {exc}") from None
        self.root = PurePosixPath(base.rstrip("/") or "/")

    def __repr__(self) -> str:
        return f"RawStore({self.url!r})"

    def _uri(self, path: PurePath | str) -> str:
        """What Polars opens for a raw file: the local path, or the URL of the object."""
        text = str(path)
        if self.local or "://" in text:
            return text
        return f"{self.protocol}://{text.lstrip('/') if self.protocol in _NATIVE else text}"

    def path(self, relative: str) -> PurePath:
        """The raw file at `relative` (as `relative` gives it, e.g. from a ledger)."""
        return self.root / relative

    def relative(self, path: PurePath | str) -> str:
        """A raw file's path under the raw layer, `<source>/crawl_date=D/<digest>.parquet`."""
        text = str(path)
        if not self.local and "://" in text:
            text = text.split("://", 1)[1]
            base = str(self.root).lstrip("/")
            return PurePosixPath(text.lstrip("/")).relative_to(base).as_posix()
        return PurePath(text).relative_to(self.root).as_posix()

    def read(self, path: PurePath | str, columns: list[str] | None = None) -> pl.DataFrame:
        """One raw file (the given columns, or all)."""
        if self.local:
            return pl.read_parquet(path, columns=columns)
        if self.protocol in _NATIVE:
            return pl.read_parquet(self._uri(path), columns=columns, storage_options=self._native)
        with self.fs.open(self._strip(path), "rb") as fh:
            return pl.read_parquet(fh, columns=columns)

    def scan_file(self, path: PurePath | str) -> pl.LazyFrame:
        """One raw file as a lazy frame."""
        if self.local:
            return pl.scan_parquet(path)
        if self.protocol in _NATIVE:
            return pl.scan_parquet(self._uri(path), storage_options=self._native)
        return pl.scan_parquet(io.BytesIO(self.fs.cat_file(self._strip(path))))

    def columns(self, path: PurePath | str) -> list[str]:
        """The column names stored in one raw file (older captures may lack later columns)."""
        if self.local:
            return list(pl.read_parquet_schema(path))
        return self.scan_file(path).collect_schema().names()

    def _strip(self, path: PurePath | str) -> str:
        text = str(path)
        return text.split("://", 1)[1] if "://" in text else text

    def _listing(self, prefix: str = "") -> list[PurePosixPath]:
        """Committed files under `<root>/<prefix>` at a URL, in `<source>/crawl_date=D/` folders: one recursive
        listing (an object store lists a prefix in pages of 1,000 keys; a glob would list each folder),
        never a cached one (other processes append to the same prefix)."""
        self.fs.invalidate_cache()
        base = str(self.root).rstrip("/")
        found = self.fs.find(f"{base}/{prefix}".rstrip("/"))
        keep = []
        for item in found:
            path = PurePosixPath(item)
            rel = path.relative_to(base).as_posix()
            if rel.startswith(prefix) and _FILE.fullmatch(rel) and not path.name.startswith("."):
                keep.append(path)
        return sorted(keep)

    def is_empty(self) -> bool:
        """True when the raw layer holds no file at all."""
        if self.local:
            root = Path(self.root)
            return not root.is_dir() or next((p for p in root.rglob("*") if p.is_file()), None) is None
        return not self._listing()

    def folder(self, source: str, crawl_date: str) -> PurePath:
        """The partition folder of one source and crawl date."""
        schema_of(source)  # an unknown source is an error
        if not _DATE.match(crawl_date):
            raise ValueError(f"crawl date must be YYYY-MM-DD, got {crawl_date!r}")
        date.fromisoformat(crawl_date)
        return self.root / source / f"crawl_date={crawl_date}"

    def append(
        self, source: str, crawl_date: str, frame: pl.DataFrame, payload: list[str]
    ) -> tuple[PurePath, bool]:
        """Store `frame` unless a file with the same payload digest exists; returns (path, written)."""
        folder = self.folder(source, crawl_date)
        path = folder / f"{payload_digest(frame, payload)}.parquet"
        if not self.local:
            # One PUT under the final name: an object is visible whole or not at all (a multipart upload
            # left unfinished by a killed writer is never listed). Two writers of the same digest write
            # the same rows, so the later PUT changes nothing.
            if self.fs.exists(str(path)):
                return path, False
            buffer = io.BytesIO()
            frame.write_parquet(buffer, compression="zstd")
            self.fs.pipe_file(str(path), buffer.getvalue())
            return path, True
        if path.exists():
            return path, False
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        frame.write_parquet(tmp, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path, True

    def captured_rows(self, source: str, crawl_date: str, payload: list[str]) -> set[str]:
        """The digests (`row_digest`) of the rows already captured for one source and crawl date."""
        folder = self.folder(source, crawl_date)
        seen: set[str] = set()
        if not self.local:
            for path in self._listing(f"{source}/{folder.name}/"):
                self.opened.append(str(path))
                seen.update(row_digests(self.read(path, payload), payload))
        elif folder.is_dir():
            for path in sorted(folder.glob("*.parquet")):
                if not path.name.startswith("."):
                    self.opened.append(str(path))
                    seen.update(row_digests(pl.read_parquet(path, columns=payload), payload))
        return seen

    def append_new(
        self,
        source: str,
        crawl_date: str,
        frame: pl.DataFrame,
        payload: list[str],
        seen: set[str] | None = None,
    ) -> tuple[PurePath | None, int]:
        """Store only the rows of `frame` whose payload was not captured before for this source and crawl
        date (`seen`: their digests, read from the partition when not given, and updated); returns (path or
        None, rows written). A rerun of a step that re-captures the same answers then adds nothing."""
        if seen is None:
            seen = self.captured_rows(source, crawl_date, payload)
        digests = row_digests(frame, payload)
        fresh, keep = set(), []
        for digest in digests:
            keep.append(digest not in seen and digest not in fresh)
            fresh.add(digest)
        frame = frame.filter(pl.Series(keep, dtype=pl.Boolean))
        if frame.is_empty():
            return None, 0
        path, _ = self.append(source, crawl_date, frame, payload)
        seen.update(fresh)
        return path, frame.height

    def files(self, source: str) -> list[PurePath]:
        """Every committed file of a source (temporary files are ignored)."""
        if not self.local:
            return self._listing(f"{source}/")
        base = self.root / source
        if not base.exists():
            return []
        return sorted(p for p in base.glob("crawl_date=*/*.parquet") if not p.name.startswith("."))

    def scan(
        self,
        source: str,
        schema: dict[str, pl.DataType] | None = None,
        *,
        with_file: bool = False,
        until: str | None = None,
    ) -> pl.LazyFrame:
        """All captures of a source as one lazy frame with a `crawl_date` column (and `raw_file`, if asked);
        with `until` (YYYY-MM-DD), only the captures of that crawl date and before (a date run again after
        later dates were captured must see only what was known by then), whose files alone are read."""
        files = self.files(source)
        if until is not None:
            files = [f for f in files if _date_of(f) <= until]
        self.opened.extend(str(f) for f in files)
        extra = {"crawl_date": pl.String, **({"raw_file": pl.String} if with_file else {})}
        if not files:
            if schema is None:
                raise FileNotFoundError(f"no raw captures for {source!r} under {self.url}")
            return pl.DataFrame(schema={**schema, **extra}).lazy()
        if schema is None:  # no declared schema: each file's own columns, unioned
            frames = [
                self.scan_file(f).with_columns(
                    pl.lit(_date_of(f)).alias("crawl_date"),
                    *([pl.lit(str(f)).alias("raw_file")] if with_file else []),
                )
                for f in files
            ]
            return pl.concat(frames, how="diagonal_relaxed")
        # One multi-file scan (not one lazy frame per file: a backfilled Hub has ~10^5 files): columns a file
        # lacks (older captures) come back null; a column the schema does not declare is an error.
        if self.local or self.protocol in _NATIVE:
            lf = pl.scan_parquet(
                [self._uri(f) for f in files],
                schema=schema,
                missing_columns="insert",
                extra_columns="raise",
                include_file_paths="raw_file",
                hive_partitioning=False,
                **({} if self.local else {"storage_options": self._native}),
            )
            if not self.local:  # `raw_file` names a file as `files` does (the object key, no scheme)
                lf = lf.with_columns(pl.col("raw_file").str.replace(r"^[a-z0-9]+://", ""))
        else:  # another fsspec protocol: each file read through fsspec
            lf = pl.concat(
                [
                    pl.scan_parquet(
                        io.BytesIO(self.fs.cat_file(str(f))),
                        schema=schema,
                        missing_columns="insert",
                        extra_columns="raise",
                    ).with_columns(pl.lit(str(f)).alias("raw_file"))
                    for f in files
                ]
            )
        date_col = pl.col("raw_file").str.extract(r"crawl_date=(\d{4}-\d{2}-\d{2})", 1).alias("crawl_date")
        # The partition's date wins over a stored `crawl_date` column, in its place (as `with_columns` did).
        columns = [date_col if c == "crawl_date" else pl.col(c) for c in schema]
        if "crawl_date" not in schema:
            columns.append(date_col)
        return lf.select(*columns, *(["raw_file"] if with_file else []))

    def crawl_dates(self, source: str) -> list[str]:
        """The crawl dates that have at least one capture of a source."""
        return sorted({_date_of(p) for p in self.files(source)})

    def clean_temporaries(self) -> int:
        """Remove temporary files left by a killed writer (never a committed file). At a URL there are
        none: an object is written in one PUT under its final name."""
        removed = 0
        if self.local and self.root.exists():
            for tmp in self.root.glob("*/crawl_date=*/.*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
        return removed
