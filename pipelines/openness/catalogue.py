"""The licence catalogue (licenses.csv) and the vectorised resolution of each revision's licence."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from pipelines.openness.jsonexpr import js_array, js_obj, js_str, js_str_list

HERE = Path(__file__).parent
CATALOGUE_PATH = HERE / "licenses.csv"
ALIASES_PATH = HERE / "license_aliases.csv"
CATALOGUE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "spdx_id": pl.String,
    "name": pl.String,
    "family": pl.String,
    "osi_approved": pl.Boolean,
    "commercial_use": pl.String,
    "mot_open": pl.Boolean,
    "source": pl.String,
    "note": pl.String,
}
# For a list of licences (`license: [a, b]`) the reading is conjunctive and conservative: the most
# restrictive member decides. Most restrictive first.
_RESTRICTIVENESS = [
    "unknown",
    "proprietary",
    "non-commercial",
    "community",
    "responsible-ai",
    "osi-copyleft",
    "open-data",
    "osi-permissive",
]
_COMMERCIAL_ORDER = ["unknown", "no", "restricted", "yes"]
RESOLVED_COLUMNS = [
    "license_id",
    "spdx_id",
    "license_family",
    "osi_approved",
    "commercial_use",
    "license_mot_open",
    "license_status",
    "license_evidence",
]


@cache
def _catalogue() -> pl.DataFrame:
    return pl.read_csv(CATALOGUE_PATH, schema=CATALOGUE_SCHEMA)


def load_catalogue() -> pl.DataFrame:
    """The licence catalogue: one row per identifier with SPDX id, family, flags and its source."""
    return _catalogue().clone()


@cache
def load_aliases() -> pl.DataFrame:
    """Spelling variants (normalised) mapped to catalogue ids."""
    return pl.read_csv(ALIASES_PATH, schema={"alias": pl.String, "id": pl.String, "source": pl.String})


def normalise_license(expr: pl.Expr) -> pl.Expr:
    """Lower-case, trim, collapse whitespace/underscores to '-', drop quotes; empty -> null."""
    out = (
        expr.str.strip_chars()
        .str.strip_chars("\"'")
        .str.to_lowercase()
        .str.replace_all(r"[\s_]+", "-")
        .str.replace_all(r"\s*,\s*", ",")
    )
    return pl.when(out.str.len_chars() > 0).then(out)


def _lookup() -> pl.DataFrame:
    """Normalised key -> catalogue row (ids and aliases)."""
    cat = _catalogue()
    direct = cat.select(pl.col("id").alias("_key"), pl.col("id").alias("license_id"), pl.lit(False).alias("_alias"))
    aliases = load_aliases().select(pl.col("alias").alias("_key"), pl.col("id").alias("license_id"), pl.lit(True).alias("_alias"))
    keys = pl.concat([direct, aliases])
    return keys.join(
        cat.select(
            pl.col("id").alias("license_id"),
            "spdx_id",
            pl.col("family").alias("license_family"),
            "osi_approved",
            "commercial_use",
            pl.col("mot_open").alias("license_mot_open"),
        ),
        on="license_id",
    )


def resolve_licenses(revisions: pl.DataFrame) -> pl.DataFrame:
    """Add the effective licence id, its family and flags, a status and the evidence (one join, no row loop)."""
    df = revisions.drop([c for c in RESOLVED_COLUMNS if c in revisions.columns])
    tags_col = pl.col("license_tags") if "license_tags" in df.columns else pl.lit(None, dtype=pl.List(pl.String))
    df = df.with_row_index("_ord").with_columns(
        normalise_license(pl.col("license_raw")).alias("_raw"),
        normalise_license(pl.col("license_name")).alias("_name"),
        # list.eval keeps these per-list operations fast (list.sort/list.drop_nulls are slow on many small lists).
        tags_col.list.eval(normalise_license(pl.element()).drop_nulls().unique().sort()).alias("_tags"),
    )
    has_tags = pl.col("_tags").list.len().fill_null(0) > 0
    raw_sorted = pl.col("_raw").str.split(",").list.eval(pl.element().unique().sort()).list.join(",")
    df = df.with_columns(
        pl.coalesce(pl.col("_raw"), pl.when(has_tags).then(pl.col("_tags").list.join(","))).alias("_declared"),
        (pl.col("_raw").is_not_null() & has_tags & (raw_sorted != pl.col("_tags").list.join(","))).alias("_conflict"),
    )
    df = df.with_columns(
        pl.when((pl.col("_declared") == "other") & pl.col("_name").is_not_null())
        .then(pl.col("_name"))
        .otherwise(pl.col("_declared"))
        .alias("_key")
    )
    single = df.filter(~pl.col("_key").str.contains(",", literal=True).fill_null(False))
    multi = df.filter(pl.col("_key").str.contains(",", literal=True).fill_null(False))
    resolved = single.join(_lookup(), on="_key", how="left", maintain_order="left")
    if multi.height:
        # Lists are rare: resolve them apart, then restore the input order.
        resolved = pl.concat([resolved, _resolve_lists(multi)], how="diagonal_relaxed").sort("_ord")
    return _finish(resolved).select([*revisions.columns, *[c for c in RESOLVED_COLUMNS if c not in revisions.columns]])


def _resolve_lists(multi: pl.DataFrame) -> pl.DataFrame:
    """A declared list of licences: every member must map; the most restrictive member decides."""
    keyed = multi.with_row_index("_mrow")
    members = (
        keyed.select("_mrow", pl.col("_key").str.split(",").alias("_member"))
        .explode("_member")
        .join(_lookup().rename({"_key": "_member"}), on="_member", how="left")
        .with_columns(
            pl.col("license_family").replace_strict(_RESTRICTIVENESS, list(range(len(_RESTRICTIVENESS))), default=0).alias("_r"),
            pl.col("commercial_use").replace_strict(_COMMERCIAL_ORDER, list(range(4)), default=0).alias("_c"),
        )
        .group_by("_mrow")
        .agg(
            pl.col("license_id").is_null().any().alias("_any_unmapped"),
            pl.col("_member").sort().str.join(",").alias("_members"),
            pl.col("license_id").sort().str.join(",").alias("license_id"),
            pl.col("_r").min().alias("_r"),
            pl.col("_c").min().alias("_c"),
            pl.col("osi_approved").all().alias("osi_approved"),
            pl.col("license_mot_open").all().alias("license_mot_open"),
            pl.col("_alias").any().alias("_alias"),
        )
    )
    out = keyed.join(members, on="_mrow", how="left", maintain_order="left").with_columns(
        pl.when(~pl.col("_any_unmapped")).then(pl.col("license_id")),
        pl.when(~pl.col("_any_unmapped"))
        .then(pl.col("_r").replace_strict(list(range(len(_RESTRICTIVENESS))), _RESTRICTIVENESS))
        .alias("license_family"),
        pl.when(~pl.col("_any_unmapped")).then(pl.col("_c").replace_strict(list(range(4)), _COMMERCIAL_ORDER)).alias("commercial_use"),
        pl.lit(None, dtype=pl.String).alias("spdx_id"),
        pl.col("_members").alias("_key"),
    )
    return out.drop("_mrow", "_any_unmapped", "_members", "_r", "_c")


def _finish(df: pl.DataFrame) -> pl.DataFrame:
    status = (
        pl.when(pl.col("_conflict"))
        .then(pl.lit("conflict"))
        .when(pl.col("_declared").is_null())
        .then(pl.lit("missing"))
        .when(pl.col("license_id").is_not_null())
        .then(pl.lit("mapped"))
        .otherwise(pl.lit("unmapped"))
    )
    df = df.with_columns(status.alias("license_status"))
    mapped = pl.col("license_status") == "mapped"
    evidence = js_array(
        [
            js_obj([("field", pl.lit('"license"')), ("value", js_str(pl.col("license_raw")))]),
            pl.when(pl.col("license_name").is_not_null()).then(
                js_obj([("field", pl.lit('"license_name"')), ("value", js_str(pl.col("license_name")))])
            ),
            pl.when(pl.col("_tags").list.len().fill_null(0) > 0).then(
                js_obj([("field", pl.lit('"license_tags"')), ("value", js_str_list(pl.col("_tags")))])
            ),
            pl.when(mapped & pl.col("_alias").fill_null(False)).then(
                js_obj([("field", pl.lit('"alias"')), ("value", js_str(pl.col("_key")))])
            ),
            pl.when(pl.col("license_status") == "conflict").then(pl.lit('{"field":"conflict","value":"card license != license:* tags"}')),
        ]
    )
    return df.with_columns(
        pl.when(mapped).then(pl.col("license_id")).when(pl.col("license_status") == "unmapped").then(pl.col("_key")).alias("license_id"),
        pl.when(mapped).then(pl.col("spdx_id")).alias("spdx_id"),
        pl.when(mapped)
        .then(pl.col("license_family"))
        .when(pl.col("license_status") != "missing")
        .then(pl.lit("unknown"))
        .alias("license_family"),
        pl.when(mapped).then(pl.col("osi_approved")).alias("osi_approved"),
        pl.when(mapped).then(pl.col("commercial_use")).otherwise(pl.lit("unknown")).alias("commercial_use"),
        pl.when(mapped).then(pl.col("license_mot_open")).alias("license_mot_open"),
        evidence.alias("license_evidence"),
    )


def unmapped_licenses_report(revisions: pl.DataFrame) -> pl.DataFrame:
    """Declared licence identifiers missing from the catalogue, ranked by how many releases use them."""
    resolved = revisions if "license_status" in revisions.columns else resolve_licenses(revisions)
    return (
        resolved.filter(pl.col("license_status") == "unmapped")
        .group_by(pl.col("license_id").alias("identifier"))
        .agg(
            pl.col("repo_id").n_unique().alias("releases"),
            pl.len().alias("revisions"),
            pl.col("repo_id").min().alias("example_repo"),
        )
        .sort(["releases", "revisions", "identifier"], descending=[True, True, False])
    )
