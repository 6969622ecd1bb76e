"""The integer-sort / code-matrix implementation of intervals and transitions gives the same rows, in the same
order, as the straightforward Polars one it replaced (kept here as `Reference`), on random histories.

The reference sorts transitions with an unstable multi-column sort, so where two revisions of a repo share a
commit time its order (and, through it, which change "undoes" which) was left to chance; the new code takes
them in revision order. The exact comparison uses distinct commit times per repo; shared commit times are
checked against the reference sorted stably (`maintain_order=True`), which is that same revision order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.history import DIMENSIONS, bench_ranks, synthetic_history
from pipelines.history.transitions import (
    TRANSITIONS_SCHEMA,
    UNKNOWN_DIMENSION,
    _lexical_order,
    build_transitions,
    intervals_and_transitions,
    row_order,
    with_validity,
)


class Reference:
    """The implementation before issue 10 (pipelines/history/transitions.py at f94f8c2), verbatim but for the
    `stable` switch of the final sorts and the rule of issue 21 (docs/history.md, "First observation"): a
    dimension's first known value is no change, a change goes from its last known value to a different known
    one, and a revision that turns known dimensions unknown gives one `to_unknown` row naming them."""

    def __init__(self, stable: bool = False) -> None:
        self.stable = stable

    @staticmethod
    def with_validity(frame: pl.DataFrame) -> pl.DataFrame:
        ordered = frame.sort("repo_id", "committed_at", "revision")
        return ordered.with_columns(
            pl.col("committed_at").alias("valid_from"),
            pl.col("committed_at").shift(-1).over("repo_id").alias("valid_to"),
        )

    @staticmethod
    def _direction(dimension: str, ranks: dict[str, dict[str, int]]) -> pl.Expr:
        order = ranks.get(dimension)
        if not order:
            return pl.lit("lateral")
        before = pl.col("from_value").replace_strict(order, default=None, return_dtype=pl.Int64)
        after = pl.col("to_value").replace_strict(order, default=None, return_dtype=pl.Int64)
        return (
            pl.when(before.is_null() | after.is_null())
            .then(pl.lit("lateral"))
            .when(after > before)
            .then(pl.lit("opening"))
            .when(after < before)
            .then(pl.lit("closing"))
            .otherwise(pl.lit("lateral"))
        )

    def build_transitions(
        self,
        frame: pl.DataFrame,
        dimensions: list[str],
        ranks: dict[str, dict[str, int]],
        hub_url: str = "https://huggingface.co",
    ) -> pl.DataFrame:
        key = ["repo_id", "revision"]
        ordered = frame.select([*key, "committed_at", *dimensions]).sort(
            "repo_id", "committed_at", "revision"
        )
        ordered = ordered.with_columns(pl.col("revision").shift(1).over("repo_id").alias("from_revision"))
        parts = []
        for dim in dimensions:
            # The last known value (the first known one is the first observation, not a change).
            carried = pl.col(dim).forward_fill().over("repo_id")
            prev = carried.shift(1).over("repo_id")
            changed = ordered.with_columns(prev.alias("from_value"), carried.alias("to_value")).filter(
                pl.col("from_revision").is_not_null()
                & pl.col("from_value").is_not_null()
                & pl.col("from_value").ne_missing(pl.col("to_value"))
            )
            if changed.height == 0:
                continue
            parts.append(
                changed.select(
                    "repo_id",
                    pl.col("committed_at").alias("changed_at"),
                    pl.lit(dim).alias("dimension"),
                    "from_value",
                    "to_value",
                    "from_revision",
                    pl.col("revision").alias("to_revision"),
                ).with_columns(self._direction(dim, ranks).alias("direction"))
            )
        # One row per revision that turns known dimensions unknown, naming them.
        lost = [
            pl.when(
                pl.col("from_revision").is_not_null()
                & pl.col(dim).is_null()
                & pl.col(dim).shift(1).over("repo_id").is_not_null()
            )
            .then(pl.lit(dim))
            .alias(f"lost:{dim}")
            for dim in sorted(dimensions)
        ]
        names = [f"lost:{d}" for d in sorted(dimensions)]
        unknown = (
            ordered.with_columns(lost)
            .filter(pl.any_horizontal(pl.col(names).is_not_null()))
            .with_columns(pl.concat_str(names, separator=",", ignore_nulls=True).alias("from_value"))
        )
        if unknown.height:
            parts.append(
                unknown.select(
                    "repo_id",
                    pl.col("committed_at").alias("changed_at"),
                    pl.lit(UNKNOWN_DIMENSION).alias("dimension"),
                    "from_value",
                    pl.lit(None, pl.String).alias("to_value"),
                    "from_revision",
                    pl.col("revision").alias("to_revision"),
                    pl.lit("to_unknown").alias("direction"),
                )
            )
        if not parts:
            return pl.DataFrame(schema=TRANSITIONS_SCHEMA)
        out = pl.concat(parts, how="vertical_relaxed").with_columns(
            (pl.lit(f"{hub_url}/") + pl.col("repo_id") + pl.lit("/commit/") + pl.col("to_revision")).alias(
                "evidence_url"
            )
        )
        return (
            self.flag_short_lived(out)
            .select(list(TRANSITIONS_SCHEMA))
            .sort("repo_id", "changed_at", "dimension", maintain_order=self.stable)
        )

    def flag_short_lived(self, transitions: pl.DataFrame, hours: int = 24) -> pl.DataFrame:
        t = transitions.sort("repo_id", "dimension", "changed_at", maintain_order=self.stable)
        grp = ["repo_id", "dimension"]
        nxt_to = pl.col("to_value").shift(-1).over(grp)
        nxt_at = pl.col("changed_at").shift(-1).over(grp)
        prv_from = pl.col("from_value").shift(1).over(grp)
        prv_at = pl.col("changed_at").shift(1).over(grp)
        window = pl.duration(hours=hours)
        undone_next = nxt_to.eq_missing(pl.col("from_value")) & ((nxt_at - pl.col("changed_at")) <= window)
        undoes_prev = prv_from.eq_missing(pl.col("to_value")) & ((pl.col("changed_at") - prv_at) <= window)
        return t.with_columns(
            (undone_next.fill_null(False) | undoes_prev.fill_null(False)).alias("short_lived")
        )


DIMS = ["license_family", "gated", "osai_code", "mof:Datasets", "weights_present"]
VALUES = {
    "license_family": ["osi-permissive", "none", "community", "unknown"],
    "gated": ["false", "auto", "manual"],
    "osai_code": ["open", "closed", "partial"],
    "mof:Datasets": ["absent", "included", "open"],
    "weights_present": ["true", "false"],
}
RANKS = {
    "license_family": {"osi-permissive": 6, "community": 3, "none": 0},
    "gated": {"false": 2, "auto": 1, "manual": 1},
    "osai_code": {"closed": 0, "partial": 1, "open": 2},
    "mof:Datasets": {},
}
T0 = datetime(2024, 1, 1, tzinfo=UTC)


MAX_REPOS = 30


@st.composite
def histories(draw: st.DrawFn, distinct_times: bool) -> pl.DataFrame:
    """Up to MAX_REPOS repos with a few revisions each; values drawn from small sets with nulls; commit times
    close enough that some changes are undone within 24 hours.

    Every repo's history is drawn independently and both implementations work repo by repo, so one frame
    of many repos checks as many histories as many frames of one repo each; what a call costs is mostly
    fixed (a few tens of ms), hence frames of up to 30 repos and fewer examples. Counted with these
    settings: 80 examples hold 1,100 repo histories / 4,355 revisions (distinct times) and 1,203 / 5,048
    (shared times), 40 examples 756 / 3,031; the former 300 examples of 1-6 repos held 951 / 3,506 and
    1,028 / 4,064, the former 150 held 519 / 1,966."""
    rows = []
    for r in range(draw(st.integers(1, MAX_REPOS))):
        count = draw(st.integers(1, 8))
        hours = draw(st.lists(st.integers(0, 72), min_size=count, max_size=count, unique=distinct_times))
        for k, h in enumerate(hours):
            row = {
                "repo_id": f"org{r % 3}/m{r}",
                "revision": f"{draw(st.integers(0, 9))}{r:02d}{k:02d}",
                "committed_at": T0 + timedelta(hours=h),
            }
            for dim in DIMS:
                row[dim] = draw(st.sampled_from([None, *VALUES[dim]]))
            rows.append(row)
    order = draw(st.permutations(range(len(rows))))
    schema = {
        "repo_id": pl.String,
        "revision": pl.String,
        "committed_at": pl.Datetime("us", "UTC"),
        **{d: pl.String for d in DIMS},
    }
    return pl.DataFrame([rows[i] for i in order], schema=schema)


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(histories(distinct_times=True))
def test_same_rows_in_the_same_order_as_the_reference(frame):
    ref = Reference()
    assert with_validity(frame).equals(ref.with_validity(frame))
    assert build_transitions(frame, DIMS, RANKS).equals(ref.build_transitions(frame, DIMS, RANKS))


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(histories(distinct_times=False))
def test_shared_commit_times_go_in_revision_order(frame):
    ref = Reference(stable=True)
    assert with_validity(frame).equals(ref.with_validity(frame))
    assert build_transitions(frame, DIMS, RANKS).equals(ref.build_transitions(frame, DIMS, RANKS))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(histories(distinct_times=False), st.randoms(use_true_random=False))
def test_one_sort_for_both_tables(frame, rnd):
    """intervals_and_transitions: the tracked frame is the scored one, a copy of it, or its rows reordered."""
    ref = Reference(stable=True)
    expected = ref.with_validity(frame), ref.build_transitions(frame, DIMS, RANKS)
    shuffled = frame[rnd.sample(range(frame.height), frame.height)]
    for tracked in (
        frame,
        frame.clone(),
        shuffled,
        frame.select(*DIMS, "committed_at", "revision", "repo_id"),
    ):
        intervals, transitions = intervals_and_transitions(frame, tracked, DIMS, RANKS)
        assert intervals.equals(expected[0]) and transitions.equals(expected[1])


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(histories(distinct_times=False), st.integers(0, 10**6))
def test_rows_already_in_order_are_not_sorted_again(frame, swap):
    ref = Reference(stable=True)
    ordered = frame.sort("repo_id", "committed_at", "revision")
    expected = ref.with_validity(ordered), ref.build_transitions(ordered, DIMS, RANKS)
    perm, first = row_order(ordered)
    assert (perm is None) == (ordered.height > 1) and first.sum() == ordered["repo_id"].n_unique()
    assert with_validity(ordered).equals(expected[0])
    assert build_transitions(ordered, DIMS, RANKS).equals(expected[1])
    assert intervals_and_transitions(ordered, ordered.clone(), DIMS, RANKS)[1].equals(expected[1])
    if ordered.height > 1:  # two neighbours swapped: not in order any more, sorted as any other frame
        i = swap % (ordered.height - 1)
        swapped = ordered[[*range(i), i + 1, i, *range(i + 2, ordered.height)]]
        assert with_validity(swapped).equals(expected[0])
        assert build_transitions(swapped, DIMS, RANKS).equals(expected[1])


def test_enum_columns_give_the_same_rows_as_strings():
    frame = synthetic_history(20_000, seed=3)
    dims, ranks = DIMENSIONS, bench_ranks()
    as_strings = frame.with_columns(pl.col(DIMENSIONS).cast(pl.String))
    out = build_transitions(frame, dims, ranks)
    assert out.height > 20_000 and out.schema == pl.Schema(TRANSITIONS_SCHEMA)
    assert out.equals(build_transitions(as_strings, dims, ranks))
    assert out.equals(Reference(stable=True).build_transitions(as_strings, dims, ranks))
    assert with_validity(frame).equals(Reference.with_validity(frame))


def test_hash_collisions_and_null_keys_fall_back_to_the_plain_sort():
    frame = synthetic_history(5_000, seed=4).with_columns(pl.col(DIMENSIONS).cast(pl.String))
    plain = frame.sort("repo_id", "committed_at", "revision")
    repos = frame["repo_id"].n_unique()
    # A hash that maps every repo id to its length: collisions everywhere, detected, then the plain sort.
    order, first = row_order(frame, hasher=lambda repo: repo.str.len_bytes().cast(pl.UInt64))
    assert order is not None
    assert frame[order].equals(plain) and first.sum() == repos
    nulls = frame.with_columns(
        pl.when(pl.col("repo_id").str.ends_with("7"))
        .then(None)
        .otherwise(pl.col("committed_at"))
        .alias("committed_at")
    )
    order, first = row_order(nulls)
    assert nulls[order].equals(nulls.sort("repo_id", "committed_at", "revision")) and first.sum() == repos
    assert with_validity(nulls).equals(Reference.with_validity(nulls))
    assert build_transitions(nulls, DIMENSIONS, bench_ranks()).equals(
        Reference(stable=True).build_transitions(nulls, DIMENSIONS, bench_ranks())
    )


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_frames(rows):
    frame = synthetic_history(10, seed=1).head(rows)
    assert build_transitions(frame, DIMENSIONS, {}).equals(pl.DataFrame(schema=TRANSITIONS_SCHEMA))
    assert with_validity(frame).height == rows


def test_chunks_join_up():
    frame = synthetic_history(30_000, seed=6)
    whole = build_transitions(frame, DIMENSIONS, bench_ranks())
    assert build_transitions(frame, DIMENSIONS, bench_ranks(), chunk_rows=997).equals(whole)
    assert np.array_equal(
        row_order(frame)[0],
        frame.select(pl.arg_sort_by("repo_id", "committed_at", "revision")).to_series().to_numpy(),
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=12), unique=True, min_size=1, max_size=60))
def test_repo_ids_sort_in_polars_byte_order(ids):
    strings = pl.Series(ids, dtype=pl.String)
    assert np.array_equal(_lexical_order(strings), strings.arg_sort().to_numpy())
