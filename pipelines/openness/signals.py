"""Per-revision signals (files, card sections, code links, papers, datasets) that component rules read.

One row per revision, keyed by `_rid` (the row's position in the input); every step is a Polars
expression, a join or a group-by.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.openness.catalogue import load_catalogue, resolve_licenses
from pipelines.openness.jsonexpr import js_escape

READ_STATUSES = ("ok", "malformed_yaml", "non_utf8", "oversized")  # the card's text was read
KNOWN_STATUSES = (*READ_STATUSES, "missing")  # we know what the card says (missing: nothing)
PAPERS_SCHEMA: dict[str, pl.DataType] = {
    "arxiv_id": pl.String,
    "title": pl.String,
    "journal_ref": pl.String,
    "doi": pl.String,
    "published": pl.Datetime("us", "UTC"),
    "comment": pl.String,
    "license_url": pl.String,
}


def _rx(pattern: str) -> str:
    return f"(?i){pattern}"


def _first_file(pattern: str, *, exclude: list[str] | None = None) -> pl.Expr:
    """The first path in `files` that matches `pattern` and none of `exclude`."""
    cond = pl.element().str.contains(_rx(pattern))
    for ex in exclude or []:
        cond = cond & ~pl.element().str.contains(_rx(ex))
    return pl.col("files").list.eval(pl.element().filter(cond)).list.first()


def _first_line(column: str, pattern: str) -> pl.Expr:
    """The first entry of a list column matching `pattern` (searched once over the joined lines)."""
    return pl.col(column).str.extract(f"(?im)^([^\\n]*?{pattern}[^\\n]*)$", 1)


def revision_signals(
    revisions: pl.DataFrame, datasets: pl.DataFrame, papers: pl.DataFrame, *, rubric: dict[str, Any]
) -> pl.DataFrame:
    """Signals for each revision: the inputs of every component rule, one row per revision."""
    pat = rubric["patterns"]
    df = revisions if "license_status" in revisions.columns else resolve_licenses(revisions)
    df = df.with_row_index("_rid")
    for col, dtype in (("files", pl.List(pl.String)), ("card_sections", pl.List(pl.String)), ("code_urls", pl.List(pl.String)),
                       ("arxiv_ids", pl.List(pl.String)), ("datasets", pl.List(pl.String)), ("has_weights", pl.Boolean),
                       ("has_model_index", pl.Boolean), ("library_name", pl.String), ("readme_status", pl.String),
                       ("gated", pl.String), ("eval_datasets", pl.List(pl.String)), ("card_bytes", pl.Int64)):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    libs = rubric["open_code_libraries"]
    cat = load_catalogue()
    open_ids = set(cat.filter(pl.col("mot_open"))["id"].to_list())
    weights_exclude = [pat["non_weight_file"], pat["intermediate_dir"]]
    sig = df.select(
        "_rid",
        "repo_id",
        "revision",
        js_escape(pl.col("repo_id")).alias("_repo"),
        "gated",
        "readme_status",
        "license_id",
        "license_family",
        "license_status",
        "license_mot_open",
        pl.col("files").is_not_null().alias("files_known"),
        _first_file(pat["weight_file"], exclude=weights_exclude).alias("w_file"),
        _first_file(pat["intermediate_dir"] + ".*" + pat["weight_file"], exclude=[pat["non_weight_file"]]).alias("inter_file"),
        _first_file(pat["architecture_config"]).alias("config_file"),
        _first_file(pat["custom_code"]).alias("custom_file"),
        _first_file(pat["python_file"]).alias("py_file"),
        _first_file(pat["inference_code"]).alias("infer_file"),
        _first_file(pat["training_code"]).alias("train_file"),
        _first_file(pat["evaluation_code"]).alias("eval_file"),
        _first_file(pat["preprocessing_code"]).alias("prep_file"),
        _first_file(pat["model_metadata"]).alias("meta_file"),
        "has_weights",
        pl.col("card_bytes").alias("card_bytes_"),
        pl.col("library_name").str.to_lowercase().alias("library"),
        pl.col("library_name").str.to_lowercase().replace_strict(libs, default=None, return_dtype=pl.String).alias("lib_license_id"),
        pl.col("readme_status").is_in(list(KNOWN_STATUSES)).fill_null(False).alias("card_known"),
        pl.col("readme_status").is_in(list(READ_STATUSES)).fill_null(False).alias("card_read"),
        pl.col("has_model_index").fill_null(False).alias("model_index"),
        pl.col("eval_datasets").list.len().fill_null(0).alias("n_eval_ds"),
        pl.col("eval_datasets").list.first().alias("first_eval_ds"),
        pl.col("card_sections").list.join("\n").alias("_sections"),
        pl.col("code_urls").list.join("\n").alias("_code"),
        pl.col("code_urls").list.len().fill_null(0).alias("n_code_urls"),
        pl.col("code_urls").list.first().alias("first_code_url"),
        pl.col("arxiv_ids").list.len().fill_null(0).alias("n_arxiv"),
        pl.col("arxiv_ids").list.first().alias("first_arxiv"),
        pl.col("datasets").list.len().fill_null(0).alias("n_ds"),
        pl.col("datasets").list.first().alias("first_ds"),
    )
    sig = sig.with_columns(
        pl.col("lib_license_id").is_in(list(open_ids)).alias("lib_open"),
        pl.when(pl.col("files_known")).then(pl.col("w_file").is_not_null()).otherwise(pl.col("has_weights")).alias("has_w"),
        *[
            _first_line("_sections", pat[f"section_{name}"]).alias(f"sec_{name}")
            for name in ("training", "evaluation", "data", "limitations", "intended_use", "sample_outputs")
        ],
        *[_first_line("_code", pat[f"code_url_{name}"]).alias(f"url_{name}") for name in ("training", "evaluation", "preprocessing")],
    ).drop("_sections", "_code")
    sig = sig.join(_paper_signals(df, papers, rubric), on="_rid", how="left")
    sig = sig.join(_dataset_signals(df, datasets, rubric), on="_rid", how="left")
    return sig


def _family_token(repo_id: pl.Expr, rubric: dict[str, Any]) -> pl.Expr:
    cfg = rubric["own_paper"]
    token = repo_id.str.split("/").list.last().str.to_lowercase().str.extract(r"^([a-z]+)", 1)
    ok = (token.str.len_chars() >= cfg["min_token_chars"]) & ~token.is_in(cfg["stop_tokens"])
    return pl.when(ok).then(token)


def _paper_signals(df: pl.DataFrame, papers: pl.DataFrame, rubric: dict[str, Any]) -> pl.DataFrame:
    """Per revision: its own paper (title names the model family), a published paper, the documents' licence."""
    papers = papers if papers.width else pl.DataFrame(schema=PAPERS_SCHEMA)
    lic_map = {k.lower(): v for k, v in rubric["arxiv_licenses"].items()}
    meta = papers.select(
        "arxiv_id",
        pl.col("title").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "").alias("_title"),
        (pl.col("journal_ref").str.len_chars().fill_null(0).gt(0) | pl.col("doi").str.len_chars().fill_null(0).gt(0)).alias("_published"),
        pl.col("license_url")
        .str.to_lowercase()
        .str.replace(r"^https?://(www\.)?", "")
        .str.strip_chars_end("/")
        .replace_strict(lic_map, default=None, return_dtype=pl.String)
        .alias("_doc_license"),
    ).unique("arxiv_id", keep="first")
    cited = (
        df.filter(pl.col("arxiv_ids").list.len() > 0)
        .select("_rid", _family_token(pl.col("repo_id"), rubric).alias("_token"), pl.col("arxiv_ids").alias("arxiv_id"))
        .explode("arxiv_id")
        .join(meta, on="arxiv_id", how="left")
        .with_columns(pl.col("_title").str.contains(pl.col("_token"), literal=True).fill_null(False).alias("_own"))
    )
    return cited.group_by("_rid").agg(
        pl.col("arxiv_id").filter(pl.col("_own")).first().alias("own_paper"),
        (pl.col("_own") & pl.col("_published").fill_null(False)).any().alias("own_published"),
        pl.col("arxiv_id").filter(pl.col("_published").fill_null(False)).first().alias("published_paper"),
        pl.col("_title").is_not_null().sum().alias("n_paper_meta"),
        pl.coalesce(
            pl.col("_doc_license").filter(pl.col("_own")).first(),
            pl.col("_doc_license").drop_nulls().first(),
        ).alias("doc_license_id"),
    )


def _dataset_signals(df: pl.DataFrame, datasets: pl.DataFrame, rubric: dict[str, Any]) -> pl.DataFrame:
    """Per revision: how many named datasets exist, are public, openly licensed and documented."""
    min_card = rubric["datasheet"]["min_dataset_card_bytes"]
    if datasets.height:
        latest = datasets.sort("observed_at", nulls_last=False).unique("dataset_id", keep="last") if "observed_at" in datasets.columns else datasets.unique("dataset_id", keep="last")
        known = resolve_licenses(latest.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("license_tags"))).select(
            "dataset_id",
            pl.col("exists").alias("_exists"),
            (pl.col("exists") & (pl.col("gated") == "false")).alias("_public"),
            (pl.col("exists").not_() | pl.col("gated").is_in(["auto", "manual"])).alias("_closed"),
            pl.when(pl.col("license_status") == "missing").then(pl.lit(False)).otherwise(pl.col("license_mot_open")).alias("_open"),
            pl.col("license_id").alias("_ds_license"),
            ((pl.col("readme_status") == "ok") & (pl.col("card_bytes").fill_null(0) >= min_card)).alias("_card"),
        )
    else:
        known = pl.DataFrame(schema={"dataset_id": pl.String, "_exists": pl.Boolean, "_public": pl.Boolean, "_closed": pl.Boolean,
                                     "_open": pl.Boolean, "_ds_license": pl.String, "_card": pl.Boolean})
    named = (
        df.filter(pl.col("datasets").list.len() > 0)
        .select("_rid", pl.col("datasets").alias("dataset_id"))
        .explode("dataset_id")
        .join(known, on="dataset_id", how="left")
    )
    return named.group_by("_rid").agg(
        pl.col("_exists").is_not_null().sum().alias("n_ds_known"),
        pl.col("_public").fill_null(False).sum().alias("n_ds_public"),
        pl.col("_closed").fill_null(False).sum().alias("n_ds_closed"),
        pl.col("_open").fill_null(False).sum().alias("n_ds_open"),
        pl.col("_open").not_().fill_null(False).sum().alias("n_ds_notopen"),
        pl.col("_card").fill_null(False).sum().alias("n_ds_cards"),
        pl.col("_ds_license").drop_nulls().unique().sort().str.join(",").alias("ds_license_ids"),
    )


def weight_facts(revisions: pl.DataFrame, *, rubric: dict[str, Any]) -> pl.DataFrame:
    """Set `has_weights` and `weight_formats` from `files` with the rubric's patterns (null files -> null)."""
    pat = rubric["patterns"]
    exclude = [pat["non_weight_file"], pat["intermediate_dir"]]
    weights = pl.element().str.contains(_rx(pat["weight_file"]))
    for ex in exclude:
        weights = weights & ~pl.element().str.contains(_rx(ex))
    finals = pl.col("files").list.eval(pl.element().filter(weights))
    formats = [
        pl.when(finals.list.eval(pl.element().str.contains(_rx(rx))).list.any()).then(pl.lit(name))
        for name, rx in pat["weight_formats"].items()
    ]
    return revisions.with_columns(
        (finals.list.len() > 0).alias("has_weights"),
        pl.when(pl.col("files").is_not_null())
        .then(pl.concat_list(formats).list.eval(pl.element().drop_nulls()))
        .alias("weight_formats"),
    )
