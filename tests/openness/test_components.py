"""Component detection rules on small, hand-made revisions: what decides a component, and what stays unknown."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from pipelines.openness.components import DISCLOSURES_SCHEMA, detect_components
from pipelines.openness.scoring import score_revisions
from tests.openness.conftest import (
    TRAINER_OUTPUT,
    TRANSFORMERS_SAFETENSORS,
    card_bytes,
    datasets_frame,
    papers_frame,
    revision_row,
    revisions_frame,
)

CARD = b"---\nlicense: apache-2.0\ndatasets: [org/data]\n---\n# Model\n## Training data\nSee https://arxiv.org/abs/2402.00838.\n"


def _detect(
    rows: list[dict[str, Any]],
    rubric: dict[str, Any],
    datasets: pl.DataFrame | None = None,
    papers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    revisions = revisions_frame(rows)
    out = detect_components(
        revisions,
        pl.DataFrame() if datasets is None else datasets,
        pl.DataFrame() if papers is None else papers,
        rubric=rubric,
    )
    assert out.schema == pl.Schema(DISCLOSURES_SCHEMA)
    return out


def _by_name(disclosures: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["component"]: r for r in disclosures.iter_rows(named=True)}


def test_empty_papers_and_datasets_frames(rubric: dict[str, Any]) -> None:
    comps = _by_name(
        _detect(
            [
                revision_row(
                    CARD, repo_id="org/olmo-like", files=TRANSFORMERS_SAFETENSORS, library_name="transformers"
                )
            ],
            rubric,
        )
    )
    assert (
        comps["Datasets"]["included"] is True and comps["Datasets"]["is_open"] is None
    )  # the dataset repo is not known
    assert comps["Technical report"]["included"] is True and comps["Technical report"]["method"] == "inferred"
    assert comps["Research paper"]["included"] is None and comps["Research paper"]["method"] == "unknown"
    assert (
        comps["Data card"]["included"] is True and comps["Data card"]["detail"] == 2
    )  # the card's data section


def test_nothing_known_stays_unknown(rubric: dict[str, Any]) -> None:
    row = revision_row(None, repo_id="org/x", files=None)
    row["readme_status"] = "not_fetched"
    disclosures = _detect([row], rubric)
    assert disclosures["included"].null_count() == 17 and set(disclosures["method"]) == {"unknown"}
    openness = score_revisions(revisions_frame([row]), disclosures, rubric=rubric)
    assert (
        openness["spectrum_level"][0] is None
        and openness["osai_decided"][0] == 0
        and openness["osai_score"][0] is None
    )
    assert openness["release_level"][0] is None and openness["method"][0] == "unknown"


def test_trainer_output_repo(rubric: dict[str, Any]) -> None:
    comps = _by_name(
        _detect(
            [revision_row(CARD, repo_id="org/run", files=TRAINER_OUTPUT, library_name="transformers")], rubric
        )
    )
    inter = comps["Model parameters (Intermediate)"]
    assert (inter["included"], inter["method"], inter["license_id"]) == (True, "declared", "apache-2.0")
    assert json.loads(inter["evidence"])[0]["file"] == "checkpoint-500/model.safetensors"
    assert json.loads(comps["Model parameters (Final)"]["evidence"])[0]["file"] == "model.safetensors"
    assert json.loads(comps["Model metadata"]["evidence"])[0]["file"] == "trainer_state.json"
    training = comps["Training code"]
    assert (training["included"], training["is_open"], training["detail"]) == (True, True, 1)
    assert json.loads(training["evidence"])[0]["url"].endswith("/train.py")
    assert comps["Evaluation code"]["included"] is True


def test_weights_from_has_weights_when_files_are_unknown(rubric: dict[str, Any]) -> None:
    row = revision_row(CARD, repo_id="org/y", files=None)
    frame = revisions_frame([row]).with_columns(pl.lit(True).alias("has_weights"))
    comps = _by_name(detect_components(frame, pl.DataFrame(), pl.DataFrame(), rubric=rubric))
    assert comps["Model parameters (Final)"]["included"] is True
    assert json.loads(comps["Model parameters (Final)"]["evidence"])[0]["field"] == "has_weights"
    assert comps["Model metadata"]["included"] is None  # no file list: nothing to say


def test_gated_readme_leaves_the_card_unknown(rubric: dict[str, Any]) -> None:
    row = revision_row(
        None, repo_id="org/gated", files=TRANSFORMERS_SAFETENSORS, gated="manual", library_name="transformers"
    )
    row.update(readme_status="gated", license_raw="llama3", license_tags=["llama3"])
    comps = _by_name(_detect([row], rubric))
    assert comps["Model card"]["included"] is None and comps["Technical report"]["included"] is None
    assert (
        comps["Model parameters (Final)"]["license_id"] == "llama3"
        and comps["Model parameters (Final)"]["is_open"] is False
    )


def test_published_own_paper_and_dataset_facts(rubric: dict[str, Any]) -> None:
    papers = papers_frame(
        [
            {
                "arxiv_id": "2402.00838",
                "title": "OLMo: Accelerating the Science of Language Models",
                "journal_ref": "ACL 2024",
                "license_url": "http://creativecommons.org/licenses/by/4.0/",
            }
        ]
    )
    datasets = datasets_frame(
        [
            {
                "dataset_id": "org/data",
                "exists": True,
                "license_raw": "odc-by",
                "gated": "false",
                "readme_status": "ok",
                "card_bytes": 5000,
            }
        ]
    )
    rows = [revision_row(CARD, repo_id="allenai/OLMo-7B", files=TRAINER_OUTPUT, library_name="transformers")]
    disclosures = _detect(rows, rubric, datasets, papers)
    comps = _by_name(disclosures)
    paper = comps["Research paper"]
    assert (paper["included"], paper["method"], paper["license_id"], paper["is_open"], paper["detail"]) == (
        True,
        "declared",
        "cc-by-4.0",
        True,
        1,
    )
    assert (comps["Datasets"]["license_id"], comps["Datasets"]["is_open"], comps["Datasets"]["detail"]) == (
        "odc-by",
        True,
        1,
    )
    row = score_revisions(revisions_frame(rows), disclosures, rubric=rubric).row(0, named=True)
    assert (
        row["osai_paper"] == "open"
        and row["osai_preprint"] == "open"
        and row["osai_datasources_endmodel"] == "open"
    )
    assert (
        row["release_level"] == "fully_open" and row["spectrum_level"] == 5
    )  # train.py under Apache-2.0 + ODC-By data
    assert row["osai_licenses"] == "open" and row["osai_trainingcode"] == "open"


def test_detection_is_deterministic_and_in_canonical_layout(rubric: dict[str, Any]) -> None:
    rows = [
        revision_row(
            card_bytes(stem),
            repo_id=f"org/{stem}",
            files=TRANSFORMERS_SAFETENSORS,
            library_name="transformers",
        )
        for stem in ("mistralai__Mistral-7B-v0.1", "defog__sqlcoder-7b", "Qwen__Qwen-7B")
    ]
    first, second = _detect(rows, rubric), _detect(rows, rubric)
    assert first.equals(second)
    assert first["component_id"].to_list() == [
        cid for cid in first["component_id"].unique(maintain_order=True) for _ in rows
    ]
    assert first["repo_id"].to_list()[:3] == [r["repo_id"] for r in rows]
    # Scoring does not depend on the row order of disclosures (the fast path and the general path agree).
    revisions = revisions_frame(rows)
    shuffled = first.sample(fraction=1.0, shuffle=True, seed=7)
    assert score_revisions(revisions, first, rubric=rubric).equals(
        score_revisions(revisions, shuffled, rubric=rubric)
    )


def test_empty_and_partial_inputs(rubric: dict[str, Any]) -> None:
    empty = revisions_frame([])
    disclosures = detect_components(empty, pl.DataFrame(), pl.DataFrame(), rubric=rubric)
    assert disclosures.height == 0 and disclosures.schema == pl.Schema(DISCLOSURES_SCHEMA)
    assert score_revisions(empty, disclosures, rubric=rubric).height == 0
    # Frames with only some of their columns still work (missing facts are unknown).
    rows = [revision_row(CARD, repo_id="org/z", files=TRANSFORMERS_SAFETENSORS, library_name="transformers")]
    papers = pl.DataFrame({"arxiv_id": ["2402.00838"], "title": ["Z: a model"]})
    datasets = pl.DataFrame({"dataset_id": ["org/data"], "exists": [True], "gated": ["false"]})
    comps = _by_name(_detect(rows, rubric, datasets, papers))
    assert (
        comps["Datasets"]["included"] is True and comps["Datasets"]["is_open"] is False
    )  # no licence declared
    narrow = revisions_frame(rows).select("repo_id", "revision", "license_raw", "files", "readme_status")
    assert (
        score_revisions(
            narrow, detect_components(narrow, pl.DataFrame(), pl.DataFrame(), rubric=rubric), rubric=rubric
        ).height
        == 1
    )


def test_an_unrecorded_dataset_is_unknown_and_a_missing_one_closed(rubric: dict[str, Any]) -> None:
    # The same card, its one dataset either not recorded by the source (exists null) or known not to exist.
    rows = [revision_row(CARD, repo_id="allenai/OLMo-7B", files=TRAINER_OUTPUT, library_name="transformers")]
    outcome = {}
    for exists in (None, False):
        datasets = datasets_frame([{"dataset_id": "org/data", "exists": exists, "readme_status": None}])
        disclosures = _detect(rows, rubric, datasets)
        comps = _by_name(disclosures)
        row = score_revisions(revisions_frame(rows), disclosures, rubric=rubric).row(0, named=True)
        outcome[exists] = (
            comps["Datasets"]["is_open"],
            row["osai_datasources_endmodel"],
            row["osai_datasources_basemodel"],
        )
    assert outcome[None] == (None, None, None)  # unknown, not closed: unknown is not a pass either
    assert outcome[False] == (False, "closed", "closed")
