"""Framework verdicts as Polars expressions over per-revision component bitmasks.

`score_revisions` folds `disclosures` into bitmask columns per revision (bit `2**component_id`):
`_inc` included, `_known` included is not null, `_open` included and open, `_oknown` is_open not null,
`_inf` method inferred, `_det` the 2-bit detail code at `4**component_id`. Each verdict is an ordered
list of (condition, value, sources); the first condition that holds decides the value, and its sources
become the evidence. No condition -> null (unknown).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from pipelines.openness.mof import CLASS_LABELS, RESEARCH_PAPER_CID, TECHNICAL_REPORT_CID, required_by_class

S = pl.col
# (condition, value, sources): sources are static strings; "mof:<id>" names a disclosures row, a bare key
# ("license_id", "license_family", "base_model") names a per-revision value stored beside them in the evidence.
Verdict = list[tuple[pl.Expr, Any, list[str]]]
OSAI_PARAMS = (
    "datasources_basemodel",
    "datasources_endmodel",
    "weights_basemodel",
    "weights_endmodel",
    "trainingcode",
    "code",
    "hardware_architecture",
    "preprint",
    "paper",
    "modelcard",
    "datasheet",
    "licenses",
)
OSAI_POINTS = {"open": 1.0, "partial": 0.5, "closed": 0.0}


def bit(cid: int) -> int:
    """The bitmask of one component id."""
    return 1 << cid


def has(col: str, cid: int) -> pl.Expr:
    """Whether component `cid` is set in a bitmask column."""
    return (S(col) & bit(cid)) != 0


def detail(cid: int) -> pl.Expr:
    """The 2-bit detail code of component `cid`."""
    return (S("_det") // (4**cid)) % 4


def inc(cid: int) -> pl.Expr:
    """Included (True)."""
    return has("_inc", cid)


def excluded(cid: int) -> pl.Expr:
    """Known not to be included (False)."""
    return has("_known", cid) & ~has("_inc", cid)


def opened(cid: int) -> pl.Expr:
    """Included under an open licence."""
    return has("_open", cid)


def closed_licence(cid: int) -> pl.Expr:
    """Included, and its licence is known not to be open."""
    return has("_inc", cid) & has("_oknown", cid) & ~has("_open", cid)


# Detail code of a code component decided by a crawled code repository (components.CODE_REPO_DETAIL).
CODE_REPO_DETAIL = 3


def _from_code_repo(cid: int) -> pl.Expr:
    """Included from a crawled code repository of the release."""
    return inc(cid) & (detail(cid) == CODE_REPO_DETAIL)


def mof_columns() -> dict[str, pl.Expr]:
    """MOF class, label and progress exactly as the MOT's getProgress/getClassification, vectorised."""
    req = required_by_class()
    m3 = sum(bit(c) for c in req[3])
    m2 = m3 + sum(bit(c) for c in req[2])
    m1 = m2 + sum(bit(c) for c in req[1])
    t3, t2, t1 = len(req[3]), len(req[3]) + len(req[2]), len(req[3]) + len(req[2]) + len(req[1])
    opn = S("_open")
    # handleTechnicalReportOmission: an open research paper stands in for a report that is not open.
    add = (~has("_open", TECHNICAL_REPORT_CID) & has("_open", RESEARCH_PAPER_CID)).cast(pl.Int64)
    n3 = (opn & m3).bitwise_count_ones().cast(pl.Int64) + add
    n2 = (opn & m2).bitwise_count_ones().cast(pl.Int64) + add
    n1 = (opn & m1).bitwise_count_ones().cast(pl.Int64)
    p3 = pl.min_horizontal((n3 / t3) * 100, pl.lit(100.0))
    p2 = pl.when(n3 < t3).then(pl.lit(0.0)).otherwise(pl.min_horizontal((n2 / t2) * 100, pl.lit(100.0)))
    p1 = (
        pl.when((n3 < t3) | (n2 < t2))
        .then(pl.lit(0.0))
        .otherwise(pl.min_horizontal((n1 / (t1 - add)) * 100, pl.lit(100.0)))
    )
    cls = (
        pl.when(p1 == 100).then(1).when(p2 == 100).then(2).when(p3 == 100).then(3).otherwise(0).cast(pl.Int8)
    )
    return {
        "mof_class": cls,
        "mof_class_label": cls.replace_strict(
            {k: v for k, v in CLASS_LABELS.items() if k >= 0}, return_dtype=pl.String
        ),
        "mof_progress_1": p1,
        "mof_progress_2": p2,
        "mof_progress_3": p3,
    }


def weights_verdict() -> Verdict:
    """OSAI weights_endmodel: weights + ungated -> open, gated -> partial (readme: 'E.g. gated downloads'), none -> closed."""
    return [
        (inc(10) & (S("gated") == "false"), "open", ["mof:10", "gated:false"]),
        (inc(10) & (S("gated") == "auto"), "partial", ["mof:10", "gated:auto"]),
        (inc(10) & (S("gated") == "manual"), "partial", ["mof:10", "gated:manual"]),
        (excluded(10), "closed", ["mof:10"]),
    ]


def osai_verdicts(rubric: dict[str, Any]) -> dict[str, Verdict]:
    """The Index's 12 parameters (open | partial | closed; null = unknown) with the sources each rests on."""
    ds = detail(15)
    base = ["base_model"]
    return {
        "weights_endmodel": weights_verdict(),
        "weights_basemodel": [
            (
                ~S("_has_base") & S("osai_weights_endmodel").is_not_null(),
                S("osai_weights_endmodel"),
                ["mirrors:weights_endmodel"],
            ),
            (S("_has_base") & S("_base_weights").is_not_null(), S("_base_weights"), base),
        ],
        "datasources_endmodel": [
            (inc(15) & (ds == 1), "open", ["mof:15", "datasets:all public"]),
            (inc(15) & (ds == 2), "partial", ["mof:15", "datasets:some public"]),
            (inc(15) & (ds == 3), "closed", ["mof:15", "datasets:none public"]),
            (excluded(15), "closed", ["mof:15"]),
        ],
        "datasources_basemodel": [
            (
                ~S("_has_base") & S("osai_datasources_endmodel").is_not_null(),
                S("osai_datasources_endmodel"),
                ["mirrors:datasources_endmodel"],
            ),
            (S("_has_base") & S("_base_datasources").is_not_null(), S("_base_datasources"), base),
        ],
        "trainingcode": [
            (opened(7), "open", ["mof:7"]),
            (inc(7), "partial", ["mof:7"]),
            (excluded(7), "closed", ["mof:7"]),
        ],
        # The release's own code repository was read (training, preprocessing or evaluation code in it):
        # code is released with the repository's documentation, whose depth is not measured -> partial.
        # No code released at all -> there is no code documentation.
        "code": [
            (
                _from_code_repo(7) | _from_code_repo(16) | _from_code_repo(18),
                "partial",
                ["mof:7", "mof:16", "mof:18", "code_repo:release code read"],
            ),
            (excluded(7) & ~inc(16) & ~inc(18), "closed", ["mof:7", "mof:16", "mof:18"]),
        ],
        "hardware_architecture": [],
        "preprint": [
            (inc(11) & (detail(11) == 1), "open", ["mof:11", "arxiv:own paper"]),
            (inc(11), "partial", ["mof:11", "arxiv:cited papers only"]),
            (excluded(11), "closed", ["mof:11"]),
        ],
        "paper": [
            (inc(21) & (detail(21) == 1), "open", ["mof:21", "arxiv:journal_ref/doi"]),
            (excluded(21) & excluded(11), "closed", ["mof:11", "mof:21"]),
        ],
        "modelcard": [
            (inc(13) & (detail(13) == 1), "open", ["mof:13", "card:comprehensive"]),
            (inc(13), "partial", ["mof:13"]),
            (excluded(13), "closed", ["mof:13"]),
        ],
        "datasheet": [
            (inc(14) & (detail(14) == 1), "open", ["mof:14", "dataset cards:all"]),
            (inc(14), "partial", ["mof:14"]),
            (excluded(14), "closed", ["mof:14"]),
        ],
        "licenses": [
            (S("_lic_true") == 3, "open", ["mof:10", "mof:7", "mof:15", "license_family"]),
            (
                (S("_lic_true") >= 2) & (S("_lic_false") >= 1),
                "partial",
                ["mof:10", "mof:7", "mof:15", "license_family"],
            ),
            (
                (S("_lic_true") + S("_lic_null")) < 2,
                "closed",
                ["mof:10", "mof:7", "mof:15", "license_family"],
            ),
        ],
    }


def licence_openness(rubric: dict[str, Any]) -> dict[str, pl.Expr]:
    """Open-terms flags for weights, training code and data (true / false / null), and their counts."""
    fam_open = {k: v["open_terms"] for k, v in rubric["families"].items()}
    terms = (
        pl.when(S("license_status") == "missing")
        .then(pl.lit(rubric["missing_license"]["open_terms"]))
        .when(S("license_status").is_in(["unmapped", "conflict"]))
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(S("license_family").replace_strict(fam_open, default=None, return_dtype=pl.Boolean))
    )
    weights = pl.when(excluded(10)).then(pl.lit(False)).when(inc(10)).then(terms)
    code = pl.when(opened(7)).then(pl.lit(True)).when(excluded(7) | closed_licence(7)).then(pl.lit(False))
    data = pl.when(opened(15)).then(pl.lit(True)).when(excluded(15) | closed_licence(15)).then(pl.lit(False))
    flags = [weights, code, data]
    return {
        "_terms_open": terms,
        "_lic_true": pl.sum_horizontal([f.fill_null(False).cast(pl.Int8) for f in flags]),
        "_lic_false": pl.sum_horizontal([f.not_().fill_null(False).cast(pl.Int8) for f in flags]),
        "_lic_null": pl.sum_horizontal([f.is_null().cast(pl.Int8) for f in flags]),
    }


def osaid_requirements() -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """OSAID 1.0 preferred-form requirements: (met, unmet) conditions; neither -> undetermined."""
    return {
        "parameters": (
            inc(10) & S("_terms_open").fill_null(False),
            excluded(10) | (inc(10) & S("_terms_open").not_().fill_null(False)),
        ),
        "code": (opened(7) & opened(16) & opened(8), excluded(7) | closed_licence(7)),
        "data information": (inc(15) & (detail(15) == 1) & inc(14), excluded(15) & excluded(14)),
    }


def served(rubric: dict[str, Any]) -> pl.Expr:
    """Whether the Hub said an inference provider serves the revision: a provider mapping with a status the
    rubric counts as live, or the `inference` state it counts as served (null when neither was recorded)."""
    access = rubric["release_levels"]["served"]
    live = [json.dumps(s) for s in access["provider_status"]]
    mapped = pl.any_horizontal(
        [S("inference_providers").str.contains(f'"status":{s}', literal=True) for s in live]
    )
    state = S("inference").is_in(access["inference_states"])
    return (
        pl.when(mapped.fill_null(False) | state.fill_null(False))
        .then(pl.lit(True))
        .when(S("inference_providers").is_not_null() | S("inference").is_not_null())
        .then(pl.lit(False))
    )


def release_verdict(rubric: dict[str, Any]) -> Verdict:
    """Solaiman's level from Hub signals: fully_open, downloadable, served by an inference provider without
    weight files (the rubric's API level), or the no-weights lower bound. Unknown weights stay undecided."""
    levels = rubric["release_levels"]
    return [
        (inc(10) & inc(7) & inc(15) & (detail(15) == 1), "fully_open", ["mof:10", "mof:7", "mof:15"]),
        (inc(10), "downloadable", ["mof:10"]),
        (excluded(10) & S("_served"), levels["served"]["level"], ["mof:10", "inference_providers"]),
        (excluded(10), levels["no_weights"], ["mof:10"]),
    ]


def spectrum_verdict(rubric: dict[str, Any]) -> Verdict:
    """The rubric's 0..5 level: weights, then the licence family, then open training code / data."""
    fam_level = {k: v["weights_level"] for k, v in rubric["families"].items()}
    base = (
        pl.when(S("license_status") == "missing")
        .then(pl.lit(rubric["missing_license"]["weights_level"]))
        .when(S("license_status").is_in(["unmapped", "conflict"]))
        .then(pl.lit(None, dtype=pl.Int64))
        .otherwise(S("license_family").replace_strict(fam_level, default=None, return_dtype=pl.Int64))
    )
    plus = opened(7).cast(pl.Int64) + opened(15).cast(pl.Int64)
    return [
        (excluded(10), 0, ["mof:10"]),
        (
            inc(10) & (base == 3) & (plus > 0),
            3 + plus,
            ["mof:10", "license_id", "license_family", "mof:7", "mof:15"],
        ),
        (inc(10) & base.is_not_null(), base, ["mof:10", "license_id", "license_family"]),
    ]


def apply(verdict: Verdict, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """(value, branch): the value of the first rule that holds (null if none) and its 1-based index (0 if none)."""
    if not verdict:
        return pl.lit(None, dtype=dtype), pl.lit(0, dtype=pl.Int64)
    value: Any = None
    branch: Any = None
    for k, (cond, val, _) in enumerate(verdict, start=1):
        cond = cond.fill_null(False)
        v = val if isinstance(val, pl.Expr) else pl.lit(val)
        value = (pl.when(cond) if value is None else value.when(cond)).then(v)
        branch = (pl.when(cond) if branch is None else branch.when(cond)).then(pl.lit(k, dtype=pl.Int64))
    return value.otherwise(pl.lit(None, dtype=dtype)).cast(dtype), branch.otherwise(pl.lit(0, dtype=pl.Int64))


def sources_json(verdict: Verdict, branch: int) -> str | None:
    """The JSON array of sources of one branch (None for branch 0: undecided, no evidence)."""
    return json.dumps(verdict[branch - 1][2], separators=(",", ":")) if branch else None
