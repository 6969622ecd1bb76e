"""A small, consistent warehouse (every public table) that each quality test then damages in one way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.openness.catalogue import CATALOGUE_PATH
from pipelines.storage.warehouse import Warehouse

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
REPOS = ["org-a/model-1", "org-a/model-2", "org-b/model-3", "org-b/model-4"]
LEVELS = {"org-a/model-1": 3, "org-a/model-2": 2, "org-b/model-3": 1, "org-b/model-4": 0}


def sha(repo_id: str, n: int = 0) -> str:
    """A 40-hex commit id, stable per (repo, n)."""
    return (f"{n:x}" + repo_id.encode().hex() * 4)[:40]


# Tables the other engineers will build; created here with the columns of their contract.
FUTURE_DDL = [
    """CREATE TABLE core.openness (repo_id VARCHAR, revision VARCHAR, mof_class INTEGER, osai_score DOUBLE,
       osaid VARCHAR, release_level VARCHAR, spectrum_level INTEGER, license_id VARCHAR, license_family VARCHAR,
       rubric_version VARCHAR, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ, license_status VARCHAR)""",
    """CREATE TABLE core.transitions (repo_id VARCHAR, changed_at TIMESTAMPTZ, dimension VARCHAR,
       from_value VARCHAR, to_value VARCHAR, direction VARCHAR, from_revision VARCHAR, to_revision VARCHAR,
       evidence_url VARCHAR)""",
    """CREATE TABLE core.derivatives (repo_id VARCHAR, base_model VARCHAR, base_model_relation VARCHAR,
       base_in_warehouse BOOLEAN, base_license_id VARCHAR, base_license_family VARCHAR, license_id VARCHAR,
       license_family VARCHAR, relicensed_more_permissively BOOLEAN, license_changed BOOLEAN, evidence VARCHAR)""",
    """CREATE TABLE core.disclosures (repo_id VARCHAR, revision VARCHAR, component VARCHAR, included BOOLEAN,
       license_id VARCHAR, is_open BOOLEAN, evidence VARCHAR, method VARCHAR, detail TINYINT)""",
]


def fill_clean(con: duckdb.DuckDBPyConnection) -> None:
    """Insert a few consistent rows into every public table (and create the tables still to come)."""
    for i, repo in enumerate(REPOS):
        org, name = repo.split("/")
        revs = [sha(repo, 0)] + ([sha(repo, 1)] if i == 0 else [])
        for n, rev in enumerate(revs):
            con.execute(
                "INSERT INTO core.revisions (repo_id, revision, committed_at, observed_at, source, "
                "license_raw, gated, has_weights, readme_status, card_bytes) VALUES "
                "(?, ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 'listing', 'apache-2.0', 'false', true, 'ok', 1200)",
                [repo, rev, f"2025-0{n + 1}-10", f"2025-0{n + 1}-11"],
            )
        con.execute(
            "INSERT INTO core.releases (repo_id, previous_ids, org, name, created_at, first_seen, last_seen, "
            "pipeline_tag, modality, latest_revision, revision_count) VALUES (?, [], ?, ?, "
            "'2025-01-01'::TIMESTAMPTZ, '2025-01-11'::TIMESTAMPTZ, '2026-11-20'::TIMESTAMPTZ, "
            "'text-generation', 'text', ?, ?)",
            [repo, org, name, revs[-1], len(revs)],
        )
    con.execute(
        "INSERT INTO core.datasets VALUES ('org-d/data-1', ?, '2026-11-20'::TIMESTAMPTZ, true, 'cc-by-4.0', "
        "NULL, 'false', 'ok', 2048)",
        [sha("org-d/data-1")],
    )
    # A dataset the source did not record (a hub mirror without dataset repos): its existence is unknown.
    con.execute("INSERT INTO core.datasets (dataset_id, observed_at) VALUES ('org-d/data-2', '2026-11-20')")
    con.execute(
        "INSERT INTO core.papers (arxiv_id, version, title, published, fetched_at, paper_kind, status) VALUES "
        "('2401.00001', 2, 'A model', '2024-01-01'::TIMESTAMPTZ, '2026-11-20'::TIMESTAMPTZ, 'preprint', "
        "'found'), ('2401.00002', NULL, NULL, NULL, '2026-11-20'::TIMESTAMPTZ, NULL, 'not_found')"
    )
    con.execute(
        "INSERT INTO core.release_papers VALUES (?, '2401.00001', ?, '2025-01-10'::TIMESTAMPTZ, ?, 'tag'), "
        "(?, '2401.00002', ?, '2025-01-10'::TIMESTAMPTZ, ?, 'card_link')",
        [REPOS[0], sha(REPOS[0]), sha(REPOS[0], 1), REPOS[2], sha(REPOS[2]), sha(REPOS[2])],
    )
    runs = [
        ("listing:2026-11-22", "2026-11-22", "listing:hub", None, False),
        ("listing:2026-11-23", "2026-11-23", "listing:hub", "2026-11-22 06:00:00+00", True),
        ("readmes:2026-11-23", "2026-11-23", "readmes[0/1]:hub", None, None),
    ]
    for key, day, scope, watermark, reached in runs:
        con.execute(
            "INSERT INTO core.crawl_runs (run_key, crawl_date, started_at, finished_at, scope, status, pages, "
            "models_listed, bytes_total, seconds, watermark, reached_watermark) VALUES (?, ?::DATE, "
            "?::TIMESTAMPTZ, ?::TIMESTAMPTZ + INTERVAL 5 MINUTE, ?, 'complete', 3, 4, 1000, 300, "
            "?::TIMESTAMPTZ, ?)",
            [key, day, day, day, scope, watermark, reached],
        )
    con.execute(
        "INSERT INTO core.quarantine VALUES ('hub_listing', 'hub_listing/crawl_date=2026-11-23', 'bad id', "
        "'invalid_identifier', 'id=''bad id''', '2026-11-23'), ('hub_readme', 'org-b/model-3@x', "
        "'org-b/model-3', 'malformed_yaml', 'mapping values', '2026-11-23')"
    )
    for ddl in FUTURE_DDL:
        con.execute(ddl)
    con.execute(
        "CREATE TABLE core.licenses AS SELECT * FROM read_csv(?, all_varchar = true)", [str(CATALOGUE_PATH)]
    )
    families = {3: "osi-permissive", 2: "community", 1: "non-commercial", 0: "unknown"}
    for repo in REPOS:
        level = LEVELS[repo]
        con.execute(
            "INSERT INTO core.openness SELECT repo_id, revision, 0, 0.25, 'fails', ?, ?, ?, ?, '2026.11.0', "
            "committed_at, lead(committed_at) OVER (ORDER BY committed_at), 'mapped' FROM core.revisions "
            "WHERE repo_id = ?",
            [
                "downloadable" if level else "fully_closed",
                level,
                {3: "apache-2.0", 2: "llama3", 1: "cc-by-nc-4.0", 0: None}[level],
                families[level],
                repo,
            ],
        )
    con.execute(
        "INSERT INTO core.disclosures SELECT repo_id, revision, 'Model parameters (Final)', true, "
        "'apache-2.0,mit', true, '[]', 'declared', NULL FROM core.revisions"
    )
    con.execute(
        "INSERT INTO core.derivatives VALUES (?, ?, 'finetune', true, 'apache-2.0', 'osi-permissive', NULL, "
        "'unknown', false, true, '[]')",
        [REPOS[3], REPOS[0]],
    )
    con.execute(
        "INSERT INTO core.repo_presence VALUES (?, '2026-11-23'::DATE, true, 'sweep_present'), "
        "(?, '2026-11-23'::DATE, false, 'commits_404')",
        [REPOS[3], REPOS[2]],
    )
    con.execute(
        "INSERT INTO core.reconstructions VALUES (?, NULL, NULL, 'createdAt-upper-bound', 'w'), "
        "(?, ?, NULL, 'synthetic-commit-id', 'w'), (?, ?, 'README.md', 'readme-from-card-data', 'w'), "
        "(?, ?, NULL, 'readme-from-card-data', 'w')",
        [REPOS[1], REPOS[0], sha(REPOS[0], 1), REPOS[0], sha(REPOS[0], 1), REPOS[0], sha(REPOS[0], 1)],
    )
    con.execute(
        "CREATE TABLE core.release_metrics (repo_id VARCHAR, crawl_date DATE, downloads BIGINT, "
        "downloads_all_time BIGINT, likes BIGINT, trending_score DOUBLE)"
    )
    con.execute(
        "INSERT INTO core.release_metrics VALUES (?, '2026-11-23', 1200, NULL, 3, 1.5), "
        "(?, '2026-11-23', 0, 10, 0, 0.0)",
        [REPOS[0], REPOS[1]],
    )
    fill_code(con)
    con.execute(
        "INSERT INTO core.transitions VALUES (?, '2025-02-10'::TIMESTAMPTZ, 'license_family', 'unknown', "
        "'osi-permissive', 'opening', ?, ?, 'https://huggingface.co/org-a/model-1')",
        [REPOS[0], sha(REPOS[0]), sha(REPOS[0], 1)],
    )
    fill_marts(con)


def fill_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The marts step's tables, as it writes them: one month of the releases above."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        "CREATE TABLE marts.monthly_openness (month DATE, breakdown VARCHAR, group_value VARCHAR, "
        "metric VARCHAR, value VARCHAR, releases BIGINT, avg_osai_score DOUBLE)"
    )
    con.execute(
        "INSERT INTO marts.monthly_openness VALUES ('2025-02-01', 'all', 'all', 'license_family', "
        "'osi-permissive', 1, 0.25), ('2025-02-01', 'all', 'all', 'license_family', 'none', 1, 0.25), "
        "('2025-02-01', 'all', 'all', 'license_family', 'unknown', 2, 0.25), "
        "('2025-02-01', 'org', 'org-a', 'spectrum_level', '3', 1, 0.25)"
    )
    con.execute(
        "CREATE TABLE marts.monthly_transitions (month DATE, dimension VARCHAR, direction VARCHAR, "
        "transitions BIGINT, short_lived BIGINT)"
    )
    con.execute(
        "INSERT INTO marts.monthly_transitions VALUES ('2025-02-01', 'license_family', 'opening', 1, 0)"
    )
    con.execute(
        "CREATE TABLE marts.monthly_usage (month DATE, population VARCHAR, metric VARCHAR, value VARCHAR, "
        "releases BIGINT, downloads BIGINT, release_share DOUBLE, download_share DOUBLE)"
    )
    con.execute(
        "INSERT INTO marts.monthly_usage VALUES ('2026-11-01', 'all', 'spectrum_level', '3', 1, 1200, 0.5, 1.0), "
        "('2026-11-01', 'all', 'spectrum_level', '2', 1, 0, 0.5, 0.0)"
    )
    # The time to openness from the rows above, by the SQL the marts step runs.
    from pipelines.openness.rubric import load_rubric, open_families
    from pipelines.storage.warehouse import sql_text

    con.execute(
        f"CREATE TABLE core.time_to_openness AS {sql_text('core/time_to_openness.sql')}",
        {"open_families": open_families(load_rubric())},
    )
    con.execute(
        f"CREATE TABLE marts.time_to_openness_summary AS {sql_text('marts/time_to_openness_summary.sql')}"
    )


def fill_code(con: duckdb.DuckDBPyConnection) -> None:
    """The code tables as the code step writes them (pipelines/incremental/code.py): one code repository
    with one licence file, its licence history, and one release linking it."""
    from pipelines.code.parse import CODE_REPO_SCHEMA, LICENCE_HISTORY_SCHEMA
    from pipelines.code.release_code import RELEASE_CODE_SCHEMA
    from pipelines.incremental.code import LICENSE_FILES_SCHEMA

    blob = sha("org-a/train", 7)
    frames = {
        "core.license_files": pl.DataFrame(
            [
                [
                    "github",
                    "org-a/train",
                    "LICENSE",
                    blob,
                    sha("org-a/train"),
                    "licence",
                    "apache-2.0",
                    "osi-permissive",
                    100.0,
                    0.98,
                    "apache-2.0",
                    "apache-2.0.LICENSE",
                    None,
                    NOW,
                ]
            ],
            schema=LICENSE_FILES_SCHEMA,
            orient="row",
        ),
        "core.code_repos": pl.DataFrame(
            [
                {
                    "repo": "org-a/train",
                    "full_name": "org-a/train",
                    "status": "ok",
                    "license_id": "apache-2.0",
                    "license_family": "osi-permissive",
                    "license_source": "files",
                    "github_license": "Apache-2.0",
                    "file_license": "apache-2.0",
                    "archived": False,
                    "fork": False,
                    "parent": None,
                    "default_branch": "main",
                    "created_at": "2024-01-01T00:00:00Z",
                    "pushed_at": "2024-05-01T00:00:00Z",
                    "head_sha": sha("org-a/train"),
                    "training_code": True,
                    "preprocessing_code": None,
                    "evaluation_code": False,
                    "inference_code": True,
                    "evidence": "{}",
                    "observed_at": NOW,
                }
            ],
            schema=CODE_REPO_SCHEMA,
        ),
        "core.code_license_history": pl.DataFrame(
            [
                {
                    "repo": "org-a/train",
                    "commit_sha": sha("org-a/train", 1),
                    "committed_at": "2024-01-01T00:00:00Z",
                    "files": f'{{"LICENSE": "{blob}"}}',
                    "changed_paths": ["LICENSE"],
                    "license_id": "apache-2.0",
                    "message": "Add LICENSE",
                }
            ],
            schema=LICENCE_HISTORY_SCHEMA,
        ),
        "core.release_code": pl.DataFrame(
            [{"repo_id": REPOS[0], "code_repo": "org-a/train", "linked_via": "card", "role": "release_code"}],
            schema=RELEASE_CODE_SCHEMA,
        ),
    }
    for table, frame in frames.items():
        con.register("code_frame", frame)
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM code_frame")  # noqa: S608 - fixed names
        con.unregister("code_frame")


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[tuple[Warehouse, duckdb.DuckDBPyConnection]]:
    """A migrated warehouse in a tmp folder with clean rows in every public table."""
    wh = Warehouse(tmp_path / "warehouse")
    with wh.connect() as con:
        fill_clean(con)
        yield wh, con


@pytest.fixture
def con(warehouse: tuple[Warehouse, duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
    """The clean warehouse's connection."""
    return warehouse[1]
