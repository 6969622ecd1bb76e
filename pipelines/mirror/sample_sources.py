"""Reading the shared reference material (cards, README histories, Hub API bodies) for the sample corpus.

Every record keeps where it came from, so that the builder can attribute it in NOTICE.md and list what
it had to reconstruct in mirror.json. Nothing here invents a value: missing facts stay missing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from pipelines.hub.ids import git_blob_sha1
from pipelines.mirror.layout import parse_date

# Folders of history/ that are not histories of a Hub repo, with the reason they are left out.
EXCLUDED_HISTORIES = {
    "bigscience__bloom__github_draft": (
        "GitHub drafting repo bigscience-workshop/model_card, not the Hub repo bigscience/bloom: its commit "
        "ids, dates and authors are GitHub's (the card says 'DEPRECATED. This is now live at "
        "https://huggingface.co/bigscience/bloom'), so its other -> bigscience-bloom-rail-1.0 change "
        "(2022-05-25, GitHub commit 64f6aa1f) is not a Hub commit and is not replayed as one"
    ),
}

# First commits of a mirror whose subject is the Hub's own repo-creation commit; any other first commit
# without a README suggests that the mirror's history was cut short, so it is not replayed.
HUB_INITIAL_SUBJECTS = {"initial commit"}

SOURCE_RE = re.compile(r"github:(?P<repo>[^@\s]+)@(?P<sha>[0-9a-f]{40})")


@dataclass
class Revision:
    """One commit of a model repo as the reference knows it."""

    repo_id: str
    id: str
    date: str  # Hub form, UTC: 2023-10-12T17:52:53.000Z
    title: str
    authors: list[str]
    readme: bytes | None  # None: the repo had no README at this commit
    origin: str  # hub-mirror | crawler-snapshot | github-copy | hub-api
    source: str  # where the README (or body) was copied from, for NOTICE.md
    files: list[str] = field(default_factory=list)  # other file names known at this commit (licences)
    body: dict[str, Any] | None = None  # the real /api/models body, for origin hub-api
    body_source: str = ""


@dataclass
class Exclusion:
    """Reference material deliberately not turned into mirror content."""

    what: str
    why: str


def hub_date(value: str) -> str:
    """Render an ISO 8601 date with a timezone in the Hub's form (UTC, milliseconds, Z)."""
    dt = parse_date(value).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def synthetic_commit_id(repo_id: str, date: str, readme: bytes) -> str:
    """Deterministic stand-in for a commit id the reference does not have: sha1(repo id, date, README)."""
    return hashlib.sha1(repo_id.encode() + b"\n" + date.encode() + b"\n" + readme).hexdigest()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_provenance(reference: Path) -> list[dict[str, str]]:
    """Rows of cards/PROVENANCE.csv (one per saved card)."""
    return _rows(reference / "cards" / "PROVENANCE.csv")


def _repo_id_for_folder(folder: str, provenance: list[dict[str, str]]) -> str:
    for row in provenance:
        if Path(row["file"]).stem == folder:
            return row["hf_repo_id"]
    org, _, name = folder.partition("__")
    return f"{org}/{name}"


def _read_readme(path: Path, blob: str) -> bytes:
    data = path.read_bytes()
    if git_blob_sha1(data) != blob:
        raise ValueError(f"{path}: bytes do not match readme_blob {blob} in its INDEX")
    return data


def _mirror_history(folder: Path, repo_id: str, excluded: list[Exclusion]) -> list[Revision]:
    """Real Hub commits kept by a GitHub mirror (INDEX.csv + transitions.csv)."""
    transitions = _rows(folder / "transitions.csv") if (folder / "transitions.csv").exists() else []
    mirror = ""
    for t in transitions:
        m = SOURCE_RE.search(t["source"])
        if m:
            mirror = m.group("repo")
    revisions = [
        Revision(
            repo_id,
            r["commit"],
            hub_date(r["date"]),
            r["subject"],
            [r["author"]],
            _read_readme(folder / r["saved_as"], r["readme_blob"]),
            "hub-mirror",
            f"github.com/{mirror} @ {r['commit']} : README.md",
        )
        for r in _rows(folder / "INDEX.csv")
    ]
    known = {r.id for r in revisions}
    licence_changes: dict[str, list[str]] = {}
    for t in transitions:
        found = SOURCE_RE.search(t["source"])
        if found is None:
            raise ValueError(f"{folder}/transitions.csv: no github:<repo>@<sha> source in {t['source']!r}")
        sha = found.group("sha")
        if t["field"] == "license_files":
            licence_changes[sha] = [n for n in t["after"].split(";") if n]
        if t["field"] != "repo_first_commit":
            continue
        facts = dict(part.strip().split("=", 1) for part in t["after"].split(";", 1))
        licence_changes[sha] = [n for n in facts.get("license_files", "").split(";") if n]
        if sha in known:
            continue
        if facts.get("README") == "no" and t["note"].strip().lower() in HUB_INITIAL_SUBJECTS:
            # The Hub's repo-creation commit: real id, date and subject; author not recorded.
            revisions.append(
                Revision(
                    repo_id,
                    sha,
                    hub_date(t["date"]),
                    t["note"],
                    [],
                    None,
                    "hub-mirror",
                    f"github.com/{mirror} @ {sha} (no README.md)",
                )
            )
        else:
            excluded.append(
                Exclusion(
                    f"{repo_id} commit {sha} ({t['date']}, '{t['note']}')",
                    "first commit of the GitHub mirror but not the Hub's 'initial commit' and without README.md: "
                    "the mirror's history looks cut short, so the repo's history starts at the next commit",
                )
            )
    revisions.sort(key=lambda r: parse_date(r.date))
    files: list[str] = []
    for rev in revisions:
        files = licence_changes.get(rev.id, files)
        rev.files = list(files)
    return revisions


def _snapshot_history(folder: Path, repo_id: str) -> list[Revision]:
    """Dated crawler snapshots (INDEX_leliuga.csv): the README is real, the commit id is not the Hub's."""
    out = []
    for r in _rows(folder / "INDEX_leliuga.csv"):
        readme = _read_readme(folder / r["saved_as"], r["readme_blob"])
        date = hub_date(r["crawl_commit_date"])
        repo, _, path = r["source"].removeprefix("github:").partition(":")
        out.append(
            Revision(
                repo_id,
                synthetic_commit_id(repo_id, date, readme),
                date,
                f"[reconstructed] README.md as seen by a crawl on {date[:10]} ({repo[: repo.index('@') + 9]})",
                [],
                readme,
                "crawler-snapshot",
                f"github.com/{repo} : {path}",
            )
        )
    return out


def _extra_snapshots(folder: Path, repo_id: str, listed: set[str]) -> list[Revision]:
    """README copies found outside the Hub (e.g. committed into another GitHub repo), dated by that copy."""
    out = []
    extra_csv = folder / "transitions_extra_snapshot.csv"
    for path in sorted(folder.glob("*README.md")):
        if path.name in listed:
            continue
        if not extra_csv.exists():
            raise ValueError(f"{path}: README without INDEX row or transitions_extra_snapshot.csv")
        row = _rows(extra_csv)[0]
        readme = path.read_bytes()
        date = hub_date(path.name.split("__")[0] + "T00:00:00+00:00")
        out.append(
            Revision(
                repo_id,
                synthetic_commit_id(repo_id, date, readme),
                date,
                f"[reconstructed] README.md as found in a copy dated {date[:10]} ({row['source'].split(' ')[0]})",
                [],
                readme,
                "github-copy",
                row["source"],
            )
        )
    return out


def read_histories(reference: Path, excluded: list[Exclusion]) -> dict[str, list[Revision]]:
    """Every model repo's known README revisions from history/ and cards/, oldest first."""
    provenance = read_provenance(reference)
    repos: dict[str, list[Revision]] = {}
    for folder in sorted(p for p in (reference / "history").iterdir() if p.is_dir()):
        if folder.name in EXCLUDED_HISTORIES:
            excluded.append(Exclusion(f"history/{folder.name}", EXCLUDED_HISTORIES[folder.name]))
            continue
        repo_id = _repo_id_for_folder(folder.name, provenance)
        listed: set[str] = set()
        revisions: list[Revision] = []
        if (folder / "INDEX.csv").exists():
            revisions += _mirror_history(folder, repo_id, excluded)
            listed |= {r["saved_as"] for r in _rows(folder / "INDEX.csv")}
        if (folder / "INDEX_leliuga.csv").exists():
            revisions += _snapshot_history(folder, repo_id)
            listed |= {r["saved_as"] for r in _rows(folder / "INDEX_leliuga.csv")}
        revisions += _extra_snapshots(folder, repo_id, listed)
        repos[repo_id] = sorted(revisions, key=lambda r: parse_date(r.date))
    for row in provenance:
        card = (reference / row["file"]).read_bytes()
        known = repos.setdefault(row["hf_repo_id"], [])
        if any(r.readme == card for r in known):
            continue
        # A card with no matching history version: one snapshot dated when its source last changed it.
        date = hub_date(row["content_last_changed"].split(" ")[0])
        known.append(
            Revision(
                row["hf_repo_id"],
                synthetic_commit_id(row["hf_repo_id"], date, card),
                date,
                f"[reconstructed] README.md as committed to {row['source_repo']} on {date[:10]}",
                [],
                card,
                "github-copy",
                f"{row['source']}",
            )
        )
        known.sort(key=lambda r: parse_date(r.date))
    return repos


def read_provider_mappings(reference: Path) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(repo id, sha) -> (file, mapping): the `inferenceProviderMapping` of the latest recorded
    `expand=inferenceProviderMapping` body of a repo that was made while that sha was its head, known from
    the full bodies: after the commit's date and no later than the latest full body recording that sha.
    An expand body carries no sha, so one made outside such an interval is not attributed to any revision."""
    folder = reference / "hub-api"
    heads: dict[tuple[str, str], tuple[datetime, datetime]] = {}  # (id, sha) -> (commit date, last recorded)
    mappings: dict[str, list[tuple[datetime, str, dict[str, Any]]]] = {}
    for row in _rows(folder / "INDEX.csv"):
        if row["status"] != "200":
            continue
        body = json.loads((folder / row["file"]).read_text(encoding="utf-8"))
        recorded = parsedate_to_datetime(row["response_date"])
        if "sha" in body and "lastModified" in body:
            key = (body["id"], body["sha"])
            last = max(recorded, heads[key][1]) if key in heads else recorded
            heads[key] = (parse_date(hub_date(body["lastModified"])), last)
        elif isinstance(body.get("inferenceProviderMapping"), dict):
            mappings.setdefault(body["id"], []).append(
                (recorded, row["file"], body["inferenceProviderMapping"])
            )
    out = {}
    for (repo_id, sha), (committed, last) in heads.items():
        within = [m for m in mappings.get(repo_id, []) if committed <= m[0] <= last]
        if within:
            _recorded, file, mapping = max(within, key=lambda m: (m[0], m[1]))
            out[(repo_id, sha)] = (file, mapping)
    return out


def read_hub_bodies(reference: Path, excluded: list[Exclusion]) -> dict[str, list[Revision]]:
    """One revision per distinct (repo, sha) among the recorded /api/models bodies (latest recording wins)."""
    folder = reference / "hub-api"
    best: dict[tuple[str, str], tuple[datetime, str, dict[str, Any], dict[str, str]]] = {}
    for row in _rows(folder / "INDEX.csv"):
        if row["status"] != "200":
            excluded.append(
                Exclusion(f"hub-api/{row['file']}", f"HTTP {row['status']} redirect body, no model info")
            )
            continue
        body = json.loads((folder / row["file"]).read_text(encoding="utf-8"))
        if "sha" not in body or "lastModified" not in body:
            excluded.append(
                Exclusion(
                    f"hub-api/{row['file']}",
                    "expand=inferenceProviderMapping body: no sha, dates or card data",
                )
            )
            continue
        if "/" not in body["id"]:
            excluded.append(
                Exclusion(
                    f"hub-api/{row['file']}",
                    f"legacy id '{body['id']}' answered for {body.get('author')}/{body['id']}; "
                    "that repo's own recordings are used instead",
                )
            )
            continue
        recorded = parsedate_to_datetime(row["response_date"])
        key = (body["id"], body["sha"])
        if key not in best or (recorded, row["file"]) > best[key][:2]:
            best[key] = (recorded, row["file"], body, row)
    repos: dict[str, list[Revision]] = {}
    for (repo_id, sha), (recorded, _file, body, row) in sorted(best.items()):
        repos.setdefault(repo_id, []).append(
            Revision(
                repo_id,
                sha,
                hub_date(body["lastModified"]),
                f"[reconstructed] state recorded by GET /api/models/{repo_id} on {recorded.date().isoformat()}",
                [],
                None,
                "hub-api",
                "",
                body=body,
                body_source=f"github.com/{row['source_repo']} @ {row['first_commit']} : {row['source_path']}",
            )
        )
    return repos


METRIC_FIELDS = ("downloads", "downloadsAllTime", "likes", "trendingScore")


def read_hub_metrics(reference: Path) -> dict[str, list[dict[str, Any]]]:
    """The usage counts every recorded /api/models body carries, dated by its recording (hub-api/INDEX.csv
    `response_date`): repo id -> metrics.json entries, oldest first. Bodies that read_hub_bodies leaves out
    (redirects, expand-only bodies, legacy ids) give none; of two recordings at the same second the later
    file wins; a body without any count gives no entry."""
    folder = reference / "hub-api"
    dated: dict[tuple[str, datetime], tuple[str, dict[str, Any]]] = {}
    for row in _rows(folder / "INDEX.csv"):
        if row["status"] != "200":
            continue
        body = json.loads((folder / row["file"]).read_text(encoding="utf-8"))
        if "sha" not in body or "lastModified" not in body or "/" not in body.get("id", ""):
            continue
        counts = {
            f: body[f]
            for f in METRIC_FIELDS
            if isinstance(body.get(f), int | float) and not isinstance(body.get(f), bool)
        }
        if not counts:
            continue
        recorded = parsedate_to_datetime(row["response_date"]).astimezone(UTC)
        key = (body["id"], recorded)
        if key not in dated or row["file"] > dated[key][0]:
            dated[key] = (row["file"], counts)
    out: dict[str, list[dict[str, Any]]] = {}
    for (repo_id, recorded), (_file, counts) in sorted(dated.items()):
        out.setdefault(repo_id, []).append({"date": recorded.strftime("%Y-%m-%dT%H:%M:%SZ"), **counts})
    return out
