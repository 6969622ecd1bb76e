"""The crawl-state index: what the next crawl needs to know of a raw source, kept small and up to date.

A daily crawl needs a few facts of what was captured before (which commits were listed and when, which
READMEs were read, which commit lists were walked), not the captures themselves. An index view holds those
facts as a small table reduced from one raw source: `project` turns the rows of capture files into the
view's columns, `reduce` folds any number of projected rows into the view (it must not depend on their
order or on how they were grouped: reduce(a + reduce(b)) == reduce(a + b)).

Its files live beside the captures (`<raw>/_index/<view>/`, written through RawStore's index methods):

- `snapshot-<id>.parquet`: the view over the capture files listed in `manifest.json` (its compaction);
- `delta-<crawl_date>-<digest>.parquet`: the projection of one capture file, written by the crawl step that
  appended it (`record`), right after the capture.

A reader (`read`) takes the snapshot, the deltas of capture files the snapshot does not cover, and reads only
the capture files that have neither (a writer killed between its capture and its delta, a writer that keeps
no index, the first run on an old warehouse): its reads are proportional to what changed since the last
compaction. When it had to read captures, or the deltas pile up, it compacts: a new snapshot and manifest
(the manifest is replaced atomically; a reader that loses a file to a concurrent compaction starts over).
The index is derived data: delete it and the next read rebuilds it from the captures, which stay the truth.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import pkgutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from pipelines.storage.raw import RawStore

log = logging.getLogger(__name__)

# Compact when this many deltas are not yet in the snapshot (a daily crawl writes a few per step).
COMPACT_DELTAS = 64
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class View:
    """One index view of a raw source. `version` changes whenever `project` or `reduce` change: a snapshot
    of another version is stale and rebuilt."""

    name: str
    source: str
    columns: tuple[str, ...]  # the raw columns `project` reads
    project: Callable[[pl.DataFrame], pl.DataFrame]  # captures (with crawl_date, capture_id) -> view rows
    reduce: Callable[[pl.DataFrame], pl.DataFrame]
    version: int = 1


def _delta_name(capture_id: str) -> str:
    part, name = capture_id.split("/", 1)
    return f"delta-{part.split('=', 1)[1]}-{name}"


def _delta_capture(name: str) -> str:
    rest = name.removeprefix("delta-")
    return f"crawl_date={rest[:10]}/{rest[11:]}"


def _manifest(raw: RawStore, view: View) -> dict | None:
    text = raw.read_index_text(view.name, MANIFEST)
    try:
        manifest = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(manifest, dict) or manifest.get("version") != view.version:
        return None
    if not isinstance(manifest.get("snapshot"), str) or not isinstance(manifest.get("covered"), str):
        return None
    return manifest


def covered_by(raw: RawStore, view: View, manifest: dict) -> set[str]:
    """The capture ids a manifest's snapshot covers (a Parquet file beside it: ~10^5 ids at Hub scale)."""
    return set(raw.read_index_frame(view.name, manifest["covered"]).get_column("capture_id").to_list())


_VIEWS: dict[str, View] = {}
_DISCOVERED = False


def register(*views: View) -> tuple[View, ...]:
    """Declare index views (from a package's crawl_state.py, at import); returns them."""
    for view in views:
        known = _VIEWS.get(view.name)
        if known is not None and known is not view and known.version != view.version:
            raise ValueError(f"index view {view.name!r} is already registered")
        _VIEWS[view.name] = view
    return views


def views_of_all() -> list[View]:
    """Every registered view (declared by the crawl_state.py of every package of `pipelines`)."""
    global _DISCOVERED
    if not _DISCOVERED:
        import pipelines

        for module in pkgutil.iter_modules(pipelines.__path__):
            if module.ispkg and importlib.util.find_spec(f"pipelines.{module.name}.crawl_state") is not None:
                importlib.import_module(f"pipelines.{module.name}.crawl_state")
        _DISCOVERED = True
    return list(_VIEWS.values())


def views_of(source: str) -> list[View]:
    """Every registered view of a raw source."""
    return [v for v in views_of_all() if v.source == source]


def record(raw: RawStore, source: str, path: object, frame: pl.DataFrame | None = None) -> None:
    """After a capture file of `source` was appended (`path`, holding exactly the rows of `frame`; None: read
    it back; nothing when `path` is None, no new file): write the delta of each view of that source. A
    failure here loses nothing (the next read projects the capture itself)."""
    views = views_of(source)
    if path is None or not views:
        return
    capture_id = raw.capture_id(source, path)
    crawl_date = capture_id.split("/", 1)[0].split("=", 1)[1]
    if frame is None:
        frame = raw.read_captures(source, [capture_id]).drop("crawl_date", "capture_id")
    for view in views:
        rows = frame.select([c for c in view.columns if c != "crawl_date"]).with_columns(
            pl.lit(crawl_date).alias("crawl_date"), pl.lit(capture_id).alias("capture_id")
        )
        try:
            raw.write_index_frame(view.name, _delta_name(capture_id), view.reduce(view.project(rows)))
        except OSError as exc:  # the index is derived: the capture is safe, the next read reads it
            log.warning("crawl-state index %s: delta of %s not written (%s)", view.name, capture_id, exc)


def read(raw: RawStore, view: View, *, compact: bool = True) -> pl.DataFrame:
    """The view over every capture of its source: the compacted snapshot, the deltas since, and the captures
    that have neither (then compacted, unless `compact` is False)."""
    for _ in range(3):
        try:
            return _read(raw, view, compact)
        except FileNotFoundError:  # a concurrent compaction removed a file we listed: start over
            continue
    return _read(raw, view, compact, use_index=False)


def values(raw: RawStore, views: tuple[View, ...], column: str, until: str | None = None) -> set[str]:
    """The distinct values of `column` over several views (with `until`, only rows of that crawl date and
    before)."""
    found: set[str] = set()
    for view in views:
        frame = read(raw, view)
        if until is not None:
            frame = frame.filter(pl.col("crawl_date") <= until)
        found.update(frame.get_column(column).to_list())
    return found


def _read(raw: RawStore, view: View, compact: bool, use_index: bool = True) -> pl.DataFrame:
    ids = set(raw.capture_ids(view.source))
    manifest = _manifest(raw, view) if use_index else None
    covered = covered_by(raw, view, manifest) if manifest else set()
    if not covered <= ids:  # a snapshot of captures that are not there (another raw layer): rebuild
        manifest, covered = None, set()
    parts = [raw.read_index_frame(view.name, manifest["snapshot"])] if manifest else []
    deltas = []
    if use_index:
        for name in raw.index_names(view.name, "delta-"):
            capture_id = _delta_capture(name)
            if capture_id in ids and capture_id not in covered:
                deltas.append(capture_id)
                parts.append(raw.read_index_frame(view.name, name))
    missing = sorted(ids - covered - set(deltas))
    if missing:
        parts.append(view.project(raw.read_captures(view.source, missing, list(view.columns))))
    if not parts:
        parts.append(view.project(raw.read_captures(view.source, [], list(view.columns))))
    # The snapshot alone is already reduced; anything more is folded in.
    result = (
        parts[0] if manifest and len(parts) == 1 else view.reduce(pl.concat(parts, how="diagonal_relaxed"))
    )
    if compact and use_index and (missing or len(deltas) >= COMPACT_DELTAS):
        _compact(raw, view, result, covered | set(deltas) | set(missing), manifest, deltas)
    return result


def _compact(
    raw: RawStore, view: View, result: pl.DataFrame, covered: set[str], old: dict | None, deltas: list[str]
) -> None:
    """Write `result` as the new snapshot covering `covered`, then drop the old snapshot and the deltas read."""
    tag = uuid.uuid4().hex
    name, covers = f"snapshot-{tag}.parquet", f"covered-{tag}.parquet"
    manifest = {"version": view.version, "snapshot": name, "covered": covers, "captures": len(covered)}
    try:
        raw.write_index_frame(
            view.name, covers, pl.DataFrame({"capture_id": sorted(covered)}, schema={"capture_id": pl.String})
        )
        raw.write_index_frame(view.name, name, result)
        raw.write_index_text(view.name, MANIFEST, json.dumps(manifest))  # the switch: one atomic rename
    except OSError as exc:
        log.warning("crawl-state index %s: compaction not written (%s)", view.name, exc)
        return
    if old:
        raw.remove_index_file(view.name, old["snapshot"])
        raw.remove_index_file(view.name, old["covered"])
    for capture_id in deltas:
        raw.remove_index_file(view.name, _delta_name(capture_id))
    # What a compaction that lost a race or a killed writer left, once no reader can still be on it.
    raw.clean_index(view.name, {MANIFEST, name, covers, *raw.index_names(view.name, "delta-")})
