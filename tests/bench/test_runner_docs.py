"""`make bench` leaves the tracked docs/benchmarks.md alone; `--write-docs` / `--render` rewrite its tables."""

from __future__ import annotations

import sys

import pytest

from benchmarks import run

DOC = "# Benchmarks\n\nprose\n\n<!-- results:start -->\nold tables\n<!-- results:end -->\n\nmore prose\n"


@pytest.fixture
def paths(tmp_path, monkeypatch):
    results, doc = tmp_path / "bench-results" / "results.json", tmp_path / "docs" / "benchmarks.md"
    doc.parent.mkdir()
    doc.write_text(DOC, encoding="utf-8")
    monkeypatch.setattr(run, "ROOT", tmp_path)
    monkeypatch.setattr(run, "RESULTS", results)
    monkeypatch.setattr(run, "DOC", doc)
    for name in ("BENCH_SCALE", "BENCH_SHARDS", "BENCH_WORK"):
        monkeypatch.delenv(name, raising=False)
    # One small benchmark, run for real (in its own process, as `make bench` runs each).
    monkeypatch.setenv("BENCH_ONLY", "scoring")
    monkeypatch.setenv("BENCH_SIZE", "2000")
    return results, doc


def test_a_run_writes_the_results_but_not_the_docs_until_asked(paths, monkeypatch, capsys):
    results, doc = paths
    monkeypatch.setattr(sys, "argv", ["benchmarks.run"])
    assert run.main() == 0
    assert results.is_file() and '"scoring"' in results.read_text()
    assert doc.read_text(encoding="utf-8") == DOC
    assert "left as it was" in capsys.readouterr().out

    monkeypatch.setattr(sys, "argv", ["benchmarks.run", "--render"])
    assert run.main() == 0
    text = doc.read_text(encoding="utf-8")
    assert "old tables" not in text and "**scoring** (size 2000" in text
    assert text.startswith("# Benchmarks\n\nprose\n") and text.endswith("more prose\n")
