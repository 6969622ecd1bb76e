"""Downloading a version over HTTP and from a folder: verify, resume, refuse what cannot be trusted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from pipelines.publish import snapshot as snapshot_module
from pipelines.publish.download import CorruptFile, SnapshotRefused, download, run_download
from pipelines.publish.snapshot import sha256_file, write_snapshot
from pipelines.publish.sources import download_retry
from tests.conftest import ROOT
from tests.publish.conftest import add_release

VERSION = "2024-03-01.1"
RUN = {"cwd": ROOT, "capture_output": True, "text": True, "timeout": 60}


@pytest.fixture
def served(warehouse, tmp_path) -> Path:
    """A snapshots folder with one version (the folder an HTTP server serves)."""
    snapshots = tmp_path / "served"
    write_snapshot(
        warehouse, snapshots, "2024-03-01", extra={"crawl_window": {"from": "2024-03-01", "to": "2024-03-01"}}
    )
    return snapshots


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_http_download_verifies_every_file(served, tmp_path, http_server):
    base, _ = http_server(served)
    messages = []
    folder = download(base, tmp_path / "got", progress=messages.append)

    assert folder == tmp_path / "got" / VERSION
    assert files_of(folder) == files_of(served / VERSION)
    assert "LATEST names 2024-03-01.1" in messages


def test_resume_fetches_only_the_partial_file_with_a_range_request(served, tmp_path, http_server):
    base, server = http_server(served)
    folder = download(base, tmp_path / "got")
    victim = folder / "revisions/0.parquet"
    whole = victim.read_bytes()
    (folder / "revisions/0.parquet.part").write_bytes(whole[: len(whole) // 2])
    victim.unlink()
    (folder / "manifest.json").unlink()  # as if interrupted: the manifest is written last
    server.log.clear()
    messages = []

    download(base, tmp_path / "got", progress=messages.append)

    fetched = [
        (path, rng) for path, rng in server.log if path not in ("/LATEST", f"/{VERSION}/manifest.json")
    ]
    assert fetched == [(f"/{VERSION}/revisions/0.parquet", f"bytes={len(whole) // 2}-")]
    assert victim.read_bytes() == whole and not (folder / "revisions/0.parquet.part").exists()
    assert any(m.startswith(f"revisions/0.parquet: resumed from byte {len(whole) // 2}") for m in messages)
    assert "releases/0.parquet: already complete, not fetched" in messages


def test_resume_restarts_when_the_server_ignores_ranges(served, tmp_path, http_server):
    base, server = http_server(served, ranges=False)
    target = tmp_path / "got" / VERSION
    (target / "releases").mkdir(parents=True)
    whole = (served / VERSION / "releases/0.parquet").read_bytes()
    (target / "releases/0.parquet.part").write_bytes(whole[:100])

    download(base, tmp_path / "got")

    assert (target / "releases/0.parquet").read_bytes() == whole
    assert (f"/{VERSION}/releases/0.parquet", "bytes=100-") in server.log  # asked, got a 200, started over


def test_corrupt_file_is_refused_named_and_not_left_in_place(served, tmp_path, http_server, capsys):
    source = served / VERSION / "releases/0.parquet"
    good_sha = sha256_file(source)
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    source.write_bytes(bytes(data))
    bad_sha = sha256_file(source)
    base, _ = http_server(served)

    with pytest.raises(CorruptFile) as err:
        download(base, tmp_path / "got")

    message = str(err.value)
    assert "releases/0.parquet" in message and good_sha in message and bad_sha in message
    folder = tmp_path / "got" / VERSION
    assert not (folder / "releases/0.parquet").exists() and not (folder / "releases/0.parquet.part").exists()
    assert (folder / "revisions/0.parquet").read_bytes() == (
        served / VERSION / "revisions/0.parquet"
    ).read_bytes()
    assert not (folder / "manifest.json").exists()  # an incomplete version never looks complete

    assert run_download(base, tmp_path / "again", None, environ={}) == 2
    assert good_sha in capsys.readouterr().err


@pytest.mark.parametrize(
    "evil",
    [
        "../evil",
        "/etc/passwd",
        "sub\\evil",
        "..\\..\\evil",
        "sub/../evil",
        "a/b/evil",
        "sub/.hidden",
        ".hidden",
        "manifest.json",
    ],
)
def test_malicious_manifest_path_is_refused_and_nothing_lands_outside(served, tmp_path, http_server, evil):
    manifest_path = served / VERSION / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    entry = manifest["files"]["releases/0.parquet"]
    manifest["files"]["releases/0.parquet"] = {**entry, "path": evil}
    manifest_path.write_text(json.dumps(manifest))
    (served / "evil").write_bytes((served / VERSION / "releases/0.parquet").read_bytes())
    base, _ = http_server(served)
    to = tmp_path / "deep" / "got"
    before = tree(tmp_path)

    with pytest.raises(SnapshotRefused, match="not a plain file name"):
        download(base, to)

    assert tree(tmp_path) - before <= {"deep", "deep/got"}  # nothing written, not even the version folder


def test_malicious_latest_is_refused(served, tmp_path, http_server):
    (served / "LATEST").write_text("../../etc\n")
    base, _ = http_server(served)
    with pytest.raises(SnapshotRefused, match="not a snapshot version"):
        download(base, tmp_path / "got")
    assert not (tmp_path / "got").exists()


def test_local_source_reports_and_skips_files_not_in_the_manifest(served, tmp_path):
    (served / VERSION / "extra.sh").write_text("echo not part of the snapshot\n")
    messages = []
    folder = download(str(served), tmp_path / "got", progress=messages.append)

    assert not (folder / "extra.sh").exists()
    assert any("'extra.sh'" in m and "not listed" in m for m in messages)
    assert files_of(folder) == {k: v for k, v in files_of(served / VERSION).items() if k != "extra.sh"}


def test_local_source_refuses_a_symlinked_file(served, tmp_path):
    victim = served / VERSION / "releases/0.parquet"
    copy = tmp_path / "outside.parquet"
    shutil.copyfile(victim, copy)
    victim.unlink()
    os.symlink(copy, victim)  # same bytes, but a snapshot holds regular files only
    with pytest.raises(SnapshotRefused, match="symlink"):
        download(str(served), tmp_path / "got")
    assert not (tmp_path / "got" / VERSION / "releases/0.parquet").exists()


def test_run_download_prints_progress_and_returns_zero(served, tmp_path, capsys):
    assert run_download(str(served), tmp_path / "got", VERSION, environ={}) == 0
    out = capsys.readouterr().out
    assert "releases/0.parquet: fetched" in out and "Snapshot verified" in out
    assert run_download(str(served), tmp_path / "got", "2099-01-01.1", environ={}) == 1


def test_a_stale_part_that_does_not_verify_is_fetched_again_from_the_start(served, tmp_path, http_server):
    base, server = http_server(served)
    target = tmp_path / "got" / VERSION
    (target / "releases").mkdir(parents=True)
    whole = (served / VERSION / "releases/0.parquet").read_bytes()
    (target / "releases/0.parquet.part").write_bytes(b"\0" * len(whole))  # full size, wrong bytes
    messages = []

    download(base, tmp_path / "got", progress=messages.append)

    assert (target / "releases/0.parquet").read_bytes() == whole
    assert "releases/0.parquet: resumed file does not verify, fetching it again from the start" in messages
    assert (f"/{VERSION}/releases/0.parquet", None) in server.log


def gets(server, path: str) -> list[str | None]:
    """The Range headers of the GETs of one path, in order."""
    return [rng for logged, rng in server.log if logged == path]


def test_a_503_is_retried_after_its_retry_after_and_the_bytes_are_reported(served, tmp_path, http_server):
    base, server = http_server(served)
    path = f"/{VERSION}/releases/0.parquet"
    server.faults[path] = [(503, {"Retry-After": "1"})]
    moved = []
    started = time.monotonic()

    folder = download(base, tmp_path / "got", bytes_progress=lambda done, total: moved.append((done, total)))

    assert time.monotonic() - started >= 1.0  # waited as the server asked
    assert gets(server, path) == [None, None]  # one 503, one success
    assert files_of(folder) == files_of(served / VERSION)
    total = sum(
        p.stat().st_size for p in (served / VERSION).rglob("*") if p.is_file() and p.name != "manifest.json"
    )
    assert moved[-1] == (total, total)
    assert all(0 <= done <= total for done, _ in moved) and len(moved) > len(files_of(folder))


def test_a_persistent_503_costs_a_bounded_number_of_requests(served, tmp_path, http_server):
    base, server = http_server(served)
    path = f"/{VERSION}/releases/0.parquet"
    server.faults[path] = [(503, {})] * 20

    with pytest.raises(requests.HTTPError, match="503"):
        download(base, tmp_path / "got", retry=download_retry(backoff_factor=0))

    assert len(gets(server, path)) == 6  # the request and its 5 retries
    assert not (tmp_path / "got" / VERSION / "releases/0.parquet").exists()


def test_a_body_cut_off_in_the_middle_is_resumed_from_the_bytes_that_arrived(
    warehouse, tmp_path, http_server
):
    snapshots = tmp_path / "served"
    big = "".join(f"line {i} of a long document\n" for i in range(12_000))  # ~300 KB: several read blocks
    write_snapshot(warehouse, snapshots, "2024-03-01", documents={"NOTES.md": big})
    base, server = http_server(snapshots)
    path = f"/{VERSION}/NOTES.md"
    server.faults[path] = ["cut"]  # half the bytes, then the connection closes

    folder = download(base, tmp_path / "got")

    assert (folder / "NOTES.md").read_text() == big
    first, second = gets(server, path)
    resumed = int(second.removeprefix("bytes=").removesuffix("-"))
    assert first is None and 0 < resumed <= len(big) // 2  # asked for the rest only


def test_a_latest_naming_a_missing_version_is_one_clear_line(served, tmp_path):
    (served / "LATEST").write_text("2024-02-30.7\n")
    cli = [sys.executable, "-m", "assets.cli", "download"]
    missing = subprocess.run([*cli, str(served), "--to", str(tmp_path / "got")], **RUN)
    named = subprocess.run(
        [*cli, str(served), "--version", "2099-01-01.1", "--to", str(tmp_path / "got")], **RUN
    )
    (served / "LATEST").unlink()
    absent = subprocess.run([*cli, str(served), "--to", str(tmp_path / "got")], **RUN)

    # A folder that is not a version (no manifest) is not listed among the versions that exist.
    (served / "2024-03-02.1").mkdir()
    for run, says in (
        (missing, f"LATEST names version 2024-02-30.7, which does not exist at {served} (no 2024-02-30.7/"),
        (named, f"version 2099-01-01.1 does not exist at {served} (no 2099-01-01.1/manifest.json; "),
        (absent, f"{served} has no LATEST file; name a version with --version ("),
    ):
        assert run.returncode == 1
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
        assert run.stderr.startswith(f"download failed: {says}"), run.stderr
        assert run.stderr.endswith(f"versions there: {VERSION})\n"), run.stderr


def test_a_missing_version_lists_the_newest_versions_that_exist(served, tmp_path):
    from pipelines.publish.download import MissingVersion, existing_versions
    from pipelines.publish.sources import LocalSource

    for day in range(2, 14):  # twelve more versions, each a folder with a manifest
        version = f"2024-03-{day:02d}.1"
        (served / version).mkdir()
        (served / version / "manifest.json").write_text("{}")
    (served / "2024-03-10.2").mkdir()  # no manifest: not a published version
    (served / "notes").mkdir()
    (served / "notes" / "manifest.json").write_text("{}")  # not a version name
    found = existing_versions(LocalSource(served))
    assert found == [VERSION] + [f"2024-03-{d:02d}.1" for d in range(2, 14)]
    with pytest.raises(MissingVersion) as refused:
        download(str(served), tmp_path / "got", "2024-04-01.1")
    newest = ", ".join(found[-10:])
    assert str(refused.value).endswith(f"versions there: {newest} and 3 older)")


def test_the_next_version_fetches_only_the_files_that_changed(warehouse, tmp_path, http_server, monkeypatch):
    """A researcher who synced yesterday's version downloads today's change only: the files whose sha256 a
    downloaded version already holds are linked from it, the others are fetched over HTTP."""
    monkeypatch.setattr(snapshot_module, "ROWS_PER_FILE", 1)  # several bucket files per table
    served = tmp_path / "served"
    first = write_snapshot(warehouse, served, "2024-03-01")
    add_release(warehouse, "late/comer", "2024-03-02")
    second = write_snapshot(warehouse, served, "2024-03-02")
    base, server = http_server(served)
    got = tmp_path / "got"
    download(base, got, first.name)
    server.log.clear()

    folder = download(base, got)

    old = json.loads((first / "manifest.json").read_text())["files"]
    new = json.loads((second / "manifest.json").read_text())["files"]
    changed = {p for p in new if new[p]["sha256"] != old[p]["sha256"]}
    assert changed and len(changed) < len(new) / 2
    fetched = {path.removeprefix(f"/{second.name}/") for path, _ in server.log if path != "/LATEST"}
    assert fetched == changed | {"README.md", "CHANGELOG.md", "manifest.json"}
    # The table bytes that travelled: the changed files' only.
    sent = sum((second / p).stat().st_size for p in fetched if p in new)
    assert sent == sum(new[p]["bytes"] for p in changed) < sum(e["bytes"] for e in new.values()) / 2
    assert files_of(folder) == files_of(second)
    for path in set(new) - changed:  # held, not fetched: linked to yesterday's copy
        assert (folder / path).stat().st_ino == (got / first.name / path).stat().st_ino
