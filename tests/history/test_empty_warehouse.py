"""A build on a warehouse with no captures yet (a fresh deployment) gives empty tables, not a crash."""

from __future__ import annotations

from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import build_all

TABLES = [
    "core.revisions",
    "core.releases",
    "core.disclosures",
    "core.openness",
    "core.transitions",
    "core.derivatives",
    "marts.monthly_openness",
    "marts.monthly_transitions",
]


def _schemas(wh: Warehouse) -> dict[str, list[tuple[str, str]]]:
    with wh.connect(read_only=True) as con:
        return {
            t: [
                (c, str(d))
                for c, d in zip(
                    con.sql(f"SELECT * FROM {t}").columns,  # noqa: S608 - fixed names
                    con.sql(f"SELECT * FROM {t}").dtypes,  # noqa: S608 - fixed names
                    strict=True,
                )
            ]
            for t in TABLES
        }


def test_an_empty_warehouse_builds_empty_tables_with_the_full_schema(tmp_path, warehouse):
    empty = Warehouse(tmp_path / "empty")
    build_all(empty)
    with empty.connect(read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}  # noqa: S608
    assert counts == dict.fromkeys(TABLES, 0)
    # the same columns (names and types) as a build over the sample corpus
    populated, bare = _schemas(warehouse), _schemas(empty)
    for t in TABLES:
        assert [c for c, _ in bare[t]] == [c for c, _ in populated[t]], t
    mismatched = {t: [(a, b) for a, b in zip(bare[t], populated[t], strict=True) if a != b] for t in TABLES}
    assert not any(mismatched.values()), mismatched
