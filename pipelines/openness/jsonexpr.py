"""Polars expressions that build JSON text column-wise (evidence), without a Python call per row."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

HF = "https://huggingface.co/"


def js_escape(expr: pl.Expr) -> pl.Expr:
    """JSON-escape a string expression (quotes, backslashes, control characters)."""
    return (
        expr.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all('"', '\\"', literal=True)
        .str.replace_all("\n", "\\n", literal=True)
        .str.replace_all("\r", "\\r", literal=True)
        .str.replace_all("\t", "\\t", literal=True)
        # Other control characters are rare junk: replaced by U+FFFD so the text stays valid JSON.
        .str.replace_all(r"[\x00-\x1f]", r"\ufffd")
    )


def js_str(expr: pl.Expr, *, escape: bool = True) -> pl.Expr:
    """A JSON string literal, or the JSON `null` when the value is null."""
    inner = js_escape(expr) if escape else expr
    return pl.concat_str([pl.lit('"'), inner, pl.lit('"')]).fill_null(pl.lit("null"))


def js_str_list(expr: pl.Expr) -> pl.Expr:
    """A JSON array of strings from a list[str] expression (null -> null)."""
    items = expr.list.eval(pl.concat_str([pl.lit('"'), js_escape(pl.element()), pl.lit('"')]))
    return pl.concat_str([pl.lit("["), items.list.join(","), pl.lit("]")]).fill_null(pl.lit("null"))


def js_obj(pairs: Iterable[tuple[str, pl.Expr]]) -> pl.Expr:
    """A JSON object from (key, JSON-value expression) pairs; pairs whose value is null are left out."""
    parts = [pl.concat_str([pl.lit(f'"{key}":'), value]) for key, value in pairs]
    return pl.concat_str([pl.lit("{"), pl.concat_str(parts, separator=",", ignore_nulls=True), pl.lit("}")])


def js_array(items: Iterable[pl.Expr]) -> pl.Expr:
    """A JSON array of the non-null JSON items."""
    return pl.concat_str([pl.lit("["), pl.concat_str(list(items), separator=",", ignore_nulls=True), pl.lit("]")])


def blob_url(repo: pl.Expr, revision: pl.Expr, file: pl.Expr) -> pl.Expr:
    """https://huggingface.co/<repo>/blob/<revision>/<file>."""
    return pl.concat_str([pl.lit(HF), repo, pl.lit("/blob/"), revision, pl.lit("/"), file])


def commit_url(repo: pl.Expr, revision: pl.Expr) -> pl.Expr:
    """https://huggingface.co/<repo>/commit/<revision>."""
    return pl.concat_str([pl.lit(HF), repo, pl.lit("/commit/"), revision])
