"""Openness Tracker: plain-Python pipeline code (no Dagster imports here)."""
