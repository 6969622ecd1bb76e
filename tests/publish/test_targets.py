"""Publishing a version to a folder, to S3 (moto's server on loopback) and to a Hub dataset repo (live, opt-in)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import fsspec
import pytest

from pipelines.publish import snapshot as snapshot_module
from pipelines.publish.download import download
from pipelines.publish.snapshot import verify_snapshot, write_snapshot
from pipelines.publish.targets import VersionExists, publish_to
from tests.publish.conftest import add_release

WINDOW = {"crawl_window": {"from": "2024-03-01", "to": "2024-03-01"}}
OUT = {"capture_output": True, "text": True, "check": True}


def snapshot(con, root: Path, day: str = "2024-03-01") -> Path:
    return write_snapshot(con, root, day, extra=WINDOW)


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def s3_text(bucket: str, options: dict, key: str) -> str:
    client = boto3.client(
        "s3",
        endpoint_url=options["client_kwargs"]["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    return client.get_object(Bucket=bucket, Key=key)["Body"].read().decode().strip()


def test_local_target_copies_then_points_latest_and_refuses_a_different_same_version(warehouse, tmp_path):
    folder = snapshot(warehouse, tmp_path / "a")
    mirror = tmp_path / "mirror"
    events = []
    assert publish_to(folder, str(mirror), progress=lambda e, d: events.append((e, d))) == str(
        mirror / folder.name
    )
    assert files_of(mirror / folder.name) == files_of(folder)
    assert (mirror / "LATEST").read_text().strip() == folder.name
    assert events[-2:] == [("version-complete", folder.name), ("latest", folder.name)]

    # A copy killed earlier left its hidden folder and staged LATEST (its process is gone): they are removed.
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **OUT).stdout)
    (mirror / f".tmp-2024-02-01.1-{dead}").mkdir()
    (mirror / f".LATEST.{dead}.tmp").write_text("2024-02-01.1\n")
    publish_to(folder, str(mirror))  # the same version again: nothing to do
    assert sorted(p.name for p in mirror.iterdir()) == ["2024-03-01.1", "LATEST"]
    add_release(warehouse, "other/model", "2024-03-01")
    different = snapshot(warehouse, tmp_path / "b")  # also 2024-03-01.1, other bytes
    with pytest.raises(VersionExists, match="immutable"):
        publish_to(different, str(mirror))
    assert files_of(mirror / folder.name) == files_of(folder)


def test_latest_never_moves_back_to_an_older_version(warehouse, tmp_path):
    old = snapshot(warehouse, tmp_path / "snaps", "2024-03-01")
    new = snapshot(warehouse, tmp_path / "snaps", "2024-03-05")
    mirror = tmp_path / "mirror"
    publish_to(new, str(mirror))
    publish_to(old, str(mirror))
    assert (mirror / "LATEST").read_text().strip() == new.name and (
        mirror / old.name / "manifest.json"
    ).exists()


def test_s3_round_trip_is_byte_identical_and_latest_comes_last(warehouse, tmp_path, s3_bucket):
    bucket, options = s3_bucket
    folder = snapshot(warehouse, tmp_path / "snaps")
    events = []
    url = publish_to(
        folder,
        f"s3://{bucket}/openness",
        storage_options=options,
        progress=lambda e, d: events.append((e, d)),
    )

    assert url == f"s3://{bucket}/openness/{folder.name}"
    uploaded = [d for e, d in events if e == "uploaded"]
    assert set(uploaded) == set(files_of(folder)) and uploaded[-1] == "manifest.json"
    assert events[-1] == ("latest", folder.name)
    assert s3_text(bucket, options, "openness/LATEST") == folder.name

    boto3.client(
        "s3",
        endpoint_url=options["client_kwargs"]["endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).put_object(
        Bucket=bucket, Key=f"openness/{folder.name}/planted.parquet", Body=b"not listed in the manifest"
    )
    messages = []
    got = download(
        f"s3://{bucket}/openness", tmp_path / "got", storage_options=options, progress=messages.append
    )
    assert files_of(got) == files_of(folder)
    assert any("'planted.parquet'" in m and "not listed" in m for m in messages)


def test_s3_publish_interrupted_before_latest_keeps_readers_on_the_previous_version(
    warehouse, tmp_path, s3_bucket
):
    bucket, options = s3_bucket
    target = f"s3://{bucket}/openness"
    first = snapshot(warehouse, tmp_path / "snaps", "2024-03-01")
    publish_to(first, target, storage_options=options)
    add_release(warehouse, "new/model", "2024-03-02")
    second = snapshot(warehouse, tmp_path / "snaps", "2024-03-02")

    def crash(event: str, detail: str) -> None:
        if event == "version-complete":
            raise KeyboardInterrupt("killed after the files, before LATEST")

    with pytest.raises(KeyboardInterrupt):
        publish_to(second, target, storage_options=options, progress=crash)

    assert s3_text(bucket, options, "openness/LATEST") == first.name
    assert download(target, tmp_path / "reader", storage_options=options).name == first.name
    events = []
    publish_to(second, target, storage_options=options, progress=lambda e, d: events.append(e))
    assert events == ["exists", "version-complete", "latest"]  # nothing re-uploaded, LATEST moved
    assert s3_text(bucket, options, "openness/LATEST") == second.name


def test_s3_refuses_to_overwrite_a_published_version(warehouse, tmp_path, s3_bucket):
    bucket, options = s3_bucket
    target = f"s3://{bucket}/openness"
    published = snapshot(warehouse, tmp_path / "a")
    publish_to(published, target, storage_options=options)
    add_release(warehouse, "other/model", "2024-03-01")
    with pytest.raises(VersionExists, match="immutable"):
        publish_to(snapshot(warehouse, tmp_path / "b"), target, storage_options=options)
    got = download(target, tmp_path / "got", storage_options=options)
    assert files_of(got) == files_of(published)


class EchoAuth(BaseHTTPRequestHandler):
    """A Hub endpoint that rejects every call and, carelessly, echoes the Authorization header back."""

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self) -> None:
        body = json.dumps({"error": f"invalid credentials: {self.headers.get('Authorization')}"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _reply  # noqa: N815 - http.server's naming


def test_token_never_appears_in_errors(warehouse, tmp_path):
    folder = snapshot(warehouse, tmp_path / "snaps")
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoAuth)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    token = "hf_test_SECRET_TOKEN_0123456789"
    try:
        with pytest.raises(OSError) as err:
            publish_to(
                folder,
                "hf://datasets/openness/snapshots",
                token=token,
                endpoint=f"http://127.0.0.1:{server.server_address[1]}",
            )
    finally:
        server.shutdown()
        server.server_close()
    text = "".join(traceback.format_exception(err.value))
    assert token not in text and "***" in str(err.value)


@pytest.mark.live
@pytest.mark.skipif(
    os.environ.get("OPENNESS_LIVE") != "1" or not os.environ.get("OPENNESS_HF_TEST_REPO"),
    reason="live: set OPENNESS_LIVE=1, OPENNESS_HF_TEST_REPO=<org>/<dataset> and HF_TOKEN",
)
def test_publish_to_a_hub_dataset_repo_live(warehouse, tmp_path):
    repo = os.environ["OPENNESS_HF_TEST_REPO"]
    folder = snapshot(warehouse, tmp_path / "snaps", "2000-01-01")
    folder = folder.rename(folder.with_name(f"2000-01-01.{os.getpid()}"))  # a fresh version per run
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["version"] = folder.name
    (folder / "manifest.json").write_text(json.dumps(manifest))
    url = publish_to(folder, f"hf://datasets/{repo}", token=os.environ.get("HF_TOKEN"))
    assert url == f"hf://datasets/{repo}/{folder.name}"


def test_a_new_version_shares_its_unchanged_files_on_a_folder_and_on_s3(
    warehouse, tmp_path, s3_bucket, monkeypatch
):
    """Files whose sha256 the target's previous version holds are hard-linked (folder) or copied inside the
    store (S3); only the changed files travel. Removing the older version leaves the newer one whole."""
    monkeypatch.setattr(snapshot_module, "ROWS_PER_FILE", 1)  # several bucket files per table
    first = snapshot(warehouse, tmp_path / "snaps", "2024-03-01")
    add_release(warehouse, "late/comer", "2024-03-02")
    second = snapshot(warehouse, tmp_path / "snaps", "2024-03-02")
    old = json.loads((first / "manifest.json").read_text())["files"]
    new = json.loads((second / "manifest.json").read_text())["files"]
    same = {p for p in new if new[p]["sha256"] == old[p]["sha256"]}
    changed = set(new) - same
    assert same and changed

    bucket, options = s3_bucket
    mirror = tmp_path / "mirror"
    for target, kwargs, shared in (
        (str(mirror), {}, "linked"),
        (f"s3://{bucket}/openness", options, "copied"),
    ):
        publish_to(first, target, storage_options=kwargs or None)
        events: list[tuple[str, str]] = []
        publish_to(
            second,
            target,
            storage_options=kwargs or None,
            progress=lambda e, d, seen=events: seen.append((e, d)),
        )
        assert {d for e, d in events if e == shared} == same, target
        assert {d for e, d in events if e == "uploaded"} == changed | {
            "README.md",
            "CHANGELOG.md",
            "manifest.json",
        }

    for path in same:
        assert (mirror / second.name / path).stat().st_ino == (mirror / first.name / path).stat().st_ino
    shutil.rmtree(mirror / first.name)
    verify_snapshot(mirror / second.name)
    fs, _ = fsspec.url_to_fs(f"s3://{bucket}/openness", **options)
    fs.rm(f"{bucket}/openness/{first.name}", recursive=True)
    got = download(f"s3://{bucket}/openness", tmp_path / "got", storage_options=options)
    assert files_of(got) == files_of(second)
