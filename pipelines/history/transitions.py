"""Validity intervals and dated transitions from per-revision facts (vectorised Polars + NumPy, order-free).

Input: one row per (repo, revision) with `committed_at` and one column per tracked dimension (values as
strings or Enum, null = unknown). Output: `valid_from`/`valid_to` per revision, and one transition row per
change of a dimension of a repo from its last known value to a different known one, with its direction, plus
one `to_unknown` row per revision that turns known dimensions unknown (docs/history.md, "First observation
and changes to unknown"; the set-up revisions come in with every dimension unknown, `dimensions.observed`).

How it scales (30 million revisions x 37 dimensions, `benchmarks/history.py`, docs/history.md): the
rows are put in (repo_id, committed_at, revision) order once for both tables, by sorting integers (a hash of
repo_id, then the lexical rank of the distinct repos and the commit time packed into one 64-bit key; hash
collisions and equal keys are detected and resolved exactly), or not at all when they come in that order.
The dimensions become small integer codes; one pass of shifted comparisons over blocks of ordered rows
finds every change of every dimension, already in output order; strings are only gathered at the end
(views: no copy of the text).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress

import numpy as np
import polars as pl

TRANSITIONS_SCHEMA = {
    "repo_id": pl.String,
    "changed_at": pl.Datetime("us", "UTC"),
    "dimension": pl.String,
    "from_value": pl.String,
    "to_value": pl.String,
    "direction": pl.String,
    "from_revision": pl.String,
    "to_revision": pl.String,
    "evidence_url": pl.String,
    "short_lived": pl.Boolean,
}
# core.transitions as written: the changes, then what their `to_revision` rests on (with_provenance).
MARKED_SCHEMA = {**TRANSITIONS_SCHEMA, "reconstructed": pl.String}
SHORT_LIVED_HOURS = 24
KEY = ["repo_id", "revision"]
ORDER = ["repo_id", "committed_at", "revision"]
# `to_unknown`: a revision turned known dimensions unknown (e.g. its README became unreadable), shown apart.
DIRECTIONS = ["lateral", "opening", "closing", "to_unknown"]
# The dimension of a `to_unknown` row (its from_value lists the dimensions that became unknown).
UNKNOWN_DIMENSION = "dimensions"
CHUNK_ROWS = 2_000_000  # rows compared at a time (bounds the temporary matrices)
STACK_ROWS = 1 << 16  # rows copied at a time between columns and packed rows


def _uint(count: int) -> type[np.unsignedinteger]:
    """The smallest unsigned NumPy type that holds 0..count."""
    for kind in (np.uint8, np.uint16, np.uint32):
        if count <= np.iinfo(kind).max:
            return kind
    return np.uint64


def _exact_order(frame: pl.DataFrame) -> np.ndarray:
    """The (repo_id, committed_at, revision) order by a plain multi-column sort (nulls first, as `sort`)."""
    return frame.select(pl.arg_sort_by(ORDER)).to_series().to_numpy()


def repo_hash(repo: pl.Series) -> pl.Series:
    """A 64-bit hash per repo id (collisions are detected, see `row_order`)."""
    return repo.hash()


def _lexical_order(strings: pl.Series) -> np.ndarray:
    """arg_sort of distinct non-null strings (byte order, as Polars sorts). DuckDB's sort (normalised key
    prefixes, both cores) takes half the time of `Series.arg_sort` on millions of repo ids."""
    from pipelines.storage.resources import connect

    with connect() as con:
        con.execute("SET default_collation = ''")
        con.execute("SET enable_progress_bar = false")  # no terminal bar in run logs
        con.register("repos", pl.DataFrame({"s": strings}).with_row_index("i"))
        return con.sql("SELECT i FROM repos ORDER BY s").fetchnumpy()["i"].astype(np.int64)


def _first_if_sorted(keys: pl.DataFrame) -> np.ndarray | None:
    """When the rows (no null key) are in (repo_id, committed_at, revision) order already, as the warehouse
    keeps core.revisions: True on each repo's first row; else None. A sample of neighbours is looked at first,
    so that rows in no particular order cost next to nothing."""
    n = keys.height
    step = max(1, n // 4096)
    sample = keys.gather(np.arange(0, n - 1, step)), keys.gather(np.arange(1, n, step))

    def in_order(a: pl.DataFrame, b: pl.DataFrame) -> bool:
        ra, rb, ta, tb = a["repo_id"], b["repo_id"], a["committed_at"], b["committed_at"]
        later = (rb > ra) | ((rb == ra) & ((tb > ta) | ((tb == ta) & (b["revision"] >= a["revision"]))))
        return bool(later.all())

    if not in_order(*sample):
        return None
    repo = keys["repo_id"]
    if not repo.is_sorted():
        return None
    first = np.ones(n, dtype=bool)
    first[1:] = (repo.slice(1) != repo.slice(0, n - 1)).to_numpy()
    stamps = keys["committed_at"].to_physical().to_numpy()
    earlier = np.flatnonzero(~first[1:] & (stamps[1:] <= stamps[:-1]))  # (i + 1, i): same repo, not later
    if len(earlier):
        if (stamps[earlier + 1] < stamps[earlier]).any():
            return None
        revisions = keys["revision"]
        if (revisions.gather(earlier + 1) < revisions.gather(earlier)).any():
            return None
    return first


def row_order(
    frame: pl.DataFrame, hasher: Callable[[pl.Series], pl.Series] = repo_hash
) -> tuple[np.ndarray | None, np.ndarray]:
    """(permutation that sorts `frame` by repo_id, committed_at, revision, or None when the frame is in that
    order already; in that order, True on a repo's first row). The same order as
    `frame.sort("repo_id", "committed_at", "revision")`, found by integer sorts."""
    n = frame.height
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    keys = frame.select(ORDER)
    if any(keys[c].null_count() for c in ORDER):  # not in core tables (keys are NOT NULL): the plain sort
        order = _exact_order(keys)
        repo = keys["repo_id"].gather(order)
        first = np.ones(n, dtype=bool)
        first[1:] = repo.slice(1).ne_missing(repo.slice(0, n - 1)).to_numpy()
        return order, first
    if n > 1 and (first := _first_if_sorted(keys)) is not None:
        return None, first
    repo = keys["repo_id"]
    # 1. Group the rows by a 64-bit hash of repo_id (an integer sort), and check the grouping exactly: rows
    # with the same hash side by side must have the same repo_id (a collision falls back to the plain sort).
    hashes = hasher(repo).to_numpy()
    by_hash = pl.Series(hashes).arg_sort().to_numpy()
    hashes = hashes[by_hash]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = hashes[1:] != hashes[:-1]
    grouped = repo.gather(by_hash)
    same_repo = (grouped.slice(1) == grouped.slice(0, n - 1)).to_numpy()
    if (~new_group[1:] & ~same_repo).any():
        order = _exact_order(keys)
        sorted_repo = repo.gather(order)
        first = np.ones(n, dtype=bool)
        first[1:] = (sorted_repo.slice(1) != sorted_repo.slice(0, n - 1)).to_numpy()
        return order, first
    # 2. The lexical rank of each repo (a sort of the distinct repo ids only), for every row.
    starts = np.flatnonzero(new_group)
    lexical = _lexical_order(grouped.gather(starts))
    rank_of_group = np.empty(len(starts), dtype=np.uint64)
    rank_of_group[lexical] = np.arange(len(starts), dtype=np.uint64)
    rank = rank_of_group[np.cumsum(new_group) - 1]
    # 3. One 64-bit key per row: the repo's rank in the high bits, the commit time (as fine as fits) below.
    stamps = keys["committed_at"].to_physical().to_numpy()[by_hash]
    low = stamps.min()
    rank_bits = max(1, int(len(starts) - 1).bit_length())
    time_bits = 64 - rank_bits
    offsets = (stamps - low).astype(np.uint64)
    shift = max(0, int(offsets.max()).bit_length() - time_bits)
    key = (rank << np.uint64(time_bits)) | (offsets >> np.uint64(shift))
    by_key = pl.Series(key).arg_sort().to_numpy()
    order = by_hash[by_key]
    key = key[by_key]
    first = np.ones(n, dtype=bool)
    first[1:] = (key[1:] >> np.uint64(time_bits)) != (key[:-1] >> np.uint64(time_bits))
    # 4. Equal keys (same repo, commit times equal at the key's resolution): order them exactly by
    # (committed_at, revision). Such a run is contiguous and stays in place.
    equal = key[1:] == key[:-1]
    if equal.any():
        tied = np.zeros(n, dtype=bool)
        tied[1:] |= equal
        tied[:-1] |= equal
        pos = np.flatnonzero(tied)
        sub = pl.DataFrame({"key": key[pos], "row": order[pos]}).with_columns(
            keys.select("committed_at", "revision")[order[pos]]
        )
        order[pos] = sub.sort("key", "committed_at", "revision")["row"].to_numpy()
    return order, first


def with_validity(
    frame: pl.DataFrame, *, order: tuple[np.ndarray | None, np.ndarray] | None = None
) -> pl.DataFrame:
    """Add `valid_from` (the commit time) and `valid_to` (the next revision's commit time; null = current).
    `order`: `row_order(frame)` if the caller has it already."""
    perm, first = order if order is not None else row_order(frame)
    ordered = frame if perm is None else _gather(frame, perm)
    last = np.ones(len(first), dtype=bool)
    last[:-1] = first[1:]
    return ordered.with_columns(
        pl.col("committed_at").alias("valid_from"),
        pl.when(pl.Series(last)).then(None).otherwise(pl.col("committed_at").shift(-1)).alias("valid_to"),
    )


def _stack_rows(columns: list[np.ndarray], width: int | None = None) -> np.ndarray:
    """The columns side by side, one row per element ((n, width) C order), copied a block of rows at a time
    so that the strided writes stay in cache."""
    n = len(columns[0])
    out = np.zeros((n, width or len(columns)), dtype=columns[0].dtype)
    for start in range(0, n, STACK_ROWS):
        out[start : start + STACK_ROWS, : len(columns)] = np.stack(
            [c[start : start + STACK_ROWS] for c in columns], axis=1
        )
    return out


def _unstack_rows(matrix: np.ndarray, count: int) -> list[np.ndarray]:
    """The first `count` columns of a C-order matrix as contiguous arrays (the inverse of _stack_rows)."""
    n = matrix.shape[0]
    out = [np.empty(n, dtype=matrix.dtype) for _ in range(count)]
    for start in range(0, n, STACK_ROWS):
        block = np.ascontiguousarray(matrix[start : start + STACK_ROWS, :count].T)
        for d in range(count):
            out[d][start : start + STACK_ROWS] = block[d]
    return out


def _ordered_columns(codes: list[np.ndarray], perm: np.ndarray) -> list[np.ndarray]:
    """Each column put in `perm` order, through one matrix of rows (one random read per row, not per value)."""
    matrix = _stack_rows(codes)
    out = [np.empty(len(perm), dtype=matrix.dtype) for _ in codes]
    for start in range(0, len(perm), STACK_ROWS):
        block = np.ascontiguousarray(matrix[perm[start : start + STACK_ROWS]].T)
        for d, column in enumerate(out):
            column[start : start + block.shape[1]] = block[d]
    return out


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct rows of a uint8 matrix, sorted; each row's index among them), by an integer sort when a
    row fits in 64 bits."""
    width = rows.shape[1]
    if width > 8:
        distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
        return distinct, inverse.ravel()
    padded = np.zeros((rows.shape[0], 8), dtype=np.uint8)
    padded[:, :width] = rows
    keys, inverse = np.unique(padded.view(np.uint64).ravel(), return_inverse=True)
    return keys.view(np.uint8).reshape(-1, 8)[:, :width], inverse.ravel()


def _carry_known(codes: np.ndarray, unknown: int, first: np.ndarray) -> np.ndarray:
    """Each row's code, or where it is `unknown` the repo's last known code before it (still `unknown`
    before the repo's first known value); `first` marks each repo's first row (rows in repo order)."""
    known = (codes != unknown) | first
    if known.all():
        return codes
    index_type = np.int32 if len(codes) < 2**31 else np.int64
    last = np.where(known, np.arange(len(codes), dtype=index_type), index_type(0))
    np.maximum.accumulate(last, out=last)
    return codes[last]


def _gather(frame: pl.DataFrame, perm: np.ndarray) -> pl.DataFrame:
    """frame[perm]. The Enum columns (the tracked dimensions) go together by their one-byte codes, null as
    one more code: one random read of a packed row per revision instead of one per column and revision,
    which at 30 million rows is most of the cost of a gather."""
    coded = {
        name: dtype
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Enum) and 0 < len(dtype.categories) < 255
    }
    index = pl.Series(perm.astype(np.uint32) if len(perm) < 2**32 else perm)
    if len(coded) < 4:
        return frame[index]
    codes = [
        frame[name].to_physical().fill_null(len(dtype.categories)).to_numpy() for name, dtype in coded.items()
    ]
    width = -(-len(codes) // 8) * 8
    rows = _stack_rows(codes, width)
    del codes
    rows = rows.view(f"V{width}").ravel()[perm].view(np.uint8).reshape(len(perm), width)
    codes = _unstack_rows(rows, len(coded))
    del rows
    gathered = frame.select(pl.col(name).gather(index) for name in frame.columns if name not in coded)
    restored = pl.DataFrame({name: code for name, code in zip(coded, codes, strict=True)}).select(
        pl.when(pl.col(name) == len(dtype.categories))
        .then(None)
        .otherwise(pl.col(name))
        .cat.to(dtype)
        .alias(name)
        for name, dtype in coded.items()
    )
    return pl.concat([gathered, restored], how="horizontal").select(frame.columns)


def intervals_and_transitions(
    timed: pl.DataFrame,
    frame: pl.DataFrame,
    dimensions: list[str],
    ranks: dict[str, dict[str, int]],
    hub_url: str = "https://huggingface.co",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(with_validity(timed), build_transitions(frame, ...)), sorting the rows once when `frame` holds the same
    revisions in the same order as `timed` (checked), and reading the tracked values from the sorted intervals
    when `frame` is `timed` itself."""
    order = row_order(timed)
    intervals = with_validity(timed, order=order)
    if frame is timed:
        transitions = build_transitions(intervals, dimensions, ranks, hub_url, order=(None, order[1]))
    elif frame.height == timed.height and frame.select(ORDER).equals(timed.select(ORDER)):
        transitions = build_transitions(frame, dimensions, ranks, hub_url, order=order)
    else:
        transitions = build_transitions(frame, dimensions, ranks, hub_url)
    return intervals, transitions


def _codes(column: pl.Series) -> tuple[np.ndarray, list[str]]:
    """(integer code per row, the values the codes stand for); code len(values) = null (unknown)."""
    if not isinstance(column.dtype, pl.Enum):
        column = column.cast(pl.String)
        column = column.cast(pl.Enum(column.drop_nulls().unique().sort()))
    values = column.dtype.categories.to_list()  # type: ignore[union-attr]
    physical = column.to_physical()
    if physical.null_count():
        physical = physical.fill_null(len(values))
    return physical.to_numpy(), values


def build_transitions(
    frame: pl.DataFrame,
    dimensions: list[str],
    ranks: dict[str, dict[str, int]],
    hub_url: str = "https://huggingface.co",
    *,
    order: tuple[np.ndarray | None, np.ndarray] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> pl.DataFrame:
    """One row per change of a dimension between revisions of a repo, sorted by repo_id, changed_at, dimension
    (then revision). A dimension's first known value is its first observation, not a change; a change is
    from the dimension's last known value to a different known one (unknown in between is skipped: back
    from unknown to the old value is no change). A revision that turns known dimensions unknown gives one
    row of its own: dimension UNKNOWN_DIMENSION, from_value the names of those dimensions (comma-separated),
    to_value null, direction `to_unknown`.

    `short_lived`: the next change of the same dimension of the repo undoes this one within
    SHORT_LIVED_HOURS, or this one undoes the previous (both rows are flagged); "next" in commit time order,
    revisions with the same commit time in revision order.

    `order`: `row_order(frame)` if the caller has it, or (None, first) when `frame` is sorted already."""
    n = frame.height
    if n < 2 or not dimensions:
        return pl.DataFrame(schema=TRANSITIONS_SCHEMA)
    perm, first = order if order is not None else row_order(frame)
    # Dimensions side by side in name order, so that changes found row by row come out sorted by dimension;
    # the changes to unknown sort among them by their own name.
    tracked = sorted(dimensions)
    if UNKNOWN_DIMENSION in tracked:
        raise ValueError(f"{UNKNOWN_DIMENSION!r} is the name of the changes to unknown, not a dimension")
    names = sorted([*tracked, UNKNOWN_DIMENSION])
    pseudo = names.index(UNKNOWN_DIMENSION)
    coded = [_codes(frame[name]) for name in tracked]
    code_type = _uint(max(len(values) for _, values in coded) + 1)
    codes = [c.astype(code_type, copy=False) for c, _ in coded]
    if perm is not None:  # put in order through one matrix (one random read per row, not one per value)
        codes = _ordered_columns(codes, perm)
    unknown = np.array([len(values) for _, values in coded], dtype=code_type)[:, None]
    carried = [_carry_known(c, len(values), first) for c, (_, values) in zip(codes, coded, strict=True)]
    dim_type = np.uint8 if len(names) <= 256 else np.uint16
    rows_parts, dims_parts, from_parts, to_parts, lost_parts = [], [], [], [], []
    for start in range(1, n, chunk_rows):
        stop = min(n, start + chunk_rows)
        later = ~first[None, start:stop]
        block = np.stack([column[start - 1 : stop] for column in carried])
        changed = (block[:, 1:] != block[:, :-1]) & (block[:, :-1] != unknown) & later
        raw = np.stack([column[start - 1 : stop] for column in codes])
        lost = (raw[:, 1:] == unknown) & (raw[:, :-1] != unknown) & later  # known -> unknown
        del raw
        r, d = np.nonzero(np.insert(changed, pseudo, lost.any(axis=0), axis=0).T)
        is_pseudo = d == pseudo
        real = np.minimum(d - (d > pseudo), len(tracked) - 1)
        from_parts.append(np.where(is_pseudo, 0, block[real, r]))
        to_parts.append(np.where(is_pseudo, 0, block[real, r + 1]))
        lost_parts.append(np.packbits(lost[:, r[is_pseudo]].T, axis=1))
        rows_parts.append(r + start)
        dims_parts.append(d.astype(dim_type))
        del block, changed, lost, r, d, is_pseudo, real
    del codes, carried
    rows = np.concatenate(rows_parts)  # position in the ordered frame of the revision that made the change
    dims = np.concatenate(dims_parts)
    if len(rows) == 0:
        return pl.DataFrame(schema=TRANSITIONS_SCHEMA)
    before = np.concatenate(from_parts).astype(np.int32)
    after = np.concatenate(to_parts).astype(np.int32)
    # The changes to unknown: from_value names the dimensions that became unknown (one value per distinct set).
    lost_sets, lost_code = _distinct_rows(np.concatenate(lost_parts))
    bits = np.unpackbits(lost_sets, axis=1)[:, : len(tracked)].astype(bool).tolist()
    lost_values = [",".join(compress(tracked, b)) for b in bits]
    del bits
    is_pseudo = dims == pseudo
    before[is_pseudo] = lost_code.ravel()
    after[is_pseudo] = len(lost_values)
    del is_pseudo
    del rows_parts, dims_parts, from_parts, to_parts, lost_parts, lost_sets, lost_code
    # Per dimension, its values and their openness ranks (-1: unknown or unranked), in one global table.
    values_of = dict(zip(tracked, (values for _, values in coded), strict=True))
    values_of[UNKNOWN_DIMENSION] = lost_values
    del coded
    offsets = np.cumsum([0] + [len(values_of[name]) + 1 for name in names]).astype(np.int32)
    values_all: list[str | None] = []
    rank_all = []
    for name in names:
        order_of = ranks.get(name) or {}
        values_all += [*values_of[name], None]
        rank_all += [order_of.get(v, -1) for v in values_of[name]] + [-1]
    before += offsets[dims]  # global value codes
    after += offsets[dims]
    stamps_col = frame["committed_at"]
    stamps = stamps_col.to_physical().fill_null(0).to_numpy()
    known = stamps_col.is_not_null().to_numpy()
    if perm is not None:
        stamps, known = stamps[perm], known[perm]
    # Revisions of one repo with the same commit time: their changes go by (dimension, revision), as the
    # output is sorted by (repo_id, changed_at, dimension). Such changes are contiguous; reorder in place.
    same_time = np.zeros(n, dtype=bool)
    same_time[1:] = ~first[1:] & (stamps[1:] == stamps[:-1]) & (known[1:] == known[:-1])
    if same_time.any():
        time_group = np.cumsum(~same_time)
        tied = np.flatnonzero(same_time[rows] | np.r_[same_time[1:], False][rows])
        shuffle = np.lexsort((rows[tied], dims[tied], time_group[rows[tied]]))
        for arr in (rows, dims, before, after):
            arr[tied] = arr[tied][shuffle]
    # short_lived. Changes in (dimension, repo, time, revision) order: a stable sort by dimension of the
    # changes, which are in (repo, time, dimension, revision) order; neighbours of one repo and dimension.
    per_second = {"ns": 10**9, "us": 10**6, "ms": 10**3}[getattr(stamps_col.dtype, "time_unit", None) or "us"]
    window = SHORT_LIVED_HOURS * 3600 * per_second
    by_dim = np.argsort(dims, kind="stable")
    ends = np.cumsum(np.bincount(dims, minlength=len(names)))[:-1]  # where one dimension's changes end
    neighbours = np.ones(len(rows) - 1, dtype=bool)
    neighbours[ends[(ends > 0) & (ends < len(rows))] - 1] = False
    r_s = rows[by_dim]
    repo_of = np.cumsum(first, dtype=np.int32)[r_s]
    neighbours &= repo_of[1:] == repo_of[:-1]
    del repo_of
    t_s = stamps[r_s]
    close = neighbours & ((t_s[1:] - t_s[:-1]) <= window)
    if not known.all():
        k_s = known[r_s]
        close &= k_s[1:] & k_s[:-1]
    del neighbours, t_s, r_s
    a_s, b_s = after[by_dim], before[by_dim]
    undone = close & (a_s[1:] == b_s[:-1])  # change i + 1 restores what change i replaced
    del a_s, b_s
    short_sorted = np.zeros(len(rows), dtype=bool)
    short_sorted[:-1] |= undone
    short_sorted[1:] |= undone
    short = np.empty(len(rows), dtype=bool)
    short[by_dim] = short_sorted
    del close, undone, short_sorted, by_dim
    rank_table = np.array(rank_all, dtype=np.int16)
    rb, ra = rank_table[before], rank_table[after]
    direction = np.where((rb < 0) | (ra < 0), 0, np.where(ra > rb, 1, np.where(ra < rb, 2, 0))).astype(
        np.uint8
    )
    direction[dims == pseudo] = DIRECTIONS.index("to_unknown")
    del rb, ra
    # The strings, gathered from the input (views on its buffers: the text is not copied), one column at a
    # time. One evidence URL per changing revision, shared by its changes.
    changing = np.zeros(n, dtype=bool)
    changing[rows] = True
    url_of_row = (np.cumsum(changing, dtype=np.int64) - 1).astype(np.uint32)[rows]
    changing_rows = np.flatnonzero(changing)
    del changing
    if perm is not None:
        changing_rows = perm[changing_rows]
    urls = frame.select(
        pl.col("repo_id").gather(changing_rows), pl.col("revision").gather(changing_rows)
    ).select(
        (pl.lit(f"{hub_url}/") + pl.col("repo_id") + pl.lit("/commit/") + pl.col("revision")).alias("url")
    )["url"]
    del changing_rows
    index = pl.DataFrame(
        {
            "to": (rows if perm is None else perm[rows]).astype(np.uint32),
            "from": (rows - 1 if perm is None else perm[rows - 1]).astype(np.uint32),
            "dimension": dims.astype(np.uint32),
            "before": before.astype(np.uint32),
            "after": after.astype(np.uint32),
            "direction": direction.astype(np.uint32),
            "url": url_of_row,
            "short_lived": short,
        }
    )
    del rows, dims, before, after, direction, url_of_row, short

    def gather(values: pl.Series, by: str, name: str) -> pl.Expr:
        return pl.lit(values).gather(pl.col(by)).alias(name)

    value_table = pl.Series(values_all, dtype=pl.String)
    # One select: Polars gathers the columns side by side, on every core.
    return index.select(
        gather(frame["repo_id"], "to", "repo_id"),
        gather(stamps_col, "to", "changed_at"),
        gather(pl.Series(names, dtype=pl.String), "dimension", "dimension"),
        gather(value_table, "before", "from_value"),
        gather(value_table, "after", "to_value"),
        gather(pl.Series(DIRECTIONS), "direction", "direction"),
        gather(frame["revision"], "from", "from_revision"),
        gather(frame["revision"], "to", "to_revision"),
        gather(urls, "url", "evidence_url"),
        "short_lived",
    )


def with_provenance(
    transitions: pl.DataFrame, revisions: pl.DataFrame, marks: pl.DataFrame | None
) -> pl.DataFrame:
    """The transitions with `reconstructed`: the mirror's reconstruction kinds their `to_revision` rests on
    (pipelines/hub/provenance.py `revision_marks`, keyed by the id a revision was captured under; null when
    nothing is reconstructed, as for every live Hub capture). A change whose commit id is itself a
    reconstruction (SYNTHETIC_COMMIT_KINDS) gets no evidence link: that commit does not exist on the Hub."""
    from pipelines.hub.provenance import SYNTHETIC_COMMIT_KINDS

    if marks is None or marks.height == 0 or transitions.height == 0:
        return transitions.with_columns(pl.lit(None, pl.String).alias("reconstructed")).select(
            list(MARKED_SCHEMA)
        )
    captured = "listed_as" if "listed_as" in revisions.columns else "repo_id"
    keyed = (
        revisions.select(
            "repo_id", pl.col(captured).fill_null(pl.col("repo_id")).alias("_captured"), "revision"
        )
        .join(marks.rename({"repo_id": "_captured"}), on=["_captured", "revision"], how="inner")
        .select("repo_id", pl.col("revision").alias("to_revision"), "reconstructed")
        .unique(["repo_id", "to_revision"], keep="first", maintain_order=True)
    )
    synthetic = pl.lit(False)
    for kind in sorted(SYNTHETIC_COMMIT_KINDS):
        synthetic = synthetic | pl.col("reconstructed").str.split(", ").list.contains(kind).fill_null(False)
    return (
        transitions.join(keyed, on=["repo_id", "to_revision"], how="left", maintain_order="left")
        .with_columns(pl.when(synthetic).then(None).otherwise(pl.col("evidence_url")).alias("evidence_url"))
        .select(list(MARKED_SCHEMA))
    )
