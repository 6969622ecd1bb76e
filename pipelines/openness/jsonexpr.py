"""Polars expressions that build JSON text column-wise (evidence), without a Python call per row."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

HF = "https://huggingface.co/"


_JSON_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_PATTERNS = ["\\", '"'] + [chr(i) for i in range(32)]
_REPLACEMENTS = [_JSON_ESCAPES.get(c, f"\\u{ord(c):04x}") for c in _PATTERNS]


def js_escape(expr: pl.Expr) -> pl.Expr:
    """JSON-escape a string expression exactly (one Aho-Corasick pass over the text)."""
    return expr.str.replace_many(_PATTERNS, _REPLACEMENTS)


def js_str(expr: pl.Expr, *, escape: bool = True) -> pl.Expr:
    """A JSON string literal, or the JSON `null` when the value is null."""
    inner = js_escape(expr) if escape else expr
    return pl.concat_str([pl.lit('"'), inner, pl.lit('"')]).fill_null(pl.lit("null"))


def js_obj(pairs: Iterable[tuple[str, pl.Expr]]) -> pl.Expr:
    """A JSON object from (key, JSON-value expression) pairs; pairs whose value is null are left out."""
    parts = [pl.concat_str([pl.lit(f'"{key}":'), value]) for key, value in pairs]
    return pl.concat_str([pl.lit("{"), pl.concat_str(parts, separator=",", ignore_nulls=True), pl.lit("}")])


def js_array(items: Iterable[pl.Expr]) -> pl.Expr:
    """A JSON array of the non-null JSON items."""
    return pl.concat_str(
        [pl.lit("["), pl.concat_str(list(items), separator=",", ignore_nulls=True), pl.lit("]")]
    )
