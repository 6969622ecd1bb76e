"""The mirror marks every answer that rests on a reconstruction (mirror.json `reconstructions`)."""

from __future__ import annotations

import requests

from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.provenance import HEADER, parse_header
from pipelines.mirror.server import MirrorServer

REAL = "a1" * 20
SYNTH = "b2" * 20
OTHER = "c3" * 20


def _mirror(root):
    writer = MirrorWriter(root, title="provenance test mirror")
    for sha, date in ((REAL, "2024-01-01T00:00:00.000Z"), (SYNTH, "2024-02-01T00:00:00.000Z")):
        info = {"id": "acme/mixed", "siblings": [{"rfilename": "README.md"}], "cardData": {"license": "mit"}}
        writer.add_revision(
            "models", "acme/mixed", Commit(id=sha, date=date, title="t"), info, {"README.md": "# card\n"}
        )
    writer.add_revision(
        "models",
        "acme/plain",
        Commit(id=OTHER, date="2024-01-05T00:00:00.000Z", title="t"),
        {"id": "acme/plain", "siblings": [{"rfilename": "README.md"}]},
        {"README.md": "# plain\n"},
    )
    writer.extra["reconstructions"] = [
        {"kind": "synthetic-commit-id", "why": "w", "affects": [f"models/acme/mixed/revisions/{SYNTH}"]},
        {
            "kind": "readme-from-card-data",
            "why": "w",
            "affects": [f"models/acme/mixed/revisions/{REAL}/README.md"],
        },
        {"kind": "createdAt-upper-bound", "why": "w", "affects": ["acme/mixed"]},
        {"kind": "github-repo-json", "why": "w", "affects": ["code/github/acme/trainer"]},
    ]
    writer.finish()
    return root


def test_answers_resting_on_a_reconstruction_carry_its_kinds(tmp_path):
    with MirrorServer(_mirror(tmp_path / "m")) as srv:

        def kinds(path: str, method: str = "GET") -> list[str]:
            response = requests.request(method, srv.url + path, timeout=10)
            assert response.status_code == 200, (path, response.text)
            return parse_header(response.headers.get(HEADER))

        # info: the repo's kinds and the revision's; the newest commit is the synthetic one
        assert kinds("/api/models/acme/mixed") == ["createdAt-upper-bound", "synthetic-commit-id"]
        assert kinds(f"/api/models/acme/mixed/revision/{REAL}") == ["createdAt-upper-bound"]
        assert kinds("/api/models/acme/mixed?expand=sha") == ["createdAt-upper-bound", "synthetic-commit-id"]
        # files: the revision's kinds and the file's own, not the repo's
        assert kinds(f"/acme/mixed/resolve/{SYNTH}/README.md") == ["synthetic-commit-id"]
        assert kinds(f"/acme/mixed/resolve/{REAL}/README.md", "HEAD") == ["readme-from-card-data"]
        # commit lists: the repo's and every listed commit's; as of before the synthetic commit, not it
        assert kinds("/api/models/acme/mixed/commits/main") == [
            "createdAt-upper-bound",
            "synthetic-commit-id",
        ]
        assert kinds("/as-of/2024-01-10/api/models/acme/mixed/commits/main") == ["createdAt-upper-bound"]
        # listings: the union over the page's items
        assert kinds("/api/models?search=mixed") == ["createdAt-upper-bound", "synthetic-commit-id"]
        # an answer resting on nothing reconstructed has no header at all, as on the real Hub
        for path in (
            "/api/models/acme/plain",
            f"/acme/plain/resolve/{OTHER}/README.md",
            "/api/models?search=plain",
        ):
            assert HEADER not in requests.get(srv.url + path, timeout=10).headers, path
