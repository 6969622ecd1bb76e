"""`openness code URL... [--endpoint API_BASE]` against the mirror, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pipelines.mirror.server import MirrorServer
from tests.conftest import ROOT

TOKEN = "ghp_cliTOKEN0123456789SECRET"
FIELDS = {
    "repo",
    "license_id",
    "license_family",
    "training_code",
    "preprocessing_code",
    "evaluation_code",
    "inference_code",
    "evidence",
}


def openness(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("OPENNESS_GITHUB_ENDPOINT", None) if env is None else None
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_code_command_prints_one_json_object_per_repo(code_mirror) -> None:
    with MirrorServer(code_mirror) as srv:
        proc = openness(
            "code",
            "https://github.com/huggingface/alignment-handbook",
            "openai/human-eval",
            "https://github.com/tatsu-lab/stanford_alpaca",
            "--endpoint",
            srv.github_url,
            env={"GITHUB_TOKEN": TOKEN},
        )
        sent_token = any(r["counted"] for r in srv.requests)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["repo"] for line in lines] == [
        "huggingface/alignment-handbook",
        "openai/human-eval",
        "tatsu-lab/stanford_alpaca",
    ]
    assert all(FIELDS <= set(line) for line in lines)
    handbook, human_eval, alpaca = lines
    assert handbook["license_id"] == "apache-2.0" and handbook["license_family"] == "osi-permissive"
    assert (
        handbook["training_code"] is True
        and "scripts/sft.py" in handbook["evidence"]["code"]["training_code"]["paths"]
    )
    assert human_eval["evaluation_code"] is True and human_eval["training_code"] is False
    assert alpaca["status"] == "gone" and alpaca["training_code"] is None
    assert sent_token and TOKEN not in proc.stdout + proc.stderr


def test_endpoint_from_the_environment(code_mirror) -> None:
    with MirrorServer(code_mirror) as srv:
        proc = openness("code", "openai/human-eval", env={"OPENNESS_GITHUB_ENDPOINT": srv.github_url})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["license_id"] == "mit"


def test_bad_urls_are_one_line_errors_and_nothing_is_asked() -> None:
    proc = openness("code", "https://gitlab.com/a/b", "not a url", "--endpoint", "http://127.0.0.1:9/api/v3")
    assert proc.returncode == 2 and proc.stdout == ""
    errors = proc.stderr.strip().splitlines()
    assert errors == [
        "openness code: error: not a GitHub repository (only github.com is crawled): https://gitlab.com/a/b",
        "openness code: error: not a GitHub repository URL (expected https://github.com/OWNER/REPO): not a url",
    ]
    bad_endpoint = openness("code", "openai/human-eval", "--endpoint", "ftp://example.org")
    assert bad_endpoint.returncode == 2
    assert bad_endpoint.stderr.strip() == (
        "openness code: error: GitHub endpoint must be an http(s) URL, got 'ftp://example.org'"
    )
    negative = openness("code", "openai/human-eval", "--retries", "-1")
    assert negative.returncode == 2 and negative.stdout == ""
    assert negative.stderr.strip() == ("openness code: error: max_retries must not be negative, got -1")


def test_a_repo_that_fails_is_reported_and_the_others_still_print(code_mirror) -> None:
    with MirrorServer(code_mirror) as srv:
        url = srv.github_url
    # the server is stopped: every request fails; each repo gets an error line, exit status 1 (no retries:
    # their backoff would only add 15 s a repo)
    proc = openness("code", "openai/human-eval", "qwenlm/qwen", "--endpoint", url, "--retries", "0")
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["repo"] for line in lines] == ["openai/human-eval", "qwenlm/qwen"]
    assert all("error" in line for line in lines)
