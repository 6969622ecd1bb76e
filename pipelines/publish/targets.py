"""Copy a finished snapshot version to where researchers fetch it: a local folder, an fsspec URL, a Hub dataset.

Every target has the same layout as the local snapshots folder (`<root>/LATEST`, `<root>/<version>/...`)
and the same guarantees for readers:
- a version is complete before anything points at it: on a local folder it is renamed into place; on
  object storage its files go up first and its `manifest.json` last (a version without a manifest is not
  a version); on a Hub dataset repo it is one commit. `LATEST` is written after that, alone, and never
  moves back to an older version.
- versions are immutable: a version that exists at the target with a different manifest is refused; the
  same manifest means a publish that was interrupted before `LATEST`, which is then completed.
- the token is passed to the client only; it is never logged and is removed from error messages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from pipelines.publish.card import root_card
from pipelines.publish.cleanup import dead_writers_files, remove
from pipelines.publish.snapshot import (
    VERSION,
    is_safe_path,
    manifest_entries,
    read_latest,
    set_latest,
    verify_snapshot,
    version_key,
)
from pipelines.publish.sources import redact

# progress(event, detail): "uploaded" <file>, "linked" <file> (a hard link to the previous version's file on a
# local target), "copied" <file> (a copy inside the store on an fsspec target), "exists" <version>,
# "version-complete" <version>, "latest" <version>.
Progress = Callable[[str, str], None]
HF_DATASET = re.compile(r"^hf://datasets/([A-Za-z0-9][\w.-]*/[\w.-]+?)/?$")


class VersionExists(FileExistsError):
    """The target already holds this version with different contents (versions are immutable)."""


def _finished_version(folder: Path) -> tuple[dict, list[str]]:
    manifest = verify_snapshot(folder)
    version = manifest.get("version")
    if not isinstance(version, str) or not VERSION.match(version) or folder.name != version:
        raise ValueError(f"{folder} is not a finished version folder (its manifest names {version!r})")
    names = [e["path"] for e in manifest_entries(manifest)]
    bad = [n for n in names if not is_safe_path(n)]
    if bad:
        raise ValueError(f"{folder}: manifest paths are not plain file names: {bad}")
    return manifest, names


def _moves_latest(current: str | None, version: str) -> bool:
    return current is None or not VERSION.match(current) or version_key(current) <= version_key(version)


def _refuse(version: str, where: str) -> VersionExists:
    return VersionExists(
        f"refused: version {version} already exists at {where} with different contents; "
        "versions are immutable (publish a new version instead)"
    )


def _digests(manifest: dict) -> dict[str, str]:
    return {e["path"]: e["sha256"] for e in manifest_entries(manifest)}


def _previous_at(versions: list[str], current: str | None, version: str) -> str | None:
    """The version at a target whose files a new version may share: the one `LATEST` names, else the highest
    one below the new version."""
    if current in versions and current != version:
        return current
    older = [v for v in versions if VERSION.match(v) and version_key(v) < version_key(version)]
    return max(older, key=version_key, default=None)


def _held_local(root: Path, version: str) -> dict[str, Path]:
    """sha256 -> file of the previous complete version in a local target (checked against its manifest)."""
    versions = [p.name for p in root.iterdir() if VERSION.match(p.name) and (p / "manifest.json").is_file()]
    previous = _previous_at(versions, read_latest(root), version)
    if previous is None:
        return {}
    try:
        manifest = json.loads((root / previous / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        e["sha256"]: root / previous / e["path"]
        for e in manifest_entries(manifest)
        if is_safe_path(e.get("path")) and isinstance(e.get("sha256"), str)
    }


def _link_or_copy(old: Path, new: Path) -> bool:
    """Hard-link a file of the previous version at the target (a copy across devices); False when it cannot
    be used (missing, or a symlink). The copy is verified with the rest of the version before it is renamed."""
    if old.is_symlink() or not old.is_file():
        return False
    try:
        os.link(old, new)
    except OSError:
        shutil.copyfile(old, new)
    return True


def _to_local(
    folder: Path, version: str, names: list[str], root: Path, say: Progress, digests: dict[str, str]
) -> str:
    root.mkdir(parents=True, exist_ok=True)
    remove(dead_writers_files(root))  # what a killed copy left: it would fill the disk, and no reader uses it
    final = root / version
    if final.exists():
        if (final / "manifest.json").read_bytes() != (folder / "manifest.json").read_bytes():
            raise _refuse(version, str(root))
        say("exists", version)
    else:
        tmp = root / f".tmp-{version}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        held = _held_local(root, version)
        try:
            for name in [*names, "manifest.json"]:
                (tmp / name).parent.mkdir(exist_ok=True)
                old = held.get(digests.get(name))
                if old is not None and _link_or_copy(old, tmp / name):
                    say("linked", name)
                    continue
                shutil.copyfile(folder / name, tmp / name)
                say("uploaded", name)
            verify_snapshot(tmp)
            os.rename(tmp, final)  # atomic; fails rather than replace a version published meanwhile
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    say("version-complete", version)
    if _moves_latest(read_latest(root), version):
        set_latest(root, version)
        say("latest", version)
    return str(final)


def _held_fsspec(fs, root: str, version: str) -> dict[str, str]:
    """sha256 -> object of the previous version at an fsspec target, from that version's manifest."""
    try:
        latest = fs.cat_file(f"{root}/LATEST").decode().strip() if fs.exists(f"{root}/LATEST") else None
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(root, detail=False)]
        previous = _previous_at([n for n in names if VERSION.match(n)], latest, version)
        if previous is None or not fs.exists(f"{root}/{previous}/manifest.json"):
            return {}
        manifest = json.loads(fs.cat_file(f"{root}/{previous}/manifest.json"))
    except (OSError, ValueError):
        return {}
    return {
        e["sha256"]: f"{root}/{previous}/{e['path']}"
        for e in manifest_entries(manifest)
        if is_safe_path(e.get("path")) and isinstance(e.get("sha256"), str)
    }


def _server_copy(fs, old: str, new: str) -> bool:
    """Copy an object inside the store (S3 CopyObject: no bytes through this machine); False when the
    filesystem cannot, and the file is uploaded instead. The size is checked after, as for an upload."""
    try:
        fs.copy(old, new)
    except (NotImplementedError, OSError):
        return False
    return True


def _to_fsspec(
    folder: Path,
    version: str,
    names: list[str],
    url: str,
    storage_options: dict | None,
    say: Progress,
    digests: dict[str, str],
) -> str:
    import fsspec

    fs, root = fsspec.url_to_fs(url, **(storage_options or {}))
    root = root.rstrip("/")
    prefix = f"{root}/{version}"
    manifest = (folder / "manifest.json").read_bytes()
    fs.invalidate_cache()
    if fs.exists(f"{prefix}/manifest.json"):
        if fs.cat_file(f"{prefix}/manifest.json") != manifest:
            raise _refuse(version, url)
        say("exists", version)
    else:
        # Objects under the prefix without a manifest are left by an interrupted upload: no reader trusts
        # them (no manifest lists them), so they are overwritten.
        held = _held_fsspec(fs, root, version)
        for name in names:
            old = held.get(digests.get(name))
            if old is not None and _server_copy(fs, old, f"{prefix}/{name}"):
                event = "copied"
            else:
                fs.put_file(str(folder / name), f"{prefix}/{name}")
                event = "uploaded"
            fs.invalidate_cache(f"{prefix}/{name}")
            if fs.info(f"{prefix}/{name}")["size"] != (folder / name).stat().st_size:
                raise OSError(f"upload of {name} to {url} is incomplete")
            say(event, name)
        fs.pipe_file(f"{prefix}/manifest.json", manifest)  # last: it makes the version visible to readers
        say("uploaded", "manifest.json")
    say("version-complete", version)
    current = fs.cat_file(f"{root}/LATEST").decode().strip() if fs.exists(f"{root}/LATEST") else None
    if _moves_latest(current, version):
        fs.pipe_file(f"{root}/LATEST", f"{version}\n".encode())  # one PUT: readers see old or new, never half
        say("latest", version)
    return f"{url.rstrip('/')}/{version}"


def _hf_read(api, repo_id: str, filename: str) -> bytes | None:
    if not api.file_exists(repo_id, filename, repo_type="dataset"):
        return None
    with tempfile.TemporaryDirectory(prefix="openness-hf-") as tmp:
        path = api.hf_hub_download(repo_id, filename, repo_type="dataset", local_dir=tmp)
        return Path(path).read_bytes()


def _to_hf(
    folder: Path,
    version: str,
    names: list[str],
    repo_id: str,
    token: str | None,
    endpoint: str | None,
    say: Progress,
) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=endpoint, token=token, library_name="openness-tracker")
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    manifest = (folder / "manifest.json").read_bytes()
    remote = _hf_read(api, repo_id, f"{version}/manifest.json")
    if remote is not None and remote != manifest:
        raise _refuse(version, f"hf://datasets/{repo_id}")
    if remote is None:
        # One commit: the whole version appears at once or not at all.
        api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            path_in_repo=version,
            repo_type="dataset",
            allow_patterns=[*names, "manifest.json"],
            commit_message=f"Snapshot {version}",
        )
        for name in [*names, "manifest.json"]:
            say("uploaded", name)
    else:
        say("exists", version)
    say("version-complete", version)
    current = _hf_read(api, repo_id, "LATEST")
    if _moves_latest(current.decode().strip() if current else None, version):
        # The repo's landing card is the latest version's card; its data_files point into `<version>/`.
        readme = (folder / "README.md").read_text(encoding="utf-8")
        api.create_commit(
            repo_id,
            [
                CommitOperationAdd("LATEST", f"{version}\n".encode()),
                CommitOperationAdd("README.md", root_card(readme, version).encode()),
            ],
            commit_message=f"LATEST -> {version}",
            repo_type="dataset",
        )
        say("latest", version)
    return f"hf://datasets/{repo_id}/{version}"


def publish_to(
    folder: Path,
    target: str,
    *,
    token: str | None = None,
    storage_options: dict | None = None,
    endpoint: str | None = None,
    progress: Progress | None = None,
) -> str:
    """Copy a finished local version folder to a target (folder, fsspec URL or hf://datasets/...); return its URL."""
    folder = Path(folder)
    say = progress or (lambda _event, _detail: None)
    manifest, names = _finished_version(folder)
    version = manifest["version"]
    try:
        if target.startswith("hf://"):
            match = HF_DATASET.match(target)
            if not match:
                raise ValueError(f"a Hub target must be hf://datasets/<org>/<name>, not {target!r}")
            return _to_hf(folder, version, names, match.group(1), token, endpoint, say)
        if "://" in target and not target.startswith("file://"):
            return _to_fsspec(folder, version, names, target, storage_options, say, _digests(manifest))
        return _to_local(
            folder, version, names, Path(target.removeprefix("file://")), say, _digests(manifest)
        )
    except Exception as exc:
        secrets = [token, *(str(v) for v in (storage_options or {}).values() if isinstance(v, str))]
        message = redact(str(exc), secrets)
        if message != str(exc):
            # Re-raise without the original (and its traceback text), which holds the secret.
            kind = (
                ValueError
                if isinstance(exc, ValueError)
                else OSError
                if isinstance(exc, OSError)
                else RuntimeError
            )
            raise kind(message) from None
        raise
