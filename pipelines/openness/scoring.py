"""Per-revision openness verdicts (the `openness` table) from revisions and their disclosures."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from pipelines.openness import verdicts as v
from pipelines.openness.catalogue import resolve_licenses
from pipelines.openness.jsonexpr import js_str
from pipelines.openness.licence_rule import LICENCE_COLUMNS, apply_licence_files
from pipelines.openness.mof import mot_components

S = pl.col
KEY = ["repo_id", "revision"]
OSAI_COLUMNS = [f"osai_{p}" for p in v.OSAI_PARAMS]
OSAID_REQUIREMENTS = ("data information", "code", "parameters")
# Licence columns of the openness table beyond the effective licence (docs/rubric.md, "Card and licence
# files"), after the columns every rubric version had.
EXTRA_LICENCE_COLUMNS = [
    "declared_license_id",
    "declared_license_family",
    "file_license_id",
    "file_license_family",
    "inherited_license_id",
    "license_source",
    "license_conflict",
    "license_conflict_evidence",
]


def _key_hash() -> pl.Expr:
    return pl.col("repo_id").hash(seed=11) ^ pl.col("revision").hash(seed=29)


def _fold_disclosures(disclosures: pl.DataFrame, revisions: pl.DataFrame) -> pl.DataFrame:
    """The component bitmasks (see verdicts.py) folded from disclosures, row-aligned with `revisions`.

    The group-by runs on a 64-bit hash of (repo_id, revision), which is several times faster than on the
    two strings; if the hash is not unique over the revisions, or a group holds more rows than there are
    components, the exact string-keyed group-by is used instead.
    """
    n_components = len(mot_components())
    weight = (
        S("component_id")
        .cast(pl.Int64)
        .replace_strict({c["id"]: v.bit(c["id"]) for c in mot_components()}, return_dtype=pl.Int64)
    )
    detail_weight = (
        S("component_id")
        .cast(pl.Int64)
        .replace_strict({c["id"]: 4 ** c["id"] for c in mot_components()}, return_dtype=pl.Int64)
    )
    masks = _masks(weight, detail_weight)
    canonical = _fold_canonical(disclosures, revisions)
    if canonical is not None:
        return canonical
    keys = revisions.lazy().select(*KEY, _key_hash().alias("_h")).collect(engine="streaming")
    if keys["_h"].n_unique() == keys.height:
        folded = (
            disclosures.lazy()
            .select(_key_hash().alias("_h"), *masks, weight.alias("_rows"))
            .group_by("_h")
            .agg(pl.all().sum(), pl.len().alias("_n"))
            .collect(engine="streaming")
        )
        # A merged pair of revisions (hash collision) or a repeated component shows as carries in _rows.
        clean = folded.height == 0 or bool((folded["_rows"].bitwise_count_ones() == folded["_n"]).all())
        if clean and (folded.height == 0 or folded["_n"].max() <= n_components):
            return (
                keys.lazy()
                .join(folded.lazy().drop("_n", "_rows"), on="_h", how="left", maintain_order="left")
                .drop("_h")
                .collect(engine="streaming")
            )
    exact = (
        disclosures.lazy().select(*KEY, *masks).group_by(KEY).agg(pl.all().sum()).collect(engine="streaming")
    )
    return keys.drop("_h").join(exact, on=KEY, how="left", maintain_order="left")


def _fold_canonical(disclosures: pl.DataFrame, revisions: pl.DataFrame) -> pl.DataFrame | None:
    """Fast path for detect_components' layout (a block per component, each in revisions' order): the
    bitmasks are sums of aligned slices, no hashing or grouping. None if the layout does not hold."""
    comps = [c["id"] for c in mot_components()]
    n = revisions.height
    if n == 0 or disclosures.height != n * len(comps):
        return None
    keys = revisions.select(KEY)
    sums: dict[str, pl.Series] = {}
    for k, cid in enumerate(comps):
        block = disclosures.slice(k * n, n)
        ids = block["component_id"]
        if ids.min() != cid or ids.max() != cid:
            return None
        if (
            not (block["revision"] == keys["revision"]).all()
            or not (block["repo_id"] == keys["repo_id"]).all()
        ):
            return None
        part = block.select(_masks(pl.lit(v.bit(cid), dtype=pl.Int64), pl.lit(4**cid, dtype=pl.Int64)))
        for name in part.columns:
            sums[name] = part[name] if name not in sums else sums[name] + part[name]
    return keys.hstack(list(sums.values()))


def _masks(weight: pl.Expr, detail_weight: pl.Expr) -> list[pl.Expr]:
    """Per-row contributions to the bitmask columns (see verdicts.py)."""
    return [
        (S("included").fill_null(False).cast(pl.Int64) * weight).alias("_inc"),
        (S("included").is_not_null().cast(pl.Int64) * weight).alias("_known"),
        ((S("included") & S("is_open")).fill_null(False).cast(pl.Int64) * weight).alias("_open"),
        (S("is_open").is_not_null().cast(pl.Int64) * weight).alias("_oknown"),
        ((S("method") == "inferred").cast(pl.Int64) * weight).alias("_inf"),
        (S("detail").fill_null(0).cast(pl.Int64) * detail_weight).alias("_det"),
    ]


def base_facts(revisions_latest: pl.DataFrame, openness_latest: pl.DataFrame | None = None) -> pl.DataFrame:
    """The `bases` frame: each repo's latest weights verdict (and data-sources verdict when already scored),
    and its licence (`base_license_id`: the scored effective licence, else the card's when resolved)."""
    revisions_latest = revisions_latest.with_columns(
        pl.lit(None, dtype=t).alias(c)
        for c, t in (("has_weights", pl.Boolean), ("gated", pl.String))
        if c not in revisions_latest.columns
    )
    cols = ["repo_id", "has_weights", "gated"] + (
        ["committed_at"] if "committed_at" in revisions_latest.columns else []
    )
    licence = (
        S("license_id") if "license_id" in revisions_latest.columns else pl.lit(None, dtype=pl.String)
    ).alias("base_license_id")
    latest = revisions_latest.select(*cols, licence)
    if "committed_at" in cols:
        latest = (
            latest.sort("committed_at", nulls_last=False).unique("repo_id", keep="last").drop("committed_at")
        )
    if openness_latest is not None:
        scored = openness_latest.select(
            "repo_id",
            "revision",
            "osai_weights_endmodel",
            "osai_datasources_endmodel",
            *(["license_id"] if "license_id" in openness_latest.columns else []),
        )
        if "committed_at" in openness_latest.columns:
            scored = openness_latest.sort("committed_at", nulls_last=False).select(scored.columns)
        scored = scored.unique("repo_id", keep="last").drop("revision")
        latest = latest.join(scored, on="repo_id", how="left")
        if "license_id" in scored.columns:
            latest = latest.with_columns(
                pl.coalesce("license_id", "base_license_id").alias("base_license_id")
            ).drop("license_id")
    return latest


def _bases(df: pl.LazyFrame, bases: pl.DataFrame | None) -> pl.LazyFrame:
    df = df.with_columns(
        (S("base_models").list.len().fill_null(0) > 0).alias("_has_base"),
        S("base_models").list.first().alias("_base_repo"),
    )
    if bases is None or bases.height == 0:
        return df.with_columns(
            pl.lit(None, dtype=pl.String).alias("_base_weights"),
            pl.lit(None, dtype=pl.String).alias("_base_datasources"),
            pl.lit(None, dtype=pl.String).alias("_base_license"),
        )
    # Only the base repos this batch names, then one row per repo (the last one given wins).
    named = df.select(S("_base_repo").drop_nulls().unique()).collect().to_series()
    b = bases.filter(S("repo_id").is_in(named.implode())).unique("repo_id", keep="last", maintain_order=True)
    # The base's own scored verdict when there is one, else the same rule on its weights facts.
    weights = (
        pl.when(S("has_weights") & (S("gated") == "false"))
        .then(pl.lit("open"))
        .when(S("has_weights") & S("gated").is_in(["auto", "manual"]))
        .then(pl.lit("partial"))
        .when(S("has_weights").not_())
        .then(pl.lit("closed"))
    )
    if "osai_weights_endmodel" in b.columns:
        weights = pl.coalesce(S("osai_weights_endmodel"), weights)
    sources = (
        S("osai_datasources_endmodel")
        if "osai_datasources_endmodel" in b.columns
        else pl.lit(None, dtype=pl.String)
    )
    base_licence = S("base_license_id") if "base_license_id" in b.columns else pl.lit(None, dtype=pl.String)
    b = b.select(
        S("repo_id").alias("_base_repo"),
        weights.alias("_base_weights"),
        sources.alias("_base_datasources"),
        base_licence.alias("_base_license"),
    )
    return df.join(b.lazy(), on="_base_repo", how="left", maintain_order="left")


def score_revisions(
    revisions: pl.DataFrame,
    disclosures: pl.DataFrame,
    *,
    rubric: dict[str, Any],
    bases: pl.DataFrame | None = None,
    code: pl.DataFrame | None = None,
    license_files: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The `openness` table: one row per revision with MOF, the Index, OSAID, Solaiman and the spectrum level.

    `disclosures` come from detect_components with the same `code` and `license_files` (the code
    evidence is already in them; `code` is accepted so that both steps take the same arguments).
    `license_files` (the revisions' licence files) decide the effective licence with the card's by the
    rule of docs/rubric.md; with None the licence is the card's and the file and conflict columns are null.
    """
    del code  # its effect is in `disclosures`
    rev = revisions if "license_status" in revisions.columns else resolve_licenses(revisions)
    rev = apply_licence_files(rev, license_files)
    keep = [
        c
        for c in (
            "committed_at",
            "gated",
            "base_models",
            "license_id",
            "license_family",
            "license_status",
            *LICENCE_COLUMNS,
            "_file_evidence",
            "inference",
            "inference_providers",
        )
        if c in rev.columns
    ]
    df = rev.select(*KEY, *keep)
    for col, dtype in (
        ("gated", pl.String),
        ("base_models", pl.List(pl.String)),
        ("inference", pl.String),
        ("inference_providers", pl.String),
    ):
        if col not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=dtype).alias(col))
    folded = _fold_disclosures(disclosures, df)  # row-aligned with df
    masks = _mask_json(folded)
    df = (
        df.hstack(folded.drop(KEY).get_columns())
        .lazy()
        .with_columns(S(c).fill_null(0) for c in ("_inc", "_known", "_open", "_oknown", "_inf", "_det"))
    )
    df = _bases(df, bases)
    df = df.with_columns(**v.mof_columns(), **v.licence_openness(rubric), _served=v.served(rubric))

    verdicts = v.osai_verdicts(rubric)
    graded: list[tuple[str, v.Verdict]] = []
    first = ["weights_endmodel", "datasources_endmodel"]
    for batch in (first, [p for p in v.OSAI_PARAMS if p not in first]):
        cols = []
        for param in batch:
            value, branch = v.apply(verdicts[param], pl.String)
            cols += [value.alias(f"osai_{param}"), branch.alias(f"_b_osai_{param}")]
            graded.append((f"osai_{param}", verdicts[param]))
        df = df.with_columns(cols)
    df = df.with_columns(*_osai_score(), *_osaid())
    release, release_b = v.apply(v.release_verdict(rubric), pl.String)
    level, level_b = v.apply(v.spectrum_verdict(rubric), pl.Int8)
    df = df.with_columns(
        release.alias("release_level"),
        release_b.alias("_b_release_level"),
        level.alias("spectrum_level"),
        level_b.alias("_b_spectrum_level"),
        (S("osaid") != "undetermined").cast(pl.Int64).alias("_b_osaid"),
    )
    graded += [
        ("osaid", _OSAID_VERDICT),
        ("release_level", v.release_verdict(rubric)),
        ("spectrum_level", v.spectrum_verdict(rubric)),
    ]
    # Evidence: every verdict's branch is a small integer, so the JSON of all static sources is looked up
    # once per distinct combination of branches instead of being assembled per row.
    packed = pl.sum_horizontal([S(f"_b_{name}") * (8**i) for i, (name, _) in enumerate(graded)]).alias(
        "_packed"
    )
    inferred_sources = ((S("_inf") & (v.bit(7) | v.bit(15))) != 0) & (S("spectrum_level") > 3)
    method = (
        pl.when(S("spectrum_level").is_null())
        .then(pl.lit("unknown"))
        .when((S("spectrum_level") == 0) | inferred_sources)
        .then(pl.lit("inferred"))
        .otherwise(pl.lit("declared"))
    )
    out = df.with_columns(packed, method.alias("method")).collect(engine="streaming")
    combos = {key: _combo_json(key, graded) for key in out["_packed"].unique().to_list()}
    evidence = pl.concat_str(
        [
            pl.lit('{"mof_class":{"open_components":'),
            S("_open").replace_strict(masks, return_dtype=pl.String),
            pl.lit(',"unknown_components":'),
            (S("_known") ^ _ALL).replace_strict(masks, return_dtype=pl.String),
            pl.lit("}"),
            S("_packed").replace_strict(combos, return_dtype=pl.String),
            pl.lit(',"license_id":'),
            js_str(S("license_id")),
            pl.lit(',"license_family":'),
            js_str(S("license_family"), escape=False),
            pl.when(S("_has_base")).then(pl.concat_str([pl.lit(',"base_model":'), js_str(S("_base_repo"))])),
            pl.when(S("_file_evidence").is_not_null()).then(
                pl.concat_str([pl.lit(',"license_files":'), S("_file_evidence")])
            ),
            # A release level resting on an inference provider names the providers (with their status) and
            # the Hub's inference state, as the capture recorded them.
            pl.when(S("_b_release_level") == _served_branch(rubric)).then(
                pl.concat_str(
                    [
                        pl.lit(',"inference_providers":'),
                        S("inference_providers").fill_null("null"),
                        pl.lit(',"inference":'),
                        js_str(S("inference")),
                    ]
                )
            ),
            pl.lit("}"),
        ],
        ignore_nulls=True,
    )
    return (
        out.lazy()
        .select(
            *KEY,
            *[c for c in ("committed_at",) if c in keep],
            "mof_class",
            "mof_class_label",
            "mof_progress_1",
            "mof_progress_2",
            "mof_progress_3",
            *OSAI_COLUMNS,
            "osai_score",
            "osai_decided",
            "osaid",
            "osaid_unmet",
            "release_level",
            "spectrum_level",
            "license_id",
            "license_family",
            "license_status",
            pl.lit(rubric["rubric_version"]).alias("rubric_version"),
            evidence.alias("evidence"),
            "method",
            "declared_license_id",
            "declared_license_family",
            "file_license_id",
            "file_license_family",
            pl.when(S("_has_base")).then(S("_base_license")).alias("inherited_license_id"),
            "license_source",
            "license_conflict",
            "license_conflict_evidence",
        )
        .collect(engine="streaming")
    )


def _served_branch(rubric: dict[str, Any]) -> int:
    """The branch of release_verdict (1-based, as verdicts.apply numbers them) that rests on an inference
    provider."""
    return next(k for k, rule in enumerate(v.release_verdict(rubric), 1) if "inference_providers" in rule[2])


# OSAID's evidence: the components of its three requirements and the licence family.
_OSAID_VERDICT: v.Verdict = [
    (pl.lit(True), None, ["mof:10", "license_family", "mof:7", "mof:8", "mof:16", "mof:14", "mof:15"])
]


def _combo_json(key: int, graded: list[tuple[str, v.Verdict]]) -> str:
    """',"<verdict>":[sources]...' for the decided verdicts encoded in one packed branch key."""
    parts = []
    for i, (name, verdict) in enumerate(graded):
        branch = (key // (8**i)) % 8
        if branch:
            parts.append(f',"{name}":{v.sources_json(verdict, branch)}')
    return "".join(parts)


_ALL = sum(v.bit(c["id"]) for c in mot_components())


def _mask_json(folded: pl.DataFrame) -> dict[int, str]:
    """JSON arrays of component ids for every bitmask that occurs (few distinct values), used as a lookup."""
    values = (
        pl.concat([folded["_open"], folded["_known"] ^ _ALL, pl.Series([0, _ALL])])
        .drop_nulls()
        .unique()
        .to_list()
    )
    ids = sorted(c["id"] for c in mot_components())
    return {m: json.dumps([c for c in ids if m & v.bit(c)]).replace(" ", "") for m in values}


def _osai_score() -> list[pl.Expr]:
    points = [
        pl.when(S(c) == "open").then(1.0).when(S(c) == "partial").then(0.5).when(S(c) == "closed").then(0.0)
        for c in OSAI_COLUMNS
    ]
    decided = pl.sum_horizontal([p.is_not_null().cast(pl.Int8) for p in points])
    total = pl.sum_horizontal([p.fill_null(0.0) for p in points])
    return [
        pl.when(decided > 0).then(total / decided).alias("osai_score"),
        decided.cast(pl.Int8).alias("osai_decided"),
    ]


def _osaid() -> list[pl.Expr]:
    """OSAID verdict and its unmet requirements (a 3-bit mask looked up as a list: no per-row list building)."""
    req = v.osaid_requirements()
    unmet_bits = pl.sum_horizontal(
        [req[name][1].fill_null(False).cast(pl.Int64) * (1 << i) for i, name in enumerate(OSAID_REQUIREMENTS)]
    )
    all_met = pl.all_horizontal([req[name][0].fill_null(False) for name in OSAID_REQUIREMENTS])
    lists = {
        m: [n for i, n in enumerate(OSAID_REQUIREMENTS) if m >> i & 1]
        for m in range(1 << len(OSAID_REQUIREMENTS))
    }
    return [
        pl.when(unmet_bits > 0)
        .then(pl.lit("fails"))
        .when(all_met)
        .then(pl.lit("meets"))
        .otherwise(pl.lit("undetermined"))
        .alias("osaid"),
        unmet_bits.replace_strict(lists, return_dtype=pl.List(pl.String)).alias("osaid_unmet"),
    ]
