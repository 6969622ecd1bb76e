"""Vega-Lite specs of the timelines, for the Dagster asset pages (data inlined, no network)."""

from __future__ import annotations

import duckdb

SPECTRUM_QUERY = """
SELECT strftime(month, '%Y-%m') AS month, value AS spectrum_level, releases
FROM marts.monthly_openness
WHERE breakdown = 'all' AND metric = 'spectrum_level'
ORDER BY month, value
"""


def spectrum_chart(con: duckdb.DuckDBPyConnection) -> dict:
    """A stacked bar chart of releases per spectrum level at each month's end."""
    rows = [
        {"month": m, "spectrum_level": v, "releases": n} for m, v, n in con.execute(SPECTRUM_QUERY).fetchall()
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": "Releases per openness spectrum level (0 = no weights ... 5 = weights, code and data open), "
        "at each month's end",
        "data": {"values": rows},
        "mark": "bar",
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": "month"},
            "y": {"field": "releases", "type": "quantitative", "stack": "zero"},
            "color": {"field": "spectrum_level", "type": "ordinal", "title": "spectrum level"},
        },
    }
