"""The temporary files a killed publish leaves, found and removed by the next publish.

A publish writes a version into `snapshots/.tmp-<version>-<pid>/`, stages `snapshots/.LATEST.<pid>.tmp` and
writes the serving file as `.openness.duckdb.<pid>.tmp` (with DuckDB's `.tmp.wal` while it is written);
each is renamed into place or deleted when it fails, but a SIGKILL (or a power cut) leaves it behind. The
next publish removes them while it holds the snapshots lock, so no publisher of this folder is running;
a file whose writer (the pid in its name) is still alive on this machine is kept all the same, since a
local copy to a target (pipelines/publish/targets.py) does not take the lock; that copy removes its own
dead writers' folders in the target root (`dead_writers_files`). A folder named like a version without a
`manifest.json` is not a version (the publisher never makes one: it renames complete folders into place);
unless `LATEST` names it, it is removed too. Complete versions are never touched by that cleanup.

Old complete versions are removed only when asked (`remove_old_versions`, with how many to keep): the
serving file's views read the files of the version it names, and a session opened before the last publish
still reads the version before it, so neither is ever removed, nor the one `LATEST` names. Removing a
version never breaks a newer one: the files a newer version carried over from it are hard links (another
name of the same bytes, pipelines/publish/snapshot.py) or copies, never references into its folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb

from pipelines.publish.snapshot import VERSION, publish_lock, published_versions, read_latest
from pipelines.storage.warehouse import SERVING_TMP_PREFIX, Warehouse

SNAPSHOT_TMP = re.compile(r"^\.tmp-\d{4}-\d{2}-\d{2}\.\d+-(\d+)$")
LATEST_TMP = re.compile(r"^\.LATEST\.(\d+)\.tmp$")
SERVING_TMP = re.compile(rf"^{re.escape(SERVING_TMP_PREFIX)}(\d+)\.tmp(\.wal)?$")


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (this process counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:  # not a pid at all
        return False
    return True


def _owned_by_dead(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if match and not process_alive(int(match[1])):
            found.append(path)
    return found


def dead_writers_files(root: Path) -> list[Path]:
    """In a snapshots root: the partial version folders and staged LATESTs whose writer is gone."""
    return _owned_by_dead(root, SNAPSHOT_TMP) + _owned_by_dead(root, LATEST_TMP)


def stale_temporaries(wh: Warehouse) -> list[Path]:
    """The leftovers of killed publishes in a warehouse: partial copies, staged LATESTs, partial versions."""
    found = _owned_by_dead(wh.root, SERVING_TMP) + dead_writers_files(wh.snapshots)
    if wh.snapshots.is_dir():
        latest = read_latest(wh.snapshots)
        found += [
            p
            for p in wh.snapshots.iterdir()
            if VERSION.match(p.name)
            and p.is_dir()
            and not p.is_symlink()
            and not (p / "manifest.json").is_file()
            and p.name != latest
        ]
    return sorted(found)


def remove_stale_temporaries(wh: Warehouse) -> list[Path]:
    """Remove `stale_temporaries(wh)` (call it holding the snapshots lock); return what was removed."""
    return remove(stale_temporaries(wh))


def remove(paths: list[Path]) -> list[Path]:
    """Remove these files and folders (a link is removed, never followed); return them."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return paths


def protected_versions(wh: Warehouse) -> set[str] | None:
    """The versions readers may still use: the one `LATEST` names, the one the serving file names and the
    complete version published before that one (an open session that predates the last publish reads it).
    None when the serving file cannot be read: then no version can be known to be unused."""
    try:
        served = wh.serving_version()
    except duckdb.Error:
        return None
    versions = published_versions(wh.snapshots)
    protected = {v for v in (read_latest(wh.snapshots), served) if v}
    if served in versions:
        protected.update(versions[max(versions.index(served) - 1, 0) : versions.index(served) + 1])
    return protected


def removable_versions(wh: Warehouse, keep: int = 2) -> list[str]:
    """Complete versions older than the newest `keep` (at least 2) that no reader may still use
    (`protected_versions`), oldest first."""
    if keep < 2:
        raise ValueError(f"keep must be at least 2 (the served version and the one before it), not {keep}")
    protected = protected_versions(wh)
    if protected is None:
        return []
    return [v for v in published_versions(wh.snapshots)[:-keep] if v not in protected]


def remove_old_versions(wh: Warehouse, keep: int = 2) -> list[Path]:
    """Under the snapshots lock, remove the folders of `removable_versions(wh, keep)`; return them."""
    with publish_lock(wh.snapshots):
        return remove([wh.snapshots / v for v in removable_versions(wh, keep)])
