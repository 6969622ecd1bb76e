"""Build the sample hub mirror (hub-mirror/1) that ships with the project, from the shared reference material.

    python -m pipelines.mirror.build_sample --reference ../shared/reference --out pipelines/mirror/sample

Deterministic: the same reference gives byte-identical output (sorted inputs, no clock, stable JSON).
The output folder is wiped and rewritten, but only if it is empty or a previous hub mirror.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from pipelines.mirror.layout import FORMAT, Commit, MirrorWriter, parse_date, repo_dir
from pipelines.mirror.sample_cards import card_facts, front_matter_from_card_data
from pipelines.mirror.sample_code import code_notice, copy_code_repos
from pipelines.mirror.sample_notice import notice_text
from pipelines.mirror.sample_papers import read_arxiv_entries
from pipelines.mirror.sample_sources import (
    HUB_INITIAL_SUBJECTS,
    Exclusion,
    Revision,
    read_histories,
    read_hub_bodies,
)

TITLE = "Openness Tracker sample corpus: real model cards, README histories, Hub API bodies and arXiv entries"
SOURCES = [
    "reference/cards + cards/PROVENANCE.csv: real model cards (crawler snapshots in "
    "github.com/leliuga/cohere-configurations and GitHub mirrors of Hub model repos)",
    "reference/history: dated README versions; INDEX.csv = real Hub commits kept by GitHub mirrors, "
    "INDEX_leliuga.csv = dated crawler snapshots",
    "reference/hub-api: real GET /api/models/{id} bodies from huggingface/huggingface_hub test cassettes (Apache-2.0)",
    "reference/arxiv/current_2026_json: real arXiv API Atom responses from lukasschwab/arxiv.py fixtures "
    "(MIT; arXiv metadata CC0)",
    "reference/github/repos: code repositories linked from the cards (git history, trees, small files; "
    "repo.json partly reconstructed), in code/github/ with their own code/github/NOTICE.md",
]
# Why each kind of reconstruction was needed; the builder fills in what each one affects.
RECONSTRUCTIONS = {
    "synthetic-commit-id": "Commit ids of crawler snapshots and of README copies found outside the Hub are not "
    "the Hub's: each is sha1(repo id + '\\n' + date + '\\n' + README bytes). The date is the crawl date or the "
    "date of the copy: the README changed at some time between the previous snapshot and that date.",
    "commit-metadata-unknown": "Title '[reconstructed] ...' and no authors where the reference has neither "
    "(snapshots, copies, commits known only from an API body's sha/lastModified, authors of Hub initial "
    "commits). For every commit `message` is empty: the reference records subject lines only.",
    "commit-author-git-name": "authors[].user of mirrored Hub commits is the git author name the GitHub "
    "mirror recorded, which may differ from the Hub user name.",
    "info-from-card": "info.json derived from that revision's README: cardData = its YAML front matter "
    "(yaml.safe_load, made JSON-safe), pipeline_tag/library_name as the card declares them, tags computed the "
    "Hub's way from the card (library, task, card tags, languages, dataset:, arxiv: for arxiv.org/abs|pdf and "
    "huggingface.co/papers links, base_model:, license:, region:us). Tags that need the repo's files or "
    "config, and downloads, likes and other fields the reference does not know at that date, are left out.",
    "library-inferred": "library_name inferred from the card's own loading code for this repo "
    "(from transformers / diffusers import, when the card loads this repo id, names a weight file of it or "
    "says this repository holds the weights) where the card declares none.",
    "base-model-relation": "base_model:<relation>:<id> tag with relation 'finetune' ('merge' for several "
    "base models) where the card sets no base_model_relation, as the Hub infers by default.",
    "synthetic-_id": "_id (the Hub's database id) is not recorded for repos without an API body: the first "
    "24 hex digits of sha1('hub-mirror/1 _id ' + repo id).",
    "createdAt-first-commit": "createdAt = date of the repo's first commit (the Hub's 'initial commit') as kept "
    "by its GitHub mirror.",
    "createdAt-upper-bound": "createdAt = date of the first known revision (crawler snapshot, copy, or first "
    "mirrored commit of a history that does not reach the repo's creation): the repo existed by then.",
    "gated-from-card": "gated inferred from the card's extra_gated_* fields: 'manual' where the gate text says "
    "a person processes or approves requests, else 'auto' (the gating mode is a repo setting, not in the card).",
    "siblings-unknown": "siblings left out of info.json for revisions without an API body: the reference "
    "records their README (and for some commits the names of licence files), never the whole file list, so "
    "the file list is unknown (a crawler must say 'unknown', not 'absent', for weights and other files). "
    "Only the recorded API bodies (hub-api-body) carry siblings.",
    "no-readme-revision": "the Hub's initial commit, which had no README.md: revision folder without README.md "
    "(its file list is not recorded either).",
    "readme-from-card-data": "README.md of a commit known only from an API body is the YAML front matter "
    "rebuilt (yaml.safe_dump) from the body's real cardData, nothing else; empty if the body has no cardData. "
    "The real README had more text.",
    "github-repo-json": "code/github/<owner>/<repo>/repo.json and revisions/*/repo.json are rebuilt from git, not "
    "answered by GitHub's API: created_at = the root commit's date, pushed_at = the newest commit's committer "
    "date, fork = false (left out where unknown), license = licensee's rules applied approximately; id, "
    "description, stars, topics, archived and other fields are left out (each body lists its own in "
    "`_reconstructed`; see code/github/NOTICE.md).",
    "hub-api-body": "info.json is the real recorded body (the latest recording where one sha was recorded "
    "several times); downloads, likes, spaces, inference and usedStorage are as of the recording date "
    "(hub-api/INDEX.csv response_date), not the commit date. Earlier history is not in the reference.",
    "readme-copy-bytes": "README.md bytes as found in a copy outside the Hub (that copy has CRLF line endings; "
    "the Hub's own file may have used LF).",
}
EXTRA_EXCLUSIONS = [
    Exclusion(
        "datasets/",
        "no dataset repos: the reference holds too little about any dataset repo to serve it "
        "without inventing (hub-api.md's allenai/dolma row has a licence change but no dated "
        "commit to replay); the cards' dataset:<id> tags still name them, and the mirror answers "
        "them as unrecorded",
    ),
    Exclusion(
        "tiiuae/falcon-40b tii-falcon-llm -> apache-2.0 (2023-05-31)",
        "the reference's falcon-40b history ends on 2023-05-26 (licence in the card text, no YAML licence); "
        "hub-api.md names the later commits (337bddb, fdc4d06) but not their READMEs, so they are not replayed",
    ),
]


def _prepare_out(out: Path) -> None:
    """Empty `out`, but only if it is empty already or holds a previous hub mirror."""
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"refusing to overwrite {out}: not a folder")
        if any(out.iterdir()):
            try:
                manifest = json.loads((out / "mirror.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                manifest = {}
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise FileExistsError(f"refusing to wipe {out}: it has no mirror.json with format {FORMAT}")
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _repo_facts(repo_id: str, revs: list[Revision], ledger: dict[str, set[str]]) -> dict[str, Any]:
    body = next((r.body for r in reversed(revs) if r.body), None)
    if body:
        return {"_id": body["_id"], "createdAt": body["createdAt"]}
    ledger["synthetic-_id"].add(repo_id)
    first = revs[0]
    exact = first.origin == "hub-mirror" and first.title.strip().lower() in HUB_INITIAL_SUBJECTS
    ledger["createdAt-first-commit" if exact else "createdAt-upper-bound"].add(repo_id)
    _id = hashlib.sha1(f"hub-mirror/1 _id {repo_id}".encode()).hexdigest()[:24]
    return {"_id": _id, "createdAt": first.date}


def _add_repo(
    writer: MirrorWriter,
    repo_id: str,
    revs: list[Revision],
    ledger: dict[str, set[str]],
    malformed: list[str],
) -> None:
    repo = _repo_facts(repo_id, revs, ledger)
    base = repo_dir(Path("."), "models", repo_id).as_posix()
    for rev in revs:
        path = f"{base}/revisions/{rev.id}"
        commit = Commit(rev.id, rev.date, rev.title, "", rev.authors)
        if rev.title.startswith("[reconstructed]") or not rev.authors:
            ledger["commit-metadata-unknown"].add(path)
        elif rev.origin == "hub-mirror":
            ledger["commit-author-git-name"].add(repo_id)
        if rev.origin in ("crawler-snapshot", "github-copy"):
            ledger["synthetic-commit-id"].add(path)
        if rev.origin == "github-copy" and rev.readme and b"\r\n" in rev.readme:
            ledger["readme-copy-bytes"].add(path)
        if rev.body is not None:
            ledger["hub-api-body"].add(path)
            ledger["readme-from-card-data"].add(f"{path}/README.md")
            readme = front_matter_from_card_data(rev.body.get("cardData"))
            writer.add_revision("models", repo_id, commit, dict(rev.body), {"README.md": readme})
            continue
        facts = card_facts(repo_id, rev.id, rev.date, rev.readme, repo)
        ledger["info-from-card"].add(path)
        ledger["siblings-unknown"].add(path)
        if facts.weights == "no-readme":
            ledger["no-readme-revision"].add(path)
        for flag, kind in (
            (facts.gated_inferred, "gated-from-card"),
            (facts.library_inferred, "library-inferred"),
            (facts.base_relation_inferred, "base-model-relation"),
        ):
            if flag:
                ledger[kind].add(path)
        if facts.parse_error:
            malformed.append(f"{path}/README.md: {facts.parse_error}")
        files = {} if rev.readme is None else {"README.md": rev.readme}
        writer.add_revision("models", repo_id, commit, facts.info, files)


def _summary(out: Path, repos: dict[str, list[Revision]], papers: int, excluded: int) -> dict[str, Any]:
    multi: dict[str, int] = {}
    licences: set[str] = set()
    gated: set[str] = set()
    no_weights: set[str] = set()
    unknown_files = 0
    derivatives: set[str] = set()
    weights = (".bin", ".safetensors", ".ckpt", ".pt", ".pth", ".gguf", ".sbs", ".h5", ".msgpack", ".onnx")
    for repo_id, revs in repos.items():
        folder = repo_dir(out, "models", repo_id) / "revisions"
        states = set()
        for rev in revs:
            info = json.loads((folder / rev.id / "info.json").read_text(encoding="utf-8"))
            readme = folder / rev.id / "README.md"
            states.add((readme.read_bytes() if readme.exists() else None, json.dumps({**info, "sha": ""})))
            card = info.get("cardData") or {}
            lic = card.get("license")
            licences.add(
                f"other ({card['license_name']})"
                if lic == "other" and card.get("license_name")
                else str(lic)
                if lic
                else "(none)"
            )
            gated |= {repo_id} if info.get("gated") else set()
            derivatives |= {repo_id} if card.get("base_model") else set()
            siblings = info.get("siblings")
            if siblings is None:
                unknown_files += 1
            elif not any(s["rfilename"].endswith(weights) for s in siblings):
                no_weights.add(repo_id)
        if len(revs) >= 2 and len(states) >= 2:
            multi[repo_id] = len(revs)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "model_repos": len(repos),
        "commits": sum(len(r) for r in repos.values()),
        "papers": papers,
        "multi_revision_repos": dict(sorted(multi.items())),
        "licences": sorted(licences),
        "gated_repos": sorted(gated),
        "repos_with_a_recorded_file_list_without_weights": sorted(no_weights),
        "revisions_with_an_unknown_file_list": unknown_files,
        "derivative_repos": sorted(derivatives),
        "excluded": excluded,
        "bytes": size,
    }


def build_sample(reference: Path, out: Path) -> dict[str, Any]:
    """Wipe `out` (if it is a previous mirror) and write the sample corpus there; return a summary."""
    reference, out = Path(reference), Path(out)
    excluded: list[Exclusion] = []
    repos = read_histories(reference, excluded)
    for repo_id, revs in read_hub_bodies(reference, excluded).items():
        merged = repos.setdefault(repo_id, []) + revs
        repos[repo_id] = sorted(merged, key=lambda r: parse_date(r.date))
    repos = {k: v for k, v in sorted(repos.items()) if v}
    papers, legacy = read_arxiv_entries(reference)
    if legacy:
        excluded.append(
            Exclusion(
                "arxiv/legacy_2016_xml entries " + ", ".join(legacy),
                "classic (2016) format only; the mirror stores current-format entries",
            )
        )
    excluded += EXTRA_EXCLUSIONS
    ledger: dict[str, set[str]] = {kind: set() for kind in RECONSTRUCTIONS}
    malformed: list[str] = []
    _prepare_out(out)  # only once every input has been read: a broken reference leaves `out` untouched
    code = copy_code_repos(reference / "github" / "repos", out / "code" / "github")
    (out / "code" / "github" / "NOTICE.md").write_text(code_notice(reference, code), encoding="utf-8")
    ledger["github-repo-json"] |= {f"code/github/{name}" for name in code}
    writer = MirrorWriter(out, TITLE, SOURCES)
    for repo_id, revs in repos.items():
        if len({r.id for r in revs}) != len(revs):
            raise ValueError(f"{repo_id}: duplicate commit ids")
        _add_repo(writer, repo_id, revs, ledger, malformed)
    for arxiv_id, paper in papers.items():
        writer.add_paper(arxiv_id, paper.entry + "\n")
    writer.extra = {
        "reconstructions": [
            {"kind": kind, "why": why, "affects": sorted(ledger[kind])}
            for kind, why in RECONSTRUCTIONS.items()
            if ledger[kind]
        ],
        "excluded": [{"what": e.what, "why": e.why} for e in excluded],
        "malformed_readmes": malformed,
        # No dataset repo recorded, and only the few papers the reference holds: a dataset or paper asked
        # for that the folder lacks is unknown, not missing.
        "unrecorded": ["datasets", "papers"],
    }
    writer.finish()
    (out / "NOTICE.md").write_text(notice_text(reference, repos, papers), encoding="utf-8")
    return {**_summary(out, repos, len(papers), len(excluded)), "code_repos": len(code)}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: build the corpus and print its summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="the shared reference/ folder")
    parser.add_argument("--out", type=Path, required=True, help="output folder (wiped and rewritten)")
    args = parser.parse_args(argv)
    try:
        summary = build_sample(args.reference, args.out)
    except FileExistsError as exc:
        print(exc, file=sys.stderr)
        return 2
    json.dump(summary, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
