"""Code repositories and licence files as evidence of the rubric (docs/rubric.md, "Card and licence files"
and "Code repositories"): the effective licence, conflicts, and MOF/Index/OSAID/spectrum reaching their
upper levels where a release's own code, weights and data are all open."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.openness.catalogue import resolve_licenses
from pipelines.openness.components import detect_components
from pipelines.openness.mof import classify, mof_report, mot_components
from pipelines.openness.run import score_in_batches
from pipelines.openness.scoring import EXTRA_LICENCE_COLUMNS, score_revisions
from tests.openness.conftest import (
    CONFORMANCE,
    TRANSFORMERS_SAFETENSORS,
    datasets_frame,
    papers_frame,
    revision_row,
    revisions_frame,
)
from tests.openness.test_mof_conformance import EXPECTED

SECTIONS = "\n".join(
    f"## {title}\n\n" + ("This section describes the release in detail. " * 8) + "\n"
    for title in ("Training", "Evaluation", "Limitations", "Intended use", "Training data", "Sample outputs")
)


def _card(license_line: str, links: str = "", datasets: bool = True) -> bytes:
    """A model card: YAML front matter (licence, datasets, library, model-index) and a body with links."""
    ds = "datasets:\n- open-lab/web-corpus\n- open-lab/code-corpus\n" if datasets else ""
    return (
        f"---\n{license_line}{ds}library_name: transformers\n"
        "model-index:\n- name: Amberlite-7B\n  results:\n  - task: {type: text-generation}\n"
        "    dataset: {name: ARC, type: ai2_arc}\n    metrics: [{type: acc, value: 0.5}]\n---\n"
        f"# Amberlite-7B\n\nPaper: https://arxiv.org/abs/2412.00001 . {links}\n\n{SECTIONS}"
    ).encode()


FILES = [
    *TRANSFORMERS_SAFETENSORS,
    "trainer_state.json",
    "checkpoints/step_1000/model.safetensors",
    "checkpoints/step_2000/model.safetensors",
]
DATASETS = [
    {
        "dataset_id": f"open-lab/{name}",
        "exists": True,
        "license_raw": lic,
        "gated": "false",
        "readme_status": "ok",
        "card_bytes": 4000,
    }
    for name, lic in (("web-corpus", "odc-by"), ("code-corpus", "cc-by-4.0"))
]
PAPERS = [
    {
        "arxiv_id": "2412.00001",
        "title": "Amberlite: A Fully Open Language Model",
        "journal_ref": "TMLR 2025",
        "license_url": "http://creativecommons.org/licenses/by/4.0/",
    }
]


def _code_row(
    repo_id: str, code_repo: str, role: str, lic: str | None, **kinds: bool | None
) -> dict[str, Any]:
    """A row of core.release_code joined with core.code_repos, as the integrator passes it."""
    flags = {f"{k}_code": kinds.get(k) for k in ("training", "preprocessing", "evaluation", "inference")}
    evidence = {
        "code": {
            f"{k}_code": {"paths": [f"{k}/run_{k}.py"], "count": 1}
            for k in ("training", "preprocessing", "evaluation", "inference")
            if kinds.get(k)
        }
    }
    family = {"apache-2.0": "osi-permissive", "mit": "osi-permissive", "llama2": "community"}.get(lic or "")
    return {
        "repo_id": repo_id,
        "code_repo": code_repo,
        "linked_via": "card",
        "role": role,
        "license_id": lic,
        "license_family": family,
        "github_license": lic,
        "evidence": json.dumps(evidence),
        "status": "ok",
        **flags,
    }


def _licence_file(
    repo_id: str, revision: str, lic: str, family: str, path: str = "LICENSE"
) -> dict[str, Any]:
    """A row of core.license_files for a model revision."""
    return {
        "repo_id": repo_id,
        "revision": revision,
        "path": path,
        "file_kind": "licence",
        "license_id": lic,
        "license_family": family,
        "score": 100.0,
        "coverage": 98.5,
        "matched_rule": f"{lic}.RULE",
    }


def _score(
    rubric: dict[str, Any],
    rows: list[dict[str, Any]],
    *,
    code: list[dict[str, Any]] | None = None,
    files: list[dict[str, Any]] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    revisions = resolve_licenses(revisions_frame(rows))
    evidence = {
        "code": pl.DataFrame(code) if code is not None else None,
        "license_files": pl.DataFrame(files) if files is not None else None,
    }
    datasets, papers = datasets_frame(DATASETS), papers_frame(PAPERS)
    disclosures = detect_components(revisions, datasets, papers, rubric=rubric, **evidence)
    return disclosures, score_revisions(revisions, disclosures, rubric=rubric, **evidence)


def _components(disclosures: pl.DataFrame, repo: str) -> dict[int, dict[str, Any]]:
    return {r["component_id"]: r for r in disclosures.filter(pl.col("repo_id") == repo).iter_rows(named=True)}


REPO = "open-lab/Amberlite-7B"
OWN = "https://github.com/open-lab/amberlite"


def _fully_open(rubric: dict[str, Any]) -> tuple[dict[str, Any], pl.DataFrame, pl.DataFrame]:
    row = revision_row(_card("license: apache-2.0\n", f"Code: {OWN}"), repo_id=REPO, files=FILES)
    code = [
        _code_row(
            REPO,
            "open-lab/amberlite",
            "release_code",
            "apache-2.0",
            training=True,
            preprocessing=True,
            evaluation=True,
            inference=True,
        )
    ]
    files = [_licence_file(REPO, row["revision"], "apache-2.0", "osi-permissive")]
    disclosures, openness = _score(rubric, [row], code=code, files=files)
    return openness.row(0, named=True), disclosures, openness


def test_open_training_repo_weights_and_data_reach_level_5_and_mof_class_i(rubric: dict[str, Any]) -> None:
    o, disclosures, _ = _fully_open(rubric)
    comps = _components(disclosures, REPO)
    for cid in (7, 8, 16, 18):
        assert comps[cid]["included"] is True and comps[cid]["is_open"] is True, comps[cid]
        assert comps[cid]["license_id"] == "apache-2.0" and comps[cid]["method"] == "declared"
        assert "https://github.com/open-lab/amberlite" in comps[cid]["evidence"]
    assert "training/run_training.py" in comps[7]["evidence"]
    # Evaluation data takes the licence of the repo's licence file.
    assert comps[19]["license_id"] == "apache-2.0" and comps[19]["is_open"] is True
    assert o["spectrum_level"] == 5 and o["release_level"] == "fully_open"
    assert o["osai_trainingcode"] == "open" and o["osai_licenses"] == "open" and o["osai_code"] == "partial"
    assert o["osaid"] == "meets" and o["osaid_unmet"] == []
    # The Model Openness Tool's own rule on the same component states gives the same class: Class I, as
    # the tool's suite expects for a release with every required component open.
    status = {cid: ("included" if c["is_open"] else "invalid") for cid, c in comps.items() if c["included"]}
    mot_class, progress = classify(status)
    assert mot_class == 1 and progress == {"1": 100.0, "2": 100.0, "3": 100.0}
    assert o["mof_class"] == mot_class and o["mof_class_label"] == "Class I - Open Science Model"
    assert (o["mof_progress_1"], o["mof_progress_2"], o["mof_progress_3"]) == (100.0, 100.0, 100.0)
    # The tool's suite: its Class I test file (15 components, all open) is Class I at 100/100/100; every
    # component it lists is open here too.
    (path,) = CONFORMANCE.glob("Class1TestFile_*.yml")
    suite = mof_report(path)
    assert EXPECTED[suite["name"]]["class"] == suite["class"] == o["mof_class"]
    listed = {c["id"] for c in suite["components"] if c["included"]}
    assert listed <= {cid for cid, c in comps.items() if c["included"] and c["is_open"]}


def test_without_the_code_repo_the_same_release_stays_at_level_4_and_class_iii(
    rubric: dict[str, Any],
) -> None:
    row = revision_row(_card("license: apache-2.0\n", f"Code: {OWN}"), repo_id=REPO, files=FILES)
    disclosures, openness = _score(rubric, [row])
    o = openness.row(0, named=True)
    comps = _components(disclosures, REPO)
    assert comps[7]["included"] is None and comps[16]["included"] is None  # a link, nothing read: unknown
    # Open weights and open data (level 4), but no training code read: not level 5, not Class II.
    assert o["spectrum_level"] == 4 and o["mof_class"] == 3 and o["osaid"] == "undetermined"
    assert o["osai_trainingcode"] is None and o["osai_code"] is None


def test_code_repo_without_a_licence_is_included_but_not_open(rubric: dict[str, Any]) -> None:
    row = revision_row(_card("license: apache-2.0\n", f"Code: {OWN}"), repo_id=REPO, files=FILES)
    code = [_code_row(REPO, "open-lab/amberlite", "release_code", None, training=True, inference=False)]
    disclosures, openness = _score(rubric, [row], code=code)
    comps = _components(disclosures, REPO)
    assert comps[7]["included"] is True and comps[7]["is_open"] is False and comps[7]["license_id"] is None
    o = openness.row(0, named=True)
    assert o["osai_trainingcode"] == "partial" and o["spectrum_level"] == 4  # data open, code not
    assert o["osaid"] == "fails" and "code" in o["osaid_unmet"]


def test_card_without_licence_takes_the_llama_licence_file(rubric: dict[str, Any]) -> None:
    row = revision_row(_card(""), repo_id=REPO, files=FILES)
    files = [_licence_file(REPO, row["revision"], "llama3.1", "community")]
    _, openness = _score(rubric, [row], files=files)
    o = openness.row(0, named=True)
    assert o["declared_license_id"] is None and o["file_license_id"] == "llama3.1"
    assert o["license_id"] == "llama3.1" and o["license_family"] == "community"
    assert o["license_source"] == "files" and o["license_status"] == "mapped"
    assert o["license_conflict"] is None  # the card says nothing to disagree with
    assert o["spectrum_level"] == 2  # community licence: restricted open weights, not "no licence" (1)
    assert json.loads(o["evidence"])["license_files"][0]["path"] == "LICENSE"
    # Without the file the same card has no licence at all: weights without reuse rights.
    _, without = _score(rubric, [row])
    assert without.row(0, named=True)["license_family"] == "none"
    assert without.row(0, named=True)["spectrum_level"] == 1


@pytest.mark.parametrize(
    "card_licence", ["license: other\n", "license: unknown\n", "license: my-own-terms\n"]
)
def test_nameless_or_unmapped_card_licence_takes_the_files(rubric: dict[str, Any], card_licence: str) -> None:
    row = revision_row(_card(card_licence), repo_id=REPO, files=FILES)
    files = [_licence_file(REPO, row["revision"], "llama2", "community", path="MODEL_LICENSE")]
    _, openness = _score(rubric, [row], files=files)
    o = openness.row(0, named=True)
    assert (o["license_id"], o["license_family"], o["license_source"]) == ("llama2", "community", "files")
    assert o["declared_license_id"] == card_licence.split(": ")[1].strip()


def test_apache_card_with_llama_licence_file_is_a_conflict(rubric: dict[str, Any]) -> None:
    row = revision_row(_card("license: apache-2.0\n"), repo_id=REPO, files=FILES)
    files = [_licence_file(REPO, row["revision"], "llama2", "community")]
    _, openness = _score(rubric, [row], files=files)
    o = openness.row(0, named=True)
    assert o["license_conflict"] is True
    assert o["declared_license_id"] == "apache-2.0" and o["file_license_id"] == "llama2"
    # Never silently resolved: both sides with their evidence; the more restrictive one is effective.
    ev = json.loads(o["license_conflict_evidence"])
    assert ev["card"]["license_id"] == "apache-2.0" and ev["card"]["license_family"] == "osi-permissive"
    assert ev["card"]["evidence"][0] == {"field": "license", "value": "apache-2.0"}
    assert ev["files"] == [
        {
            "path": "LICENSE",
            "license_id": "llama2",
            "license_family": "community",
            "score": 100.0,
            "coverage": 98.5,
            "matched_rule": "llama2.RULE",
        }
    ]
    assert ev["effective"] == "files"
    assert (o["license_id"], o["license_family"], o["license_source"]) == ("llama2", "community", "files")
    assert o["spectrum_level"] == 2


def test_llama_card_with_apache_file_keeps_the_card(rubric: dict[str, Any]) -> None:
    row = revision_row(_card("license: llama2\n"), repo_id=REPO, files=FILES)
    files = [_licence_file(REPO, row["revision"], "apache-2.0", "osi-permissive")]
    _, openness = _score(rubric, [row], files=files)
    o = openness.row(0, named=True)
    assert o["license_conflict"] is True and json.loads(o["license_conflict_evidence"])["effective"] == "card"
    assert (o["license_id"], o["license_source"], o["spectrum_level"]) == ("llama2", "card", 2)


@pytest.mark.parametrize(
    ("card", "file", "family", "conflict"),
    [
        ("apache-2.0", "apache-2.0", "osi-permissive", False),  # the same catalogue id
        ("llama3", "llama3.1", "community", False),  # versions of one licence, same family
        ("gpl-2.0", "gpl-3.0", "osi-copyleft", False),
        ("apache-2.0", "mit", "osi-permissive", True),  # same family, different licences
    ],
)
def test_consistent_means_same_id_or_versions_of_one_licence(
    rubric: dict[str, Any], card: str, file: str, family: str, conflict: bool
) -> None:
    row = revision_row(_card(f"license: {card}\n"), repo_id=REPO, files=FILES)
    files = [_licence_file(REPO, row["revision"], file, family)]
    _, openness = _score(rubric, [row], files=files)
    o = openness.row(0, named=True)
    assert o["license_conflict"] is conflict
    assert o["license_id"] == (file if conflict else card)


def test_unidentified_licence_file_decides_nothing_against_a_named_card(rubric: dict[str, Any]) -> None:
    row = revision_row(_card("license: apache-2.0\n"), repo_id=REPO, files=FILES)
    files = [_licence_file(REPO, row["revision"], "unknown", "unknown")]
    _, openness = _score(rubric, [row], files=files)
    o = openness.row(0, named=True)
    assert o["license_conflict"] is None and o["license_id"] == "apache-2.0" and o["license_source"] == "card"
    assert o["file_license_id"] == "unknown" and o["file_license_family"] == "unknown"


def test_several_licence_files_take_the_most_restrictive_family(rubric: dict[str, Any]) -> None:
    row = revision_row(_card(""), repo_id=REPO, files=FILES)
    files = [
        _licence_file(REPO, row["revision"], "apache-2.0", "osi-permissive"),
        _licence_file(REPO, row["revision"], "llama2", "community", path="MODEL_LICENSE"),
        {
            **_licence_file(REPO, row["revision"], "unknown", "unknown", path="USE_POLICY.md"),
            "file_kind": "policy",
        },
    ]
    _, openness = _score(rubric, [row], files=files)
    o = openness.row(0, named=True)
    assert o["file_license_id"] == "apache-2.0,llama2" and o["file_license_family"] == "community"
    assert o["license_id"] == "apache-2.0,llama2" and o["spectrum_level"] == 2
    paths = [f["path"] for f in json.loads(o["evidence"])["license_files"]]
    assert paths == ["LICENSE", "MODEL_LICENSE"]  # a use policy is not a licence


def test_supporting_library_is_not_training_code(rubric: dict[str, Any]) -> None:
    link = "Code: https://github.com/huggingface/transformers"
    row = revision_row(_card("license: apache-2.0\n", link), repo_id=REPO, files=FILES)
    # transformers holds training scripts, but it is a general library, not this release's training code.
    code = [
        _code_row(
            REPO,
            "huggingface/transformers",
            "supporting_library",
            "apache-2.0",
            training=True,
            evaluation=True,
            inference=True,
            preprocessing=True,
        )
    ]
    disclosures, openness = _score(rubric, [row], code=code)
    comps = _components(disclosures, REPO)
    for cid in (7, 16, 18):
        assert comps[cid]["included"] is False, comps[cid]  # the card links no code of its own
        assert "transformers" not in comps[cid]["evidence"]
    assert comps[22]["included"] is True and comps[22]["is_open"] is True
    assert "huggingface/transformers" in comps[22]["evidence"]
    o = openness.row(0, named=True)
    assert o["osai_trainingcode"] == "closed" and o["spectrum_level"] == 4  # open data only
    assert o["osaid"] == "fails"


def test_crawled_repos_without_the_code_make_it_absent_and_an_unread_tree_keeps_it_unknown(
    rubric: dict[str, Any],
) -> None:
    row = revision_row(_card("license: apache-2.0\n", f"Code: {OWN}"), repo_id=REPO, files=FILES)
    without = [
        _code_row(
            REPO,
            "open-lab/amberlite",
            "release_code",
            "mit",
            training=False,
            preprocessing=False,
            evaluation=True,
            inference=True,
        )
    ]
    disclosures, _ = _score(rubric, [row], code=without)
    comps = _components(disclosures, REPO)
    assert comps[7]["included"] is False and comps[16]["included"] is False
    assert '"value":false' in comps[7]["evidence"] and "open-lab/amberlite" in comps[7]["evidence"]
    assert comps[18]["included"] is True and comps[18]["license_id"] == "mit"
    unread = [_code_row(REPO, "open-lab/amberlite", "release_code", "mit")]  # tree unknown: all flags null
    disclosures, _ = _score(rubric, [row], code=unread)
    comps = _components(disclosures, REPO)
    assert comps[7]["included"] is None and comps[16]["included"] is None and comps[18]["included"] is None
    # A second, uncrawled link keeps a missing kind unknown.
    two = revision_row(
        _card("license: apache-2.0\n", f"Code: {OWN} and https://gitlab.com/open-lab/recipes"),
        repo_id=REPO,
        files=FILES,
    )
    disclosures, _ = _score(rubric, [two], code=without)
    assert _components(disclosures, REPO)[16]["included"] is None


def test_a_gone_repo_counts_for_nothing(rubric: dict[str, Any]) -> None:
    row = revision_row(_card("license: apache-2.0\n", f"Code: {OWN}"), repo_id=REPO, files=FILES)
    gone = [
        {
            **_code_row(REPO, "open-lab/amberlite", "release_code", "apache-2.0", training=True),
            "status": "gone",
        }
    ]
    disclosures, _ = _score(rubric, [row], code=gone)
    assert _components(disclosures, REPO)[7]["included"] is None


def test_batches_pass_the_evidence_and_rescoring_is_idempotent(rubric: dict[str, Any]) -> None:
    o, disclosures, openness = _fully_open(rubric)
    row = revision_row(_card("license: apache-2.0\n", f"Code: {OWN}"), repo_id=REPO, files=FILES)
    revisions = revisions_frame([row])
    code = pl.DataFrame(
        [
            _code_row(
                REPO,
                "open-lab/amberlite",
                "release_code",
                "apache-2.0",
                training=True,
                preprocessing=True,
                evaluation=True,
                inference=True,
            )
        ]
    )
    files = pl.DataFrame([_licence_file(REPO, row["revision"], "apache-2.0", "osi-permissive")])
    parts = list(
        score_in_batches(
            revisions,
            datasets_frame(DATASETS),
            papers_frame(PAPERS),
            rubric=rubric,
            code=code,
            license_files=files,
        )
    )
    assert len(parts) == 1
    assert parts[0][0].equals(disclosures) and parts[0][1].equals(openness)
    assert len(mot_components()) == 17


def test_bad_evidence_rows_are_refused_with_one_line(rubric: dict[str, Any]) -> None:
    row = revision_row(_card("license: apache-2.0\n", f"Code: {OWN}"), repo_id=REPO, files=FILES)
    bad_role = [_code_row(REPO, "open-lab/amberlite", "owner", "mit", training=True)]
    with pytest.raises(ValueError, match="role must be one of"):
        _score(rubric, [row], code=bad_role)
    bad_kind = [{**_licence_file(REPO, row["revision"], "mit", "osi-permissive"), "file_kind": "notice"}]
    with pytest.raises(ValueError, match="file_kind must be"):
        _score(rubric, [row], files=bad_kind)


def test_licence_file_changes_and_conflicts_are_transitions(rubric: dict[str, Any]) -> None:
    from pipelines.history.build import openness_history

    first = revision_row(_card("license: apache-2.0\n"), repo_id=REPO, files=FILES)
    second = revision_row(
        _card("license: apache-2.0\n"),
        repo_id=REPO,
        files=[*FILES, "MODEL_LICENSE"],
        committed_at=first["committed_at"] + dt.timedelta(days=30),
    )
    files = [
        _licence_file(REPO, first["revision"], "apache-2.0", "osi-permissive"),
        _licence_file(REPO, second["revision"], "llama2", "community"),
    ]
    revisions = resolve_licenses(revisions_frame([first, second]))
    disclosures, openness = _score(rubric, [first, second], files=files)
    _, transitions = openness_history(revisions, openness, disclosures, rubric)
    changes = {r["dimension"]: (r["from_value"], r["to_value"]) for r in transitions.iter_rows(named=True)}
    assert changes["file_license_id"] == ("apache-2.0", "llama2")
    assert changes["license_conflict"] == ("false", "true")
    assert changes["license_id"] == ("apache-2.0", "llama2")
    assert changes["spectrum_level"] == ("4", "2")
    # Without licence-file evidence the new dimensions are null and the transitions are what they were.
    _, plain = _score(rubric, [first, second])
    _, with_new = openness_history(revisions, plain, disclosures, rubric)
    _, without_new = openness_history(revisions, plain.drop(EXTRA_LICENCE_COLUMNS), disclosures, rubric)
    assert with_new.equals(without_new)
    assert not {"file_license_id", "license_conflict"} & set(with_new["dimension"])


def test_a_change_of_the_cards_licence_is_a_transition_of_the_declared_licence(
    rubric: dict[str, Any],
) -> None:
    from pipelines.history.build import openness_history

    first = revision_row(_card("license: apache-2.0\n"), repo_id=REPO, files=FILES)
    second = revision_row(
        _card("license: mit\n"),
        repo_id=REPO,
        files=FILES,
        committed_at=first["committed_at"] + dt.timedelta(days=9),
    )
    revisions = resolve_licenses(revisions_frame([first, second]))
    disclosures, openness = _score(rubric, [first, second])
    _, transitions = openness_history(revisions, openness, disclosures, rubric)
    changes = {r["dimension"]: (r["from_value"], r["to_value"]) for r in transitions.iter_rows(named=True)}
    assert changes["declared_license_id"] == ("apache-2.0", "mit")
    assert changes["license_id"] == ("apache-2.0", "mit")
    assert "file_license_id" not in changes  # no licence files: nothing known, no transition


def test_inherited_licence_is_the_base_models(world: dict[str, Any]) -> None:
    o = world["openness"]
    licences = dict(o.select("repo_id", "license_id").iter_rows())
    derived = world["revisions"].filter(pl.col("base_models").list.len() > 0)
    checked = 0
    for repo, bases in derived.select("repo_id", "base_models").iter_rows():
        inherited = o.filter(pl.col("repo_id") == repo)["inherited_license_id"].to_list()
        if bases[0] in licences:
            assert set(inherited) == {licences[bases[0]]}, repo
            checked += 1
        else:
            assert set(inherited) == {None}, repo  # the base is not in the warehouse: unknown
    assert checked >= 1
    assert o.filter(pl.col("inherited_license_id").is_not_null()).height >= 1


def test_real_card_and_real_code_tree_tulu_2_and_open_instruct(rubric: dict[str, Any]) -> None:
    """The tulu-2-7b card links allenai/open-instruct: its real tree (the mirror's head revision) holds
    training code, and its LICENSE is Apache-2.0 with an MIT part (as license_files_expected.csv says)."""
    import csv

    from pipelines.code.tree import classify_tree
    from tests.openness.conftest import CARDS, SHARED, TRANSFORMERS_BIN

    repo_dir = SHARED / "reference" / "github" / "repos" / "allenai" / "open-instruct"
    head = json.loads((repo_dir / "commits.json").read_text())[0]["sha"]
    tree = json.loads((repo_dir / "revisions" / head / "tree.json").read_text())
    found = classify_tree(tree["tree"], truncated=tree.get("truncated", False)).as_row()
    assert found["training_code"] is True
    expected = {
        r["file"]: r
        for r in csv.DictReader(
            (Path(__file__).with_name("license_files_expected.csv")).open(encoding="utf-8")
        )
    }
    lic = expected[f"github/repos/allenai/open-instruct/revisions/{head}/files/LICENSE"]
    code = [
        {
            "repo_id": "allenai/tulu-2-7b",
            "code_repo": "allenai/open-instruct",
            "linked_via": "card",
            "role": "release_code",
            "license_id": lic["license_id"],
            "license_family": lic["license_family"],
            "github_license": None,
            "evidence": json.dumps({"code": found["evidence"]}),
            "status": "ok",
            **{
                k: found[k]
                for k in ("training_code", "preprocessing_code", "evaluation_code", "inference_code")
            },
        }
    ]
    card = (CARDS / "allenai__tulu-2-7b.md").read_bytes()
    row = revision_row(card, repo_id="allenai/tulu-2-7b", files=TRANSFORMERS_BIN, library_name="transformers")
    disclosures, openness = _score(rubric, [row], code=code)
    training = _components(disclosures, "allenai/tulu-2-7b")[7]
    assert training["included"] is True and training["is_open"] is True
    assert training["license_id"] == "apache-2.0,mit" and training["method"] == "declared"
    paths = json.loads(training["evidence"])[0]["paths"]
    assert paths and paths == found["evidence"]["training_code"]["paths"]
    o = openness.row(0, named=True)
    assert o["osai_trainingcode"] == "open"
    # This card declares no licence (nothing granted for the weights): open code does not open them.
    assert o["license_status"] == "missing" and o["spectrum_level"] == 1


def test_open_code_without_open_data_reaches_class_ii_and_level_4(rubric: dict[str, Any]) -> None:
    files = [f for f in FILES if not f.startswith("checkpoints/")]
    row = revision_row(
        _card("license: apache-2.0\n", f"Code: {OWN}", datasets=False), repo_id=REPO, files=files
    )
    code = [
        _code_row(
            REPO,
            "open-lab/amberlite",
            "release_code",
            "mit",
            training=True,
            preprocessing=False,
            evaluation=True,
            inference=True,
        )
    ]
    lic = [_licence_file(REPO, row["revision"], "apache-2.0", "osi-permissive")]
    disclosures, openness = _score(rubric, [row], code=code, files=lic)
    o = openness.row(0, named=True)
    comps = _components(disclosures, REPO)
    assert comps[16]["included"] is False  # the tree was read: no preprocessing code
    assert comps[15]["included"] is False and comps[24]["included"] is None
    status = {cid: ("included" if c["is_open"] else "invalid") for cid, c in comps.items() if c["included"]}
    assert classify(status)[0] == 2
    assert o["mof_class"] == 2 and o["mof_class_label"] == "Class II - Open Tooling Model"
    assert o["spectrum_level"] == 4 and o["osai_trainingcode"] == "open"
    # OSAID Code is not met without preprocessing code, and unmet only when training code is absent or
    # not open: undetermined, never guessed.
    assert o["osaid"] == "undetermined" and o["osaid_unmet"] == []
    # Weights and training code open, data known not open (none named): two of three -> partial.
    assert o["osai_licenses"] == "partial"


def test_a_paper_link_counts_for_revisions_that_cite_a_paper(rubric: dict[str, Any]) -> None:
    row = revision_row(_card("license: apache-2.0\n"), repo_id=REPO, files=FILES)  # cites 2412.00001
    code = [
        {
            **_code_row(REPO, "open-lab/amberlite", "release_code", "apache-2.0", training=True),
            "linked_via": "paper",
        }
    ]
    disclosures, _ = _score(rubric, [row], code=code)
    training = _components(disclosures, REPO)[7]
    assert training["included"] is True and '"linked_via":"paper"' in training["evidence"]
    no_paper = _card("license: apache-2.0\n").replace(b"Paper: https://arxiv.org/abs/2412.00001 . ", b"")
    row = revision_row(no_paper, repo_id=REPO, files=FILES)
    assert row["arxiv_ids"] == []
    disclosures, _ = _score(rubric, [row], code=code)
    assert _components(disclosures, REPO)[7]["included"] is not True
