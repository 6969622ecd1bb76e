"""The table registry (pipelines/tables.py) is the one declaration of every table.

A table built but not registered, registered but not built, listed anywhere else in the product, a
column without a meaning, a documented column that does not exist, or a core table without a suite fails
here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipelines.quality.suites import SUITES
from pipelines.runner import STEPS, build_all
from pipelines.storage.warehouse import Warehouse
from pipelines.tables import COMMON_COLUMNS, TABLES, column_doc, public_tables, steps

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, list[str]]:
    """Every table of a warehouse built by the runner from an empty raw layer: name -> columns."""
    wh = Warehouse(tmp_path_factory.mktemp("empty"))
    with wh.connect() as con:
        build_all(wh, con, full=True)
        rows = con.execute(
            "SELECT schema_name || '.' || table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name IN ('core', 'marts') GROUP BY 1"
        ).fetchall()
    return dict(rows)


def test_every_built_table_is_registered_and_every_registered_table_is_built(built):
    assert set(built) == {t.name for t in TABLES}


def test_every_column_has_a_meaning_and_every_meaning_a_column(built):
    # Every table, not only the snapshot's files: the serving database (openness.duckdb) holds the marts and
    # the other core tables too, and researchers query them (a mart's `short_lived` had no meaning).
    for t in TABLES:
        missing = [c for c in built[t.name] if not column_doc(t.short, c)]
        assert not missing, f"{t.name}: columns without a meaning in pipelines/tables.py: {missing}"
        stale = [c for c in t.columns if c not in built[t.name]]
        assert not stale, f"{t.name}: documented columns that the table does not have: {stale}"


def test_every_core_table_has_its_suite_and_every_suite_a_table():
    for t in TABLES:
        if t.layer == "core":
            assert t.suite, f"{t.name} has no quality suite"
    assert set(SUITES) == {t.short for t in TABLES if t.suite}
    for t in TABLES:
        if t.suite:
            assert SUITES[t.short].table == t.name


def test_registry_entries_are_complete():
    assert set(steps()) == set(STEPS), "every step of the registry has a builder and every builder a table"
    for t in TABLES:
        assert t.grain.startswith("One row per"), t.name
        assert t.key, t.name
        assert all(r in {x.name for x in TABLES} or r.startswith("raw.") for r in t.reads), t.name
    assert public_tables() == {t.short: t.name for t in TABLES if t.public}
    # A table restates a shared meaning only to change it.
    assert not [(t.name, c) for t in TABLES for c, doc in t.columns.items() if COMMON_COLUMNS.get(c) == doc]


def test_asset_keys_and_checks_come_from_the_registry():
    import dagster as dg

    from assets.definitions import defs

    repo = defs.get_repository_def()
    keys = {"/".join(k.path) for k in repo.asset_graph.get_all_asset_keys()}
    assert {"/".join(t.asset_key) for t in TABLES} <= keys
    checks = {c.name for c in repo.asset_graph.asset_check_keys}
    assert {f"{t.short}_suite" for t in TABLES if t.suite} <= checks
    for t in TABLES:
        assert repo.asset_graph.get(dg.AssetKey(t.asset_key)).description == t.description


def test_sql_files_are_named_after_registered_tables():
    for path in (ROOT / "sql").glob("*/*.sql"):
        if path.parent.name not in ("core", "marts"):
            continue
        name = f"{path.parent.name}.{path.stem}"
        assert any(name == t.name or name.startswith(f"{t.name}_") for t in TABLES), path


QUALIFIED = {t.name for t in TABLES}
SHORT = {t.short for t in TABLES}


def _declarations(tree: ast.AST) -> list[tuple[int, list[str]]]:
    """Literals that list tables: a list, tuple, set or dict naming two or more tables as `layer.table`, or a
    dict keyed by two or more table names with text or dict values (a data dictionary). A function's return
    value (what it produced) is not a declaration."""
    returned = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Return) and n.value is not None}
    found = []
    for node in ast.walk(tree):
        if id(node) in returned or not isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
            continue
        items = [*node.keys, *node.values] if isinstance(node, ast.Dict) else node.elts
        names = {e.value for e in items if isinstance(e, ast.Constant) and e.value in QUALIFIED}
        if isinstance(node, ast.Dict) and all(isinstance(v, ast.Constant | ast.Dict) for v in node.values):
            names |= {k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in SHORT}
        if len(names) >= 2:
            found.append((node.lineno, sorted(names)))
    return found


def test_no_table_is_declared_anywhere_else():
    """No literal in the product lists tables: such a list is a second declaration that drifts (read
    pipelines/tables.py instead)."""
    found = []
    for base in ("pipelines", "assets"):
        for path in (ROOT / base).rglob("*.py"):
            if path == ROOT / "pipelines" / "tables.py":
                continue
            for line, names in _declarations(ast.parse(path.read_text(encoding="utf-8"))):
                found.append(f"{path.relative_to(ROOT)}:{line} {names}")
    assert not found, "tables listed outside pipelines/tables.py:\n" + "\n".join(found)


def test_the_declaration_finder_finds_what_drifted_before():
    """The old lists (the snapshot's public tables, the card's table docs) would be found."""
    old = ast.parse(
        'PUBLIC = {"releases": "core.releases", "revisions": "core.revisions"}\n'
        'DOCS = {"releases": "One row per ...", "papers": "One row per ..."}\n'
        'SCORED = ["core.disclosures", "core.openness"]\n'
        'def f():\n    return {"core.papers": 1, "core.releases": 2}\n'
    )
    assert [line for line, _ in _declarations(old)] == [1, 2, 3]
