"""MOF component detection for Hub revisions: one row per (revision, component) with evidence.

Rules follow frameworks.md section 3 ("which Hub signals decide which criterion"). Each component is an
ordered list of rules; the first that holds decides `included`, the licence source, the method and the
evidence. When no rule holds, `included` is null and `method` is `unknown`: nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines.openness.catalogue import load_catalogue
from pipelines.openness.jsonexpr import HF, js_array, js_escape, js_str
from pipelines.openness.mof import mot_components
from pipelines.openness.signals import revision_signals

DISCLOSURES_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,
    "revision": pl.String,
    "component": pl.String,
    "component_id": pl.Int8,
    "included": pl.Boolean,
    "license_id": pl.String,
    "is_open": pl.Boolean,
    "evidence": pl.String,
    "method": pl.String,
    "detail": pl.Int8,
    "rubric_version": pl.String,
}
S = pl.col


@dataclass(frozen=True)
class Rule:
    """If `when` holds: `included`, how it was decided, where its licence comes from, and the evidence."""

    when: pl.Expr
    included: bool
    method: str  # declared | inferred
    license: str  # repo | lib | doc | datasets | none
    evidence: tuple[pl.Expr, ...]
    detail: pl.Expr | int = 0


def _file(col: str) -> pl.Expr:
    name = js_escape(S(col))
    return pl.concat_str([pl.lit('{"file":"'), name, pl.lit('","url":"'), S("_blob"), name, pl.lit('"}')])


def _readme(field: str, value: pl.Expr) -> pl.Expr:
    url = pl.concat_str([pl.lit('"'), S("_blob"), pl.lit('README.md"')])
    return pl.concat_str([pl.lit(f'{{"file":"README.md","field":"{field}","value":'), value, pl.lit(',"url":'), url, pl.lit("}")])


def _field(field: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(f'{{"field":"{field}","value":'), value, pl.lit(',"url":"'), S("_commit"), pl.lit('"}')])


def _arxiv(col: str) -> pl.Expr:
    ident = js_escape(S(col))
    return pl.concat_str([pl.lit('{"field":"arxiv_ids","value":"'), ident, pl.lit('","url":"https://arxiv.org/abs/'), ident, pl.lit('"}')])


def _dataset(col: str) -> pl.Expr:
    ident = js_escape(S(col))
    return pl.concat_str(
        [pl.lit('{"field":"datasets","value":"'), ident, pl.lit(f'","url":"{HF}datasets/'), ident, pl.lit('"}')]
    )


def _code(col: str) -> pl.Expr:
    url = js_str(S(col))
    return pl.concat_str([pl.lit('{"field":"code_urls","value":'), url, pl.lit(',"url":'), url, pl.lit("}")])


def _checked(*fields: str) -> pl.Expr:
    names = ",".join(f'"{f}"' for f in fields)
    return pl.concat_str(
        [pl.lit(f'{{"checked":[{names}],"readme_status":'), js_str(S("readme_status")), pl.lit(',"url":"'), S("_commit"), pl.lit('"}')]
    )


_LIB = _field("library_name", js_str(S("library")))
_NO_CODE = S("card_known") & S("files_known") & (S("n_code_urls") == 0)


def component_rules() -> dict[int, list[Rule]]:
    """The ordered detection rules per MOF component id."""
    has_w = S("has_w").fill_null(False)
    no_w = S("has_w").not_().fill_null(False)
    comprehensive = (
        (S("card_bytes_") >= S("_min_card_chars"))
        & S("sec_training").is_not_null()
        & S("sec_evaluation").is_not_null()
        & S("sec_limitations").is_not_null()
        & S("sec_intended_use").is_not_null()
    ).fill_null(False)
    ds_public = (
        pl.when(S("n_ds_public") == S("n_ds")).then(1).when(S("n_ds_public") > 0).then(2).when(S("n_ds_closed") == S("n_ds")).then(3).otherwise(0)
    )
    return {
        9: [
            Rule(S("custom_file").is_not_null(), True, "declared", "repo", (_file("custom_file"),)),
            Rule(S("config_file").is_not_null() & S("lib_license_id").is_not_null(), True, "inferred", "lib", (_file("config_file"), _LIB)),
            Rule(no_w & S("config_file").is_null() & S("py_file").is_null(), False, "inferred", "none", (_checked("files"),)),
        ],
        10: [
            Rule(has_w & S("w_file").is_not_null(), True, "declared", "repo", (_file("w_file"),)),
            Rule(has_w, True, "declared", "repo", (_field("has_weights", pl.lit("true")),)),
            Rule(no_w, False, "inferred", "none", (_checked("files"),)),
        ],
        11: [
            Rule(S("own_paper").is_not_null(), True, "declared", "doc", (_arxiv("own_paper"),), 1),
            Rule(S("n_arxiv") > 0, True, "inferred", "doc", (_arxiv("first_arxiv"),), 2),
            Rule(S("card_known") & (S("n_arxiv") == 0), False, "inferred", "none", (_checked("arxiv_ids"),)),
        ],
        12: [
            Rule(S("model_index"), True, "declared", "repo", (_readme("model-index", pl.lit("true")),)),
            Rule(S("sec_evaluation").is_not_null(), True, "inferred", "repo", (_readme("section", js_str(S("sec_evaluation"))),)),
            Rule(S("card_known"), False, "inferred", "none", (_checked("model-index", "card_sections"),)),
        ],
        13: [
            Rule(S("card_read"), True, "declared", "repo", (_readme("readme_status", js_str(S("readme_status"))),),
                 pl.when(comprehensive).then(1).otherwise(2)),
            Rule(S("readme_status") == "missing", False, "inferred", "none", (_checked("README.md"),)),
        ],
        14: [
            Rule((S("n_ds") > 0) & (S("n_ds_cards") == S("n_ds")), True, "inferred", "datasets", (_dataset("first_ds"),), 1),
            Rule(S("sec_data").is_not_null(), True, "inferred", "repo", (_readme("section", js_str(S("sec_data"))),), 2),
            Rule(S("n_ds_cards") > 0, True, "inferred", "datasets", (_dataset("first_ds"),), 2),
            Rule(S("card_known") & (S("n_ds") == 0), False, "inferred", "none", (_checked("datasets", "card_sections"),)),
        ],
        20: [
            Rule(S("sec_sample_outputs").is_not_null(), True, "inferred", "repo", (_readme("section", js_str(S("sec_sample_outputs"))),)),
        ],
        7: [
            Rule(S("train_file").is_not_null(), True, "declared", "repo", (_file("train_file"),), 1),
            Rule(S("url_training").is_not_null(), True, "inferred", "none", (_code("url_training"),), 2),
            Rule(_NO_CODE & S("train_file").is_null(), False, "inferred", "none", (_checked("files", "code_urls"),)),
        ],
        8: [
            Rule(S("custom_file").is_not_null(), True, "declared", "repo", (_file("custom_file"),)),
            Rule(S("infer_file").is_not_null(), True, "declared", "repo", (_file("infer_file"),)),
            Rule(S("lib_license_id").is_not_null(), True, "inferred", "lib", (_LIB,)),
            Rule(no_w & S("py_file").is_null() & S("library").is_null(), False, "inferred", "none", (_checked("files", "library_name"),)),
        ],
        18: [
            Rule(S("eval_file").is_not_null(), True, "declared", "repo", (_file("eval_file"),)),
            Rule(S("url_evaluation").is_not_null(), True, "inferred", "none", (_code("url_evaluation"),)),
            Rule(_NO_CODE & S("eval_file").is_null(), False, "inferred", "none", (_checked("files", "code_urls"),)),
        ],
        19: [
            Rule(S("n_eval_ds") > 0, True, "declared", "none", (_readme("model-index.dataset", js_str(S("first_eval_ds"))),)),
            Rule(S("model_index"), True, "inferred", "none", (_readme("model-index", pl.lit("true")),)),
            Rule(S("card_known") & S("sec_evaluation").is_null(), False, "inferred", "none", (_checked("model-index", "card_sections"),)),
        ],
        22: [
            Rule(S("lib_license_id").is_not_null(), True, "inferred", "lib", (_LIB,)),
        ],
        15: [
            Rule(S("n_ds") > 0, True, "declared", "datasets", (_dataset("first_ds"),), ds_public),
            Rule(S("card_known") & (S("n_ds") == 0), False, "inferred", "none", (_checked("datasets"),)),
        ],
        16: [
            Rule(S("prep_file").is_not_null(), True, "declared", "repo", (_file("prep_file"),)),
            Rule(S("url_preprocessing").is_not_null(), True, "inferred", "none", (_code("url_preprocessing"),)),
            Rule(_NO_CODE & S("prep_file").is_null(), False, "inferred", "none", (_checked("files", "code_urls"),)),
        ],
        24: [
            Rule(S("inter_file").is_not_null(), True, "declared", "repo", (_file("inter_file"),)),
        ],
        21: [
            Rule(S("own_paper").is_not_null(), True, "declared", "doc", (_arxiv("own_paper"),),
                 pl.when(S("own_published")).then(1).otherwise(2)),
            Rule(S("card_known") & (S("n_arxiv") == 0), False, "inferred", "none", (_checked("arxiv_ids"),)),
        ],
        17: [
            Rule(S("meta_file").is_not_null(), True, "declared", "repo", (_file("meta_file"),)),
            Rule(S("files_known"), False, "inferred", "none", (_checked("files"),)),
        ],
    }


_UNKNOWN_CHECKED = {
    9: ("files", "library_name"), 10: ("files", "has_weights"), 11: ("arxiv_ids",), 12: ("model-index", "card_sections"),
    13: ("README.md",), 14: ("datasets", "card_sections"), 20: ("card_sections",), 7: ("files", "code_urls"),
    8: ("files", "library_name"), 18: ("files", "code_urls"), 19: ("model-index",), 22: ("library_name",),
    15: ("datasets",), 16: ("files", "code_urls"), 24: ("files",), 21: ("arxiv_ids", "papers"), 17: ("files",),
}


def _licence(source: str) -> tuple[pl.Expr, pl.Expr]:
    """(license_id, is_open) for a licence source."""
    if source == "repo":
        return S("license_id"), S("_repo_open")
    if source == "lib":
        return S("lib_license_id"), S("lib_open")
    if source == "doc":
        return pl.coalesce(S("doc_license_id"), S("license_id")), pl.when(S("doc_license_id").is_not_null()).then(S("_doc_open")).otherwise(S("_repo_open"))
    if source == "datasets":
        return S("_ds_license"), S("_ds_open")
    return pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.Boolean)


def _chain(rules: list[Rule], value, default: pl.Expr) -> pl.Expr:
    expr: Any = None
    for rule in rules:
        cond = rule.when.fill_null(False)
        expr = (pl.when(cond) if expr is None else expr.when(cond)).then(value(rule))
    return expr.otherwise(default) if expr is not None else default


def _component_frame(sig: pl.DataFrame, spec: dict[str, Any], rules: list[Rule], version: str) -> pl.DataFrame:
    cid = spec["id"]
    unknown = js_array([_checked(*_UNKNOWN_CHECKED[cid])])
    return sig.select(
        "repo_id",
        "revision",
        pl.lit(spec["name"]).alias("component"),
        pl.lit(cid, dtype=pl.Int8).alias("component_id"),
        _chain(rules, lambda r: pl.lit(r.included), pl.lit(None, dtype=pl.Boolean)).alias("included"),
        _chain(rules, lambda r: _licence(r.license)[0] if r.included else pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.String)).alias("license_id"),
        _chain(rules, lambda r: _licence(r.license)[1] if r.included else pl.lit(None, dtype=pl.Boolean), pl.lit(None, dtype=pl.Boolean)).alias("is_open"),
        _chain(rules, lambda r: js_array(r.evidence), unknown).alias("evidence"),
        _chain(rules, lambda r: pl.lit(r.method), pl.lit("unknown")).alias("method"),
        _chain(rules, lambda r: pl.lit(r.detail) if isinstance(r.detail, int) else r.detail, pl.lit(0)).cast(pl.Int8).alias("detail"),
        pl.lit(version).alias("rubric_version"),
    )


def detect_components(
    revisions: pl.DataFrame, datasets: pl.DataFrame, papers: pl.DataFrame, *, rubric: dict[str, Any]
) -> pl.DataFrame:
    """The `disclosures` table: one row per (repo_id, revision, component) for all 17 MOF components."""
    sig = revision_signals(revisions, datasets, papers, rubric=rubric)
    mot_open = dict(load_catalogue().select("id", "mot_open").iter_rows())
    sig = sig.with_columns(
        pl.lit(rubric["modelcard"]["comprehensive_min_body_chars"]).alias("_min_card_chars"),
        pl.concat_str([pl.lit(HF), S("_repo"), pl.lit("/blob/"), S("revision"), pl.lit("/")]).alias("_blob"),
        pl.concat_str([pl.lit(HF), S("_repo"), pl.lit("/commit/"), S("revision")]).alias("_commit"),
        # The repo licence counts as open when the MOT would count it; a missing licence is "unlicensed".
        pl.when(S("license_status") == "missing")
        .then(pl.lit(False))
        .when(S("license_status").is_in(["unmapped", "conflict"]) | (S("license_family") == "unknown"))
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(S("license_mot_open"))
        .alias("_repo_open"),
        S("doc_license_id").replace_strict(mot_open, default=None, return_dtype=pl.Boolean).alias("_doc_open"),
        pl.when(S("ds_license_ids").str.len_chars() > 0).then(S("ds_license_ids")).alias("_ds_license"),
        pl.when(S("n_ds_known").fill_null(0).eq(S("n_ds")) & S("n_ds_open").fill_null(0).eq(S("n_ds")) & (S("n_ds") > 0))
        .then(pl.lit(True))
        .when(S("n_ds_notopen").fill_null(0) > 0)
        .then(pl.lit(False))
        .alias("_ds_open"),
        *[S(c).fill_null(0) for c in ("n_ds_known", "n_ds_public", "n_ds_closed", "n_ds_open", "n_ds_notopen", "n_ds_cards", "n_paper_meta")],
        S("own_published").fill_null(False),
    )
    rules = component_rules()
    version = rubric["rubric_version"]
    frames = [_component_frame(sig, spec, rules[spec["id"]], version) for spec in mot_components()]
    return pl.concat(frames, how="vertical")
