"""One Hub quota per token, shared by every process that crawls with it (a file-locked window counter)."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.mirror.server import MirrorServer
from pipelines.transport import SharedWindowLimiter, quota_folder, token_key, window_limiter
from tests.shared_quota import most_in_any_window, run_together
from tests.small_mirror import make_small_mirror

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "hf_sharedquota0123456789abcdef"
QUOTA, WINDOW, EACH = 10, 1.0, 15  # two processes ask 15 each: 30 requests, at most 10 per second

# One crawling process: the Hub transport installed with the token's shared quota, then EACH reads of the
# `api` bucket through huggingface_hub's client (as every Hub request of the pipeline goes).
CHILD = """
import sys, time
from pipelines.hub_transport import get_once, hub_headers, install
url, folder, quota, window, each, start = sys.argv[1:7]
install({"api": int(quota)}, token=sys.argv[7], shared_dir=folder, window=float(window))
headers = hub_headers(sys.argv[7])
time.sleep(max(0.0, float(start) - time.time()))  # both processes begin together
for _ in range(int(each)):
    status, _, _ = get_once(url + "/api/models/acme/open-7b", headers, timeout=10)
    assert status == 200, status
"""


def test_two_processes_with_one_token_never_exceed_the_window(tmp_path: Path) -> None:
    folder = quota_folder(None, tmp_path / "wh" / "state")
    with MirrorServer(make_small_mirror(tmp_path / "mirror")) as srv:
        run_together(CHILD, [srv.url, str(folder), str(QUOTA), str(WINDOW), str(EACH), TOKEN])
        log = [r for r in srv.requests if r["path"] == "/api/models/acme/open-7b"]
    assert len(log) == 2 * EACH and {r["bucket"] for r in log} == {"api"}
    # The server stamps a request when it answers, a little after the permit was taken (later still on a
    # busy machine): a quarter of the window is left as slack. Unshared, 2 x QUOTA arrive at once.
    assert most_in_any_window([r["ts"] for r in log], WINDOW - 0.25) <= QUOTA
    # One file for the token's `api` quota, named by a hash of the token, never the token.
    assert [p.name for p in folder.iterdir()] == [f"hub-{token_key(TOKEN)}-api.quota"]
    assert TOKEN not in token_key(TOKEN) and TOKEN.encode() not in next(folder.iterdir()).read_bytes()


def test_a_killed_holder_never_leaves_the_bucket_locked(tmp_path: Path) -> None:
    limiter = SharedWindowLimiter(3, 60.0, tmp_path / "q" / "hub-x-api.quota")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            limiter.path,
        ],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout.readline() == b"locked\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    began = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - began < 1.0 and limiter.used() == 1


def test_a_stale_window_expires_and_a_full_one_waits(tmp_path: Path) -> None:
    path = tmp_path / "hub-x-api.quota"
    now = time.time()
    # A full ring left by processes long gone (and one stamp from a clock far ahead): nothing blocks.
    path.write_bytes(struct.pack("<Q", 0) + struct.pack("<3d", now - 120, now + 3600, now - 61))
    limiter = SharedWindowLimiter(3, 60.0, path)
    assert limiter.used() == 0
    for _ in range(3):
        limiter.acquire()
    assert limiter.used() == 3 and limiter.waited_seconds == 0
    short = SharedWindowLimiter(3, 0.3, path)  # the same file with a short window: the 4th waits it out
    began = time.monotonic()
    short.acquire()
    assert 0.1 < time.monotonic() - began < 1.0 and short.waited_seconds > 0


def test_limiter_choice_and_bad_names(tmp_path: Path) -> None:
    assert type(window_limiter(5, 1.0)).__name__ == "WindowLimiter"
    shared = window_limiter(5, 1.0, tmp_path, service="github", bucket="core", token=None)
    assert Path(shared.path) == tmp_path / "github-anonymous-core.quota"
    assert quota_folder("", tmp_path) is None and quota_folder(None, tmp_path) == tmp_path / "quota"
    with pytest.raises(ValueError, match="bucket must be"):
        window_limiter(5, 1.0, tmp_path, service="hub", bucket="../api")
