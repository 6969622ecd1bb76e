"""The licence catalogue (licenses.csv) and the resolution of each revision's licence."""

from __future__ import annotations

import csv
import json

import polars as pl
import pytest

from pipelines.openness.catalogue import (
    load_aliases,
    load_catalogue,
    resolve_licenses,
    unmapped_licenses_report,
)
from pipelines.openness.mof import is_open_license, mot_licenses
from pipelines.openness.rubric import FAMILIES
from tests.openness.conftest import SHARED

HUB_IDS = [
    row["id"] for row in csv.DictReader((SHARED / "reference" / "hub_licenses.csv").open(encoding="utf-8"))
]
LICENSE_NAMES = [
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "gemma-terms-of-use",
    "deepseek",
    "deepseek-license",
    "qwen",
    "tongyi-qianwen",
    "tongyi-qianwen-license-agreement",
    "yi-license",
    "baichuan",
    "microsoft-research-license",
    "nvidia-open-model-license",
    "nvidia-ai-foundation-models-community-license",
    "openmdw-1.0",
    "openmdw-1.1",
    "openrail",
    "openrail++",
    "bigscience-openrail-m",
    "creativeml-openrail-m",
    "bigcode-openrail-m",
    "bigscience-bloom-rail-1.0",
    "ai2-impact-license-low-risk",
    "ai2-impact-license-medium-risk",
    "stabilityai-ai-community",
    "stabilityai-nc-research-community",
    "tii-falcon-llm",
    "falcon-180b-tii-license",
    "cc-by-nc-4.0",
]
CAT = load_catalogue()


def test_every_hub_licence_id_is_catalogued() -> None:
    assert len(HUB_IDS) == 83
    assert set(HUB_IDS) <= set(CAT["id"])


def test_common_license_names_are_catalogued() -> None:
    assert set(LICENSE_NAMES) <= set(CAT["id"])


def test_rows_are_well_formed() -> None:
    assert CAT["id"].is_unique().all()
    assert (CAT["id"] == CAT["id"].str.to_lowercase().str.strip_chars()).all()
    assert set(CAT["family"]) <= set(FAMILIES)
    assert set(CAT["commercial_use"]) <= {"yes", "no", "restricted", "unknown"}
    assert CAT["source"].is_not_null().all() and (CAT["source"].str.len_chars() > 10).all()
    assert CAT["mot_open"].is_not_null().all()


def test_spdx_ids_flags_and_mot_rule_agree_with_the_mot_lists() -> None:
    spdx = mot_licenses()
    for row in CAT.iter_rows(named=True):
        if row["spdx_id"]:
            assert row["spdx_id"] in spdx, row["id"]
            assert row["osi_approved"] == spdx[row["spdx_id"]]["osi"], row["id"]
            assert row["mot_open"] == is_open_license(row["spdx_id"]), row["id"]
        else:
            assert row["mot_open"] == (row["id"] == "openmdw-1.0"), row["id"]


@pytest.mark.parametrize(
    ("hub_id", "family", "commercial"),
    [
        ("apache-2.0", "osi-permissive", "yes"),
        ("gpl-3.0", "osi-copyleft", "yes"),
        ("cc-by-sa-4.0", "osi-copyleft", "yes"),
        ("cc-by-4.0", "open-data", "yes"),
        ("openrail", "responsible-ai", "yes"),
        ("llama3.1", "community", "restricted"),
        ("gemma", "community", "restricted"),
        ("cc-by-nc-4.0", "non-commercial", "no"),
        ("other", "unknown", "unknown"),
        ("fair-noncommercial-research-license", "non-commercial", "no"),
        ("microsoft-research-license", "non-commercial", "no"),
    ],
)
def test_families(hub_id: str, family: str, commercial: str) -> None:
    row = CAT.filter(pl.col("id") == hub_id).row(0, named=True)
    assert (row["family"], row["commercial_use"]) == (family, commercial)


def test_aliases_point_at_catalogue_ids() -> None:
    aliases = load_aliases()
    assert set(aliases["id"]) <= set(CAT["id"])
    assert not set(aliases["alias"]) & set(CAT["id"])


def _frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "repo_id": pl.String,
            "license_raw": pl.String,
            "license_name": pl.String,
            "license_tags": pl.List(pl.String),
        },
        orient="row",
    )


def test_resolution_statuses() -> None:
    df = _frame(
        [
            ("a/1", "Apache 2.0", None, ["apache-2.0"]),
            ("a/2", "other", "Tongyi Qianwen License Agreement", ["other"]),
            ("a/3", None, None, []),
            ("a/4", None, None, ["mit"]),
            ("a/5", "llama2", None, ["apache-2.0"]),
            ("a/6", "MIT, apache-2.0", None, ["apache-2.0", "mit"]),
            ("a/7", "mit,cc-by-nc-4.0", None, None),
            ("a/8", "my-own-licence", None, None),
            ("a/9", "other", None, ["other"]),
        ]
    )
    out = resolve_licenses(df)
    assert out.columns[:4] == df.columns and out.height == df.height
    got = {r["repo_id"]: r for r in out.iter_rows(named=True)}
    assert (got["a/1"]["license_id"], got["a/1"]["spdx_id"], got["a/1"]["license_status"]) == (
        "apache-2.0",
        "Apache-2.0",
        "mapped",
    )
    assert (got["a/2"]["license_id"], got["a/2"]["license_family"]) == (
        "tongyi-qianwen-license-agreement",
        "community",
    )
    # Nothing declared: the family of its own `none`, not NULL (unknown) nor `unknown` (unmapped).
    assert (got["a/3"]["license_status"], got["a/3"]["license_id"], got["a/3"]["license_family"]) == (
        "missing",
        None,
        "none",
    )
    assert (got["a/4"]["license_id"], got["a/4"]["license_status"]) == ("mit", "mapped")
    assert (got["a/5"]["license_status"], got["a/5"]["license_id"], got["a/5"]["license_family"]) == (
        "conflict",
        None,
        "unknown",
    )
    assert "llama2" in got["a/5"]["license_evidence"] and "apache-2.0" in got["a/5"]["license_evidence"]
    assert (got["a/6"]["license_id"], got["a/6"]["license_status"], got["a/6"]["license_family"]) == (
        "apache-2.0,mit",
        "mapped",
        "osi-permissive",
    )
    assert (got["a/7"]["license_family"], got["a/7"]["commercial_use"]) == (
        "non-commercial",
        "no",
    )  # the most restrictive member
    assert (got["a/8"]["license_status"], got["a/8"]["license_id"], got["a/8"]["license_family"]) == (
        "unmapped",
        "my-own-licence",
        "unknown",
    )
    assert (got["a/9"]["license_id"], got["a/9"]["license_family"]) == ("other", "unknown")
    for row in out.iter_rows(named=True):
        evidence = json.loads(row["license_evidence"])
        assert evidence and evidence[0]["field"] == "license"


def test_unmapped_report_ranks_by_releases() -> None:
    df = _frame(
        [
            ("x/1", "foo", None, None),
            ("x/1", "foo", None, None),
            ("x/2", "other", "bar", None),
            ("x/3", "other", "bar", None),
            ("x/4", "apache-2.0", None, None),
        ]
    )
    report = unmapped_licenses_report(df)
    assert report.columns == ["identifier", "releases", "revisions", "example_repo"]
    assert report.rows() == [("bar", 2, 2, "x/2"), ("foo", 1, 2, "x/1")]
