"""The Model Openness Tool's own 27 test models: class, label and every progress number must match."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.openness import verdicts
from pipelines.openness.mof import (
    classify,
    evaluate_mot_record,
    is_open_license,
    mof_report,
    mot_components,
    mot_licenses,
)
from tests.openness.conftest import CONFORMANCE

RECORDS = sorted(p for p in CONFORMANCE.glob("*.yml") if p.name != "mof.settings.yml")


def _expected() -> dict[str, dict]:
    # The tool's export has trailing commas (`"version": "1.0",\n}`): drop them to read it as JSON.
    text = re.sub(r",(\s*[}\]])", r"\1", (CONFORMANCE / "expected_results.json").read_text(encoding="utf-8"))
    return {m["release"]["name"]: m["classification"] for m in json.loads(text)["models"]}


EXPECTED = _expected()


def test_there_are_27_records_and_27_results() -> None:
    assert len(RECORDS) == 27 and len(EXPECTED) == 27


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_record_matches_the_tool(path: Path) -> None:
    report = mof_report(path)
    expected = EXPECTED[report["name"]]
    assert report["class"] == expected["class"]
    assert report["label"] == expected["label"]
    for cls in ("1", "2", "3"):
        assert report["progress"][cls] == expected["progress"][cls], cls
    json.dumps(report)  # the command prints it


def test_component_verdicts_of_one_record() -> None:
    path = next(p for p in RECORDS if p.name.startswith("Class2RTestFile"))
    report = mof_report(path)
    by_name = {c["name"]: c for c in report["components"]}
    assert len(by_name) == 17
    assert (
        by_name["Model architecture"]["license"] == "MIT"
        and by_name["Model architecture"]["status"] == "open"
    )
    assert (
        by_name["Technical report"]["included"] is False
        and by_name["Technical report"]["status"] == "not included"
    )
    # CC-BY-3.0-NL is open (open-data list) but not type-appropriate for data: a warning only since MOF 1.1.
    params = by_name["Model parameters (Final)"]
    assert params["status"] == "open" and params["type_appropriate"] is False and params["warning"]
    # The document-type global licence is inherited only by document components without their own licence.
    assert report["progress"]["1"] == pytest.approx(100 * 10 / 13)


def test_licence_rules_as_coded() -> None:
    assert (
        len([k for k in mot_licenses() if is_open_license(k)]) == 224 + 1
    )  # + OpenMDW-1.0 (frameworks.md 1a)
    assert (
        is_open_license("Apache-2.0")
        and not is_open_license("apache-2.0")
        and not is_open_license("Apache 2.0")
    )
    assert is_open_license("CC-BY-SA-4.0") and is_open_license("GPL-3.0-only")
    assert (
        not is_open_license("CC-BY-NC-4.0")
        and not is_open_license("PDDL-1.0")
        and not is_open_license("MulanPSL-1.0")
    )


def test_unlicensed_blocks_inheritance() -> None:
    record = {
        "release": {
            "name": "x",
            "license": {"distribution": {"name": "MIT"}},
            "components": [
                {"name": "Model architecture", "license": "unlicensed"},
                {"name": "Training code"},
            ],
        }
    }
    report = evaluate_mot_record(record)
    by_name = {c["name"]: c for c in report["components"]}
    assert (
        by_name["Model architecture"]["status"] == "unlicensed"
        and by_name["Model architecture"]["license"] is None
    )
    assert (
        by_name["Training code"]["license"] == "MIT"
        and by_name["Training code"]["license_source"] == "global:distribution"
    )


def _vector_class(status: dict[int, str]) -> tuple[int, dict[str, float]]:
    """The vectorised MOF rule of the Hub scorer, on one status assignment."""
    inc = sum(verdicts.bit(c) for c in status)
    opn = sum(verdicts.bit(c) for c, s in status.items() if s == "included")
    row = pl.DataFrame({"_inc": [inc], "_open": [opn]}).select(**verdicts.mof_columns()).row(0, named=True)
    return row["mof_class"], {str(k): row[f"mof_progress_{k}"] for k in (1, 2, 3)}


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.stem)
def test_vectorised_rule_reproduces_the_tool(path: Path) -> None:
    report = mof_report(path)
    status = {
        c["id"]: ("included" if c["status"] == "open" else c["status"])
        for c in report["components"]
        if c["included"]
    }
    cls, progress = _vector_class(status)
    expected = EXPECTED[report["name"]]
    assert cls == expected["class"] and progress == {k: float(v) for k, v in expected["progress"].items()}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from([c["id"] for c in mot_components()]),
        st.sampled_from(["included", "invalid", "unlicensed"]),
    )
)
def test_vectorised_rule_equals_the_reference_rule(status: dict[int, str]) -> None:
    assert _vector_class(status) == classify(status)
