"""The licence catalogue (licenses.csv) and the vectorised resolution of each revision's licence."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from pipelines.openness.jsonexpr import js_array, js_obj, js_str

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
# The family of "no licence declared" (status `missing`: nothing is granted), in every table, mart and
# chart: distinct from `unknown` (a declared licence that is unmapped, in conflict or undecidable) and
# from null (not recorded: no card read, no licence file read).
NO_LICENCE = "none"
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
        .str.replace_all(r"\s*,\s*", ",")
        .str.replace_all(r"[\s_]+", "-")
    )
    return pl.when(out.str.len_chars() > 0).then(out)


def _lookup() -> pl.DataFrame:
    """Normalised key -> catalogue row (ids and aliases)."""
    cat = _catalogue()
    direct = cat.select(
        pl.col("id").alias("_key"), pl.col("id").alias("license_id"), pl.lit(False).alias("_alias")
    )
    aliases = load_aliases().select(
        pl.col("alias").alias("_key"), pl.col("id").alias("license_id"), pl.lit(True).alias("_alias")
    )
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
    base = revisions.drop([c for c in RESOLVED_COLUMNS if c in revisions.columns])
    base = base.with_columns(
        pl.lit(None, dtype=pl.String).alias(c)
        for c in ("license_raw", "license_name")
        if c not in base.columns
    )
    tags = (
        pl.col("license_tags") if "license_tags" in base.columns else pl.lit(None, dtype=pl.List(pl.String))
    )
    # Only the licence columns travel through the joins; the result is stacked back beside the input.
    narrow = (
        base.lazy()
        .select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_ord"),
            "license_raw",
            "license_name",
            tags.list.join(",").alias("_tags_raw"),
            normalise_license(pl.col("license_raw")).alias("_raw"),
            normalise_license(pl.col("license_name")).alias("_name"),
            normalise_license(tags.list.join(",")).alias("_tags"),
        )
        .with_columns(
            pl.coalesce("_raw", "_tags").alias("_declared"),
            (pl.col("_raw").str.contains(",", literal=True) | pl.col("_tags").str.contains(",", literal=True))
            .fill_null(False)
            .alias("_list"),
            (pl.col("_raw") != pl.col("_tags")).fill_null(False).alias("_conflict"),
        )
        .with_columns(
            pl.when((pl.col("_declared") == "other") & pl.col("_name").is_not_null())
            .then(pl.col("_name"))
            .otherwise(pl.col("_declared"))
            .alias("_key")
        )
        .collect(engine="streaming")
    )
    resolved = narrow.lazy().join(_lookup().lazy(), on="_key", how="left", maintain_order="left")
    lists = narrow.filter(pl.col("_list"))
    if lists.height:
        # Declared lists are rare: resolve them apart and overlay the result on their rows.
        fix = _resolve_lists(lists)
        cols = [c for c in fix.columns if c != "_ord"]
        resolved = (
            resolved.join(
                fix.lazy().rename({c: f"{c}__list" for c in cols}),
                on="_ord",
                how="left",
                maintain_order="left",
            )
            .with_columns(
                pl.when(pl.col("_list")).then(pl.col(f"{c}__list")).otherwise(pl.col(c)).alias(c)
                for c in cols
            )
            .drop([f"{c}__list" for c in cols])
        )
    out = _finish(resolved).select("_ord", *RESOLVED_COLUMNS).collect(engine="streaming")
    if not out["_ord"].is_sorted():
        out = out.sort("_ord")
    return base.hstack(out.drop("_ord").get_columns())


def _resolve_lists(lists: pl.DataFrame) -> pl.DataFrame:
    """Rows with a list: compare card and tags as sets; every member must map; the most restrictive decides."""
    sorted_ids = {
        c: pl.col(c).str.split(",").list.eval(pl.element().unique().sort()).list.join(",")
        for c in ("_raw", "_tags")
    }
    keyed = lists.with_columns(
        (sorted_ids["_raw"] != sorted_ids["_tags"]).fill_null(False).alias("_conflict"),
        sorted_ids["_raw"].alias("_rawset"),
    )
    members = (
        keyed.filter(pl.col("_key").str.contains(",", literal=True))
        .select("_ord", pl.col("_key").str.split(",").alias("_member"))
        .explode("_member")
        .join(_lookup().rename({"_key": "_member"}), on="_member", how="left")
        .with_columns(
            pl.col("license_family")
            .replace_strict(_RESTRICTIVENESS, list(range(len(_RESTRICTIVENESS))), default=0)
            .alias("_r"),
            pl.col("commercial_use").replace_strict(_COMMERCIAL_ORDER, list(range(4)), default=0).alias("_c"),
        )
        .group_by("_ord")
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
    single = (
        keyed.filter(~pl.col("_key").str.contains(",", literal=True).fill_null(True))
        .select("_ord", "_conflict", "_key")
        .join(_lookup(), on="_key", how="left")
    )
    listed = (
        keyed.select("_ord", "_conflict")
        .join(members, on="_ord", how="inner")
        .with_columns(
            pl.when(~pl.col("_any_unmapped")).then(pl.col("license_id")).alias("license_id"),
            pl.when(~pl.col("_any_unmapped"))
            .then(pl.col("_r").replace_strict(list(range(len(_RESTRICTIVENESS))), _RESTRICTIVENESS))
            .alias("license_family"),
            pl.when(~pl.col("_any_unmapped"))
            .then(pl.col("_c").replace_strict(list(range(4)), _COMMERCIAL_ORDER))
            .alias("commercial_use"),
            pl.lit(None, dtype=pl.String).alias("spdx_id"),
            pl.col("_members").alias("_key"),
        )
    )
    cols = [
        "_ord",
        "_conflict",
        "_key",
        "license_id",
        "spdx_id",
        "license_family",
        "osi_approved",
        "commercial_use",
        "license_mot_open",
        "_alias",
    ]
    return pl.concat([single.select(cols), listed.select(cols)], how="vertical_relaxed")


def _finish(df: pl.LazyFrame) -> pl.LazyFrame:
    """Status, the final columns per status, and the JSON evidence of what was read."""
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
            pl.when(pl.col("_tags_raw").str.len_chars() > 0).then(
                js_obj([("field", pl.lit('"license_tags"')), ("value", js_str(pl.col("_tags_raw")))])
            ),
            pl.when(mapped & pl.col("_alias").fill_null(False)).then(
                js_obj([("field", pl.lit('"alias"')), ("value", js_str(pl.col("_key")))])
            ),
            pl.when(pl.col("license_status") == "conflict").then(
                pl.lit('{"field":"conflict","value":"card license != license:* tags"}')
            ),
        ]
    )
    return df.with_columns(
        pl.when(mapped)
        .then(pl.col("license_id"))
        .when(pl.col("license_status") == "unmapped")
        .then(pl.col("_key"))
        .alias("license_id"),
        pl.when(mapped).then(pl.col("spdx_id")).alias("spdx_id"),
        pl.when(mapped)
        .then(pl.col("license_family"))
        .when(pl.col("license_status") != "missing")
        .then(pl.lit("unknown"))
        .otherwise(pl.lit(NO_LICENCE))
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
