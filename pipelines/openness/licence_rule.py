"""The effective licence of a revision from its card and its licence files (docs/rubric.md, "Card and
licence files").

Input: revisions with the card's licence resolved (`resolve_licenses`) and, optionally, the revision's
licence files (core.license_files of model repos: repo_id, revision, path, file_kind, license_id,
license_family, score, coverage, matched_rule). The card's licence is kept beside as `declared_*`, the
files' as `file_*`; `license_id` / `license_family` / `license_status` / `license_mot_open` become the
effective licence by the rule, and `license_conflict` says whether card and files disagree. Without
licence files (None) the licence columns are left exactly as the card gave them.
"""

from __future__ import annotations

import polars as pl

from pipelines.openness.catalogue import _RESTRICTIVENESS, load_catalogue
from pipelines.openness.jsonexpr import js_obj, js_str

S = pl.col
KEY = ["repo_id", "revision"]
# The licence columns of an openness row added by this rule (documented in pipelines/tables.py).
LICENCE_COLUMNS: dict[str, pl.DataType] = {
    "declared_license_id": pl.String,
    "declared_license_family": pl.String,
    "file_license_id": pl.String,
    "file_license_family": pl.String,
    "license_source": pl.String,
    "license_conflict": pl.Boolean,
    "license_conflict_evidence": pl.String,
}
LICENSE_FILES_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,
    "revision": pl.String,
    "path": pl.String,
    "file_kind": pl.String,
    "license_id": pl.String,
    "license_family": pl.String,
    "score": pl.Float64,
    "coverage": pl.Float64,
    "matched_rule": pl.String,
}
# The card's own columns, saved so that applying the rule twice gives the same result.
_CARD = {
    "license_id": "declared_license_id",
    "license_family": "declared_license_family",
    "license_status": "_card_license_status",
    "license_mot_open": "_card_license_mot_open",
}
_CARD_ALSO = ("spdx_id", "osi_approved", "commercial_use")
_RANK = {fam: i for i, fam in enumerate(_RESTRICTIVENESS)}  # lower = more restrictive
# A version number inside a catalogue id (llama3.1, gpl-3.0, cc-by-4.0, falcon-2): removed to name the
# licence itself, so that versions of one licence compare equal.
_VERSION = r"[-_.]?v?\d+(\.\d+)*"
# Card values that name no licence: the effective licence then comes from the files.
NAMELESS = ("other", "unknown")


def _stem(ids: pl.Expr) -> pl.Expr:
    """The licence names of a (comma-separated) id without their versions, sorted and joined."""
    return (
        ids.str.split(",")
        .list.eval(pl.element().str.replace_all(_VERSION, "").str.strip_chars("-"))
        .list.unique()
        .list.sort()
        .list.join(",")
    )


def _frame(license_files: pl.DataFrame) -> pl.DataFrame:
    """The licence-file rows with every expected column (missing ones null), policy documents left out."""
    lf = license_files.with_columns(
        pl.lit(None, dtype=t).alias(c)
        for c, t in LICENSE_FILES_SCHEMA.items()
        if c not in license_files.columns
    )
    lf = lf.select([S(c).cast(t) for c, t in LICENSE_FILES_SCHEMA.items()])
    bad = lf.filter(S("file_kind").is_not_null() & ~S("file_kind").is_in(["licence", "policy"]))
    if bad.height:
        raise ValueError(
            f"license_files: file_kind must be 'licence' or 'policy', got {bad['file_kind'][0]!r}"
        )
    return lf.filter(S("file_kind") == "licence")


def file_licences(license_files: pl.DataFrame) -> pl.DataFrame:
    """One row per (repo_id, revision) with licence files: the licence they give and its evidence.

    `file_license_id` joins the distinct ids of all licence files, sorted ("unknown" among them when a
    file was not identified); `file_license_family` is the most restrictive family of the files (unknown
    first, as for a declared list); `_file_mot_open` is true only when every id is open for the MOT;
    `_file_evidence` is a JSON array of the files (path, id, family, score, coverage, matched rule).
    """
    lf = _frame(license_files).with_columns(
        S("license_id").fill_null("unknown"),
        S("license_family").fill_null("unknown"),
    )
    mot_open = dict(load_catalogue().select("id", "mot_open").iter_rows())
    per_file = lf.with_columns(
        js_obj(
            [
                ("path", js_str(S("path"))),
                ("license_id", js_str(S("license_id"))),
                ("license_family", js_str(S("license_family"))),
                ("score", S("score").cast(pl.String)),
                ("coverage", S("coverage").cast(pl.String)),
                ("matched_rule", js_str(S("matched_rule"))),
            ]
        ).alias("_obj"),
        S("license_family").replace_strict(_RANK, default=0, return_dtype=pl.Int64).alias("_rank"),
    )
    ids = S("license_id").str.split(",").list.eval(pl.element().str.strip_chars()).explode()
    files = per_file.group_by(KEY).agg(
        S("_rank").min().alias("_rank"),
        S("_obj").sort_by("path").str.join(",").alias("_objs"),
        ids.unique().sort().str.join(",").alias("file_license_id"),
        ids.replace_strict(mot_open, default=None, return_dtype=pl.Boolean).alias("_opens"),
    )
    return files.with_columns(
        pl.when(S("_opens").list.eval(pl.element().is_null()).list.any())
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(S("_opens").list.all())
        .alias("_file_mot_open"),
        S("_rank")
        .replace_strict(list(_RANK.values()), list(_RANK), return_dtype=pl.String)
        .alias("file_license_family"),
        pl.concat_str([pl.lit("["), S("_objs"), pl.lit("]")]).alias("_file_evidence"),
    ).select(*KEY, "file_license_id", "file_license_family", "_file_mot_open", "_file_evidence")


def apply_licence_files(revisions: pl.DataFrame, license_files: pl.DataFrame | None) -> pl.DataFrame:
    """The revisions with the effective licence by the rule of docs/rubric.md and the columns of both sides.

    `revisions` must carry the card's resolved licence (resolve_licenses). With `license_files` None the
    licence columns stay the card's and the file columns are null; applying the rule to its own output
    starts again from the card's licence (the rule is idempotent).
    """
    df = revisions
    if "_card_license_status" in df.columns:  # already applied: start from the card's licence again
        df = df.with_columns(S(saved).alias(col) for col, saved in _CARD.items())
        df = df.with_columns(S(f"_card_{c}").alias(c) for c in _CARD_ALSO if f"_card_{c}" in df.columns)
        df = df.drop(
            [
                c
                for c in df.columns
                if c.startswith("_card_") or c in LICENCE_COLUMNS or c.startswith("_file_")
            ]
        )
    for col in ("license_mot_open", *_CARD_ALSO):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Boolean if col != "spdx_id" else pl.String).alias(col))
    df = df.with_columns(
        *[S(col).alias(saved) for col, saved in _CARD.items()],
        *[S(c).alias(f"_card_{c}") for c in _CARD_ALSO],
    )
    if license_files is None:
        return df.with_columns(
            pl.lit(None, dtype=pl.String).alias("file_license_id"),
            pl.lit(None, dtype=pl.String).alias("file_license_family"),
            pl.when(S("license_status") != "missing").then(pl.lit("card")).alias("license_source"),
            pl.lit(None, dtype=pl.Boolean).alias("license_conflict"),
            pl.lit(None, dtype=pl.String).alias("license_conflict_evidence"),
            pl.lit(None, dtype=pl.Boolean).alias("_file_mot_open"),
            pl.lit(None, dtype=pl.String).alias("_file_evidence"),
        )
    files = file_licences(license_files)
    df = df.join(files, on=KEY, how="left", maintain_order="left")
    card_status, card_id, card_family = (
        S("_card_license_status"),
        S("declared_license_id"),
        S("declared_license_family"),
    )
    # The card names no licence: nothing declared, `other` without a name, `unknown`, an unmapped name.
    card_nameless = (
        (card_status == "missing")
        | (card_status == "unmapped")
        | ((card_status == "mapped") & (card_id.is_in(NAMELESS) | (card_family == "unknown")))
    )
    card_named = (card_status == "mapped") & ~card_nameless
    has_files = S("file_license_id").is_not_null()
    files_named = has_files & (S("file_license_family") != "unknown")
    consistent = (card_id == S("file_license_id")) | (
        (card_family == S("file_license_family")) & (_stem(card_id) == _stem(S("file_license_id")))
    )
    conflict = pl.when(card_named & files_named).then(~consistent)
    card_rank = card_family.replace_strict(_RANK, default=0, return_dtype=pl.Int64)
    file_rank = S("file_license_family").replace_strict(_RANK, default=0, return_dtype=pl.Int64)
    use_files = (has_files & card_nameless) | (conflict.fill_null(False) & (file_rank <= card_rank))
    df = df.with_columns(conflict.alias("license_conflict"), use_files.fill_null(False).alias("_use_files"))
    cat = load_catalogue().select(
        S("id").alias("_fid"),
        S("spdx_id").alias("_f_spdx"),
        S("osi_approved").alias("_f_osi"),
        S("commercial_use").alias("_f_comm"),
    )
    df = df.join(cat, left_on="file_license_id", right_on="_fid", how="left", maintain_order="left")
    side = js_obj(
        [("license_id", js_str(card_id)), ("license_family", js_str(card_family))]
        + ([("evidence", S("license_evidence"))] if "license_evidence" in df.columns else [])
    )
    evidence = js_obj(
        [
            ("card", side),
            ("files", S("_file_evidence")),
            ("effective", pl.when(S("_use_files")).then(pl.lit('"files"')).otherwise(pl.lit('"card"'))),
            ("rule", pl.lit('"the more restrictive of card and files; the files on equal families"')),
        ]
    )
    use = S("_use_files")
    return df.with_columns(
        pl.when(use).then(S("file_license_id")).otherwise(S("license_id")).alias("license_id"),
        pl.when(use).then(S("file_license_family")).otherwise(S("license_family")).alias("license_family"),
        pl.when(use)
        .then(
            pl.when(S("file_license_family") == "unknown")
            .then(pl.lit("unmapped"))
            .otherwise(pl.lit("mapped"))
        )
        .otherwise(S("license_status"))
        .alias("license_status"),
        pl.when(use).then(S("_file_mot_open")).otherwise(S("license_mot_open")).alias("license_mot_open"),
        pl.when(use).then(S("_f_spdx")).otherwise(S("spdx_id")).alias("spdx_id"),
        pl.when(use).then(S("_f_osi")).otherwise(S("osi_approved")).alias("osi_approved"),
        pl.when(use)
        .then(S("_f_comm").fill_null("unknown"))
        .otherwise(S("commercial_use"))
        .alias("commercial_use"),
        pl.when(use)
        .then(pl.lit("files"))
        .when(S("license_status") != "missing")
        .then(pl.lit("card"))
        .alias("license_source"),
        pl.when(S("license_conflict").fill_null(False)).then(evidence).alias("license_conflict_evidence"),
    ).drop("_use_files", "_f_spdx", "_f_osi", "_f_comm")
