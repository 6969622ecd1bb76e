"""Raw captures of code repositories -> rows (pure): the latest state per repository and the dated
history of its licence files (how releases link to code repositories: release_code.py).

Column lists are in docs/code.md. Licence identification of file texts is not done here: it is the job
of pipelines.openness.license_files.identify_licence (ScanCode); when that module is not installed the
file-evidenced licence is null and GitHub's own detection (licensee) is used, marked as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache

import polars as pl

from pipelines.code.tree import KINDS, classify_tree, licence_files
from pipelines.openness.catalogue import _RESTRICTIVENESS, NO_LICENCE, load_aliases, load_catalogue

Identify = Callable[[str], str | None]  # licence text -> catalogue licence id (None: not identified)

CODE_REPO_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,
    "full_name": pl.String,
    "status": pl.String,
    "license_id": pl.String,
    "license_family": pl.String,
    "license_source": pl.String,
    "github_license": pl.String,
    "file_license": pl.String,
    "archived": pl.Boolean,
    "fork": pl.Boolean,
    "parent": pl.String,
    "default_branch": pl.String,
    "created_at": pl.String,
    "pushed_at": pl.String,
    "head_sha": pl.String,
    "training_code": pl.Boolean,
    "preprocessing_code": pl.Boolean,
    "evaluation_code": pl.Boolean,
    "inference_code": pl.Boolean,
    "evidence": pl.String,
    "observed_at": pl.Datetime("us", "UTC"),
}
LICENCE_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String,
    "commit_sha": pl.String,
    "committed_at": pl.String,
    "files": pl.String,  # JSON {path: blob sha} of the licence files after this commit
    "changed_paths": pl.List(pl.String),
    "license_id": pl.String,
    "message": pl.String,
}


def identify_seam() -> Identify | None:
    """The licence identifier of pipelines.openness (ScanCode), or None when that module
    or ScanCode is not installed: then only GitHub's own detection is used (license_source `github`)."""
    try:
        from pipelines.openness.license_detect import identify_licence
    except ImportError:
        try:
            from pipelines.openness.license_files import identify_licence
        except ImportError:
            return None
    broken: list[bool] = []

    def identify(text: str) -> str | None:
        if broken:
            return None
        try:
            result = identify_licence(text)
        except ImportError:  # the module is there, ScanCode is not
            broken.append(True)
            return None
        found = result if isinstance(result, str) or result is None else getattr(result, "license_id", None)
        return None if not found or found == "unknown" else found

    return identify


@cache
def _licence_lookup() -> dict[str, tuple[str, str]]:
    """Normalised key -> (catalogue id, family), from the catalogue's ids, SPDX ids and aliases."""
    cat = load_catalogue()
    family = dict(zip(cat["id"], cat["family"], strict=True))
    out: dict[str, tuple[str, str]] = {}
    for row in cat.iter_rows(named=True):
        out[_norm(row["id"])] = (row["id"], row["family"])
        if row["spdx_id"]:
            out.setdefault(_norm(row["spdx_id"]), (row["id"], row["family"]))
    for alias, cid in load_aliases().select("alias", "id").iter_rows():
        if cid in family:
            out.setdefault(_norm(alias), (cid, family[cid]))
    return out


def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().strip("\"'").lower())


def catalogue_licence(key: str | None) -> tuple[str | None, str | None]:
    """(catalogue id, family) of a licence key or SPDX id; ('other', 'unknown') when not in the catalogue."""
    if not key:
        return None, None
    if key.upper() == "NOASSERTION":
        key = "other"
    return _licence_lookup().get(_norm(key), ("other", "unknown"))


def _github_licence(body: Mapping) -> str | None:
    lic = body.get("license")
    if not isinstance(lic, Mapping):
        return None
    spdx = lic.get("spdx_id")
    return lic.get("key") if not spdx or spdx == "NOASSERTION" else spdx


_OTHER_COMPONENT = re.compile(r"model|weight|data|dataset|checkpoint", re.IGNORECASE)
_GENERIC_LICENCE = re.compile(r"^(licen[cs]e|copying)([.\-_ ].*)?$", re.IGNORECASE)


def code_licence_paths(paths: list[str]) -> list[str]:
    """The licence files that license the code: the generic ones (LICENSE, LICENCE.md, COPYING,
    LICENSE-CODE, LICENSE-MIT), not those named for another component (MODEL_LICENSE, LICENSE-MODEL,
    DATA_LICENSE, WEIGHT_DIFF_LICENSE, "Tongyi Qianwen LICENSE AGREEMENT"); all of them when no generic
    one exists."""
    generic = [p for p in paths if _GENERIC_LICENCE.match(p) and not _OTHER_COMPONENT.search(p)]
    return sorted(generic or paths)


def _file_licence(texts: Iterable[bytes | None], identify: Identify | None) -> str | None:
    """The licence the licence files show: one catalogue id, or several joined by `,` (sorted)."""
    if identify is None:
        return None
    found: set[str] = set()
    for text in texts:
        if text is not None:
            found.update((identify(text.decode("utf-8", "replace")) or "").split(","))
    found.discard("")
    return ",".join(sorted(found)) or None


def licence_of(license_id: str | None) -> tuple[str | None, str | None]:
    """(id, family) of an identified licence; for several (`a,b`) the most restrictive family decides."""
    if not license_id:
        return None, None
    parts = license_id.split(",")
    families = [catalogue_licence(p)[1] or "unknown" for p in parts]
    if len(parts) == 1:
        return catalogue_licence(license_id)
    return license_id, min(families, key=lambda f: _RESTRICTIVENESS.index(f) if f in _RESTRICTIVENESS else 0)


def code_repo_rows(
    repos: pl.DataFrame, trees: pl.DataFrame, files: pl.DataFrame, *, identify: Identify | None = None
) -> pl.DataFrame:
    """core.code_repos: one row per repository, its latest state (raw frames of pipelines/code/raw.py)."""
    rows = []
    trees_by_key = {(r["repo"], r["commit_sha"]): r for r in trees.iter_rows(named=True)}
    blobs = {(r["repo"], r["path"], r["blob_sha"]): r for r in files.iter_rows(named=True)}
    for key, group in repos.sort("fetched_at").group_by("repo", maintain_order=True):
        history = group.to_dicts()
        latest = history[-1]
        body = next(
            (json.loads(r["body"]) for r in reversed(history) if r["body"] and r["status"] != "gone"), {}
        )
        head = next((r["head_sha"] for r in reversed(history) if r["head_sha"]), None)
        tree = trees_by_key.get((key[0], head)) if head else None
        entries = tree["entries"] if tree else None
        findings = classify_tree(entries, truncated=bool(tree and tree["truncated"]))
        files = {}
        for entry in entries or []:
            blob = blobs.get((key[0], entry["path"], entry["sha"]))
            if blob is not None and blob["kind"] == "licence":
                files[entry["path"]] = blob["content"]
        github = _github_licence(body)
        per_file = {path: _file_licence([text], identify) for path, text in files.items()}
        file_lic = _file_licence([files[p] for p in code_licence_paths(list(files))], identify)
        source = "files" if file_lic else ("github" if github else None)
        license_id, family = licence_of(file_lic) if file_lic else catalogue_licence(github)
        if license_id is None and github is None and body and entries is not None:
            # The tree was read: no licence file in it and none GitHub detects is no licence declared
            # (all rights reserved), not unknown (null stays for a repo whose tree was not read).
            if not any(f["kind"] == "licence" for f in licence_files(entries)):
                family = NO_LICENCE
        parent = body.get("parent") if isinstance(body.get("parent"), Mapping) else None
        found = findings.as_row()
        evidence = {
            "code": found["evidence"],
            "licence_files": per_file,
            "github_license": body.get("license"),
            "tree": {"commit": head, "truncated": bool(tree and tree["truncated"])} if tree else None,
        }
        rows.append(
            {
                "repo": key[0],
                "full_name": latest["full_name"],
                # a 304 says "as before": the last answer with a body tells the state
                "status": next(
                    (r["status"] for r in reversed(history) if r["status"] != "not_modified"), "ok"
                ),
                "license_id": license_id,
                "license_family": family,
                "license_source": source,
                "github_license": github,
                "file_license": file_lic,
                "archived": body.get("archived"),
                "fork": body.get("fork"),
                "parent": parent.get("full_name") if parent else None,
                "default_branch": body.get("default_branch"),
                "created_at": body.get("created_at"),
                "pushed_at": body.get("pushed_at"),
                "head_sha": head,
                **{kind: found[kind] for kind in KINDS},
                "evidence": json.dumps(evidence, sort_keys=True),
                "observed_at": latest["fetched_at"],
            }
        )
    return pl.DataFrame(rows, schema=CODE_REPO_SCHEMA)


def licence_history_rows(
    commits: pl.DataFrame, files: pl.DataFrame, *, identify: Identify | None = None
) -> pl.DataFrame:
    """The licence-file history: one row per commit that changed a repository's licence files, oldest
    first, with the set of licence files after it and (if identified) the licence they show."""
    text = {(r["repo"], r["path"], r["blob_sha"]): r["content"] for r in files.iter_rows(named=True)}
    rows = []
    dedup = commits.unique(["repo", "path", "commit_sha"], keep="first")
    for (repo,), group in dedup.sort("committed_at", "commit_sha").group_by("repo", maintain_order=True):
        state: dict[str, str] = {}
        for commit_sha, changes in group.group_by("commit_sha", maintain_order=True):
            changed = []
            for change in changes.iter_rows(named=True):
                changed.append(change["path"])
                if change["blob_sha"] is None:
                    state.pop(change["path"], None)
                else:
                    state[change["path"]] = change["blob_sha"]
            first = changes.row(0, named=True)
            texts = [text.get((repo, p, b)) for p, b in state.items() if _is_licence(p)]
            rows.append(
                {
                    "repo": repo,
                    "commit_sha": commit_sha[0],
                    "committed_at": first["committed_at"],
                    "files": json.dumps(dict(sorted(state.items()))),
                    "changed_paths": sorted(changed),
                    "license_id": licence_of(_file_licence(texts, identify))[0],
                    "message": (first["message"] or "").split("\n", 1)[0][:200],
                }
            )
    return pl.DataFrame(rows, schema=LICENCE_HISTORY_SCHEMA)


def _is_licence(path: str) -> bool:
    from pipelines.code.tree import licence_file_kind

    return licence_file_kind(path) == "licence"
