"""MOF component detection for Hub revisions: one row per (revision, component) with evidence.

Rules follow frameworks.md section 3 ("which Hub signals decide which criterion"). Each component is an
ordered list of rules; the first that holds decides `included`, the licence source, the method and the
evidence. When no rule holds, `included` is null and `method` is `unknown`: nothing is guessed.
For speed each rule's output is built only on the revisions it decides (a filter per rule), so every
evidence string is assembled exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from pipelines.openness import component_evidence as ev
from pipelines.openness.catalogue import load_catalogue
from pipelines.openness.mof import mot_components
from pipelines.openness.signals import revision_signals
from pipelines.openness.verdicts import CODE_REPO_DETAIL

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
    evidence: pl.Expr  # a JSON array (text)
    detail: pl.Expr | int = 0


_NO_CODE = S("card_known") & S("files_known") & (S("n_code_urls") == 0)


def _code_rules(kind: str, hub_file: str) -> list[Rule]:
    """A linked code repo of the release holds this kind of code (its licence applies); or every one
    of the revision's code links is a crawled repo without it and the model repo has none: absent."""
    return [
        Rule(S(f"code_{kind}"), True, "declared", f"code_{kind}", S(f"_e_code_{kind}"), CODE_REPO_DETAIL),
        Rule(
            S(f"code_{kind}").not_() & (S("code_unaccounted") == 0) & S(hub_file).is_null(),
            False,
            "inferred",
            "none",
            S(f"_e_code_{kind}_absent"),
        ),
    ]


def component_rules(rubric: dict[str, Any]) -> dict[int, list[Rule]]:
    """The ordered detection rules per MOF component id."""
    has_w = S("has_w").fill_null(False)
    no_w = S("has_w").not_().fill_null(False)
    card = rubric["modelcard"]
    comprehensive = pl.all_horizontal(
        S("card_bytes_") >= card["comprehensive_min_card_bytes"],
        *[S(f"sec_{kind}").is_not_null() for kind in card["comprehensive_sections"]],
    ).fill_null(False)
    ds_public = (
        pl.when(S("n_ds_public") == S("n_ds"))
        .then(1)
        .when(S("n_ds_public") > 0)
        .then(2)
        .when(S("n_ds_closed") == S("n_ds"))
        .then(3)
        .otherwise(0)
    )
    return {
        9: [
            Rule(S("custom_code_file").is_not_null(), True, "declared", "repo", ev.file("custom_code_file")),
            Rule(
                S("config_file").is_not_null() & S("lib_license_id").is_not_null(),
                True,
                "inferred",
                "lib",
                ev.arr(*ev.obj_file("config_file"), ",", *ev.lib()),
            ),
            Rule(
                no_w & S("config_file").is_null() & ~S("has_py"),
                False,
                "inferred",
                "none",
                ev.absent("files"),
            ),
        ],
        10: [
            Rule(has_w & S("w_file").is_not_null(), True, "declared", "repo", ev.file("w_file")),
            Rule(
                has_w,
                True,
                "declared",
                "repo",
                ev.arr('{"field":"has_weights","value":true,"url":"', S("_commit"), '"}'),
            ),
            Rule(no_w, False, "inferred", "none", ev.absent("files")),
        ],
        11: [
            Rule(S("own_paper").is_not_null(), True, "declared", "doc", ev.arxiv("own_paper"), 1),
            Rule(S("n_arxiv") > 0, True, "inferred", "doc", ev.arxiv("first_arxiv"), 2),
            Rule(S("card_known") & (S("n_arxiv") == 0), False, "inferred", "none", ev.absent("arxiv")),
        ],
        12: [
            Rule(S("model_index"), True, "declared", "repo", ev.readme("model-index", "true")),
            Rule(
                S("sec_evaluation").is_not_null(),
                True,
                "inferred",
                "repo",
                ev.readme("card_sections", ev.quoted("sec_evaluation")),
            ),
            Rule(S("card_known"), False, "inferred", "none", ev.absent("eval")),
        ],
        13: [
            Rule(
                S("card_read"),
                True,
                "declared",
                "repo",
                ev.readme("readme_status", ev.quoted("readme_status")),
                pl.when(comprehensive).then(1).otherwise(2),
            ),
            Rule(S("readme_status") == "missing", False, "inferred", "none", ev.absent("readme")),
        ],
        14: [
            Rule(
                (S("n_ds") > 0) & (S("n_ds_cards") == S("n_ds")),
                True,
                "inferred",
                "datasets",
                ev.dataset("first_ds"),
                1,
            ),
            Rule(
                S("sec_data").is_not_null(),
                True,
                "inferred",
                "repo",
                ev.readme("card_sections", ev.quoted("sec_data")),
                2,
            ),
            Rule(S("n_ds_cards") > 0, True, "inferred", "datasets", ev.dataset("first_ds"), 2),
            Rule(S("card_known") & (S("n_ds") == 0), False, "inferred", "none", ev.absent("data")),
        ],
        20: [
            Rule(
                S("sec_sample_outputs").is_not_null(),
                True,
                "inferred",
                "repo",
                ev.readme("card_sections", ev.quoted("sec_sample_outputs")),
            ),
        ],
        7: [
            *_code_rules("training", "training_code_file"),
            Rule(
                S("training_code_file").is_not_null(),
                True,
                "declared",
                "repo",
                ev.file("training_code_file"),
                1,
            ),
            Rule(S("url_training").is_not_null(), True, "inferred", "none", ev.code("url_training"), 2),
            Rule(_NO_CODE & S("training_code_file").is_null(), False, "inferred", "none", ev.absent("code")),
        ],
        8: [
            Rule(S("code_inference"), True, "declared", "code_inference", S("_e_code_inference")),
            Rule(S("custom_code_file").is_not_null(), True, "declared", "repo", ev.file("custom_code_file")),
            Rule(
                S("inference_code_file").is_not_null(),
                True,
                "declared",
                "repo",
                ev.file("inference_code_file"),
            ),
            Rule(S("lib_license_id").is_not_null(), True, "inferred", "lib", ev.arr(*ev.lib())),
            Rule(
                no_w & ~S("has_py") & S("library").is_null(), False, "inferred", "none", ev.absent("library")
            ),
        ],
        18: [
            *_code_rules("evaluation", "evaluation_code_file"),
            Rule(
                S("evaluation_code_file").is_not_null(),
                True,
                "declared",
                "repo",
                ev.file("evaluation_code_file"),
            ),
            Rule(S("url_evaluation").is_not_null(), True, "inferred", "none", ev.code("url_evaluation")),
            Rule(
                _NO_CODE & S("evaluation_code_file").is_null(), False, "inferred", "none", ev.absent("code")
            ),
        ],
        19: [
            Rule(
                S("n_eval_ds") > 0,
                True,
                "declared",
                "files",
                ev.readme("model-index.results.dataset", ev.quoted("first_eval_ds")),
            ),
            Rule(S("model_index"), True, "inferred", "files", ev.readme("model-index", "true")),
            Rule(
                S("card_known") & S("sec_evaluation").is_null(), False, "inferred", "none", ev.absent("eval")
            ),
        ],
        22: [
            Rule(
                S("code_support_repo").is_not_null(), True, "declared", "code_support", S("_e_code_support")
            ),
            Rule(S("lib_license_id").is_not_null(), True, "inferred", "lib", ev.arr(*ev.lib())),
        ],
        15: [
            Rule(S("n_ds") > 0, True, "declared", "datasets", ev.dataset("first_ds"), ds_public),
            Rule(S("card_known") & (S("n_ds") == 0), False, "inferred", "none", ev.absent("datasets")),
        ],
        16: [
            *_code_rules("preprocessing", "preprocessing_code_file"),
            Rule(
                S("preprocessing_code_file").is_not_null(),
                True,
                "declared",
                "repo",
                ev.file("preprocessing_code_file"),
            ),
            Rule(
                S("url_preprocessing").is_not_null(), True, "inferred", "none", ev.code("url_preprocessing")
            ),
            Rule(
                _NO_CODE & S("preprocessing_code_file").is_null(),
                False,
                "inferred",
                "none",
                ev.absent("code"),
            ),
        ],
        24: [
            Rule(S("inter_file").is_not_null(), True, "declared", "repo", ev.file("inter_file")),
        ],
        21: [
            Rule(
                S("own_paper").is_not_null(),
                True,
                "declared",
                "doc",
                ev.arxiv("own_paper"),
                pl.when(S("own_published")).then(1).otherwise(2),
            ),
            Rule(S("card_known") & (S("n_arxiv") == 0), False, "inferred", "none", ev.absent("arxiv")),
        ],
        17: [
            Rule(S("meta_file").is_not_null(), True, "declared", "repo", ev.file("meta_file")),
            Rule(S("files_known"), False, "inferred", "none", ev.absent("files")),
        ],
    }


# What an undecided component was looked for in (constant evidence: nothing was found either way).
_UNKNOWN_CHECKED = {
    9: ("files", "library_name"),
    10: ("files", "has_weights"),
    11: ("arxiv_ids",),
    12: ("model-index", "card_sections"),
    13: ("README.md",),
    14: ("datasets", "card_sections"),
    20: ("card_sections",),
    7: ("files", "code_urls"),
    8: ("files", "library_name"),
    18: ("files", "code_urls"),
    19: ("model-index",),
    22: ("library_name",),
    15: ("datasets",),
    16: ("files", "code_urls"),
    24: ("files", "refs"),
    21: ("arxiv_ids", "papers"),
    17: ("files",),
}


def _licence(source: str) -> tuple[pl.Expr, pl.Expr]:
    """(license_id, is_open) for a licence source."""
    if source == "repo":
        return S("license_id"), S("_repo_open")
    if source == "lib":
        return S("lib_license_id"), S("lib_open")
    if source == "doc":
        doc = S("doc_license_id").is_not_null()
        return pl.when(doc).then(S("doc_license_id")).otherwise(S("license_id")), pl.when(doc).then(
            S("_doc_open")
        ).otherwise(S("_repo_open"))
    if source == "datasets":
        return S("_ds_license"), S("_ds_open")
    if source.startswith("code_"):
        return S(f"{source}_license"), S(f"{source}_open")
    if source == "files":
        # The revision's licence files (an unidentified file decides nothing).
        return S("file_license_id"), pl.when(S("file_license_family") != "unknown").then(S("_file_mot_open"))
    return pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.Boolean)


def _rows(sig: pl.LazyFrame, spec: dict[str, Any], version: str, rule: Rule | None) -> pl.LazyFrame:
    """The disclosures rows of one component decided by one rule (None: the undecided rows)."""
    cid = spec["id"]
    if rule is None:
        names = ",".join(f'"{f}"' for f in _UNKNOWN_CHECKED[cid])
        included, (lic, is_open) = pl.lit(None, dtype=pl.Boolean), _licence("none")
        evidence, method, detail = pl.lit(f'[{{"checked":[{names}],"value":null}}]'), "unknown", pl.lit(0)
    else:
        included = pl.lit(rule.included)
        lic, is_open = _licence(rule.license if rule.included else "none")
        evidence, method = rule.evidence, rule.method
        detail = pl.lit(rule.detail) if isinstance(rule.detail, int) else rule.detail
    return sig.select(
        "_rid",
        "repo_id",
        "revision",
        pl.lit(spec["name"]).alias("component"),
        pl.lit(cid, dtype=pl.Int8).alias("component_id"),
        included.alias("included"),
        lic.cast(pl.String).alias("license_id"),
        is_open.cast(pl.Boolean).alias("is_open"),
        evidence.alias("evidence"),
        pl.lit(method).alias("method"),
        detail.cast(pl.Int8).alias("detail"),
        pl.lit(version).alias("rubric_version"),
    )


def detect_components(
    revisions: pl.DataFrame,
    datasets: pl.DataFrame,
    papers: pl.DataFrame,
    *,
    rubric: dict[str, Any],
    code: pl.DataFrame | None = None,
    license_files: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The `disclosures` table: one row per (repo_id, revision, component) for all 17 MOF components.

    Rows come in a canonical layout: one block per component (mot_components() order), each block in
    the order of `revisions`. `code` (the releases' linked code repos: core.release_code joined with
    core.code_repos) and `license_files` (the revisions' licence files) are optional evidence; with
    None the result is what the Hub signals alone give.
    """
    sig = revision_signals(revisions, datasets, papers, rubric=rubric, code=code, license_files=license_files)
    mot_open = dict(load_catalogue().select("id", "mot_open").iter_rows())
    rules = component_rules(rubric)
    sig = sig.with_columns(
        # The repo licence counts as open when the MOT would count it; a missing licence is "unlicensed".
        pl.when(S("license_status") == "missing")
        .then(pl.lit(False))
        .when(S("license_status").is_in(["unmapped", "conflict"]) | (S("license_family") == "unknown"))
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(S("license_mot_open"))
        .alias("_repo_open"),
        S("doc_license_id")
        .replace_strict(mot_open, default=None, return_dtype=pl.Boolean)
        .alias("_doc_open"),
        pl.when(S("ds_license_ids").str.len_chars() > 0).then(S("ds_license_ids")).alias("_ds_license"),
        pl.when(
            (S("n_ds") > 0)
            & S("n_ds_known").fill_null(0).eq(S("n_ds"))
            & S("n_ds_open").fill_null(0).eq(S("n_ds"))
        )
        .then(pl.lit(True))
        .when(S("n_ds_notopen").fill_null(0) > 0)
        .then(pl.lit(False))
        .alias("_ds_open"),
        *[
            S(c).fill_null(0)
            for c in (
                "n_ds_known",
                "n_ds_public",
                "n_ds_closed",
                "n_ds_open",
                "n_ds_notopen",
                "n_ds_cards",
                "n_paper_meta",
            )
        ],
        S("own_published").fill_null(False),
    )
    # Which rule decides each component (0 = none): a small integer per revision and component.
    sig = sig.with_columns(
        *ev.absent_fragments(), *[_rule_index(rules[cid]).alias(f"_r{cid}") for cid in rules]
    )
    version = rubric["rubric_version"]
    lazy = sig.lazy()
    blocks = []
    for spec in mot_components():
        cid = spec["id"]
        decided = [
            _rows(lazy.filter(S(f"_r{cid}") == k), spec, version, rule)
            for k, rule in enumerate(rules[cid], start=1)
        ]
        undecided = _rows(lazy.filter(S(f"_r{cid}") == 0), spec, version, None)
        blocks.append(pl.concat([*decided, undecided], how="vertical"))
    # Back to the input order, so the table has a canonical layout: one block per component, in
    # mot_components() order, each block in the order of `revisions` (score_revisions' fast path).
    # `_rid` is a permutation of the row positions, so its arg_sort is the gather that undoes it.
    frames = pl.collect_all(blocks, engine="streaming")
    return pl.concat([f.drop("_rid")[f["_rid"].arg_sort()] for f in frames], how="vertical")


def _rule_index(rules: list[Rule]) -> pl.Expr:
    expr: Any = None
    for k, rule in enumerate(rules, start=1):
        cond = rule.when.fill_null(False)
        expr = (pl.when(cond) if expr is None else expr.when(cond)).then(pl.lit(k, dtype=pl.Int8))
    return expr.otherwise(pl.lit(0, dtype=pl.Int8))
