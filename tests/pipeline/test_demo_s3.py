"""End to end: the whole demo with its raw layer in a bucket of an S3-compatible server on loopback
(`make demo-s3`) builds and publishes exactly what the demo with a local raw layer does."""

from __future__ import annotations

import pytest

from tests.demo_s3 import run

pytestmark = pytest.mark.slow


def test_the_demo_with_its_raw_layer_on_s3_equals_the_local_demo(small_demo, tmp_path, monkeypatch, capsys):
    base, _ = small_demo
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    problems = run(base / "mirror", tmp_path / "wh-s3", compare=base / "wh")
    out = capsys.readouterr().out
    assert problems == [], out[-3000:]
    # Every capture went to the bucket (the raw sources of the daily crawl among them), none to the disk.
    assert "raw objects in the bucket, sources: " in out and "hub_listing" in out and "hub_readme" in out
    assert not (tmp_path / "wh-s3" / "raw").exists()
    assert "snapshot releases " in out and "same" in out
