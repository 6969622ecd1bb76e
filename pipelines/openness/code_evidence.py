"""What a revision's linked code repositories show (docs/rubric.md, "Code repositories"): per revision
and kind of code (training, preprocessing, evaluation, inference) whether the release's own code repos
hold it, under which licence, with the paths as evidence; and the supporting libraries it links.

Input `code`: one row per (release, code repo) = core.release_code (repo_id, code_repo, linked_via in
{card, paper}, role in {release_code, supporting_library, third_party}) joined with core.code_repos (license_id,
license_family, training_code, preprocessing_code, evaluation_code, inference_code, evidence, status).
A card link counts for the revisions whose card names the repo (`code_urls`); a paper link for the
revisions that cite a paper (`arxiv_ids`). A repo whose status is `gone` counts for nothing. A
supporting library never counts as the release's own code (only as MOF component 22).
"""

from __future__ import annotations

import polars as pl

from pipelines.code_links import normalise_code_url
from pipelines.openness.catalogue import load_catalogue
from pipelines.openness.jsonexpr import js_escape, js_obj, js_str

S = pl.col
KINDS = ("training", "preprocessing", "evaluation", "inference")
ROLES = ("release_code", "supporting_library", "third_party")
CODE_SCHEMA: dict[str, pl.DataType] = {
    "repo_id": pl.String,
    "code_repo": pl.String,
    "linked_via": pl.String,
    "role": pl.String,
    "license_id": pl.String,
    "license_family": pl.String,
    "github_license": pl.String,
    "training_code": pl.Boolean,
    "preprocessing_code": pl.Boolean,
    "evaluation_code": pl.Boolean,
    "inference_code": pl.Boolean,
    "evidence": pl.String,
    "status": pl.String,
}
# Columns of the per-revision frame (keyed by `_rid`), each null when nothing decides it.
SIGNAL_COLUMNS: dict[str, pl.DataType] = {
    **{f"code_{k}": pl.Boolean for k in KINDS},
    **{f"code_{k}_license": pl.String for k in KINDS},
    **{f"code_{k}_open": pl.Boolean for k in KINDS},
    **{f"_e_code_{k}": pl.String for k in KINDS},
    **{f"_e_code_{k}_absent": pl.String for k in KINDS},
    "code_unaccounted": pl.Int64,
    "code_support_repo": pl.String,
    "code_support_license": pl.String,
    "code_support_open": pl.Boolean,
    "_e_code_support": pl.String,
}


def _code_frame(code: pl.DataFrame) -> pl.DataFrame:
    """The code rows with every expected column, keys lower-cased, checked; `gone` repos left out."""
    code = code.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in CODE_SCHEMA.items() if c not in code.columns
    )
    code = code.select([S(c).cast(t) for c, t in CODE_SCHEMA.items()])
    bad = code.filter(~S("role").is_in(list(ROLES)) | S("role").is_null())
    if bad.height:
        raise ValueError(f"code: role must be one of {ROLES}, got {bad['role'][0]!r}")
    bad = code.filter(~S("linked_via").is_in(["card", "paper"]) | S("linked_via").is_null())
    if bad.height:
        raise ValueError(f"code: linked_via must be 'card' or 'paper', got {bad['linked_via'][0]!r}")
    return code.with_columns(S("code_repo").str.to_lowercase()).filter(
        (S("status") != "gone").fill_null(True) & S("code_repo").is_not_null()
    )


_GITHUB = "https://github.com/"


def _repo_key(url: str) -> str | None:
    """`owner/name` (lower-cased, the code source's key) of a GitHub repository link, else None."""
    norm = normalise_code_url(url)
    return norm.removeprefix(_GITHUB) if norm and norm.startswith(_GITHUB) else None


def _per_repo(code: pl.DataFrame) -> pl.DataFrame:
    """One row per (repo_id, code_repo): role, licence, openness and the JSON evidence of each kind.

    `_open` is the MOT's open-licence test on the repo's licence: every listed id open; no licence in a
    read tree (and none detected by GitHub) is all rights reserved (false); an unknown family or an id
    outside the catalogue is undecidable (null).
    """
    mot_open = dict(load_catalogue().select("id", "mot_open").iter_rows())
    repos = code.group_by(["repo_id", "code_repo"], maintain_order=True).agg(
        pl.all().exclude("linked_via").first(),
        S("linked_via").unique().sort().str.join(",").alias("_vias"),
    )
    known = pl.any_horizontal([S(f"{k}_code").is_not_null() for k in KINDS])
    members = (
        S("license_id")
        .str.split(",")
        .list.eval(
            pl.element().str.strip_chars().replace_strict(mot_open, default=None, return_dtype=pl.Boolean)
        )
    )
    is_open = (
        pl.when(S("license_id").is_null())
        .then(pl.when(known).then(pl.lit(False)))
        .when(S("license_family") == "unknown")
        .then(pl.lit(None, dtype=pl.Boolean))
        .when(members.list.eval(pl.element().is_null()).list.any())
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(members.list.all())
    )
    url = pl.concat_str([pl.lit('"https://github.com/'), js_escape(S("code_repo")), pl.lit('"')])
    common = [
        ("code_repo", js_str(S("code_repo"))),
        ("url", url),
        ("linked_via", js_str(S("_vias"))),
        ("role", js_str(S("role"))),
        ("license_id", js_str(S("license_id"))),
    ]

    def item(kind: str) -> pl.Expr:
        flag = S(f"{kind}_code")
        return js_obj(
            [
                *common,
                ("field", pl.lit(f'"{kind}_code"')),
                (
                    "value",
                    pl.when(flag)
                    .then(pl.lit("true"))
                    .when(~flag)
                    .then(pl.lit("false"))
                    .otherwise(pl.lit("null")),
                ),
                ("paths", S("evidence").str.json_path_match(f"$.code.{kind}_code.paths")),
            ]
        )

    return repos.select(
        "repo_id",
        "code_repo",
        S("role").alias("_role"),
        S("_vias").str.split(",").alias("_vias"),
        known.alias("_known"),
        S("license_id").alias("_license"),
        is_open.alias("_open"),
        *[S(f"{k}_code").alias(f"_{k}") for k in KINDS],
        *[item(k).alias(f"_f_{k}") for k in KINDS],
        js_obj(common).alias("_f_support"),
    )


def release_code_signals(df: pl.DataFrame, code: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the revisions' `code_urls` without supporting libraries, the code signals), both keyed by `_rid`.

    `df` holds `_rid`, `repo_id`, `code_urls` and `arxiv_ids`. The signals frame has SIGNAL_COLUMNS for
    every revision that links at least one crawled code repo.
    """
    repos = _per_repo(_code_frame(code))
    links = (
        df.select("_rid", "repo_id", S("code_urls").alias("url"))
        .filter(S("url").list.len() > 0)
        .explode("url")
        .with_columns(pl.int_range(pl.len()).over("_rid").alias("_pos"))
    )
    urls = links["url"].drop_nulls().unique().to_list()
    keys = {u: _repo_key(u) for u in urls}
    links = links.with_columns(
        S("url").replace_strict(keys, default=None, return_dtype=pl.String).alias("code_repo")
    )
    linked = links.join(repos, on=["repo_id", "code_repo"], how="left")
    support_url = (S("_role") == "supporting_library").fill_null(False)
    kept = (
        linked.filter(~support_url)
        .sort("_rid", "_pos")
        .group_by("_rid", maintain_order=True)
        .agg(S("url").alias("code_urls"))
    )
    # Rows whose every link is a supporting library keep an empty list.
    kept = (
        links.select("_rid")
        .unique()
        .join(kept, on="_rid", how="left")
        .with_columns(S("code_urls").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    )
    card = (
        linked.filter(S("_role").is_not_null())
        .drop("url", "_pos")
        .unique(["_rid", "code_repo"], keep="first")
    )
    unaccounted = (
        linked.filter(~support_url)
        .group_by("_rid")
        .agg(
            (~(S("_known").fill_null(False) & (S("_role") == "release_code").fill_null(False)))
            .sum()
            .alias("code_unaccounted")
        )
    )
    citing = df.filter(S("arxiv_ids").list.len() > 0).select("_rid", "repo_id")
    paper = (
        citing.join(repos.filter(S("_vias").list.contains("paper")), on="repo_id", how="inner")
        .join(card.select("_rid", "code_repo"), on=["_rid", "code_repo"], how="anti")
        .select(card.columns)
    )
    matched = pl.concat([card, paper], how="vertical_relaxed")
    release = matched.filter(S("_role") == "release_code")
    parts = []
    for k in KINDS:
        ranked = release.sort(
            "_rid", S("_open").fill_null(False), "code_repo", descending=[False, True, False]
        )
        positive = (
            ranked.filter(S(f"_{k}").fill_null(False))
            .group_by("_rid", maintain_order=True)
            .agg(
                S("_license").first().alias(f"code_{k}_license"),
                S("_open").first().alias(f"code_{k}_open"),
                pl.concat_str([pl.lit("["), S(f"_f_{k}").first(), pl.lit("]")]).alias(f"_e_code_{k}"),
            )
        )
        state = release.group_by("_rid").agg(
            pl.when(S(f"_{k}").fill_null(False).any())
            .then(pl.lit(True))
            .when(S(f"_{k}").is_not_null().all())
            .then(pl.lit(False))
            .alias(f"code_{k}"),
            pl.concat_str([pl.lit("["), S(f"_f_{k}").sort().str.join(","), pl.lit("]")]).alias(
                f"_e_code_{k}_absent"
            ),
        )
        parts.append(state.join(positive, on="_rid", how="left"))
    support = (
        matched.filter(S("_role") == "supporting_library")
        .sort("_rid", "code_repo")
        .group_by("_rid", maintain_order=True)
        .agg(
            S("code_repo").first().alias("code_support_repo"),
            S("_license").first().alias("code_support_license"),
            S("_open").first().alias("code_support_open"),
            pl.concat_str([pl.lit("["), S("_f_support").str.join(","), pl.lit("]")]).alias("_e_code_support"),
        )
    )
    signals = matched.select("_rid").unique()
    for part in [*parts, support, unaccounted]:
        signals = signals.join(part, on="_rid", how="left")
    signals = signals.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in SIGNAL_COLUMNS.items() if c not in signals.columns
    ).with_columns(S("code_unaccounted").fill_null(0))
    return kept, signals.select("_rid", *[S(c).cast(t) for c, t in SIGNAL_COLUMNS.items()])
