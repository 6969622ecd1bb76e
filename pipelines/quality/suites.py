"""The suite registry: for every public table, the frame to validate and its Great Expectations checks.

A suite is plain data (no GX import here: importing GX costs ~5 s), turned into GX expectations only when
it runs (`gx_run.py`). Referential integrity is computed in DuckDB as "orphan" columns (an anti-join:
the key when the referenced row is missing, else null) that GX then expects to be null, so a dangling
reference is reported with the offending key as its example. Adding a table is one entry in `SUITES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import polars as pl

# Timestamps before this are not plausible for the Hub (it hosts models since 2016; margin kept).
EARLIEST = datetime(2015, 1, 1, tzinfo=UTC)
ARXIV_START = datetime(1991, 8, 1, tzinfo=UTC)
GATED = ("false", "auto", "manual")
# Card outcomes (hub/schema.py) plus the raw fetch outcomes a revision or dataset can carry when no
# README could be read (client.FileResult statuses): they are facts, not parse errors.
README_STATUSES = (
    "ok",
    "missing",
    "gated",
    "malformed_yaml",
    "non_utf8",
    "oversized",
    "not_fetched",
    "error",
    "repo_missing",
    "revision_missing",
)
MODALITIES = ("text", "image", "audio", "video", "multimodal", "tabular", "other", "unknown")
REVISION_SOURCES = ("listing", "backfill")
CRAWL_RUN_STATUSES = ("complete", "partial", "failed")
PAPER_STATUSES = ("found", "not_found", "unrecorded", "invalid", "error")  # unrecorded: unknown
PAPER_KINDS = ("peer_reviewed", "preprint")
CITATION_SOURCES = ("tag", "card_link")
OSAID_VERDICTS = ("meets", "fails", "undetermined")
DISCLOSURE_METHODS = ("declared", "inferred", "unknown")
# A transition's direction (pipelines/history/transitions.py: `to_unknown` is a revision turning known
# dimensions unknown, shown apart).
DIRECTIONS = ("opening", "closing", "lateral", "to_unknown")
# How a presence check found a repo (pipelines/hub: the history walk's 404, the weekly full-listing sweep).
PRESENCE_CHECKS = ("commits_404", "sweep_present", "sweep_404")
LICENCE_HOSTS = ("github", "hub")
LICENCE_FILE_KINDS = ("licence", "policy")
CODE_REPO_STATUSES = ("ok", "moved", "gone", "empty")
CODE_LINKS = ("card", "paper")
CODE_ROLES = ("release_code", "supporting_library", "third_party")
# Every reason the build writes to core.quarantine (pipelines/incremental/normalise.py for the Hub's
# captures and cards, pipelines/incremental/scoring.py for citations); a new reason must be added here
# (and to docs/quality.md) so that nothing is held for a reason nobody has looked at.
QUARANTINE_REASONS = (
    "invalid_identifier",
    "malformed_item",
    "missing_field",
    "malformed_yaml",
    "non_utf8",
    "oversized",
    "invalid_arxiv_id",
    "licence_not_text",
    "invalid_dataset_id",
    "self_base_model",
    "circular_base_model",
    "implausible_date",
)
CRAWL_COUNTS = (
    "pages",
    "models_listed",
    "models_new",
    "models_changed",
    "models_deleted",
    "readmes_fetched",
    "requests_api",
    "requests_resolvers",
    "bytes_total",
    "status_429",
    "status_5xx",
    "seconds",
)


@dataclass(frozen=True)
class Check:
    """One expectation: a stable name (metadata key), the GX class, its arguments, what it means."""

    name: str
    expectation: str
    kwargs: dict[str, Any]
    description: str

    def columns(self) -> tuple[str, ...]:
        """The columns this check reads."""
        k = self.kwargs
        return tuple(
            k.get("column_list") or [c for c in (k.get("column"), k.get("column_A"), k.get("column_B")) if c]
        )


@dataclass(frozen=True)
class Derived:
    """A column computed in Polars before validation, from whichever of `inputs` the table has."""

    column: str
    inputs: tuple[str, ...]
    expr: Callable[[pl.DataFrame], pl.Expr]


@dataclass(frozen=True)
class Suite:
    """A public table's suite: the query that yields the frame to validate and the checks on it."""

    name: str
    table: str
    key: tuple[str, ...]  # columns shown beside each failing example
    query: str  # the table plus computed orphan columns; static SQL (identifiers only, no values)
    checks: Callable[[datetime], list[Check]]
    derived: tuple[Derived, ...] = field(default_factory=tuple)
    # The column whose values split a table without repo_id into batches of whole values, when its checks
    # allow it (`ledger.batch_allowed`); tables with repo_id are split by repo.
    batch_key: str | None = None

    @property
    def joins(self) -> tuple[str, ...]:
        """The other tables the query reads (named in it as `core.x`), in order of first mention."""
        named = dict.fromkeys(re.findall(r"\bcore\.[a-z_]+\b", self.query))
        return tuple(t for t in named if t != self.table)


def not_null(*columns: str) -> list[Check]:
    """Each column is never null."""
    return [
        Check(f"not_null:{c}", "ExpectColumnValuesToNotBeNull", {"column": c}, f"{c} is never null")
        for c in columns
    ]


def unique(*columns: str) -> Check:
    """The column (or the combination of columns) is unique."""
    if len(columns) == 1:
        return Check(
            f"unique:{columns[0]}",
            "ExpectColumnValuesToBeUnique",
            {"column": columns[0]},
            f"{columns[0]} is unique",
        )
    return Check(
        f"unique:{','.join(columns)}",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": list(columns)},
        f"({', '.join(columns)}) is unique",
    )


def in_set(column: str, values: tuple[str, ...] | list[str]) -> Check:
    """The column's values are in a known set (nulls are not checked)."""
    shown = ", ".join(values) if len(values) <= 12 else f"{len(values)} known values"
    return Check(
        f"in_set:{column}",
        "ExpectColumnValuesToBeInSet",
        {"column": column, "value_set": list(values)},
        f"{column} in {{{shown}}} or null",
    )


def between(column: str, low: Any = None, high: Any = None) -> Check:
    """The column's values lie in [low, high] (either bound optional)."""
    kwargs = {
        "column": column,
        **({"min_value": low} if low is not None else {}),
        **({"max_value": high} if high is not None else {}),
    }
    lo, hi = (
        (f"{low:%Y-%m-%d}" if isinstance(low, datetime) else low),
        ("now" if isinstance(high, datetime) else high),
    )
    text = (
        f"{column} >= {lo}"
        if high is None
        else f"{column} <= {hi}"
        if low is None
        else f"{column} in [{lo}, {hi}]"
    )
    return Check(f"between:{column}", "ExpectColumnValuesToBeBetween", kwargs, text)


def dated(column: str, now: datetime, earliest: datetime = EARLIEST) -> Check:
    """A timestamp that is neither in the future (relative to `now`) nor before `earliest`."""
    return between(column, earliest, now)


def ordered(later: str, earlier: str, strict: bool = False) -> Check:
    """`earlier` <= `later` (or <) wherever both are set."""
    op = "<" if strict else "<="
    return Check(
        f"order:{earlier}{op}{later}",
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {
            "column_A": later,
            "column_B": earlier,
            "or_equal": not strict,
            "ignore_row_if": "either_value_is_missing",
        },
        f"{earlier} {op} {later} where both are set",
    )


def references(column: str, target: str, what: str) -> Check:
    """An orphan column computed by the suite's query is null: every reference into `target` resolves."""
    return Check(
        f"references:{target}",
        "ExpectColumnValuesToBeNull",
        {"column": column},
        f"every {what} (orphans: {column})",
    )


@cache
def catalogue_ids() -> tuple[str, ...]:
    """Licence ids of the catalogue (pipelines/openness/licenses.csv, column `id`)."""
    from pipelines.openness.catalogue import CATALOGUE_PATH

    return tuple(pl.read_csv(CATALOGUE_PATH, columns=["id"], infer_schema=False).get_column("id").to_list())


def _uncatalogued(frame: pl.DataFrame) -> pl.Expr:
    # A declared list ("apache-2.0,mit") is checked member by member. Rows the scorer marks `unmapped`
    # carry the raw key on purpose (a catalogue gap, reported by unmapped_licenses_report), not a defect.
    known = [*catalogue_ids(), "unknown"]
    bad = (
        pl.col("license_id")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars().is_in(known).not_())
        .list.any()
    )
    if "license_status" in frame.columns:
        bad = bad & pl.col("license_status").ne_missing("unmapped")
    return pl.when(bad.fill_null(False)).then(pl.col("license_id"))


IN_RELEASES = references("orphan_release", "releases", "repo_id has a row in releases")
IN_REVISIONS = references("orphan_revision", "revisions", "(repo_id, revision) is a row of revisions")
LICENSE_IN_CATALOGUE = Derived("uncatalogued_license_id", ("license_id", "license_status"), _uncatalogued)
CATALOGUED = Check(
    "catalogued:license_id",
    "ExpectColumnValuesToBeNull",
    {"column": "uncatalogued_license_id"},
    "license_id is a catalogue id (licenses.csv), 'unknown' or null; lists checked per member",
)


@cache
def _families() -> tuple[str, ...]:
    from pipelines.openness.rubric import FAMILIES

    return FAMILIES


def _licence_families() -> tuple[str, ...]:
    """The families a model's effective licence can have: the catalogue's, and `none` (no licence declared)."""
    from pipelines.openness.catalogue import NO_LICENCE

    return (*_families(), NO_LICENCE)


@cache
def _release_levels() -> tuple[str, ...]:
    from pipelines.openness.rubric import load_rubric

    return tuple(load_rubric()["release_levels"]["order"])


@cache
def _components() -> tuple[str, ...]:
    from pipelines.openness.mof import mot_components

    return tuple(c["name"] for c in mot_components())


# The frames to validate: the table plus orphan columns (anti-joins: the missing reference, else null).
# Written out in full, one per table: static SQL, nothing formatted in.
RELEASES_SQL = """SELECT t.*,
    CASE WHEN t.latest_revision IS NOT NULL AND NOT EXISTS (SELECT 1 FROM core.revisions x
        WHERE x.repo_id = t.repo_id AND x.revision = t.latest_revision)
    THEN t.repo_id || '@' || t.latest_revision END AS orphan_latest_revision
FROM core.releases t"""
REVISIONS_SQL = """SELECT t.*,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release
FROM core.revisions t"""
RELEASE_PAPERS_SQL = """SELECT t.*,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.papers x WHERE x.arxiv_id = t.arxiv_id) THEN t.arxiv_id END
        AS orphan_paper
FROM core.release_papers t"""
# A disclosure's licence id that the scorer reported unmapped for some revision is a known catalogue gap
# (listed by the unmapped-licences report), not a defect: mark it so the catalogue check skips it.
DISCLOSURES_SQL = """WITH unmapped AS (
    SELECT DISTINCT license_id FROM core.openness WHERE license_status = 'unmapped')
SELECT t.*,
    CASE WHEN t.revision IS NOT NULL AND NOT EXISTS (SELECT 1 FROM core.revisions x
        WHERE x.repo_id = t.repo_id AND x.revision = t.revision) THEN t.repo_id || '@' || t.revision END
        AS orphan_revision,
    CASE WHEN u.license_id IS NOT NULL THEN 'unmapped' END AS license_status
FROM core.disclosures t LEFT JOIN unmapped u ON u.license_id = t.license_id"""
OPENNESS_SQL = """SELECT t.*,
    CASE WHEN t.revision IS NOT NULL AND NOT EXISTS (SELECT 1 FROM core.revisions x
        WHERE x.repo_id = t.repo_id AND x.revision = t.revision) THEN t.repo_id || '@' || t.revision END
        AS orphan_revision
FROM core.openness t"""
TRANSITIONS_SQL = """SELECT t.*,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release
FROM core.transitions t"""

# `smallest_count`: the least of the counts present (DuckDB's least skips nulls), so that one check covers
# every count, also a column null in every row (downloadsAllTime before the listing asked for it).
RELEASE_METRICS_SQL = """SELECT t.*, least(t.downloads, t.downloads_all_time, t.likes) AS smallest_count,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release
FROM core.release_metrics t"""
# `reconstruction_key`: the key as one text (revision and file are null at the coarser grains), so that one
# uniqueness check covers every grain.
RECONSTRUCTIONS_SQL = """SELECT t.*,
    t.repo_id || '@' || coalesce(t.revision, '') || '/' || coalesce(t.file, '') || '#' || t.kind
        AS reconstruction_key,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release,
    CASE WHEN t.revision IS NOT NULL AND NOT EXISTS (SELECT 1 FROM core.revisions x
        WHERE x.repo_id = t.repo_id AND x.revision = t.revision) THEN t.repo_id || '@' || t.revision END
        AS orphan_revision,
    CASE WHEN t.file IS NOT NULL AND t.revision IS NULL THEN t.repo_id || '/' || t.file END
        AS file_without_revision
FROM core.reconstructions t"""
DERIVATIVES_SQL = """SELECT t.*,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release
FROM core.derivatives t"""

SUITES: dict[str, Suite] = {
    s.name: s
    for s in [
        Suite(
            "releases",
            "core.releases",
            ("repo_id",),
            RELEASES_SQL,
            lambda now: [
                *not_null("repo_id", "org", "name", "first_seen", "last_seen"),
                unique("repo_id"),
                in_set("modality", MODALITIES),
                ordered("last_seen", "first_seen"),
                dated("first_seen", now),
                between("revision_count", 0),
                references("orphan_latest_revision", "revisions", "latest_revision is a row of revisions"),
            ],
        ),
        Suite(
            "revisions",
            "core.revisions",
            ("repo_id", "revision"),
            REVISIONS_SQL,
            lambda now: [
                *not_null("repo_id", "revision", "committed_at", "observed_at"),
                unique("repo_id", "revision"),
                in_set("gated", GATED),
                in_set("readme_status", README_STATUSES),
                in_set("source", REVISION_SOURCES),
                dated("committed_at", now),
                dated("observed_at", now),
                between("card_bytes", 0),
                IN_RELEASES,
            ],
        ),
        Suite(
            "datasets",
            "core.datasets",
            ("dataset_id",),
            "SELECT * FROM core.datasets",
            lambda now: [
                *not_null("dataset_id", "observed_at"),  # `exists` null: not recorded, unknown
                unique("dataset_id"),
                in_set("gated", GATED),
                in_set("readme_status", README_STATUSES),
                dated("observed_at", now),
                between("card_bytes", 0),
            ],
        ),
        Suite(
            "papers",
            "core.papers",
            ("arxiv_id",),
            "SELECT * FROM core.papers",
            lambda now: [
                *not_null("arxiv_id", "status"),
                unique("arxiv_id"),
                in_set("status", PAPER_STATUSES),
                in_set("paper_kind", PAPER_KINDS),
                between("version", 1),
                dated("published", now, ARXIV_START),
                dated("fetched_at", now),
            ],
        ),
        Suite(
            "release_papers",
            "core.release_papers",
            ("repo_id", "arxiv_id"),
            RELEASE_PAPERS_SQL,
            lambda now: [
                *not_null("repo_id", "arxiv_id", "source"),
                unique("repo_id", "arxiv_id"),
                in_set("source", CITATION_SOURCES),
                dated("first_cited_at", now),
                IN_RELEASES,
                references("orphan_paper", "papers", "arxiv_id has a row in papers"),
            ],
        ),
        Suite(
            "crawl_runs",
            "core.crawl_runs",
            ("run_key",),
            "SELECT * FROM core.crawl_runs",
            lambda now: [
                *not_null("run_key", "crawl_date", "started_at", "status"),
                unique("run_key"),
                in_set("status", CRAWL_RUN_STATUSES),
                dated("started_at", now),
                ordered("finished_at", "started_at"),
                *[between(c, 0) for c in CRAWL_COUNTS],
            ],
        ),
        Suite(
            "quarantine",
            "core.quarantine",
            ("source", "reference"),
            "SELECT * FROM core.quarantine",
            lambda now: [
                *not_null("source", "reference", "reason"),
                in_set("reason", QUARANTINE_REASONS),
            ],
        ),
        Suite(
            "licenses",
            "core.licenses",
            ("id",),
            "SELECT * FROM core.licenses",
            lambda now: [
                *not_null("id", "family"),
                unique("id"),
                in_set("family", _families()),
            ],
        ),
        Suite(
            "disclosures",
            "core.disclosures",
            ("repo_id", "revision", "component"),
            DISCLOSURES_SQL,
            lambda now: [
                *not_null("repo_id", "revision", "component"),
                unique("repo_id", "revision", "component"),
                in_set("component", _components()),
                in_set("method", DISCLOSURE_METHODS),
                CATALOGUED,
                IN_REVISIONS,
            ],
            derived=(LICENSE_IN_CATALOGUE,),
        ),
        Suite(
            "openness",
            "core.openness",
            ("repo_id", "revision"),
            OPENNESS_SQL,
            lambda now: [
                *not_null("repo_id", "revision", "rubric_version", "valid_from"),
                unique("repo_id", "revision"),
                between("mof_class", 0, 3),
                between("osai_score", 0, 1),
                between("spectrum_level", 0, 5),
                in_set("osaid", OSAID_VERDICTS),
                in_set("release_level", _release_levels()),
                not_null("license_family")[0],
                in_set("license_family", _licence_families()),
                CATALOGUED,
                dated("valid_from", now),
                ordered("valid_to", "valid_from", strict=True),
                IN_REVISIONS,
            ],
            derived=(LICENSE_IN_CATALOGUE,),
        ),
        # One row per change of a dimension between consecutive revisions (pipelines/history/transitions.py).
        Suite(
            "transitions",
            "core.transitions",
            ("repo_id", "dimension", "to_revision"),
            TRANSITIONS_SQL,
            lambda now: [
                *not_null("repo_id", "changed_at", "dimension", "direction"),
                unique("repo_id", "dimension", "to_revision"),
                in_set("direction", DIRECTIONS),
                dated("changed_at", now),
                IN_RELEASES,
            ],
        ),
        # One row per (derivative, named base model) (pipelines/openness/derivatives.py).
        Suite(
            "derivatives",
            "core.derivatives",
            ("repo_id", "base_model"),
            DERIVATIVES_SQL,
            lambda now: [
                *not_null("repo_id", "base_model"),
                unique("repo_id", "base_model"),
                in_set("license_family", _licence_families()),
                in_set("base_license_family", _licence_families()),
                IN_RELEASES,
            ],
        ),
        # One row per release and crawl date: the listing's usage counts (pipelines/incremental/metrics.py).
        Suite(
            "release_metrics",
            "core.release_metrics",
            ("repo_id", "crawl_date"),
            RELEASE_METRICS_SQL,
            lambda now: [
                *not_null("repo_id", "crawl_date"),
                unique("repo_id", "crawl_date"),
                between("smallest_count", 0),  # downloads, all-time downloads and likes are >= 0
                IN_RELEASES,
            ],
        ),
        # One row per repo, revision or file a hub mirror reconstructed (pipelines/incremental/reconstructions.py).
        Suite(
            "reconstructions",
            "core.reconstructions",
            ("repo_id", "revision", "file", "kind"),
            RECONSTRUCTIONS_SQL,
            lambda now: [
                *not_null("repo_id", "kind"),
                unique("reconstruction_key"),
                Check(
                    "file_of_a_revision",
                    "ExpectColumnValuesToBeNull",
                    {"column": "file_without_revision"},
                    "a file is named only with its revision",
                ),
                IN_RELEASES,
                IN_REVISIONS,
            ],
        ),
        # One row per presence check of a repo on a crawl date (404 on its commits, the full-listing sweep).
        Suite(
            "repo_presence",
            "core.repo_presence",
            ("repo_id", "crawl_date"),
            "SELECT * FROM core.repo_presence",
            lambda now: [
                *not_null("repo_id", "crawl_date", "present", "how"),
                in_set("how", PRESENCE_CHECKS),
            ],
        ),
    ]
}


RELEASE_CODE_SQL = """SELECT t.*,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release
FROM core.release_code t"""
CODE_HISTORY_SQL = """SELECT t.*,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.code_repos x WHERE x.repo = t.repo) THEN t.repo END
        AS orphan_code_repo
FROM core.code_license_history t"""

CODE_SUITES = [
    # One row per licence or use-policy file blob (pipelines/incremental/code.py).
    Suite(
        "license_files",
        "core.license_files",
        ("host", "repo", "path", "blob_sha"),
        "SELECT * FROM core.license_files",
        lambda now: [
            *not_null("host", "repo", "path", "blob_sha", "file_kind", "license_id", "license_family"),
            unique("host", "repo", "path", "blob_sha"),
            in_set("host", LICENCE_HOSTS),
            in_set("file_kind", LICENCE_FILE_KINDS),
            in_set("license_family", _families()),
            between("score", 0, 100),
            between("coverage", 0, 1),
        ],
    ),
    # One row per code repository, its latest state.
    Suite(
        "code_repos",
        "core.code_repos",
        ("repo",),
        "SELECT * FROM core.code_repos",
        lambda now: [
            *not_null("repo", "status"),
            unique("repo"),
            in_set("status", CODE_REPO_STATUSES),
            in_set("license_family", _licence_families()),
        ],
    ),
    # One row per commit that changed a code repository's licence files.
    Suite(
        "code_license_history",
        "core.code_license_history",
        ("repo", "commit_sha"),
        CODE_HISTORY_SQL,
        lambda now: [
            *not_null("repo", "commit_sha", "committed_at"),
            unique("repo", "commit_sha"),
            references("orphan_code_repo", "code_repos", "repo has a row in code_repos"),
        ],
    ),
    # One row per (release, code repository, how linked).
    Suite(
        "release_code",
        "core.release_code",
        ("repo_id", "code_repo", "linked_via"),
        RELEASE_CODE_SQL,
        lambda now: [
            *not_null("repo_id", "code_repo", "linked_via", "role"),
            unique("repo_id", "code_repo", "linked_via"),
            in_set("linked_via", CODE_LINKS),
            in_set("role", CODE_ROLES),
            IN_RELEASES,
        ],
    ),
]
SUITES.update({s.name: s for s in CODE_SUITES})

MART_BREAKDOWNS = ("all", "org", "modality", "base_family")
MART_METRICS = ("spectrum_level", "license_family", "mof_class")
USAGE_POPULATIONS = ("all", "over_threshold")
USAGE_METRICS = ("spectrum_level", "license_family", "openness_kind")
MART_SUITES = [
    # One row per (month, breakdown, group, metric, value): the key the charts and queries sum over.
    Suite(
        "monthly_openness",
        "marts.monthly_openness",
        ("month", "breakdown", "group_value", "metric", "value"),
        "SELECT * FROM marts.monthly_openness",
        lambda now: [
            *not_null("month", "breakdown", "group_value", "metric", "value", "releases"),
            unique("month", "breakdown", "group_value", "metric", "value"),
            in_set("breakdown", MART_BREAKDOWNS),
            in_set("metric", MART_METRICS),
            between("releases", 1),
            between("avg_osai_score", 0, 1),
        ],
        # One row per organisation, month and value: 87.7M rows at 3,000,000 models, which one pandas
        # copy cannot hold on 24 GiB: validated month by month.
        batch_key="month",
    ),
    # One row per (month, population, metric, value): the weighted and unweighted shares.
    Suite(
        "monthly_usage",
        "marts.monthly_usage",
        ("month", "population", "metric", "value"),
        "SELECT * FROM marts.monthly_usage",
        lambda now: [
            *not_null("month", "population", "metric", "value", "releases", "downloads", "release_share"),
            unique("month", "population", "metric", "value"),
            in_set("population", USAGE_POPULATIONS),
            in_set("metric", USAGE_METRICS),
            between("releases", 1),
            between("downloads", 0),
            between("release_share", 0, 1),
            between("download_share", 0, 1),
        ],
    ),
    # One row per (month, dimension, direction).
    Suite(
        "monthly_transitions",
        "marts.monthly_transitions",
        ("month", "dimension", "direction"),
        "SELECT * FROM marts.monthly_transitions",
        lambda now: [
            *not_null("month", "dimension", "direction", "transitions", "short_lived"),
            unique("month", "dimension", "direction"),
            in_set("direction", DIRECTIONS),
            between("transitions", 0),
            between("short_lived", 0),
        ],
    ),
]
TIMING_EVENTS = ("open_license", "training_code", "open_data", "own_paper")
TIMING_BREAKDOWNS = ("all", "release_month", "org")
TIME_TO_OPENNESS_SQL = """SELECT t.*,
    CASE WHEN NOT EXISTS (SELECT 1 FROM core.releases x WHERE x.repo_id = t.repo_id) THEN t.repo_id END
        AS orphan_release,
    CASE WHEN (weights_at IS NULL) <> (weights_revision IS NULL)
           OR (open_license_at IS NULL) <> (open_license_revision IS NULL)
           OR (training_code_at IS NULL) <> (training_code_revision IS NULL)
           OR (open_data_at IS NULL) <> (open_data_revision IS NULL)
           OR (own_paper_at IS NULL) <> (own_paper_revision IS NULL) THEN t.repo_id END AS date_without_revision
FROM core.time_to_openness t"""
TIMING_SUITES = [
    # One row per release (sql/core/time_to_openness.sql); a date comes with the revision that shows it.
    Suite(
        "time_to_openness",
        "core.time_to_openness",
        ("repo_id",),
        TIME_TO_OPENNESS_SQL,
        lambda now: [
            *not_null("repo_id", *[f"{e}_exact" for e in ("weights", *TIMING_EVENTS)]),
            unique("repo_id"),
            *[dated(f"{e}_at", now) for e in ("weights", *TIMING_EVENTS)],
            Check(
                "dated_by_revision",
                "ExpectColumnValuesToBeNull",
                {"column": "date_without_revision"},
                "every first date comes with the revision that shows it",
            ),
            IN_RELEASES,
        ],
    ),
    # One row per (breakdown, group, event).
    Suite(
        "time_to_openness_summary",
        "marts.time_to_openness_summary",
        ("breakdown", "group_value", "event"),
        "SELECT * FROM marts.time_to_openness_summary",
        lambda now: [
            *not_null("breakdown", "group_value", "event", "releases", "with_weights", "seen", "timed"),
            unique("breakdown", "group_value", "event"),
            in_set("breakdown", TIMING_BREAKDOWNS),
            in_set("event", TIMING_EVENTS),
            between("releases", 1),
            ordered("releases", "with_weights"),
            ordered("releases", "seen"),
            ordered("seen", "timed"),
        ],
    ),
]
SUITES.update({s.name: s for s in MART_SUITES + TIMING_SUITES})


def suite_for(table: str) -> Suite:
    """The suite of a public table, by name (`revisions`) or warehouse table (`core.revisions`)."""
    for suite in SUITES.values():
        if table in (suite.name, suite.table):
            return suite
    raise KeyError(f"no quality suite for {table!r}; known: {', '.join(SUITES)}")
