"""A small code mirror for the code source's tests: real repositories of the sample corpus's code folder
(a copy of reference/github/repos, shipped with the project), plus a moved, a deleted, a legally blocked and
an empty repository, served by the mirror over real HTTP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipelines.code import raw
from pipelines.storage.warehouse import Warehouse
from tests.conftest import ROOT

REPOS = ROOT / "pipelines" / "mirror" / "sample" / "code" / "github"
REAL = ("meta-llama/llama", "QwenLM/Qwen", "openai/human-eval", "huggingface/alignment-handbook")
# What the crawl is asked for: card-style links, one per repository of the mirror.
ASKED = (
    "https://github.com/meta-llama/llama",
    "https://github.com/qwenlm/qwen",
    "https://github.com/openai/human-eval",
    "https://github.com/huggingface/alignment-handbook",
    "https://github.com/facebookresearch/llama",  # moved to meta-llama/llama: 301
    "https://github.com/tatsu-lab/stanford_alpaca",  # gone: 404 from a date on
    "https://github.com/blocked/model-code",  # 451
    "https://github.com/empty/repo",  # 409: no commits
)


def make_code_mirror(root: Path) -> Path:
    """Write the test mirror under `root` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mirror.json").write_text(
        json.dumps({"format": "hub-mirror/1", "title": "code test", "sources": "x"})
    )
    code = root / "code" / "github"
    for name in REAL:
        shutil.copytree(REPOS / name, code / name)
    shutil.copytree(REPOS / "tatsu-lab/stanford_alpaca", code / "tatsu-lab/stanford_alpaca")
    (code / "tatsu-lab/stanford_alpaca/gone.json").write_text(
        json.dumps({"status": 404, "since": "2026-01-01T00:00:00Z"})
    )
    shutil.copytree(REPOS / "openai/human-eval", code / "blocked/model-code")
    (code / "blocked/model-code/gone.json").write_text(
        json.dumps({"status": 451, "since": "2026-01-01T00:00:00Z", "reason": "dmca"})
    )
    (code / "facebookresearch/llama").mkdir(parents=True)
    (code / "facebookresearch/llama/moved.json").write_text(json.dumps({"to": "meta-llama/llama"}))
    (code / "empty/repo").mkdir(parents=True)
    (code / "empty/repo/commits.json").write_text("[]")
    (code / "empty/repo/repo.json").write_text(
        json.dumps(
            {
                "name": "repo",
                "full_name": "empty/repo",
                "default_branch": "main",
                "created_at": "2024-01-01T00:00:00Z",
                "pushed_at": "2024-01-01T00:00:00Z",
                "license": None,
            }
        )
    )
    return root


@pytest.fixture(scope="session")
def code_mirror(tmp_path_factory) -> Path:
    return make_code_mirror(tmp_path_factory.mktemp("code-mirror"))


def captures(wh: Warehouse) -> dict[str, list[dict]]:
    """Every raw capture of the code source without the run-time columns, sorted: equal = same data."""
    out = {}
    for source, schema in raw.SCHEMAS.items():
        frame = raw.scan(wh.raw, source).drop("fetched_at", "crawl_date")
        if source == "github_repo":
            # the mirror writes its own origin (a port chosen at start) into URLs in bodies
            frame = frame.filter(pl.col("status") != "not_modified").drop("endpoint", "etag")
            frame = frame.with_columns(pl.col("body").str.replace_all(r"http://127\.0\.0\.1:\d+", "ORIGIN"))
        keys = [c for c, t in schema.items() if c in frame.columns and not isinstance(t, pl.List)]
        out[source] = frame.unique().sort(keys, nulls_last=True).to_dicts()
    return out
