"""The synthetic mirror generator: seeded, valid hub-mirror/1 that the server serves, exact change-day shares."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from benchmarks.synthetic import DISTRIBUTIONS, generate_mirror
from pipelines.mirror.layout import FORMAT, parse_date
from pipelines.mirror.server import MirrorServer

DAYS = ["2026-03-02", "2026-03-03"]
N = 600


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _end(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.max, tzinfo=UTC)


def _heads(root: Path, day: str) -> dict[str, str]:
    """Each repo's newest commit at the end of `day` (the as-of rule), read straight from commits.json."""
    heads = {}
    for path in root.glob("models/*/*/commits.json"):
        dated = [c for c in json.loads(path.read_text()) if parse_date(c["date"]) <= _end(day)]
        if dated:
            heads[f"{path.parent.parent.name}/{path.parent.name}"] = dated[0]["id"]
    return heads


def _get(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.read(), dict(response.headers)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synthetic") / "m"
    return root, generate_mirror(root, N, seed=11, days=DAYS, change_rate=0.05, new_rate=0.01)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first = generate_mirror(tmp_path / "a", 150, seed=3, days=DAYS)
    again = generate_mirror(tmp_path / "b", 150, seed=3, days=DAYS)
    generate_mirror(tmp_path / "c", 150, seed=4, days=DAYS)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert first["changed"] == again["changed"] and first["files"] == again["files"]
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")


def test_layout_follows_the_mirror_format(mirror):
    root, made = mirror
    assert json.loads((root / "mirror.json").read_text())["format"] == FORMAT
    repos = list(root.glob("models/*/*"))
    assert len(repos) == made["repos"] == N + round(0.01 * N)
    for repo in repos:
        commits = json.loads((repo / "commits.json").read_text())
        dates = [parse_date(c["date"]) for c in commits]
        assert dates == sorted(dates, reverse=True), "commits.json is newest first"
        for commit in commits:
            rev = repo / "revisions" / commit["id"]
            info = json.loads((rev / "info.json").read_text())
            assert info["sha"] == commit["id"] and info["lastModified"] == commit["date"]
            listed = {s["rfilename"] for s in info["siblings"]}
            assert ("README.md" in listed) == (rev / "README.md").is_file()
            if "README.md" in listed:
                assert 300 < (rev / "README.md").stat().st_size < 12_000


def test_d0_has_every_model_and_d1_changes_exactly_the_requested_share(mirror):
    root, made = mirror
    d0, d1 = _heads(root, DAYS[0]), _heads(root, DAYS[1])
    assert len(d0) == N, "every generated model exists, with a commit on or before D0"
    changed = sorted(r for r in d0 if d1[r] != d0[r])
    assert len(changed) == round(0.05 * N) and changed == sorted(made["changed"][DAYS[1]])
    assert sorted(set(d1) - set(d0)) == sorted(made["new"][DAYS[1]]) and len(made["new"][DAYS[1]]) == round(
        0.01 * N
    )


def test_shares_follow_the_distribution_table(mirror):
    root, _ = mirror
    infos = []
    for repo in root.glob("models/*/*"):
        head = json.loads((repo / "commits.json").read_text())[0]["id"]
        infos.append(json.loads((repo / "revisions" / head / "info.json").read_text()))
    gated = sum(bool(i["gated"]) for i in infos) / len(infos)
    assert abs(gated - DISTRIBUTIONS["gated"]) < 0.05
    licensed = sum("license" in i["cardData"] for i in infos) / len(infos)
    assert abs(licensed - (1 - 11 / 63)) < 0.06


def test_the_mirror_server_serves_it_as_of_each_day(mirror):
    root, made = mirror
    new_repo = made["new"][DAYS[1]][0]
    with MirrorServer(root, page_size=1000) as srv:
        body, _ = _get(
            f"{srv.url}/as-of/{DAYS[0]}/api/models?sort=lastModified&direction=-1&limit=1000"
            "&expand=sha&expand=siblings"
        )
        listed = {i["id"]: i for i in json.loads(body)}
        assert len(listed) == N and new_repo not in listed
        body, _ = _get(f"{srv.url}/as-of/{DAYS[1]}/api/models?sort=lastModified&direction=-1&limit=1000")
        assert new_repo in {i["id"] for i in json.loads(body)}
        repo_id, item = next((r, i) for r, i in listed.items() if {"rfilename": "README.md"} in i["siblings"])
        readme, headers = _get(f"{srv.url}/as-of/{DAYS[0]}/{repo_id}/resolve/{item['sha']}/README.md")
        assert headers["X-Repo-Commit"] == item["sha"]
        assert readme == (root / "models" / repo_id / "revisions" / item["sha"] / "README.md").read_bytes()
        info, _ = _get(f"{srv.url}/api/models/{repo_id}/revision/{item['sha']}?blobs=true")
        assert json.loads(info)["sha"] == item["sha"]
