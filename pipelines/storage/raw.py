"""The raw layer: append-only, content-addressed Parquet files under `warehouse/raw/<source>/crawl_date=D/`.

A file is named by the sha256 of its payload columns, written to a temporary name and renamed into
place, and never rewritten or deleted: re-capturing the same answer is a no-op, and an interrupted
write leaves no partial file behind.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

# Each source declares its raw captures in its own `raw.py` (`register(name, schema)` at import);
# `schema_of` and `folder` find the declarations of every `pipelines.<package>.raw` module on first use.
_SCHEMAS: dict[str, dict[str, pl.DataType]] = {}
_DISCOVERED = False
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


# --- The crawl-state index (pipelines/storage/crawl_index.py): derived files kept beside the captures ---
# under `<raw>/_index/<view>/`, read and written only through these methods so that they live wherever the
# raw layer lives. They are not captures: `files`, `scan` and `crawl_dates` never see them.

INDEX_FOLDER = "_index"


def _index_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.=-]+", name) or name.startswith("."):
        raise ValueError(f"an index file name is letters, digits and '_.=-', got {name!r}")
    return name


class _IndexMethods:
    """The index IO of RawStore (mixed in below, so that the store's existing methods stay as they are)."""

    root: Path

    @property
    def opened(self) -> list[str]:
        """The capture files read through this store so far (`scan`, `captured_rows`, `read_captures`)."""
        if "_opened" not in self.__dict__:
            self.__dict__["_opened"] = []
        return self.__dict__["_opened"]

    def index_path(self, view: str, name: str) -> Path:
        """The path of one file of an index view."""
        return self.root / INDEX_FOLDER / _index_name(view) / _index_name(name)

    def index_names(self, view: str, prefix: str = "") -> list[str]:
        """The names of an index view's committed files starting with `prefix`, sorted."""
        folder = self.root / INDEX_FOLDER / _index_name(view)
        if not folder.is_dir():
            return []
        return sorted(
            p.name for p in folder.iterdir() if p.name.startswith(prefix) and not p.name.startswith(".")
        )

    def _index_write(self, view: str, name: str, write: Callable[[Path], None]) -> None:
        path = self.index_path(view, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def write_index_frame(self, view: str, name: str, frame: pl.DataFrame) -> None:
        """Write one Parquet file of an index view atomically (temporary name, then rename)."""
        self._index_write(view, name, lambda p: frame.write_parquet(p, compression="zstd"))

    def read_index_frame(self, view: str, name: str) -> pl.DataFrame:
        """Read one Parquet file of an index view (FileNotFoundError when it is gone)."""
        return pl.read_parquet(self.index_path(view, name))

    def write_index_text(self, view: str, name: str, text: str) -> None:
        """Write one text file of an index view atomically."""
        self._index_write(view, name, lambda p: p.write_text(text))

    def read_index_text(self, view: str, name: str) -> str | None:
        """One text file of an index view, or None when it does not exist."""
        try:
            return self.index_path(view, name).read_text()
        except FileNotFoundError:
            return None

    def remove_index_file(self, view: str, name: str) -> None:
        """Remove one file of an index view (no error when it is already gone)."""
        self.index_path(view, name).unlink(missing_ok=True)

    def clean_index(self, view: str, keep: set[str], older_than: float = 3600.0) -> int:
        """Remove the files of an index view not named in `keep` (a compaction that lost a race, temporaries
        of a killed writer) last written more than `older_than` seconds ago; returns how many."""
        folder = self.root / INDEX_FOLDER / _index_name(view)
        removed = 0
        if folder.is_dir():
            limit = time.time() - older_than
            for path in folder.iterdir():
                if path.name not in keep and path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def remove_index(self, view: str | None = None) -> None:
        """Remove an index view (or every view): it is rebuilt from the captures on its next read."""
        folder = self.root / INDEX_FOLDER / (_index_name(view) if view else "")
        if folder.is_dir():
            shutil.rmtree(folder)

    def capture_id(self, source: str, path: Path | str) -> str:
        """The id of a capture file within its source (`crawl_date=D/<digest>.parquet`)."""
        path = Path(path)
        return f"{path.parent.name}/{path.name}"

    def capture_ids(self, source: str) -> list[str]:
        """The ids of every committed capture file of a source (listed, none opened)."""
        return [self.capture_id(source, p) for p in self.files(source)]

    def capture_path(self, source: str, capture_id: str) -> Path:
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
        paths = [str(self.capture_path(source, c)) for c in capture_ids]
        self.opened.extend(paths)
        # One multi-file scan, as `scan` does (columns a file lacks come back null), reading only `columns`.
        lf = pl.scan_parquet(
            paths,
            schema=schema,
            missing_columns="insert",
            extra_columns="raise",
            include_file_paths="_capture_path",
            hive_partitioning=False,
        )
        capture_id = pl.col("_capture_path").str.extract(r"(crawl_date=\d{4}-\d{2}-\d{2}/[^/]+)$", 1)
        return lf.select(
            *columns,
            capture_id.str.slice(11, 10).alias("crawl_date"),
            capture_id.alias("capture_id"),
        ).collect()


class RawStore(_IndexMethods):
    """Reads and appends raw captures for each source."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def folder(self, source: str, crawl_date: str) -> Path:
        """The partition folder of one source and crawl date."""
        schema_of(source)  # an unknown source is an error
        if not _DATE.match(crawl_date):
            raise ValueError(f"crawl date must be YYYY-MM-DD, got {crawl_date!r}")
        date.fromisoformat(crawl_date)
        return self.root / source / f"crawl_date={crawl_date}"

    def append(
        self, source: str, crawl_date: str, frame: pl.DataFrame, payload: list[str]
    ) -> tuple[Path, bool]:
        """Store `frame` unless a file with the same payload digest exists; returns (path, written)."""
        folder = self.folder(source, crawl_date)
        path = folder / f"{payload_digest(frame, payload)}.parquet"
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
        if folder.is_dir():
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
    ) -> tuple[Path | None, int]:
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

    def files(self, source: str) -> list[Path]:
        """Every committed file of a source (temporary files are ignored)."""
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
            files = [f for f in files if f.parent.name.split("=", 1)[1] <= until]
        self.opened.extend(str(f) for f in files)
        extra = {"crawl_date": pl.String, **({"raw_file": pl.String} if with_file else {})}
        if not files:
            if schema is None:
                raise FileNotFoundError(f"no raw captures for {source!r} under {self.root}")
            return pl.DataFrame(schema={**schema, **extra}).lazy()
        if schema is None:  # no declared schema: each file's own columns, unioned
            frames = [
                pl.scan_parquet(f).with_columns(
                    pl.lit(f.parent.name.split("=", 1)[1]).alias("crawl_date"),
                    *([pl.lit(str(f)).alias("raw_file")] if with_file else []),
                )
                for f in files
            ]
            return pl.concat(frames, how="diagonal_relaxed")
        # One multi-file scan (not one lazy frame per file: a backfilled Hub has ~10^5 files): columns a file
        # lacks (older captures) come back null; a column the schema does not declare is an error.
        lf = pl.scan_parquet(
            [str(f) for f in files],
            schema=schema,
            missing_columns="insert",
            extra_columns="raise",
            include_file_paths="raw_file",
            hive_partitioning=False,
        )
        date_col = pl.col("raw_file").str.extract(r"crawl_date=(\d{4}-\d{2}-\d{2})", 1).alias("crawl_date")
        # The partition's date wins over a stored `crawl_date` column, in its place (as `with_columns` did).
        columns = [date_col if c == "crawl_date" else pl.col(c) for c in schema]
        if "crawl_date" not in schema:
            columns.append(date_col)
        return lf.select(*columns, *(["raw_file"] if with_file else []))

    def crawl_dates(self, source: str) -> list[str]:
        """The crawl dates that have at least one capture of a source."""
        return sorted({p.parent.name.split("=", 1)[1] for p in self.files(source)})

    def clean_temporaries(self) -> int:
        """Remove temporary files left by a killed writer (never a committed file)."""
        removed = 0
        if self.root.exists():
            for tmp in self.root.glob("*/crawl_date=*/.*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
        return removed
