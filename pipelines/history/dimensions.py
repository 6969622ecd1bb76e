"""The tracked dimensions of a revision and their openness order (for a transition's direction)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from pipelines.openness.catalogue import NO_LICENCE

OSAI_ORDER = {"closed": 0, "partial": 1, "open": 2}
COMPONENT_ORDER = {"absent": 0, "included": 1, "open": 2}
# MOF classes: I is the most open; 0 is unclassified.
MOF_ORDER = {"0": 0, "3": 1, "2": 2, "1": 3}
# Licence dimensions beside the effective licence (docs/rubric.md, "Card and licence files"): the card's
# declared licence, the licence files', the base model's (inherited) and a card/file conflict. Lateral
# changes; null (no evidence) adds no transition.
FILE_LICENCE_DIMENSIONS = (
    "declared_license_id",
    "file_license_id",
    "inherited_license_id",
    "license_conflict",
)


def component_states(disclosures: pl.DataFrame) -> pl.DataFrame:
    """One column per MOF component (`mof:<name>`): open | included | absent, or null when unknown."""
    if disclosures.height == 0:
        return pl.DataFrame(schema={"repo_id": pl.String, "revision": pl.String})
    state = (
        pl.when(pl.col("included").is_null())
        .then(None)
        .when(~pl.col("included"))
        .then(pl.lit("absent"))
        .when(pl.col("is_open").fill_null(False))
        .then(pl.lit("open"))
        .otherwise(pl.lit("included"))
    )
    long = disclosures.select(
        "repo_id", "revision", ("mof:" + pl.col("component")).alias("dimension"), state.alias("value")
    )
    return long.pivot(
        on="dimension", index=["repo_id", "revision"], values="value", aggregate_function="first"
    )


# A release is being set up (uploaded) for at most this long after its first commit (docs/history.md,
# "First observation and changes to unknown").
SETUP_DAYS = 3


def observed(revisions: pl.DataFrame) -> pl.DataFrame:
    """(repo_id, revision, observed): whether the revision is an observation of the release, not its set-up.

    Not observed: the revisions before the repo's first README (the Hub's initial commit holds only
    `.gitattributes`), and the release's upload within SETUP_DAYS of the repo's first commit: when weight
    files come in that time, the revisions before the first one with a README and weights; when no file
    list of that time is known (the weights' arrival cannot be seen), every revision of that time but the
    last. The first observed revision is the release's first observation. Revisions go by commit time,
    then revision id."""
    readme = (
        pl.col("readme_status").ne_missing(pl.lit("missing"))
        if "readme_status" in revisions.columns
        else pl.lit(True)
    )
    has_files = "has_weights" in revisions.columns
    weights = pl.col("has_weights").fill_null(False) if has_files else pl.lit(False)
    files = pl.col("has_weights").is_not_null() if has_files else pl.lit(False)
    ordered = (
        revisions.select(
            "repo_id",
            "revision",
            "committed_at",
            readme.alias("_readme"),
            weights.alias("_weights"),
            files.alias("_files"),
        )
        .sort("repo_id", "committed_at", "revision")
        .with_row_index("_i")
    )
    # Integer group keys and plain aggregations (no nested windows: this runs on every revision).
    ordered = ordered.with_columns(
        pl.col("repo_id").ne_missing(pl.col("repo_id").shift(1)).fill_null(True).cum_sum().alias("_g")
    )
    window = timedelta(days=SETUP_DAYS)
    per_repo = ordered.group_by("_g").agg(
        (pl.col("committed_at").min() + window).alias("_end"),
        pl.col("_i").filter(pl.col("_readme")).min().alias("_readme_i"),
    )
    ordered = ordered.join(per_repo, on="_g", how="left").with_columns(
        (pl.col("committed_at") <= pl.col("_end")).alias("_in")
    )
    per_repo = ordered.group_by("_g").agg(
        pl.col("_i")
        .filter(pl.col("_weights") & (pl.col("_i") >= pl.col("_readme_i")) & pl.col("_in"))
        .min()
        .alias("_complete_i"),
        (pl.col("_files") & pl.col("_in")).any().alias("_files_known"),
        pl.col("_i").filter(pl.col("_in")).max().alias("_last_in_i"),
    )
    ordered = ordered.join(per_repo, on="_g", how="left")
    seen_readme = pl.col("_readme_i").is_not_null() & (pl.col("_i") >= pl.col("_readme_i"))
    setup_over = (
        pl.when(~pl.col("_files_known"))
        .then(~pl.col("_in") | (pl.col("_i") == pl.col("_last_in_i")))
        .otherwise(pl.col("_complete_i").is_null() | (pl.col("_i") >= pl.col("_complete_i")))
    )
    return ordered.select("repo_id", "revision", (seen_readme & setup_over).alias("observed"))


def tracked_frame(
    revisions: pl.DataFrame, openness: pl.DataFrame, disclosures: pl.DataFrame
) -> tuple[pl.DataFrame, list[str]]:
    """(one row per revision with every tracked dimension as a string, the dimension names)."""
    base = revisions.select(
        "repo_id",
        "revision",
        "committed_at",
        pl.col("gated").alias("gated"),
        pl.col("has_weights").cast(pl.String).alias("weights_present"),
    )
    facts = [
        c
        for c in ("license_id", "license_family", "mof_class", "osaid", "release_level", "spectrum_level")
        if c in openness.columns
    ]
    # The licence of the revision's licence files and a card/file conflict (null without licence-file
    # evidence, so they add no transition then).
    facts += [c for c in FILE_LICENCE_DIMENSIONS if c in openness.columns]
    osai = sorted(
        c for c in openness.columns if c.startswith("osai_") and c not in ("osai_score", "osai_decided")
    )
    scored = openness.select("repo_id", "revision", *[pl.col(c).cast(pl.String) for c in facts + osai])
    if "osaid" in facts:  # an OSAID verdict that could not be reached is unknown, not a value of its own
        scored = scored.with_columns(
            pl.when(pl.col("osaid") != "undetermined").then(pl.col("osaid")).alias("osaid")
        )
    if "license_status" in openness.columns:
        # No licence declared at all is a state of its own (all rights reserved), not an unknown: the
        # catalogue's NO_LICENCE, which core.openness already gives as the family, for the ids as well (the
        # effective one and the card's).
        missing = openness.select(
            "repo_id", "revision", (pl.col("license_status") == "missing").alias("_none")
        )
        scored = (
            scored.join(missing, on=["repo_id", "revision"], how="left")
            .with_columns(
                [
                    pl.when(pl.col("_none")).then(pl.lit(NO_LICENCE)).otherwise(pl.col(c)).alias(c)
                    for c in ("license_id", "license_family", "declared_license_id")
                    if c in facts
                ]
            )
            .drop("_none")
        )
    frame = base.join(scored, on=["repo_id", "revision"], how="left")
    components = component_states(disclosures)
    if components.width > 2:
        frame = frame.join(components, on=["repo_id", "revision"], how="left")
    dims = [
        "gated",
        "weights_present",
        *facts,
        *osai,
        *sorted(c for c in components.columns if c.startswith("mof:")),
    ]
    # The set-up of a release is not observed: every dimension unknown there (a dimension's first known
    # value is its first observation, not a transition).
    seen = observed(revisions)
    if not seen["observed"].all():
        frame = (
            frame.join(seen.rename({"observed": "_observed"}), on=["repo_id", "revision"], how="left")
            .with_columns(
                pl.when(pl.col("_observed").fill_null(True)).then(pl.col(d)).otherwise(None).alias(d)
                for d in dims
            )
            .drop("_observed")
        )
    return frame, dims


def ranks(rubric: dict[str, Any], dimensions: list[str]) -> dict[str, dict[str, int]]:
    """Per dimension, value -> openness rank (higher is more open); absent dimensions are lateral only."""
    families = {
        name: int(spec["rank"])
        for name, spec in (rubric.get("families") or {}).items()
        if isinstance(spec, dict) and spec.get("rank") is not None
    }
    families[NO_LICENCE] = 0  # no licence: nothing granted, below every family
    levels = (rubric.get("release_levels") or {}).get("order") or []
    out: dict[str, dict[str, int]] = {
        "gated": {"false": 2, "auto": 1, "manual": 1},
        "weights_present": {"false": 0, "true": 1},
        "license_family": families,
        "mof_class": MOF_ORDER,
        "osaid": {"fails": 0, "meets": 1},
        "release_level": {name: i for i, name in enumerate(levels)},
        "spectrum_level": {str(i): i for i in range(6)},
    }
    for dim in dimensions:
        if dim.startswith("osai_"):
            out[dim] = OSAI_ORDER
        elif dim.startswith("mof:"):
            out[dim] = COMPONENT_ORDER
    return {d: r for d, r in out.items() if d in dimensions}
