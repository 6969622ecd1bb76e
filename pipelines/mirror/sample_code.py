"""The sample corpus's code repositories: `reference/github/repos/` copied into `code/github/`, with attribution.

Only what MIRROR_FORMAT.md's "Code repositories" section lists is copied (repo.json, commits.json,
moved.json, gone.json, and per revision repo.json, tree.json and small text files); every stored file must
be the blob its revision's tree names (same git blob sha), so nothing edited slips in.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from pipelines.hub.ids import git_blob_sha1
from pipelines.mirror.names import HEX_COMMIT, is_repo_part

REPO_FILES = ("repo.json", "commits.json", "moved.json", "gone.json")
REVISION_FILES = ("repo.json", "tree.json")
MAX_FILE_BYTES = 200_000
NOTICE_ROW = "| `github/repos/`"

INTRO = """\
# NOTICE: code repositories of the sample mirror

`code/github/<owner>/<repo>/` holds what a GitHub crawler needs of {count} public repositories that the
sample's model cards link to: the default branch's history (`commits.json`), the tree of chosen commits
(`revisions/<sha>/tree.json`), small files at those commits (README, licence files, requirements, setup
files) and the repository body (`repo.json`, partly reconstructed). It is copied unchanged from the
project's shared `reference/github/repos/` (built from git snapshots of each repository, see below) by
`python -m pipelines.mirror.build_sample`. Test and demonstration data: each file keeps its own licence.

## Attribution (from the reference's own NOTICE.md)
"""


def _revision_ok(rev: Path) -> bool:
    return rev.is_dir() and HEX_COMMIT.fullmatch(rev.name) is not None


def _check_files(rev: Path) -> list[str]:
    """Repo paths of the revision's stored files, each checked against the tree's blob sha."""
    tree = json.loads((rev / "tree.json").read_text(encoding="utf-8"))
    blobs = {e["path"]: e.get("sha") for e in tree["tree"] if e.get("type") == "blob"}
    base = rev / "files"
    out = []
    for path in sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []:
        rel = path.relative_to(base).as_posix()
        data = path.read_bytes()
        if rel not in blobs or git_blob_sha1(data) != blobs[rel]:
            raise ValueError(f"{path}: not the blob that {rev.name}'s tree names for {rel}")
        if len(data) > MAX_FILE_BYTES or b"\0" in data:
            raise ValueError(f"{path}: not a small text file")
        out.append(rel)
    return out


def copy_code_repos(source: Path, out: Path) -> dict[str, int]:
    """Copy every `<owner>/<repo>` of `source` (reference/github/repos) to `out` (code/github); counts per repo."""
    counts: dict[str, int] = {}
    for owner in sorted(p for p in source.iterdir() if p.is_dir() and is_repo_part(p.name)):
        for repo in sorted(p for p in owner.iterdir() if p.is_dir() and is_repo_part(p.name)):
            target = out / owner.name / repo.name
            target.mkdir(parents=True, exist_ok=True)
            copied = 0
            for name in REPO_FILES:
                if (repo / name).is_file():
                    shutil.copyfile(repo / name, target / name)
                    copied += 1
            revisions = repo / "revisions"
            for rev in (
                sorted(p for p in revisions.iterdir() if _revision_ok(p)) if revisions.is_dir() else []
            ):
                dest = target / "revisions" / rev.name
                dest.mkdir(parents=True, exist_ok=True)
                for name in REVISION_FILES:
                    if (rev / name).is_file():
                        shutil.copyfile(rev / name, dest / name)
                        copied += 1
                for rel in _check_files(rev):
                    (dest / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(rev / "files" / rel, dest / "files" / rel)
                    copied += 1
            counts[f"{owner.name}/{repo.name}"] = copied
    return counts


def code_notice(reference: Path, counts: dict[str, int]) -> str:
    """NOTICE.md beside the code repositories: the reference's attribution, its SOURCES.md and provenance."""
    lines = (reference / "NOTICE.md").read_text(encoding="utf-8").splitlines()
    header = [ln for ln in lines if ln.startswith("| folder / file") or ln.startswith("|---")][:2]
    rows = [ln for ln in lines if ln.startswith(NOTICE_ROW)]
    if not rows:
        raise ValueError(f"{reference / 'NOTICE.md'} has no row for github/repos/")
    repos = reference / "github" / "repos"
    sources = (repos / "SOURCES.md").read_text(encoding="utf-8").strip()
    out = [INTRO.format(count=len(counts)), *header, *rows, ""]
    out += ["## How the reference built them (its `github/repos/SOURCES.md`, verbatim)", ""]
    out += ["> " + ln if ln else ">" for ln in sources.splitlines()]
    out += ["", "## Provenance (from the reference's `github/repos/PROVENANCE.csv`)", ""]
    out += [
        "| repository | snapshot commit | head commit date | default branch | commits kept / total "
        "| revisions | licence at head (reconstructed) | licence files at head |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with (repos / "PROVENANCE.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["repo"] not in counts:
                raise ValueError(f"PROVENANCE.csv names {row['repo']}, which was not copied")
            out.append(
                f"| github.com/{row['repo']} | {row['snapshot_commit']} | {row['head_commit_date']} "
                f"| {row['default_branch']} | {row['commits_kept']} / {row['commits_total']} "
                f"| {row['revisions']} | {row['licence_at_head']} | {row['licence_files_at_head']} |"
            )
    return "\n".join(out) + "\n"
