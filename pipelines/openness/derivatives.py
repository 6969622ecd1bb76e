"""Derivatives and their bases: does a fine-tune, merge or quantisation declare a more permissive licence?"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.openness.catalogue import resolve_licenses
from pipelines.openness.jsonexpr import HF, js_escape, js_str
from pipelines.openness.rubric import load_rubric

S = pl.col
DERIVATIVES_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,
    "base_model": pl.String,
    "base_model_relation": pl.String,
    "base_in_warehouse": pl.Boolean,
    "base_license_id": pl.String,
    "base_license_family": pl.String,
    "license_id": pl.String,
    "license_family": pl.String,
    "relicensed_more_permissively": pl.Boolean,
    "license_changed": pl.Boolean,
    "evidence": pl.String,
}


def link_derivatives(revisions_latest: pl.DataFrame, *, rubric: dict[str, Any] | None = None) -> pl.DataFrame:
    """One row per (derivative, named base): both licences and whether the derivative relicensed upwards.

    `relicensed_more_permissively` is true when the derivative's licence family ranks above its base's in
    the rubric's permissiveness order (e.g. apache-2.0 on a llama2 base), false when it does not, and null
    when either family is unknown or the base is not in the warehouse.
    """
    rubric = rubric or load_rubric()
    rank = {fam: rule["rank"] for fam, rule in rubric["families"].items() if rule.get("rank") is not None}
    latest = (
        revisions_latest
        if "license_status" in revisions_latest.columns
        else resolve_licenses(revisions_latest)
    )
    if "committed_at" in latest.columns:
        latest = latest.sort("committed_at", nulls_last=False)
    latest = latest.unique("repo_id", keep="last", maintain_order=True)
    relation = (
        S("base_model_relation") if "base_model_relation" in latest.columns else pl.lit(None, dtype=pl.String)
    )
    links = (
        latest.lazy()
        .filter(S("base_models").list.len() > 0)
        .select(
            "repo_id",
            "revision",
            relation.alias("base_model_relation"),
            "license_id",
            "license_family",
            S("base_models").alias("base_model"),
        )
        .explode("base_model")
        .filter(S("base_model").is_not_null())
    )
    bases = latest.lazy().select(
        S("repo_id").alias("base_model"),
        S("revision").alias("_base_revision"),
        S("license_id").alias("base_license_id"),
        S("license_family").alias("base_license_family"),
        pl.lit(True).alias("base_in_warehouse"),
    )
    out = links.join(bases, on="base_model", how="left").with_columns(S("base_in_warehouse").fill_null(False))
    mine = S("license_family").replace_strict(rank, default=None, return_dtype=pl.Int64)
    theirs = S("base_license_family").replace_strict(rank, default=None, return_dtype=pl.Int64)
    out = out.with_columns(
        (mine > theirs).alias("relicensed_more_permissively"),
        pl.when(S("base_in_warehouse"))
        .then(S("license_id").ne_missing(S("base_license_id")))
        .alias("license_changed"),
        pl.concat_str(
            [
                pl.lit('{"derivative":{"license_id":'),
                js_str(S("license_id")),
                pl.lit(',"license_family":'),
                js_str(S("license_family"), escape=False),
                pl.lit(',"rank":'),
                mine.cast(pl.String).fill_null("null"),
                pl.lit(',"url":"'),
                pl.lit(HF),
                js_escape(S("repo_id")),
                pl.lit("/commit/"),
                S("revision"),
                pl.lit('"},"base":{"repo_id":'),
                js_str(S("base_model")),
                pl.lit(',"license_id":'),
                js_str(S("base_license_id")),
                pl.lit(',"license_family":'),
                js_str(S("base_license_family"), escape=False),
                pl.lit(',"rank":'),
                theirs.cast(pl.String).fill_null("null"),
                pl.lit(',"url":'),
                pl.when(S("base_in_warehouse"))
                .then(
                    pl.concat_str(
                        [
                            pl.lit(f'"{HF}'),
                            js_escape(S("base_model")),
                            pl.lit("/commit/"),
                            S("_base_revision"),
                            pl.lit('"'),
                        ]
                    )
                )
                .otherwise(pl.lit("null")),
                pl.lit('},"order":"rubric.yml families.*.rank"}'),
            ]
        ).alias("evidence"),
    )
    return out.select(list(DERIVATIVES_SCHEMA)).collect().cast(DERIVATIVES_SCHEMA)
