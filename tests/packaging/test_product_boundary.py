"""What the product is: the benchmarks stay outside it (not imported, not fingerprinted), its SQL files are
found through the package, and a package without migrations refuses to pass for migrated."""

from __future__ import annotations

import ast

import duckdb
import pytest

from pipelines.incremental import state
from pipelines.storage import warehouse
from pipelines.storage.warehouse import SQL_DIR, migrate, migration_files, sql_text
from tests.conftest import ROOT

PRODUCT = ("pipelines", "assets")


def _imports(path) -> set[str]:
    """The modules a source file imports (absolute imports, at any depth of the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_the_product_never_imports_the_benchmarks_or_the_tests():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imports(path) if m.split(".")[0] in ("benchmarks", "tests")
        )
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if "sample" not in path.parts
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_benchmark_or_generator_code_is_left_in_the_product():
    names = [
        str(p.relative_to(ROOT))
        for package in PRODUCT
        for p in (ROOT / package).rglob("*.py")
        if "bench" in p.name or p.stem == "synthetic" or "bench" in p.parent.name
    ]
    assert names == []
    assert (ROOT / "benchmarks" / "run.py").is_file() and (ROOT / "benchmarks" / "synthetic.py").is_file()


@pytest.mark.parametrize("name", ["NORMALISER_CODE", "SCORING_CODE"])
def test_the_code_fingerprints_cover_product_files_only(name):
    patterns = getattr(state, name)
    for pattern in patterns:
        assert sorted(state.ROOT.glob(pattern)), f"{name}: {pattern!r} matches no file"
    files = {p.resolve() for pattern in patterns for p in state.ROOT.glob(pattern)}
    assert all((ROOT / "pipelines") in p.parents for p in files)
    assert not [p for p in files if "bench" in p.name or p.stem == "synthetic"]
    # A benchmark edit cannot change the scores' fingerprint (production would re-score all history).
    assert not [p for p in files if (ROOT / "benchmarks") in p.parents]


def test_the_scoring_fingerprint_still_covers_the_rubric_and_scoring_code():
    files = {
        p.relative_to(state.ROOT).as_posix()
        for pattern in state.SCORING_CODE
        for p in state.ROOT.glob(pattern)
    }
    assert {
        "openness/rubric.yml",
        "openness/scoring.py",
        "openness/signals.py",
        "incremental/scoring.py",
    } <= files


def test_sql_files_are_found_through_the_package():
    assert SQL_DIR == ROOT / "pipelines" / "sql"
    assert SQL_DIR.resolve() == (ROOT / "sql").resolve()  # the link to the top-level sql/ of the repository
    assert [p.name for p in migration_files()] == sorted(
        p.name for p in (ROOT / "sql" / "migrations").glob("*.sql")
    )
    assert sql_text("core/releases.sql") == (ROOT / "sql" / "core" / "releases.sql").read_text(
        encoding="utf-8"
    )
    with pytest.raises(ValueError, match="escapes sql/"):
        sql_text("../pyproject.toml")


def test_migrate_refuses_a_package_without_migrations(tmp_path, monkeypatch):
    (tmp_path / "migrations").mkdir()
    with pytest.raises(FileNotFoundError, match="no migrations found in .*migrations"):
        migration_files(tmp_path)
    monkeypatch.setattr(warehouse, "SQL_DIR", tmp_path)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(FileNotFoundError, match="the package's SQL files are missing"):
            migrate(con)
        # Nothing was written before the refusal.
        assert (
            con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'meta'").fetchone()[0] == 0
        )
