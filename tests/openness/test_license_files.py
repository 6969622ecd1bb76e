"""Licence files: which files are licences, and every real licence file identified as a person reading it says.

The expectations (license_files_expected.csv) were written from reading each file, not from the detector's
output. ScanCode's index is loaded once for the whole session (about 6 s); texts are identified once per
distinct content.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.openness.catalogue import load_catalogue
from pipelines.openness.license_files import (
    MIN_MATCH_SCORE,
    MIN_TEXT_COVERAGE,
    identify_licence,
    licence_file_kind,
    load_scancode_map,
    most_restrictive_family,
    read_licence_file,
)
from tests.openness.conftest import SHARED

REFERENCE = SHARED / "reference"
REPOS = REFERENCE / "github" / "repos"
SAMPLE = Path(__file__).resolve().parents[2] / "pipelines" / "mirror" / "sample"
EXPECTED_CSV = Path(__file__).with_name("license_files_expected.csv")


def _expected() -> dict[str, dict[str, str]]:
    with EXPECTED_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    table = {r["file"]: r for r in rows}
    assert len(table) == len(rows), "a file is listed twice in license_files_expected.csv"
    return table


EXPECTED = _expected()


def _licence_files_on_disk() -> dict[str, Path]:
    """Every file with a licence or policy name, in the reference code mirror and in the sample corpus."""
    found: dict[str, Path] = {}
    for path in sorted(REPOS.glob("*/*/revisions/*/files/**/*")):
        if path.is_file() and licence_file_kind(path.name):
            found["github/repos/" + path.relative_to(REPOS).as_posix()] = path
    for path in sorted(SAMPLE.glob("*/*/*/revisions/*/**/*")):
        if path.is_file() and path.name != "README.md" and licence_file_kind(path.name):
            found["sample/" + path.relative_to(SAMPLE).as_posix()] = path
    return found


@pytest.fixture(scope="session")
def identified():
    """Identification of every distinct licence text on disk (ScanCode loaded once)."""
    cache: dict[str, object] = {}

    def get(path: Path):
        text = read_licence_file(path)
        key = hashlib.sha256(text.encode()).hexdigest()
        if key not in cache:
            cache[key] = identify_licence(text)
        return cache[key]

    return get


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("LICENSE", "licence"),
        ("LICENCE", "licence"),
        ("license", "licence"),
        ("COPYING", "licence"),
        ("COPYING.LESSER", "licence"),
        ("LICENSE.txt", "licence"),
        ("LICENSE.md", "licence"),
        ("LICENSE.MIT", "licence"),
        ("LICENSE-MODEL", "licence"),
        ("LICENSE-CODE", "licence"),
        ("MODEL_LICENSE", "licence"),
        ("DATA_LICENSE", "licence"),
        ("WEIGHT_DIFF_LICENSE", "licence"),
        ("LLAMA_LICENSE.txt", "licence"),
        ("Tongyi Qianwen LICENSE AGREEMENT", "licence"),
        ("Tongyi Qianwen RESEARCH LICENSE AGREEMENT", "licence"),
        ("subfolder/LICENSE", "licence"),
        ("USE_POLICY.md", "policy"),
        ("ACCEPTABLE_USE_POLICY", "policy"),
        ("ACCEPTABLE_USE_POLICY.md", "policy"),
        ("acceptable-use-policy.txt", "policy"),
        ("NOTICE", None),
        ("NOTICE.md", None),
        ("README.md", None),
        ("Community License for Baichuan2 Model.pdf", None),
        ("LICENSE.pdf", None),
        ("license.py", None),
        ("licenses.json", None),
        ("config.json", None),
        ("policy.py", None),
        ("", None),
    ],
)
def test_licence_file_kind(name, kind):
    assert licence_file_kind(name) == kind


def test_sample_file_lists_name_licence_files_of_each_kind():
    """The licence-like names in the sample's recorded file lists (siblings) are classified as the
    parametrised cases above say. The sample keeps only file lists the reference recorded, which name a
    LICENSE and a USE_POLICY.md; the other names (LICENSE.txt, NOTICE, a PDF licence) are cases above."""
    kinds: dict[str, str | None] = {}
    for info in SAMPLE.glob("*/*/*/revisions/*/info.json"):
        for sib in json.loads(info.read_text()).get("siblings") or []:
            name = sib["rfilename"]
            if any(w in name.lower() for w in ("licen", "copying", "policy", "notice")):
                kinds[name] = licence_file_kind(name)
    assert kinds == {"LICENSE": "licence", "USE_POLICY.md": "policy"}


def test_the_table_lists_every_licence_file():
    on_disk = set(_licence_files_on_disk())
    assert len(on_disk) >= 50, "the reference code mirror is missing"
    assert sorted(on_disk - set(EXPECTED)) == [], "licence files without an expected licence"
    assert sorted(set(EXPECTED) - on_disk) == [], "expected licences of files that are not there"


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_every_licence_file_is_identified(file, identified):
    path = (
        _licence_files_on_disk()[file] if file.startswith("sample/") else REPOS / file[len("github/repos/") :]
    )
    want = EXPECTED[file]
    got = identified(path)
    assert (got.license_id, got.license_family) == (want["license_id"], want["license_family"]), (
        got.reason,
        [(m.key, m.rule, m.score) for m in got.matches],
    )
    assert got.score >= MIN_MATCH_SCORE
    assert got.text_coverage >= MIN_TEXT_COVERAGE
    assert got.rules and all(r.endswith((".RULE", ".LICENSE")) for r in got.rules)


def test_a_custom_licence_quoting_a_known_one_is_unknown():
    text = (
        "ACME Model Weights Agreement\n\n"
        "The ACME weights may be used for evaluation by registered partners only. Redistribution of the "
        "weights, in whole or in part, requires written consent from ACME. The inference code in this "
        "repository is licensed under the Apache License, Version 2.0. Partners shall report every "
        "deployment to ACME within thirty days and shall not use the weights to train other models. "
        "ACME may revoke this agreement at any time by notice on its website.\n"
    )
    got = identify_licence(text)
    assert got.license_id == "unknown" and got.license_family == "unknown"
    assert got.reason and "covers" in got.reason
    assert any(m.key == "apache-2.0" for m in got.matches)  # the quoted reference is still evidence


def test_empty_and_plain_text_are_unknown():
    for text in ("", "   \n", "Model weights for the tiny demo model. See the model card for details.\n"):
        got = identify_licence(text)
        assert got.license_id == "unknown"
        assert got.license_family == "unknown"
        assert got.score == 0.0
        assert got.reason


def test_several_licences_in_one_file_take_the_most_restrictive_family():
    apache = (
        REPOS / "tatsu-lab/stanford_alpaca/revisions/679f56d424f7363017f8bf8520e5ffda885c4fc7/files/LICENSE"
    ).read_text()
    cc_nc = (
        REPOS
        / "tatsu-lab/stanford_alpaca/revisions/679f56d424f7363017f8bf8520e5ffda885c4fc7/files/DATA_LICENSE"
    ).read_text()
    got = identify_licence(apache + "\n\n----- data -----\n\n" + cc_nc)
    assert got.license_ids == ("apache-2.0", "cc-by-nc-4.0")
    assert got.license_id == "apache-2.0,cc-by-nc-4.0"
    assert got.license_family == "non-commercial"
    assert most_restrictive_family(["mit", "llama2", "gpl-3.0"]) == "community"
    assert most_restrictive_family([]) == "unknown"


def test_identify_rejects_bytes():
    with pytest.raises(TypeError, match="text of a file"):
        identify_licence(b"MIT License")  # type: ignore[arg-type]


def test_read_licence_file_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_licence_file(tmp_path / "LICENSE")
    with pytest.raises(ValueError, match="not a regular file"):
        read_licence_file(tmp_path)
    (tmp_path / "LICENSE.bin").write_bytes(b"\x00\x01\x02PK")
    with pytest.raises(ValueError, match="binary"):
        read_licence_file(tmp_path / "LICENSE.bin")


def test_mapping_rows_name_real_scancode_keys_and_catalogue_ids():
    from licensedcode.models import load_licenses

    scancode = load_licenses()
    catalogue = load_catalogue()
    ids = set(catalogue["id"].to_list())
    rows = load_scancode_map()
    for row in rows:
        assert row.scancode_key in scancode, row
        assert row.source, row
        assert not row.license_id or row.license_id in ids, row
    mapped = {r.scancode_key for r in rows}
    # Every catalogue licence with an SPDX id that ScanCode knows is reachable from a file.
    by_spdx = {}
    for key, lic in scancode.items():
        for s in [lic.spdx_license_key, *(lic.other_spdx_license_keys or [])]:
            if s:
                by_spdx.setdefault(s.lower(), set()).add(key)
    for spdx in catalogue["spdx_id"].drop_nulls().to_list():
        keys = by_spdx.get(spdx.lower(), set())
        assert not keys or keys & mapped, f"{spdx}: ScanCode keys {sorted(keys)} are not mapped"
    # The model licences the catalogue names and ScanCode knows.
    for key in (
        "llama-2-license-2023",
        "llama-3.1-license-2024",
        "llama-3.2-license-2024",
        "llama-3.3-license-2024",
        "llama-4-cla-2025",
        "gemma-tou-2024-04-01",
        "tongyi-qianwen-2023",
        "qwen-2024",
        "deepseek-la-1.0",
        "falcon-2-11b-1.0",
        "stability-ai-community-2024",
        "stability-ai-nc-2023-12-06",
        "bigscience-open-rail-m",
        "bigscience-rail-1.0",
        "bigcode-open-rail-m-v1",
        "nvidia-open-model-2025-04-28",
        "openmdw-1.0",
    ):
        assert key in mapped, key


def test_license_command_prints_one_json_line_per_file_and_fails_on_a_missing_one(tmp_path):
    mit = REPOS / "openai/human-eval/revisions/6d43fb980f9fee3c892a914eda09951f772ad10d/files/LICENSE"
    model = (
        REPOS
        / "deepseek-ai/DeepSeek-Coder/revisions/2f9fd85927c669dae3c0fbb2d607274023af243e/files/LICENSE-MODEL"
    )
    missing = tmp_path / "LICENSE"
    proc = subprocess.run(
        [sys.executable, "-m", "assets.cli", "license", str(mit), str(missing), str(model)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["path"] == str(mit)
    assert (first["license_id"], first["license_family"]) == ("mit", "osi-permissive")
    assert (second["license_id"], second["license_family"]) == ("deepseek-license", "community")
    for rec in (first, second):
        assert rec["score"] >= MIN_MATCH_SCORE
        assert rec["matches"] and {"key", "score", "coverage", "rule"} <= set(rec["matches"][0])
    assert second["matches"][0]["key"] == "deepseek-la-1.0"
    err = proc.stderr.strip().splitlines()
    assert err[-1] == f"openness license: {missing}: no such file"


def test_license_command_needs_a_file():
    proc = subprocess.run(
        [sys.executable, "-m", "assets.cli", "license"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "FILE" in proc.stderr


@pytest.mark.parametrize(
    ("key", "rule", "title", "license_id"),
    [
        # Llama 3 has no ScanCode key: its text matches the 3.1 licence; the title tells them apart.
        (
            "llama-3.1-license-2024",
            "llama-3.1-license-2024.LICENSE",
            "META LLAMA 3 COMMUNITY LICENSE AGREEMENT",
            "llama3",
        ),
        (
            "llama-3.1-license-2024",
            "llama-3.1-license-2024.LICENSE",
            "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT",
            "llama3.1",
        ),
        (
            "llama-3.2-license-2024",
            "llama-3.2-license-2024.LICENSE",
            "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT",
            "llama3.2",
        ),
        (
            "tongyi-qianwen-2023",
            "tongyi-qianwen-2023.LICENSE",
            "Tongyi Qianwen LICENSE AGREEMENT",
            "tongyi-qianwen",
        ),
        ("ppl", "ppl_1.RULE", "Attribution License (ODC-By)", "odc-by"),
        ("llama-4-license-2025", "llama-4-license-2025.LICENSE", "Llama 4 Acceptable Use Policy", ""),
    ],
)
def test_mapping_rows_narrowed_by_rule_or_title(key, rule, title, license_id):
    from pipelines.openness.license_detect import _map_key

    row = _map_key(key, rule, title)
    assert row is not None and row.license_id == license_id
    assert _map_key("ppl", "ppl.LICENSE", "Peer Production License") is None  # the real PPL stays unmapped


def test_the_index_is_loaded_once_per_process():
    from concurrent.futures import ThreadPoolExecutor

    from pipelines.openness.license_detect import licence_index

    with ThreadPoolExecutor(4) as pool:
        indexes = list(pool.map(lambda _: licence_index(), range(8)))
    assert all(i is indexes[0] for i in indexes)


def _sample_code_licence_files() -> dict[str, Path]:
    """Every licence or policy file of the sample corpus's code repositories (code/github/...), by its path
    relative to that folder."""
    root = SAMPLE / "code" / "github"
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.glob("*/*/revisions/*/files/**/*"))
        if path.is_file() and licence_file_kind(path.name)
    }


def test_the_sample_code_repositories_licence_files_are_identified_as_the_table_says(identified):
    """The sample's code repositories are copied from the reference code mirror: each licence file is the
    reference file of the same path, byte for byte, and is identified as the table says for it."""
    files = _sample_code_licence_files()
    assert len(files) >= 20, "the sample corpus has no code repositories"
    for rel, path in files.items():
        key = f"github/repos/{rel}"
        assert key in EXPECTED, f"{rel}: no expected licence (not a copy of a reference file)"
        assert path.read_bytes() == (REPOS / rel).read_bytes(), f"{rel} differs from the reference file"
        got, want = identified(path), EXPECTED[key]
        assert (got.license_id, got.license_family) == (want["license_id"], want["license_family"]), rel
