"""Data quality: checks on the warehouse tables.

`suites` (the registry: one GX suite per public table), `gx_run` (running a suite: DuckDB -> Polars ->
pandas -> an ephemeral GX context; plain-dict results with Dagster-ready metadata), `gates` (snapshot
gates against the previous snapshot, with operator overrides), `report` (the Markdown quality report),
`sql_checks` (plain-SQL key checks). See docs/quality.md.
"""
