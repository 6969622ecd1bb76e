"""Starting, stopping and serving in the foreground; a damaged mirror is served as far as it is readable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx2

from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer


def test_serve_forever_in_the_foreground(mirror_root: Path) -> None:
    script = (
        "import sys; from pipelines.mirror.server import serve_forever; "
        "serve_forever(sys.argv[1], port=0, page_size=5)"
    )
    # As in a terminal's foreground: SIGINT at its default. A suite started in the background by a
    # non-interactive shell (`make test &`) has SIGINT ignored, children inherit that, and Python then
    # installs no KeyboardInterrupt handler: the server would never see the Ctrl-C this test sends.
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(mirror_root)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # noqa: PLW1509
    try:
        line = proc.stdout.readline()  # "hub mirror <root> on http://127.0.0.1:PORT (arXiv: ...)"
        url = line.split(" on ")[1].split(" ")[0]
        assert url.startswith("http://127.0.0.1:")
        assert httpx2.get(f"{url}/_mirror/health").json()["repos"]["models"] == 17
        assert len(httpx2.get(f"{url}/api/models").json()) == 5
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.stdout.close()


def test_stop_and_start_again(mirror_root: Path) -> None:
    srv = MirrorServer(mirror_root).start()
    assert srv.start() is srv  # idempotent
    url = srv.url
    assert httpx2.get(f"{url}/api/models/acme/evolving").status_code == 200
    srv.stop()
    srv.stop()
    srv.start()
    try:
        assert httpx2.get(f"{srv.url}/api/models/acme/evolving").status_code == 200
    finally:
        srv.stop()


def test_a_damaged_mirror_is_served_as_far_as_it_is_readable(tmp_path: Path) -> None:
    w = MirrorWriter(tmp_path, "damaged")
    w.add_revision(
        "models",
        "ok/model",
        Commit("ab" * 20, "2024-01-01T00:00:00Z", "fine"),
        {"id": "ok/model", "tags": ["license:mit"]},
        {"README.md": "# ok\n"},
    )
    w.add_revision(
        "models", "bad/info", Commit("cd" * 20, "2024-01-02T00:00:00Z", "broken info"), {"id": "x"}
    )
    w.finish()
    (tmp_path / "models/bad/info/revisions" / ("cd" * 20) / "info.json").write_text("{not json")
    for name, body in [
        ("badjson", "[{"),
        ("nodate", '[{"id": "' + "ef" * 20 + '"}]'),
        ("naive", '[{"id": "' + "ef" * 20 + '", "date": "2024-01-01T00:00:00"}]'),
        ("notahex", '[{"id": "../../x\\r\\nX-Evil: 1", "date": "2024-01-01T00:00:00Z"}]'),
        ("empty", "[]"),
    ]:
        (tmp_path / "models/bad" / name).mkdir(parents=True)
        (tmp_path / "models/bad" / name / "commits.json").write_text(body)
    (tmp_path / "models/-weird-org/x").mkdir(parents=True)  # not a valid namespace: ignored
    (tmp_path / "models/ok/no-commits").mkdir()
    with MirrorServer(tmp_path) as srv:
        ids = [m["id"] for m in httpx2.get(f"{srv.url}/api/models", params={"sort": "likes"}).json()]
        assert ids == ["bad/info", "ok/model"]
        info = httpx2.get(f"{srv.url}/api/models/bad/info").json()  # unreadable info.json: a minimal body
        assert info["id"] == "bad/info" and info["sha"] == "cd" * 20
        assert httpx2.get(f"{srv.url}/api/models/bad/notahex").status_code == 404
        assert json.loads(httpx2.get(f"{srv.url}/_mirror/health").content)["repos"] == {
            "models": 2,
            "datasets": 0,
        }
        assert httpx2.get(f"{srv.url}/ok/model/resolve/main/README.md").content == b"# ok\n"
