"""Per-revision signals (files, card sections, code links, papers, datasets) that component rules read.

One row per revision, keyed by `_rid` (the row's position in the input). Every step is a Polars
expression, a join or a group-by; expensive string work runs only on the rows (or the distinct values)
that can match, and the result is joined back by `_rid`.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.hub.schema import DATASETS_SCHEMA
from pipelines.openness.catalogue import load_catalogue, resolve_licenses
from pipelines.openness.code_evidence import SIGNAL_COLUMNS as CODE_SIGNAL_COLUMNS
from pipelines.openness.code_evidence import release_code_signals
from pipelines.openness.jsonexpr import HF, js_escape
from pipelines.openness.licence_rule import apply_licence_files

READ_STATUSES = ("ok", "malformed_yaml", "non_utf8", "oversized")  # the card's text was read
KNOWN_STATUSES = (*READ_STATUSES, "missing")  # we know what the card says (missing: nothing)
SECTION_KINDS = ("training", "evaluation", "data", "limitations", "intended_use", "sample_outputs")
CODE_FILE_KINDS = ("custom_code", "inference_code", "training_code", "evaluation_code", "preprocessing_code")
PAPERS_SCHEMA: dict[str, pl.DataType] = {
    "arxiv_id": pl.String,
    "title": pl.String,
    "journal_ref": pl.String,
    "doi": pl.String,
    "published": pl.Datetime("us", "UTC"),
    "comment": pl.String,
    "license_url": pl.String,
}
_OPTIONAL: dict[str, pl.DataType] = {
    "files": pl.List(pl.String),
    "card_sections": pl.List(pl.String),
    "code_urls": pl.List(pl.String),
    "arxiv_ids": pl.List(pl.String),
    "datasets": pl.List(pl.String),
    "eval_datasets": pl.List(pl.String),
    "has_weights": pl.Boolean,
    "has_model_index": pl.Boolean,
    "library_name": pl.String,
    "readme_status": pl.String,
    "gated": pl.String,
    "card_bytes": pl.Int64,
}
S = pl.col


def _rx(pattern: str) -> str:
    return f"(?i){pattern}"


def _first_file(pattern: str, *, exclude: str | None = None) -> pl.Expr:
    """The first path in `files` that matches `pattern` (and not `exclude`)."""
    cond = pl.element().str.contains(_rx(pattern))
    if exclude:
        cond = cond & ~pl.element().str.contains(_rx(exclude))
    return S("files").list.eval(pl.element().filter(cond)).list.first()


def _first_line(column: str, pattern: str) -> pl.Expr:
    """The first line of a newline-joined list column that matches `pattern`."""
    return S(column).str.extract(f"(?im)^([^\\n]*?{pattern}[^\\n]*)$", 1)


def _esc(col: str, name: str) -> pl.Expr:
    return js_escape(S(col)).alias(name)


def revision_signals(
    revisions: pl.DataFrame,
    datasets: pl.DataFrame,
    papers: pl.DataFrame,
    *,
    rubric: dict[str, Any],
    code: pl.DataFrame | None = None,
    license_files: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Signals for each revision: the inputs of every component rule, one row per revision.

    `code` (the release's linked code repos) and `license_files` (the revision's licence files) are
    optional evidence (see code_evidence.py and licence_rule.py); None leaves their signals null.
    """
    pat = rubric["patterns"]
    df = revisions if "license_status" in revisions.columns else resolve_licenses(revisions)
    df = apply_licence_files(df, license_files)
    df = df.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in _OPTIONAL.items() if c not in df.columns)
    df = df.with_row_index("_rid")
    code_part = pl.DataFrame(schema={"_rid": pl.UInt32, **CODE_SIGNAL_COLUMNS})
    if code is not None:
        kept, code_part = release_code_signals(df, code)
        # Supporting libraries are not the release's own code: the code-link rules do not see them.
        if kept.height:
            kept = kept.select(pl.col("_rid").cast(pl.UInt32), pl.col("code_urls").alias("_kept_urls"))
            df = (
                df.join(kept, on="_rid", how="left", maintain_order="left")
                .with_columns(pl.coalesce("_kept_urls", "code_urls").alias("code_urls"))
                .drop("_kept_urls")
            )
        code_part = code_part.with_columns(pl.col("_rid").cast(pl.UInt32))
    libs = rubric["open_code_libraries"]
    open_ids = load_catalogue().filter(S("mot_open"))["id"].to_list()
    non_weight = f"({pat['non_weight_file']})|({pat['intermediate_dir']})"

    main = (
        df.lazy()
        .select(
            "_rid",
            "repo_id",
            "revision",
            "gated",
            "readme_status",
            "license_id",
            "license_family",
            "license_status",
            "license_mot_open",
            "file_license_id",
            "file_license_family",
            "_file_mot_open",
            S("card_bytes").alias("card_bytes_"),
            S("files").is_not_null().alias("files_known"),
            _first_file(pat["weight_file"], exclude=non_weight).alias("w_file"),
            _first_file(pat["architecture_config"]).alias("config_file"),
            _first_file(pat["model_metadata"]).alias("meta_file"),
            S("files").list.join("\n").alias("_files"),
            "has_weights",
            S("library_name").str.to_lowercase().alias("library"),
            S("library_name")
            .str.to_lowercase()
            .replace_strict(libs, default=None, return_dtype=pl.String)
            .alias("lib_license_id"),
            S("readme_status").is_in(list(KNOWN_STATUSES)).fill_null(False).alias("card_known"),
            S("readme_status").is_in(list(READ_STATUSES)).fill_null(False).alias("card_read"),
            S("has_model_index").fill_null(False).alias("model_index"),
            S("eval_datasets").list.len().fill_null(0).alias("n_eval_ds"),
            S("eval_datasets").list.first().alias("first_eval_ds"),
            S("card_sections").list.join("\n").alias("_sections"),
            S("code_urls").list.len().fill_null(0).alias("n_code_urls"),
            S("arxiv_ids").list.len().fill_null(0).alias("n_arxiv"),
            S("arxiv_ids").list.first().alias("first_arxiv"),
            S("datasets").list.len().fill_null(0).alias("n_ds"),
            S("datasets").list.first().alias("first_ds"),
        )
        .with_columns(
            S("lib_license_id").is_in(open_ids).alias("lib_open"),
            pl.when(S("files_known"))
            .then(S("w_file").is_not_null())
            .otherwise(S("has_weights"))
            .alias("has_w"),
            S("_files").str.contains("(?im)" + _line(pat["python_file"])).fill_null(False).alias("has_py"),
            # JSON-escaped values and URL prefixes, computed once per revision for all component evidence.
            *[
                _esc(c, f"_e_{c}")
                for c in (
                    "w_file",
                    "config_file",
                    "meta_file",
                    "library",
                    "first_eval_ds",
                    "first_arxiv",
                    "first_ds",
                )
            ],
            S("readme_status").alias("_e_readme_status"),  # an enum of the crawler: nothing to escape
            pl.concat_str(
                [pl.lit(HF), js_escape(S("repo_id")), pl.lit("/blob/"), S("revision"), pl.lit("/")]
            ).alias("_blob"),
            pl.concat_str([pl.lit(HF), js_escape(S("repo_id")), pl.lit("/commit/"), S("revision")]).alias(
                "_commit"
            ),
        )
    )
    main = main.collect(engine="streaming")
    parts = [
        _code_file_signals(main, pat),
        _intermediate_signals(main, pat),
        _section_signals(main, pat),
        _code_url_signals(df, pat),
        _paper_signals(df, papers, rubric),
        _dataset_signals(df, datasets, rubric),
        code_part,
    ]
    return main.drop("_files", "_sections").hstack(_scatter(parts, main.height))


def _scatter(parts: list[pl.DataFrame], n: int) -> list[pl.Series]:
    """Full-length columns from per-subset frames keyed by `_rid` (the row position): null where absent."""
    out = []
    for part in parts:
        for name in part.columns:
            if name == "_rid":
                continue
            full = pl.select(pl.repeat(None, n, dtype=part.schema[name]).alias(name)).to_series()
            out.append(full.scatter(part["_rid"], part[name]) if part.height else full)
    return out


def _line(pattern: str) -> str:
    """A path pattern made safe for newline-joined paths: `[^/]` must not run across lines."""
    return pattern.replace("[^/]", "[^/\\n]")


def _first_path(pattern: str) -> pl.Expr:
    """The first path of the newline-joined `_files` matching a path pattern."""
    return S("_files").str.extract(f"(?im)^([^\\n]*?{_line(pattern)})$", 1)


def _code_file_signals(main: pl.DataFrame, pat: dict[str, Any]) -> pl.DataFrame:
    """Code files in the repo (modelling, inference, training, evaluation, preprocessing): only repos with code."""
    # A cheap pre-filter: every code pattern in rubric.yml ends in one of these extensions.
    cand = main.lazy().filter(S("_files").str.contains(r"(?i)\.(py|sh|ipynb|ya?ml)(\n|$)").fill_null(False))
    found = cand.select("_rid", *[_first_path(pat[kind]).alias(f"{kind}_file") for kind in CODE_FILE_KINDS])
    return found.with_columns(_esc(f"{k}_file", f"_e_{k}_file") for k in CODE_FILE_KINDS).collect(
        engine="streaming"
    )


def _intermediate_signals(main: pl.DataFrame, pat: dict[str, Any]) -> pl.DataFrame:
    """A weight file inside a checkpoint/step folder: only repos whose paths name such a folder."""
    # A cheap pre-filter: the words of rubric.yml patterns.intermediate_dir (keep the two in step).
    words = ["checkpoint", "step", "iter", "epoch", "intermediate", "ckpt"]
    cand = main.lazy().filter(
        S("_files").str.contains_any(words, ascii_case_insensitive=True).fill_null(False)
    )
    cond = pl.element().str.contains(
        _rx(pat["intermediate_dir"] + ".*" + pat["weight_file"])
    ) & ~pl.element().str.contains(_rx(pat["non_weight_file"]))
    first = S("_files").str.split("\n").list.eval(pl.element().filter(cond)).list.first()
    return (
        cand.select("_rid", first.alias("inter_file"))
        .with_columns(_esc("inter_file", "_e_inter_file"))
        .collect(engine="streaming")
    )


def _section_signals(main: pl.DataFrame, pat: dict[str, Any]) -> pl.DataFrame:
    """The first card heading of each kind, computed once per distinct heading list (cards are templated)."""
    keyed = main.lazy().filter(S("_sections").str.len_bytes() > 0).select("_rid", "_sections")
    distinct = (
        keyed.select("_sections")
        .unique()
        .with_columns(
            _first_line("_sections", pat[f"section_{kind}"]).alias(f"sec_{kind}") for kind in SECTION_KINDS
        )
        .with_columns(_esc(f"sec_{kind}", f"_e_sec_{kind}") for kind in SECTION_KINDS)
    )
    return keyed.join(distinct, on="_sections", how="left").drop("_sections").collect(engine="streaming")


def _code_url_signals(df: pl.DataFrame, pat: dict[str, Any]) -> pl.DataFrame:
    """The first code URL that names training, evaluation or preprocessing code."""
    cand = (
        df.lazy()
        .filter(S("code_urls").list.len() > 0)
        .select("_rid", S("code_urls").list.join("\n").alias("_code"))
    )
    kinds = ("training", "evaluation", "preprocessing")
    found = cand.select(
        "_rid", *[_first_line("_code", pat[f"code_url_{k}"]).alias(f"url_{k}") for k in kinds]
    )
    return found.with_columns(_esc(f"url_{k}", f"_e_url_{k}") for k in kinds).collect(engine="streaming")


def _family_token(repo_id: pl.Expr, rubric: dict[str, Any]) -> pl.Expr:
    cfg = rubric["own_paper"]
    token = repo_id.str.split("/").list.last().str.to_lowercase().str.extract(r"^([a-z]+)", 1)
    ok = (token.str.len_chars() >= cfg["min_token_chars"]) & ~token.is_in(cfg["stop_tokens"])
    return pl.when(ok).then(token)


def _paper_signals(df: pl.DataFrame, papers: pl.DataFrame, rubric: dict[str, Any]) -> pl.DataFrame:
    """Per revision: its own paper (title names the model family), published or not, the documents' licence.
    Only a paper with metadata (status `found`) can be the own paper: one without (`not_found`, `unrecorded`
    by a recording that does not hold it, `error`) decides nothing, so a release citing only such papers
    keeps the paper components unknown (cited, own paper not known), never `fails`."""
    papers = papers.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in PAPERS_SCHEMA.items() if c not in papers.columns
    )
    lic_map = {k.lower(): v for k, v in rubric["arxiv_licenses"].items()}
    meta = (
        papers.lazy()
        .select(
            "arxiv_id",
            S("title").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "").alias("_title"),
            (
                S("journal_ref").str.len_chars().fill_null(0).gt(0)
                | S("doi").str.len_chars().fill_null(0).gt(0)
            ).alias("_published"),
            S("license_url")
            .str.to_lowercase()
            .str.replace(r"^https?://(www\.)?", "")
            .str.strip_chars_end("/")
            .replace_strict(lic_map, default=None, return_dtype=pl.String)
            .alias("_doc_license"),
        )
        .unique("arxiv_id", keep="first")
    )
    cited = (
        df.lazy()
        .filter(S("arxiv_ids").list.len() > 0)
        .select("_rid", _family_token(S("repo_id"), rubric).alias("_token"), S("arxiv_ids").alias("arxiv_id"))
        .explode("arxiv_id")
        .with_columns(pl.int_range(pl.len()).alias("_pos"))
        .join(meta, on="arxiv_id", how="left")
        .with_columns(S("_title").str.contains(S("_token"), literal=True).fill_null(False).alias("_own"))
    )
    own_pos = S("_pos").filter(S("_own"))
    return (
        cited.group_by("_rid")
        .agg(
            S("arxiv_id").filter(S("_own")).sort_by(own_pos).first().alias("own_paper"),
            (S("_own") & S("_published").fill_null(False)).any().alias("own_published"),
            S("_title").is_not_null().sum().alias("n_paper_meta"),
            pl.coalesce(
                S("_doc_license").filter(S("_own")).sort_by(own_pos).first(),
                S("_doc_license").sort_by("_pos").drop_nulls().first(),
            ).alias("doc_license_id"),
        )
        .with_columns(_esc("own_paper", "_e_own_paper"))
        .collect(engine="streaming")
    )


def _dataset_signals(df: pl.DataFrame, datasets: pl.DataFrame, rubric: dict[str, Any]) -> pl.DataFrame:
    """Per revision: how many named datasets are known (exists not null), public, closed (known not to exist,
    or gated), openly licensed and documented. An unknown dataset (exists null: not recorded) counts in none
    of them, so the datasets' verdicts stay unknown rather than closed."""
    min_card = rubric["datasheet"]["min_dataset_card_bytes"]
    schema = {
        "dataset_id": pl.String,
        "_exists": pl.Boolean,
        "_public": pl.Boolean,
        "_closed": pl.Boolean,
        "_open": pl.Boolean,
        "_ds_license": pl.String,
        "_card": pl.Boolean,
    }
    known = pl.DataFrame(schema=schema)
    if datasets.height:
        datasets = datasets.with_columns(
            pl.lit(None, dtype=t).alias(c) for c, t in DATASETS_SCHEMA.items() if c not in datasets.columns
        )
        latest = (
            datasets.sort("observed_at", nulls_last=False) if "observed_at" in datasets.columns else datasets
        )
        latest = latest.unique("dataset_id", keep="last", maintain_order=True)
        resolved = resolve_licenses(latest)
        known = resolved.select(
            "dataset_id",
            S("exists").alias("_exists"),
            (S("exists") & (S("gated") == "false")).alias("_public"),
            (S("exists").not_() | S("gated").is_in(["auto", "manual"])).alias("_closed"),
            # A dataset not recorded (exists null) is unknown: neither open nor not open, never closed.
            pl.when(S("exists").is_null())
            .then(pl.lit(None, dtype=pl.Boolean))
            .when(S("license_status") == "missing")
            .then(pl.lit(False))
            .otherwise(S("license_mot_open"))
            .alias("_open"),
            S("license_id").alias("_ds_license"),
            ((S("readme_status") == "ok") & (S("card_bytes").fill_null(0) >= min_card)).alias("_card"),
        )
    named = (
        df.lazy()
        .filter(S("datasets").list.len() > 0)
        .select("_rid", S("datasets").alias("dataset_id"))
        .explode("dataset_id")
        .join(known.lazy(), on="dataset_id", how="left")
    )
    return (
        named.group_by("_rid")
        .agg(
            S("_exists").is_not_null().sum().alias("n_ds_known"),
            S("_public").fill_null(False).sum().alias("n_ds_public"),
            S("_closed").fill_null(False).sum().alias("n_ds_closed"),
            S("_open").fill_null(False).sum().alias("n_ds_open"),
            S("_open").not_().fill_null(False).sum().alias("n_ds_notopen"),
            S("_card").fill_null(False).sum().alias("n_ds_cards"),
            S("_ds_license").drop_nulls().unique(),
        )
        .with_columns(S("_ds_license").list.eval(pl.element().sort()).list.join(",").alias("ds_license_ids"))
        .drop("_ds_license")
        .collect(engine="streaming")
    )


def weight_facts(revisions: pl.DataFrame, *, rubric: dict[str, Any]) -> pl.DataFrame:
    """Set `has_weights` and `weight_formats` from `files` with the rubric's patterns (null files -> null)."""
    pat = rubric["patterns"]
    non_weight = f"({pat['non_weight_file']})|({pat['intermediate_dir']})"
    weights = pl.element().str.contains(_rx(pat["weight_file"])) & ~pl.element().str.contains(_rx(non_weight))
    finals = S("files").list.eval(pl.element().filter(weights))
    formats = [
        pl.when(finals.list.eval(pl.element().str.contains(_rx(rx))).list.any()).then(pl.lit(name))
        for name, rx in pat["weight_formats"].items()
    ]
    return revisions.with_columns(
        (finals.list.len() > 0).alias("has_weights"),
        pl.when(S("files").is_not_null())
        .then(pl.concat_list(formats).list.eval(pl.element().drop_nulls()))
        .alias("weight_formats"),
    )
