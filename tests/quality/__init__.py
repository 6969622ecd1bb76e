"""Tests of the data quality layer: GX suites, snapshot gates, the report."""
