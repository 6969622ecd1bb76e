"""Download one snapshot version and verify every file: the `openness download` command.

A snapshot comes from somewhere the downloader does not control, so it is treated as untrusted: the
version name and every manifest path must be plain names that stay inside `<to>/<version>/`, local
symlinks are refused, files the manifest does not list are reported and never copied, and each file is
written to `<name>.part` and renamed only once its size and sha256 match the manifest. A corrupt file is
deleted (the good ones are kept) and the error names the file and both checksums. An interrupted
download resumes: complete files are not fetched again and a `.part` continues with an HTTP Range
request where the server supports one. `manifest.json` is written last, so a local version folder that
has one is complete. HTTP requests are retried (pipelines/publish/sources.py, `download_retry`), and the
command shows a byte progress bar on a terminal.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from tqdm import tqdm
from urllib3.util.retry import Retry

from pipelines.publish.snapshot import VERSION, is_safe_file_name, is_safe_path, sha256_file, version_key
from pipelines.publish.sources import (
    LocalSource,
    SnapshotRefused,
    SnapshotSource,
    SourceUnavailable,
    open_source,
    redact,
    storage_options_from_env,
)

MANIFEST_LIMIT = 16 << 20
LATEST_LIMIT = 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
Progress = Callable[[str], None]
# bytes_progress(done, total): bytes of the version's files present so far, of the total the manifest lists.
BytesProgress = Callable[[int, int], None]

__all__ = [
    "CorruptFile",
    "MissingVersion",
    "SnapshotRefused",
    "SourceUnavailable",
    "download",
    "existing_versions",
    "parse_manifest",
    "run_download",
]
SHOWN_VERSIONS = 10  # a missing version's message lists at most the newest ten that exist


class CorruptFile(SnapshotRefused):
    """Files whose bytes do not match the manifest (deleted, never left in place)."""


class MissingVersion(FileNotFoundError):
    """The source has no such version (no `<version>/manifest.json`), or no LATEST."""


@dataclass(frozen=True)
class Entry:
    """One file a manifest lists: its name in the version folder, size and sha256."""

    name: str
    size: int
    sha256: str


def parse_manifest(data: bytes, version: str) -> list[Entry]:
    """The files of an untrusted manifest, refusing any path that is not a plain name inside the version."""
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise SnapshotRefused(f"refused: manifest.json of {version} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("version") != version:
        raise SnapshotRefused(f"refused: manifest.json does not describe version {version}")
    entries: list[Entry] = []
    # Format openness-snapshot/2 lists the tables' files under `files` (`<table>/<n>.parquet`); an older
    # manifest lists one file per table under `tables`.
    for section in ("files" if "files" in manifest else "tables", "documents"):
        listed = manifest.get(section) or {}
        if not isinstance(listed, dict):
            raise SnapshotRefused(f"refused: manifest `{section}` is not an object")
        for key, entry in listed.items():
            path = entry.get("path") if isinstance(entry, dict) else None
            if not (is_safe_path(path) if section == "files" else is_safe_file_name(path)):
                raise SnapshotRefused(
                    f"refused: manifest path {path!r} ({section}.{key}) is not a plain file name (or one plain "
                    "folder and a plain file name) inside the version folder; absolute paths, '..', backslashes, "
                    "deeper folders and hidden or reserved names are not allowed"
                )
            size, digest = entry.get("bytes"), entry.get("sha256")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise SnapshotRefused(f"refused: manifest size of {path} is not a byte count: {size!r}")
            if not isinstance(digest, str) or not SHA256.match(digest):
                raise SnapshotRefused(f"refused: manifest sha256 of {path} is not 64 hex digits: {digest!r}")
            if any(e.name == path for e in entries):
                raise SnapshotRefused(f"refused: manifest lists {path} twice")
            entries.append(Entry(path, size, digest))
    return entries


def existing_versions(src: SnapshotSource) -> list[str] | None:
    """The versions a source holds (a `YYYY-MM-DD.N` folder with a manifest), oldest first; None when it
    cannot list them (HTTP)."""
    names = src.versions()
    if names is None:
        return None
    return sorted((n for n in names if VERSION.match(n)), key=version_key)


def _which_exist(src: SnapshotSource, source: str) -> str:
    """What a missing-version message adds: the versions that do exist there."""
    found = existing_versions(src)
    if found is None:
        return "an http(s) source cannot list its versions: name one its publisher lists"
    if not found:
        return f"no version is published at {source}"
    shown = found[-SHOWN_VERSIONS:]
    older = f" and {len(found) - len(shown)} older" if len(found) > len(shown) else ""
    return f"versions there: {', '.join(shown)}{older}"


def _digest(path: Path) -> tuple[int, str]:
    return path.stat().st_size, sha256_file(path)


def _version_folder(to: Path, version: str) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    folder = to / version
    if folder.is_symlink():
        raise SnapshotRefused(f"refused: {folder} is a symlink; a download never writes outside {to}")
    folder.mkdir(exist_ok=True)
    if folder.resolve().parent != to.resolve():
        raise SnapshotRefused(f"refused: {folder} resolves outside {to}")
    return folder


def held_files(to: Path, version: str) -> dict[str, Path]:
    """sha256 -> file of the other complete versions already downloaded into `to` (the newest version's
    file when several hold the same bytes), read from their manifests (checked as untrusted input)."""
    held: dict[str, Path] = {}
    if not to.is_dir():
        return held
    others = [p for p in to.iterdir() if VERSION.match(p.name) and p.name != version and not p.is_symlink()]
    for other in sorted(others, key=lambda p: version_key(p.name)):
        try:
            entries = parse_manifest((other / "manifest.json").read_bytes(), other.name)
        except (OSError, SnapshotRefused):
            continue  # no manifest (incomplete) or not one this downloader wrote: not a source of files
        held.update({e.sha256: other / e.name for e in entries})
    return held


def _reuse(held: Path | None, entry: Entry, final: Path, part: Path) -> bool:
    """Give `final` the bytes of a file another downloaded version holds, after checking its size and sha256:
    a hard link (a copy across devices). False when there is none or it does not verify."""
    if held is None or held.is_symlink() or not held.is_file() or held.stat().st_size != entry.size:
        return False
    if _digest(held) != (entry.size, entry.sha256):
        return False
    part.unlink(missing_ok=True)
    try:
        os.link(held, part)
    except OSError:
        shutil.copyfile(held, part)
    os.replace(part, final)
    return True


def _fetch(
    src: SnapshotSource,
    version: str,
    entry: Entry,
    folder: Path,
    say: Progress,
    moved: Callable[[int], None],
    held: Path | None = None,
) -> None:
    final, part = folder / entry.name, folder / f"{entry.name}.part"
    if "/" in entry.name:  # a table's folder: `<table>/<n>.parquet`
        sub = final.parent
        if sub.is_symlink() or (
            isinstance(src, LocalSource) and (src.root / version / sub.name).is_symlink()
        ):
            raise SnapshotRefused(
                f"refused: {sub.name}/ is a symlink; a download never reads or writes through links"
            )
        sub.mkdir(exist_ok=True)
    for path in (final, part):
        if path.is_symlink():
            raise SnapshotRefused(f"refused: {path} is a symlink; a download never writes through links")
    expected = (entry.size, entry.sha256)
    if final.exists():
        if _digest(final) == expected:
            moved(entry.size)
            say(f"{entry.name}: already complete, not fetched")
            return
        final.unlink()  # not this version's bytes (edited or damaged locally): fetch it again
    if _reuse(held, entry, final, part):
        moved(entry.size)
        say(f"{entry.name}: already held ({held}), linked, {entry.size} bytes not fetched, sha256 ok")
        return
    offset = part.stat().st_size if part.exists() else 0
    if offset > entry.size:
        offset = 0
    rel = f"{version}/{entry.name}"
    if part.exists() and offset == entry.size:
        used = offset
        moved(offset)
    else:
        used = src.fetch(rel, part, offset, entry.size, moved)
    actual = _digest(part)
    if actual != expected and used > 0:
        # The kept prefix may come from other bytes (a damaged earlier attempt): one clean retry decides.
        say(f"{entry.name}: resumed file does not verify, fetching it again from the start")
        part.unlink()
        src.fetch(rel, part, 0, entry.size, moved)
        used, actual = 0, _digest(part)
    if actual != expected:
        part.unlink()
        moved(0)
        raise CorruptFile(
            f"refused: {entry.name} is corrupt: manifest sha256 {entry.sha256} ({entry.size} bytes), "
            f"downloaded sha256 {actual[1]} ({actual[0]} bytes); the file was not kept"
        )
    os.replace(part, final)
    say(f"{entry.name}: {f'resumed from byte {used}' if used else 'fetched'}, {entry.size} bytes, sha256 ok")


def download(
    source: str,
    to: Path,
    version: str | None = None,
    *,
    storage_options: dict | None = None,
    progress: Progress | None = None,
    bytes_progress: BytesProgress | None = None,
    retry: Retry | None = None,
) -> Path:
    """Fetch one version (default: the one LATEST names) into `<to>/<version>/`, verify it, return the folder.

    `progress` gets a line per file; `bytes_progress(done, total)` follows the bytes; `retry` replaces the
    HTTP retry policy (sources.download_retry).
    """
    say = progress or (lambda _message: None)
    src = open_source(source, storage_options, retry)
    if isinstance(src, LocalSource) and not src.root.is_dir():
        raise MissingVersion(
            f"{source} is not a folder; give a snapshots folder (the one holding LATEST), "
            "an http(s) base URL or an fsspec URL"
        )
    named = version is None
    if named:
        try:
            version = src.read_small("LATEST", LATEST_LIMIT).decode("utf-8", "replace").strip()
        except FileNotFoundError as exc:
            raise MissingVersion(
                f"{source} has no LATEST file; name a version with --version ({_which_exist(src, source)})"
            ) from exc
        say(f"LATEST names {version}")
    if not isinstance(version, str) or not VERSION.match(version):
        raise SnapshotRefused(f"refused: {version!r} is not a snapshot version (YYYY-MM-DD.N)")
    try:
        manifest_bytes = src.read_small(f"{version}/manifest.json", MANIFEST_LIMIT)
    except FileNotFoundError as exc:
        which = f"LATEST names version {version}, which" if named else f"version {version}"
        raise MissingVersion(
            f"{which} does not exist at {source} (no {version}/manifest.json; {_which_exist(src, source)})"
        ) from exc
    entries = parse_manifest(manifest_bytes, version)
    listed = src.listing(version)
    folders = {e.name.split("/")[0] for e in entries if "/" in e.name}
    for name in sorted(set(listed or []) - {e.name for e in entries} - folders - {"manifest.json"}):
        say(f"not copied: {name!r} is in the version folder but not listed in its manifest")
    folder = _version_folder(Path(to), version)
    held = held_files(Path(to), version)
    total, present = sum(e.size for e in entries), dict.fromkeys((e.name for e in entries), 0)
    corrupt: list[str] = []
    for entry in entries:

        def moved(position: int, name: str = entry.name) -> None:
            present[name] = position
            if bytes_progress:
                bytes_progress(sum(present.values()), total)

        try:
            _fetch(src, version, entry, folder, say, moved, held.get(entry.sha256))
        except CorruptFile as exc:  # keep going: the good files stay, so a retry fetches only the bad ones
            say(str(exc))
            corrupt.append(str(exc))
    if corrupt:
        raise CorruptFile("; ".join(corrupt))
    part = folder / "manifest.json.part"
    part.write_bytes(manifest_bytes)
    os.replace(part, folder / "manifest.json")
    say(
        f"{version}: {len(entries)} files verified in {folder} "
        f"(manifest sha256 {hashlib.sha256(manifest_bytes).hexdigest()})"
    )
    return folder


def run_download(
    source: str, to: Path | str, version: str | None = None, *, environ: Mapping[str, str] | None = None
) -> int:
    """`openness download`: print progress, return 0 (verified), 2 (refused or corrupt) or 1 (other failure)."""
    env = os.environ if environ is None else environ
    secrets = [v for k, v in env.items() if k in {"AWS_SECRET_ACCESS_KEY", "HF_TOKEN"} and v]
    # A byte progress bar on stderr when it is a terminal (disable=None), nothing in a log.
    bar = tqdm(
        total=0, unit="B", unit_scale=True, unit_divisor=1024, disable=None, file=sys.stderr, leave=False
    )

    def bytes_moved(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    def line(message: str) -> None:
        if bar.disable:
            print(message, flush=True)
        else:
            bar.write(message, file=sys.stdout)

    try:
        options = storage_options_from_env(env)
        secrets += [v for v in options.values() if isinstance(v, str)]
        try:
            folder = download(
                source, Path(to), version, storage_options=options, progress=line, bytes_progress=bytes_moved
            )
        finally:
            bar.close()  # before any message below
    except SnapshotRefused as exc:
        print(redact(str(exc), secrets), file=sys.stderr)
        return 2
    except (OSError, requests.RequestException, ValueError) as exc:
        print(f"download failed: {redact(str(exc), secrets)}", file=sys.stderr)
        return 1
    print(f"Snapshot verified: {folder}")
    return 0
