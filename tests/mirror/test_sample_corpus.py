"""The bundled sample corpus: rebuilt byte for byte from the reference, in hub-mirror/1, covering what the demo needs."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import pipelines.mirror
from pipelines.mirror.build_sample import build_sample
from pipelines.mirror.layout import FORMAT, parse_date
from pipelines.mirror.sample_cards import split_front_matter

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(pipelines.mirror.__file__).parent / "sample"
REFERENCE = ROOT.parent / "shared" / "reference"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"{REFERENCE} is absent: cannot rebuild the corpus (the bundled copy is still checked)",
)
HEX40 = re.compile(r"^[0-9a-f]{40}$")
WEIGHT_SUFFIXES = (
    ".bin",
    ".safetensors",
    ".ckpt",
    ".pt",
    ".pth",
    ".gguf",
    ".sbs",
    ".h5",
    ".msgpack",
    ".onnx",
)
MISTRAL = "mistralai/Mistral-7B-v0.1"
CREATED_AT_FLOOR = "2022-03-02T23:29:0"
FEED_OPEN = (
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">'
)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _repos() -> dict[str, Path]:
    return {
        f"{p.parent.parent.name}/{p.parent.name}": p.parent
        for p in sorted((SAMPLE / "models").glob("*/*/commits.json"))
    }


def _revisions(repo: Path) -> list[tuple[dict, dict, bytes | None]]:
    """(commit, info, README bytes or None) per commit, newest first."""
    out = []
    for commit in json.loads((repo / "commits.json").read_text(encoding="utf-8")):
        rev = repo / "revisions" / commit["id"]
        readme = rev / "README.md"
        info = json.loads((rev / "info.json").read_text(encoding="utf-8"))
        out.append((commit, info, readme.read_bytes() if readme.exists() else None))
    return out


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SAMPLE / "mirror.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[tuple[dict, dict, bytes | None]]]:
    return {repo_id: _revisions(path) for repo_id, path in _repos().items()}


@needs_reference
def test_rebuild_is_byte_identical_to_the_bundled_corpus(tmp_path: Path) -> None:
    summary = build_sample(REFERENCE, tmp_path / "sample")
    built, bundled = _files(tmp_path / "sample"), _files(SAMPLE)
    assert sorted(built) == sorted(bundled), "file lists differ: rerun pipelines.mirror.build_sample"
    changed = [name for name in built if built[name] != bundled[name]]
    assert not changed, f"rebuilt files differ from the bundled corpus: {changed[:10]}"
    assert summary["model_repos"] == len(_repos())


@needs_reference
def test_rebuild_wipes_a_previous_mirror_but_refuses_other_folders(tmp_path: Path) -> None:
    old = tmp_path / "old"
    (old / "stale").mkdir(parents=True)
    (old / "mirror.json").write_text(json.dumps({"format": FORMAT}), encoding="utf-8")
    build_sample(REFERENCE, old)
    assert not (old / "stale").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("not a mirror", encoding="utf-8")
    with pytest.raises(FileExistsError, match="refusing to wipe"):
        build_sample(REFERENCE, other)
    assert (other / "notes.txt").exists()


def test_commits_are_newest_first_with_hex_ids_and_aware_dates(corpus: dict) -> None:
    for repo_id, revs in corpus.items():
        dates = [parse_date(c["date"]) for c, _, _ in revs]  # raises on a date without timezone
        assert dates == sorted(dates, reverse=True), repo_id
        assert all(HEX40.match(c["id"]) for c, _, _ in revs), repo_id
        assert len({c["id"] for c, _, _ in revs}) == len(revs), repo_id


def test_every_revision_folder_matches_its_commit(corpus: dict) -> None:
    for repo_id, path in _repos().items():
        listed = {c["id"]: c for c, _, _ in corpus[repo_id]}
        folders = {p.name for p in (path / "revisions").iterdir()}
        assert folders == set(listed), repo_id
        for name in folders:
            info = json.loads((path / "revisions" / name / "info.json").read_text(encoding="utf-8"))
            assert info["sha"] == name
            assert info["id"] == info["modelId"] == repo_id
            assert info["lastModified"] == listed[name]["date"]
            assert parse_date(info["lastModified"]) == parse_date(listed[name]["date"])
            assert info["private"] is False and info["gated"] in (False, "auto", "manual")
            # The Hub's floor value marks repos created before it stored creation dates (older commits exist).
            if not info["createdAt"].startswith(CREATED_AT_FLOOR):
                assert parse_date(info["createdAt"]) <= parse_date(info["lastModified"])


def test_every_readme_parses_or_is_listed_as_malformed(manifest: dict) -> None:
    malformed = {entry.split(":")[0] for entry in manifest["malformed_readmes"]}
    for readme in sorted((SAMPLE / "models").glob("*/*/revisions/*/README.md")):
        rel = readme.relative_to(SAMPLE).as_posix()
        meta, error = split_front_matter(readme.read_bytes().decode("utf-8"))
        assert (error is None) != (rel in malformed), rel


def test_mirror_json_lists_every_reconstruction(manifest: dict) -> None:
    assert manifest["format"] == FORMAT and manifest["title"] and isinstance(manifest["sources"], list)
    kinds = {r["kind"]: r for r in manifest["reconstructions"]}
    for kind in (
        "synthetic-commit-id",
        "info-from-card",
        "siblings-unknown",
        "createdAt-upper-bound",
        "gated-from-card",
        "readme-from-card-data",
    ):
        assert kinds[kind]["why"] and kinds[kind]["affects"], kind
    for entry in manifest["reconstructions"]:
        for target in entry["affects"]:
            assert (SAMPLE / target).exists() or target in _repos(), (entry["kind"], target)
    # Every commit whose id is not the Hub's is flagged.
    synthetic = set(kinds["synthetic-commit-id"]["affects"])
    for repo_id, path in _repos().items():
        for commit in json.loads((path / "commits.json").read_text(encoding="utf-8")):
            if "crawl" in commit["title"] or "copy" in commit["title"]:
                assert f"models/{repo_id}/revisions/{commit['id']}" in synthetic


def test_coverage_of_repos_and_histories(corpus: dict) -> None:
    assert len(corpus) >= 40
    multi = [
        repo_id
        for repo_id, revs in corpus.items()
        if len({(readme, json.dumps({**info, "sha": "", "lastModified": ""})) for _, info, readme in revs})
        >= 2
    ]
    assert len(multi) >= 12, multi


def test_coverage_of_the_licence_spectrum(corpus: dict) -> None:
    licences: set[str] = set()
    named_other, missing = False, False
    for revs in corpus.values():
        for _, info, readme in revs:
            card = info.get("cardData") or {}
            value = card.get("license")
            licences |= set(value) if isinstance(value, list) else {value} if value else set()
            named_other |= value == "other" and bool(card.get("license_name"))
            missing |= readme is not None and not value
    assert {"mit", "apache-2.0", "llama2", "gemma"} <= licences
    assert licences & {"openrail", "creativeml-openrail-m", "bigscience-bloom-rail-1.0", "openrail++"}
    assert any(lic.startswith("cc-by-nc") for lic in licences)
    assert named_other and missing


def test_coverage_of_gating_weights_and_derivatives(corpus: dict) -> None:
    infos = [(repo_id, info, readme) for repo_id, revs in corpus.items() for _, info, readme in revs]
    assert any(info["gated"] in ("auto", "manual") for _, info, _ in infos)
    # File lists are only the recorded ones: some show weights, and a card-only revision has none (unknown).
    assert any(
        any(s["rfilename"].endswith(WEIGHT_SUFFIXES) for s in info["siblings"])
        for _, info, _ in infos
        if "siblings" in info
    )
    assert any(readme is not None and "siblings" not in info for _, info, readme in infos)
    assert any(
        (info.get("cardData") or {}).get("base_model")
        and any(t.startswith("base_model:") for t in info["tags"])
        for _, info, _ in infos
    )


def test_mistral_licence_removed_and_restored_as_real_commits(corpus: dict) -> None:
    revs = {c["id"]: (c, info) for c, info, _ in corpus[MISTRAL]}
    before = revs["8e892beea59ac7ef150b05169f92f9bb6b3b9a1b"]
    removed = revs["f592c5ff21962ca1fbad8078bd11e10ccc8f8f22"]
    restored = revs["eee934182db289dd2952b1128194fb65d4a48f25"]
    assert before[1]["cardData"]["license"] == "apache-2.0"
    assert removed[0]["date"] == "2023-09-27T08:51:19.000Z" and "license" not in (
        removed[1].get("cardData") or {}
    )
    assert "license:apache-2.0" not in removed[1]["tags"]
    assert (
        restored[0]["date"] == "2023-09-27T09:17:26.000Z"
        and restored[1]["cardData"]["license"] == "apache-2.0"
    )
    assert restored[0]["authors"] == [{"user": "Chris Bamford"}]


def test_transitions_the_reference_lacks_are_not_faked(corpus: dict, manifest: dict) -> None:
    excluded = json.dumps(manifest["excluded"])
    assert "bigscience/bloom" not in corpus and "bigscience__bloom__github_draft" in excluded
    falcon = [info for _, info, _ in corpus["tiiuae/falcon-40b"]]
    assert not any((info.get("cardData") or {}).get("license") == "apache-2.0" for info in falcon)
    assert "falcon-40b" in excluded


def test_papers_are_real_current_format_entries() -> None:
    papers = sorted((SAMPLE / "papers" / "arxiv").glob("*.xml"))
    assert len(papers) >= 100
    for path in papers:
        text = path.read_text(encoding="utf-8")
        assert (
            text.startswith("<entry>") and text.rstrip().endswith("</entry>") and text.count("<entry>") == 1
        )
        entry = ET.fromstring(f"{FEED_OPEN}{text}</feed>")[0]
        abs_id = entry.find("{http://www.w3.org/2005/Atom}id").text
        assert re.sub(r"v\d+$", "", abs_id.split("/abs/", 1)[1]).replace("/", "_") == path.stem
    if REFERENCE.is_dir():
        found = set()
        for wrapper in (REFERENCE / "arxiv" / "current_2026_json").glob("*.json"):
            body = json.loads(wrapper.read_text(encoding="utf-8"))
            if body["status_code"] == 200:
                found |= set(
                    re.findall(r"<entry>\s*<id>http://arxiv\.org/abs/(\S+?)(?:v\d+)?</id>", body["body"])
                )
        assert {f.replace("/", "_") for f in found} == {p.stem for p in papers}


def test_notice_names_every_source() -> None:
    notice = (SAMPLE / "NOTICE.md").read_text(encoding="utf-8")
    for needle in (
        "leliuga/cohere-configurations",
        "jasonfr6/AI7",
        "Decentralised-AI/falcon-40b",
        "huggingface/huggingface_hub",
        "Apache-2.0",
        "lukasschwab/arxiv.py",
        "MIT",
        "CC0",
        "model's owner",
        "test data only",
        "mirror.json",
    ):
        assert needle in notice, needle
    for readme in (SAMPLE / "models").glob("*/*/revisions/*/README.md"):
        assert f"revisions/{readme.parent.name}/" in notice, readme


def test_builder_modules_do_not_import_dagster() -> None:
    mirror = ROOT / "pipelines" / "mirror"
    for module in [mirror / "build_sample.py", *sorted(mirror.glob("sample_*.py"))]:
        assert not re.search(r"^\s*(import|from)\s+dagster", module.read_text(encoding="utf-8"), re.M), module


def test_info_bodies_parse_with_the_real_client(corpus: dict) -> None:
    from huggingface_hub.hf_api import ModelInfo

    for repo_id, revs in corpus.items():
        for commit, info, _ in revs:
            parsed = ModelInfo(**info)
            assert parsed.id == repo_id and parsed.sha == commit["id"] and parsed.created_at is not None


@needs_reference
def test_hub_api_bodies_are_served_as_recorded(manifest: dict) -> None:
    recorded, mappings = {}, {}
    for path in sorted((REFERENCE / "hub-api").glob("*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # redirect bodies are plain text
        if "sha" in body:
            recorded.setdefault((body["id"], body["sha"]), []).append(body)
        elif "inferenceProviderMapping" in body:
            mappings.setdefault(body["id"], []).append(body["inferenceProviderMapping"])
    kinds = {r["kind"]: r["affects"] for r in manifest["reconstructions"]}
    served, mapped = kinds["hub-api-body"], kinds["provider-mapping"]
    assert served and mapped and set(mapped) <= set(served)
    for rev in served:
        info = json.loads((SAMPLE / rev / "info.json").read_text(encoding="utf-8"))
        if (
            rev in mapped
        ):  # a recorded expand=inferenceProviderMapping body's mapping, beside the recorded body
            assert info.pop("inferenceProviderMapping") in mappings[info["id"]], rev
        assert info in recorded[(info["id"], info["sha"])], rev


# Issue "Code and licence evidence", item 9: these real models have weights, but the reference records no
# file list for any of their revisions; the sample must not say they have none.
UNRECORDED_FILE_LISTS = (
    "mistralai/Mistral-7B-v0.1",
    "allenai/tulu-2-7b",
    "allenai/tulu-2-dpo-70b",
    "lmsys/vicuna-7b-v1.5",
)


def test_only_recorded_api_bodies_carry_a_file_list(corpus: dict, manifest: dict) -> None:
    kinds = {r["kind"]: set(r["affects"]) for r in manifest["reconstructions"]}
    with_body, unknown = kinds["hub-api-body"], kinds["siblings-unknown"]
    assert with_body and unknown and not with_body & unknown
    for repo_id, revs in corpus.items():
        for commit, info, _ in revs:
            rev = f"models/{repo_id}/revisions/{commit['id']}"
            if "siblings" in info:
                assert rev in with_body, f"{rev}: a file list the reference did not record"
            else:
                assert rev in unknown, f"{rev}: file list left out but not listed as unknown"
    for repo_id in UNRECORDED_FILE_LISTS:
        assert corpus[repo_id] and all("siblings" not in info for _, info, _ in corpus[repo_id]), repo_id


@needs_reference
def test_recorded_file_lists_are_exactly_the_references(corpus: dict) -> None:
    recorded: dict[tuple[str, str], list[list[str]]] = {}
    for path in sorted((REFERENCE / "hub-api").glob("*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # redirect bodies are plain text
        if isinstance(body, dict) and "sha" in body and isinstance(body.get("siblings"), list):
            names = sorted(s["rfilename"] for s in body["siblings"])
            recorded.setdefault((body["id"], body["sha"]), []).append(names)
    checked = 0
    for repo_id, revs in corpus.items():
        for commit, info, _ in revs:
            if "siblings" in info:
                names = sorted(s["rfilename"] for s in info["siblings"])
                assert names in recorded.get((repo_id, commit["id"]), []), (repo_id, commit["id"])
                checked += 1
    assert checked >= 10


def test_unknown_file_lists_are_served_and_parsed_as_unknown() -> None:
    """Through the mirror and the real client: no `siblings`, so files/has_weights are null, not empty/false."""
    from datetime import UTC, datetime

    from huggingface_hub import HfApi

    from pipelines.hub.parse import revision_row
    from pipelines.mirror.server import MirrorServer

    with MirrorServer(SAMPLE) as srv:
        api = HfApi(endpoint=srv.url, token=False)
        for repo_id in UNRECORDED_FILE_LISTS:
            listed = [
                m for m in api.list_models(search=repo_id, expand=["sha", "siblings"]) if m.id == repo_id
            ]
            assert len(listed) == 1 and listed[0].siblings is None, repo_id
            info = api.model_info(repo_id, files_metadata=True)
            assert info.siblings is None, repo_id
            row = revision_row({"id": repo_id, "sha": info.sha}, "ok", None, datetime.now(UTC))
            assert row["files"] is None and row["has_weights"] is None and row["weight_formats"] is None
        known = api.model_info("meta-llama/Meta-Llama-3-8B-Instruct", expand=["siblings"])
        assert known.siblings, "a recorded API body keeps its file list"
    empty = revision_row({"id": "a/b", "sha": "0" * 40, "siblings": []}, "ok", None, datetime.now(UTC))
    assert empty["files"] == [] and empty["has_weights"] is False  # a recorded empty list stays known


def test_recorded_provider_mappings_are_served_in_the_listing_and_single_model_forms(manifest: dict) -> None:
    """Through the mirror and the real client: the listing answers the mapping as a list naming each provider,
    the single-model endpoint as the object recorded; both read as the same providers, and the crawler's
    listing fields (LISTING_EXPAND) carry it with the `inference` state."""
    from datetime import UTC, datetime

    import httpx2
    from huggingface_hub import HfApi

    from pipelines.hub.client import LISTING_EXPAND
    from pipelines.hub.parse import revision_row
    from pipelines.mirror.server import MirrorServer

    mapped = next(r["affects"] for r in manifest["reconstructions"] if r["kind"] == "provider-mapping")
    with MirrorServer(SAMPLE) as srv:
        api = HfApi(endpoint=srv.url, token=False)
        for rev in mapped:
            info = json.loads((SAMPLE / rev / "info.json").read_text(encoding="utf-8"))
            repo_id, recorded = info["id"], info["inferenceProviderMapping"]
            params = [("search", repo_id), *[("expand", e) for e in LISTING_EXPAND]]
            item = next(
                i for i in httpx2.get(f"{srv.url}/api/models", params=params).json() if i["id"] == repo_id
            )
            assert item["inferenceProviderMapping"] == [{"provider": k, **v} for k, v in recorded.items()]
            assert item["inference"] == info["inference"] == "warm"
            single = api.model_info(repo_id, expand=["inferenceProviderMapping"]).inference_provider_mapping
            listed = next(
                m
                for m in api.list_models(search=repo_id, expand=["inferenceProviderMapping"])
                if m.id == repo_id
            ).inference_provider_mapping
            assert single == listed and {m.provider for m in single} == set(recorded)
            row = revision_row(item, "ok", None, datetime.now(UTC))
            assert [p["provider"] for p in json.loads(row["inference_providers"])] == sorted(recorded)


CODE_FILE = re.compile(
    r"(?i)^(licen[cs]e.*|.*[-_ ]licen[cs]e.*|copying.*|readme.*|notice.*|pyproject\.toml|setup\.py|requirements.*\.txt)$"
)


def test_code_repos_hold_only_what_the_format_lists() -> None:
    from pipelines.hub.ids import git_blob_sha1

    code = SAMPLE / "code" / "github"
    repos = sorted(p.parent for p in code.glob("*/*/commits.json"))
    assert len(repos) == 17 and (code / "NOTICE.md").is_file()
    for repo in repos:
        commits = json.loads((repo / "commits.json").read_text(encoding="utf-8"))
        shas = {c["sha"] for c in commits}
        assert commits and all(HEX40.match(s) for s in shas)
        assert {p.name for p in repo.iterdir()} <= {
            "repo.json",
            "commits.json",
            "moved.json",
            "gone.json",
            "revisions",
        }
        for rev in (repo / "revisions").iterdir():
            assert rev.name in shas, rev  # a revision folder answers a commit of the history
            assert {p.name for p in rev.iterdir()} <= {"repo.json", "tree.json", "files"}
            tree = json.loads((rev / "tree.json").read_text(encoding="utf-8"))
            blobs = {e["path"]: e["sha"] for e in tree["tree"] if e["type"] == "blob"}
            for path in (rev / "files").rglob("*"):
                if path.is_file():
                    rel = path.relative_to(rev / "files").as_posix()
                    assert CODE_FILE.match(rel) and "/" not in rel, rel
                    assert git_blob_sha1(path.read_bytes()) == blobs[rel], rel  # the very blob of the tree


def test_code_notice_attributes_every_repo() -> None:
    notice = (SAMPLE / "code" / "github" / "NOTICE.md").read_text(encoding="utf-8")
    for repo in sorted(SAMPLE.glob("code/github/*/*/commits.json")):
        name = f"{repo.parent.parent.name}/{repo.parent.name}"
        assert f"| github.com/{name} |" in notice, name
    assert "use as test data only" in notice and "reconstructed" in notice
