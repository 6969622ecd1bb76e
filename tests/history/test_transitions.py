"""Licence changes in the sample corpus's real histories appear as dated transitions with their commits."""

from __future__ import annotations

import json

import duckdb
import yaml

from pipelines.mirror.layout import parse_date
from tests.hub.crawl_helpers import SAMPLE, commits_of


def _declared_licence(readme: bytes) -> str | None:
    text = readme.decode("utf-8", "replace").lstrip("\ufeff")
    if not text.lstrip().startswith("---"):
        return None
    try:
        meta = yaml.safe_load(text.split("---", 2)[1]) or {}
    except yaml.YAMLError:
        return None
    lic = meta.get("license") if isinstance(meta, dict) else None
    if lic == "other" and meta.get("license_name"):
        return str(meta["license_name"])
    return ",".join(lic) if isinstance(lic, list) else (str(lic) if lic else None)


def _licence_changes() -> list[tuple[str, str, str, str | None, str | None]]:
    """(repo, commit, date, before, after) for every change of the declared licence between stored READMEs."""
    changes = []
    for repo, commits in commits_of(SAMPLE).items():
        previous = "unset"
        for commit in sorted(commits, key=lambda c: parse_date(c["date"])):
            readme = SAMPLE / "models" / repo / "revisions" / commit["id"] / "README.md"
            if not readme.exists():
                continue
            current = _declared_licence(readme.read_bytes())
            if previous != "unset" and current != previous:
                changes.append((repo, commit["id"], commit["date"], previous, current))
            previous = current
    return changes


def _synthetic_commits() -> set[tuple[str, str]]:
    """(repo, commit) of every commit id the sample's mirror.json lists as reconstructed (synthetic)."""
    manifest = json.loads((SAMPLE / "mirror.json").read_text(encoding="utf-8"))
    found = set()
    for entry in manifest["reconstructions"]:
        if entry["kind"] == "synthetic-commit-id":
            for path in entry["affects"]:
                _models, org, name, _revisions, sha = path.split("/")
                found.add((f"{org}/{name}", sha))
    return found


def test_every_licence_change_of_the_histories_is_a_transition(warehouse):
    changes = _licence_changes()
    synthetic = _synthetic_commits()
    assert len(changes) >= 3
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        rows = con.execute(
            "SELECT repo_id, to_revision, changed_at, evidence_url FROM core.transitions "
            "WHERE dimension = 'license_id'"
        ).fetchall()
    found = {(r, rev): (at, url) for r, rev, at, url in rows}
    for repo, commit, date, before, after in changes:
        assert (repo, commit) in found, f"{repo}: {before} -> {after} at {commit[:8]} is missing"
        at, url = found[(repo, commit)]
        assert at == parse_date(date)
        # a commit id the recording made up is not linked to huggingface.co, where it does not exist
        expected = None if (repo, commit) in synthetic else f"https://huggingface.co/{repo}/commit/{commit}"
        assert url == expected, (repo, commit)


def test_no_evidence_link_names_a_reconstructed_commit_and_each_row_says_what_it_rests_on(warehouse):
    synthetic = _synthetic_commits()
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        rows = con.execute(
            "SELECT repo_id, to_revision, evidence_url, reconstructed FROM core.transitions"
        ).fetchall()
    on_synthetic = [r for r in rows if (r[0], r[1]) in synthetic]
    assert on_synthetic, "the sample's histories have changes at reconstructed commits"
    assert all(r[2] is None and "synthetic-commit-id" in r[3].split(", ") for r in on_synthetic)
    linked = [r for r in rows if r[2] is not None]
    assert linked and not any(r[2].rsplit("/", 1)[1] == sha for r in linked for _repo, sha in synthetic)
    # a change at a commit recorded from the Hub keeps its link even when other facts of it are rebuilt
    assert any(r[3] is not None for r in linked)


def test_the_mistral_licence_flip_is_flagged_short_lived(warehouse):
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        rows = con.execute(
            "SELECT to_revision, changed_at::VARCHAR, from_value, to_value, direction, short_lived "
            "FROM core.transitions WHERE repo_id = 'mistralai/Mistral-7B-v0.1' AND dimension = 'license_family' "
            "ORDER BY changed_at"
        ).fetchall()
    removal, restore = rows[0], rows[1]
    assert removal[0].startswith("f592c5ff") and removal[2:5] == ("osi-permissive", "none", "closing")
    assert restore[0].startswith("eee93418") and restore[2:5] == ("none", "osi-permissive", "opening")
    assert removal[5] and restore[5]


def test_validity_intervals_tile_each_repos_history(warehouse):
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        gaps = con.execute("""
            SELECT count(*) FROM (
              SELECT repo_id, valid_to, lead(valid_from) OVER (PARTITION BY repo_id ORDER BY valid_from) AS next_from
              FROM core.openness) WHERE valid_to IS DISTINCT FROM next_from""").fetchone()[0]
        open_ended = con.execute("SELECT count(*) FROM core.openness WHERE valid_to IS NULL").fetchone()[0]
        repos = con.execute("SELECT count(DISTINCT repo_id) FROM core.openness").fetchone()[0]
    assert gaps == 0 and open_ended == repos


def test_monthly_marts_count_every_release_once_per_month(warehouse):
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        per_month = con.execute("""
            SELECT month, sum(releases) FROM marts.monthly_openness
            WHERE breakdown = 'all' AND metric = 'spectrum_level' GROUP BY month ORDER BY month""").fetchall()
        last = con.execute("SELECT count(*) FROM core.releases WHERE deleted_at IS NULL").fetchone()[0]
    assert per_month[-1][1] == last
    assert [n for _, n in per_month] == sorted(n for _, n in per_month)  # no release disappears in the sample


def test_no_licence_declared_has_one_value_and_the_mart_keys_are_unique(warehouse):
    """'No licence declared' reads `none` in core.openness, core.transitions and the monthly mart, apart from
    `unknown` (a declared licence the catalogue cannot place): the mart then has one row per key (before,
    NULL and 'unknown' both showed as 'unknown', two rows with one key)."""
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        families = dict(
            con.execute(
                "SELECT coalesce(license_family, 'NULL'), list(DISTINCT license_status ORDER BY 1) "
                "FROM core.openness GROUP BY ALL"
            ).fetchall()
        )
        assert families["none"] == ["missing"] and "NULL" not in families
        assert "missing" not in families["unknown"]
        (transitions,) = con.execute(
            "SELECT list(DISTINCT v ORDER BY v) FROM (SELECT unnest([from_value, to_value]) AS v "
            "FROM core.transitions WHERE dimension = 'license_family')"
        ).fetchone()
        assert "none" in transitions
        mart = con.execute(
            "SELECT list(DISTINCT value ORDER BY value) FROM marts.monthly_openness WHERE metric = 'license_family'"
        ).fetchone()[0]
        assert {"none", "unknown"} <= set(mart)
        duplicates = con.execute(
            "SELECT month, breakdown, group_value, metric, value, count(*) FROM marts.monthly_openness "
            "GROUP BY ALL HAVING count(*) > 1 LIMIT 3"
        ).fetchall()
        assert duplicates == []
