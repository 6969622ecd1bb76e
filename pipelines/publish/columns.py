"""The data dictionary printed in the dataset card, read from the table registry (pipelines/tables.py).

Researchers read the card, not the migrations; a column without a meaning shows as "(undocumented)" in the
card so the gap is visible, never silently absent (and tests/test_tables.py fails on it).
"""

from __future__ import annotations

from pipelines.tables import BY_NAME, column_doc

UNDOCUMENTED = "(undocumented)"


def table_meaning(table: str) -> str:
    """The grain of a public table (by its snapshot name), or a visible gap."""
    entry = BY_NAME.get(f"core.{table}") or BY_NAME.get(f"marts.{table}")
    return entry.grain if entry else "(undocumented table)"


def column_meaning(table: str, column: str, overrides: dict[str, dict[str, str]] | None = None) -> str:
    """The one-line meaning of a column: overrides, then the registry's (the table's own, then the shared)."""
    own = (overrides or {}).get(table, {})
    return own.get(column) or column_doc(table, column) or UNDOCUMENTED
