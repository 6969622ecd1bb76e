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
    is_safe_file_name,
    manifest_entries,
    read_latest,
    set_latest,
    verify_snapshot,
    version_key,
)
from pipelines.publish.sources import redact

# progress(event, detail): "uploaded" <file>, "exists" <version>, "version-complete" <version>, "latest" <version>.
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
    bad = [n for n in names if not is_safe_file_name(n)]
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


def _to_local(folder: Path, version: str, names: list[str], root: Path, say: Progress) -> str:
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
        try:
            for name in [*names, "manifest.json"]:
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


def _to_fsspec(
    folder: Path, version: str, names: list[str], url: str, storage_options: dict | None, say: Progress
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
        for name in names:
            fs.put_file(str(folder / name), f"{prefix}/{name}")
            fs.invalidate_cache(f"{prefix}/{name}")
            if fs.info(f"{prefix}/{name}")["size"] != (folder / name).stat().st_size:
                raise OSError(f"upload of {name} to {url} is incomplete")
            say("uploaded", name)
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
            return _to_fsspec(folder, version, names, target, storage_options, say)
        return _to_local(folder, version, names, Path(target.removeprefix("file://")), say)
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
