"""`openness mof FILE.yml` prints the Model Openness Tool's own class and progress for its test records."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from assets.cli import main
from tests.conftest import REFERENCE, ROOT

MOT = REFERENCE / "mof-conformance"


@pytest.mark.skipif(not MOT.exists(), reason="../shared/reference/mof-conformance is not beside the project")
def test_the_command_reproduces_the_tools_results(capsys):
    # The tool's own export has trailing commas: strip them to read it as JSON.
    text = re.sub(r",(\s*[}\]])", r"\1", (MOT / "expected_results.json").read_text(encoding="utf-8"))
    expected = {m["release"]["name"]: m["classification"] for m in json.loads(text)["models"]}
    names = {
        f: yaml.safe_load(f.read_text())["release"]["name"]
        for f in sorted(MOT.glob("*.yml"))
        if f.name != "mof.settings.yml"
    }
    files = [f for f, n in names.items() if n in expected]
    assert len(files) == 27
    for path in files:  # every record through the command's entry point
        assert main(["mof", str(path)]) == 0
        result = json.loads(capsys.readouterr().out)
        want = expected[names[path]]
        assert result["class"] == want["class"], path.name
        got = {str(k): round(float(v), 2) for k, v in result["progress"].items()}
        assert got == {str(k): round(float(v), 2) for k, v in want["progress"].items()}, path.name


@pytest.mark.skipif(not MOT.exists(), reason="../shared/reference is not beside the project")
def test_the_console_script_prints_json():
    path = sorted(MOT.glob("FullTestFile*.yml"))[0]
    out = subprocess.run(
        [sys.executable, "-m", "assets.cli", "mof", str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out)["class"] == 1


def test_a_missing_file_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "assets.cli", "mof", str(tmp_path / "nope.yml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "nope.yml" in proc.stderr
