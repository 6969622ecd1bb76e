"""Every source has the same shape, declares its raw captures itself, and does its network I/O in one module."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import subprocess
import sys

import polars as pl
import pytest

from pipelines.storage.raw import RawStore, register, schema_of
from tests.conftest import ROOT

SOURCES = ("hub", "papers", "code")
SHAPE = ("client.py", "raw.py", "parse.py", "step.py", "settings.py")
NETWORK = ("requests", "httpx", "httpx2", "huggingface_hub", "urllib.request", "http.client", "socket")


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_has_the_same_shape(source):
    folder = ROOT / "pipelines" / source
    assert [name for name in SHAPE if not (folder / name).is_file()] == []
    settings = importlib.import_module(f"pipelines.{source}.settings")
    classes = [
        c
        for c in vars(settings).values()
        if dataclasses.is_dataclass(c) and c.__module__ == settings.__name__
    ]
    assert len(classes) == 1, classes  # one settings class, for this source only
    assert classes[0].__dataclass_params__.frozen
    assert hasattr(
        importlib.import_module(f"pipelines.{source}.step"), "record_run"
    )  # the step keeps accounts


@pytest.mark.parametrize("source", SOURCES)
def test_only_the_client_of_a_source_talks_to_the_network(source):
    offenders = []
    for path in sorted((ROOT / "pipelines" / source).glob("*.py")):
        if path.name == "client.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in NETWORK or n in NETWORK]
    assert not offenders


def test_the_raw_store_finds_every_source_declared_in_a_raw_module():
    """In a fresh interpreter that imported no source: the store discovers each source's raw.py."""
    code = "from pipelines.storage.raw import sources; print(','.join(sources()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert set(out.stdout.strip().split(",")) == {
        "hub_listing",
        "hub_readme",
        "hub_revision",
        "hub_commits",
        "hub_dataset",
        "hub_presence",
        "hub_license_files",
        "hub_reconstructions",
        "arxiv",
        "hf_paper",
        "crawl_run",
        "github_repo",
        "github_tree",
        "github_file",
        "github_file_commits",
    }


def test_an_unknown_or_conflicting_raw_source_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown raw source 'nope'"):
        RawStore(tmp_path).folder("nope", "2024-01-01")
    with pytest.raises(ValueError, match="another schema"):
        register("hub_listing", {"x": pl.String})
    with pytest.raises(ValueError, match="lower-case"):
        register("Bad Name", {"x": pl.String})
    assert "item" in schema_of("hub_listing")
