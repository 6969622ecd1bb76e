"""Benchmark of snapshot writing: seconds and bytes per table for synthetic releases and revisions.

`python -m benchmarks.snapshot 3000000 30000000` (issue 7: 3 million releases, 30 million revisions).
Besides releases and revisions, the scored tables are filled at their real proportions (one `openness` row
per revision, 2 transitions per revision as the history benchmark's 37 tracked dimensions produce (the
demo warehouse has 1.2), and, with `disclosures=True`, 17
`disclosures` rows per revision), with the columns the real build creates; then two versions are
published, the second against the first (the daily case: a changelog diffed against the previous version).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.publish.snapshot import write_snapshot
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse, migrate


def _fill(con: duckdb.DuckDBPyConnection, releases: int, revisions: int) -> None:
    """Synthetic rows with the public columns, generated inside DuckDB (values shaped like the Hub's)."""
    con.execute(
        """
        INSERT INTO core.releases (repo_id, previous_ids, org, name, created_at, first_seen, last_seen, pipeline_tag,
                                   library_name, base_models, modality, latest_revision, revision_count)
        SELECT 'org' || (i % 250000) || '/model-' || i, [], 'org' || (i % 250000), 'model-' || i,
               TIMESTAMPTZ '2021-01-01' + to_seconds(i % 150000000), TIMESTAMPTZ '2024-01-01',
               TIMESTAMPTZ '2026-11-01', ['text-generation', 'text-to-image', 'fill-mask'][1 + i % 3],
               'transformers', CASE WHEN i % 4 = 0 THEN ['org1/base-' || (i % 1000)] ELSE [] END,
               ['text', 'image', 'text'][1 + i % 3], lpad(to_hex(i), 40, '0'), 10
        FROM range(?) t(i)""",
        [releases],
    )
    con.execute(
        """
        INSERT INTO core.revisions (repo_id, revision, repo_uid, listed_as, committed_at, observed_at, source,
                                    license_raw, license_tags, gated, files, has_weights, weight_formats, datasets,
                                    arxiv_ids, code_urls, base_models, pipeline_tag, library_name, tags,
                                    readme_status, card_sha256, card_bytes, card_sections, has_model_index)
        SELECT 'org' || (r % 250000) || '/model-' || r, lpad(to_hex(i), 40, '0'), lpad(to_hex(r), 24, '0'),
               'org' || (r % 250000) || '/model-' || r,
               TIMESTAMPTZ '2021-01-01' + to_seconds(i * 7 % 180000000), TIMESTAMPTZ '2026-11-01',
               ['listing', 'backfill'][1 + i % 2], ['apache-2.0', 'mit', 'llama3', 'other', NULL][1 + i % 5],
               ['apache-2.0'], ['false', 'manual'][1 + (i % 7 = 0)::INT],
               ['README.md', 'config.json', 'model.safetensors'], true, ['safetensors'], ['org/data-' || (i % 500)],
               CASE WHEN i % 3 = 0 THEN ['2307.09288'] ELSE [] END, [], [], 'text-generation', 'transformers',
               ['transformers', 'license:apache-2.0'], 'ok', sha256(i::VARCHAR), 4000 + i % 9000,
               ['model card', 'training', 'evaluation'], i % 5 = 0
        FROM (SELECT i, i // ? AS r FROM range(?) t(i))""",
        [max(1, revisions // max(1, releases)), revisions],
    )


def _value(name: str, dtype: str, i: str) -> str:
    """A SQL expression of row number `i` for a column of the scored tables, shaped like the real values."""
    if name == "repo_id":
        return f"'org' || ({i} // 10 % 250000) || '/model-' || ({i} // 10)"
    if name in ("revision", "from_revision", "to_revision"):
        return f"lpad(to_hex({i}), 40, '0')"
    if name == "evidence":  # the real evidence is a short JSON document per judgement
        return (
            f"'{{\"rule\": \"' || ['card_section', 'license_tag', 'file_list', 'dataset_link'][1 + {i} % 4] "
            f'|| \'", "source": "README.md#L\' || ({i} % 400) || \'", "value": "\' || md5({i}::VARCHAR) '
            f"|| '\"}}'"
        )
    if name == "evidence_url":
        return (
            f"'https://huggingface.co/org/model-' || ({i} // 10) || '/commit/' || lpad(to_hex({i}), 40, '0')"
        )
    if dtype == "VARCHAR":
        return f"['open', 'closed', 'partial', 'unknown', 'apache-2.0', 'llama3'][1 + ({i} * 7 + {len(name)}) % 6]"
    if dtype == "VARCHAR[]":
        return f"CASE WHEN {i} % 3 = 0 THEN ['training data', 'training code'] ELSE [] END"
    if dtype == "BOOLEAN":
        return f"({i} + {len(name)}) % 3 = 0"
    if dtype in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT"):
        return f"(({i} + {len(name)}) % 6)::{dtype}"
    if dtype == "DOUBLE":
        return f"(({i} * 13) % 100) / 100.0"
    if dtype.startswith("TIMESTAMP"):
        return f"TIMESTAMPTZ '2021-01-01' + to_seconds({i} * 7 % 180000000)"
    raise ValueError(f"no synthetic values for {name} {dtype}")


def _fill_scored(con: duckdb.DuckDBPyConnection, revisions: int, disclosures: bool) -> None:
    """core.openness, core.transitions (and core.disclosures) with the real build's columns, synthetic rows."""
    sizes = {
        "core.openness": revisions,
        "core.transitions": revisions * 2,
        "core.disclosures": 17 * revisions if disclosures else 0,
    }
    for table, rows in sizes.items():
        schema, name = table.split(".")
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND "
            "table_name = ? ORDER BY column_index",
            [schema, name],
        ).fetchall()
        row = "i // 17" if name == "disclosures" else "i"
        select = ", ".join(_value(c, t, row if c in ("repo_id", "revision") else "i") for c, t in columns)
        con.execute(f"INSERT INTO {table} SELECT {select} FROM range(?) t(i)", [rows])  # noqa: S608 - fixed names


def empty_warehouse(tmp: str) -> tuple[Warehouse, duckdb.DuckDBPyConnection]:
    """A warehouse under `tmp` with its tables created (the scored tables as the real build creates them:
    built while core.revisions is still empty), and a connection to its working file."""
    wh = Warehouse(Path(tmp) / "warehouse")
    wh.root.mkdir(parents=True)
    con = duckdb.connect(str(wh.work_db))
    con.execute("SET enable_progress_bar = false")
    migrate(con)
    run_step("scores", wh, con, full=True)
    return wh, con


def run_snapshot_bench(releases: int, revisions: int, *, disclosures: bool = False) -> dict:
    """Time writing two snapshot versions of the given sizes (the second diffed against the first)."""
    with tempfile.TemporaryDirectory(prefix="openness-bench-") as tmp:
        wh, con = empty_warehouse(tmp)
        started = time.perf_counter()
        _fill(con, releases, revisions)
        _fill_scored(con, revisions, disclosures)
        fill_seconds = time.perf_counter() - started
        con.execute(
            "INSERT INTO core.crawl_runs (run_key, crawl_date, started_at, status) "
            "VALUES ('bench', DATE '2026-11-01', TIMESTAMPTZ '2026-11-01', 'complete')"
        )
        con.execute("CHECKPOINT")
        timings = []
        for day in ("2026-11-01", "2026-11-02"):
            started = time.perf_counter()
            folder = write_snapshot(con, Path(tmp) / "snapshots", day)
            timings.append(time.perf_counter() - started)
        manifest = json.loads((folder / "manifest.json").read_text())
        con.close()
    return {
        "releases": releases,
        "revisions": revisions,
        "fill_seconds": round(fill_seconds, 1),
        "first_snapshot_seconds": round(timings[0], 1),
        "snapshot_seconds": round(timings[1], 1),
        "tables": {t: {"rows": e["rows"], "bytes": e["bytes"]} for t, e in manifest["tables"].items()},
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def run_snapshot_scaled(revisions: int) -> dict:
    """The snapshot benchmark at one release per ten revisions (3M releases / 30M revisions at full scale)."""
    return run_snapshot_bench(max(1, revisions // 10), revisions)


def run_snapshot_with_disclosures(revisions: int) -> dict:
    """The same with the disclosures table filled (17 rows per revision: 51M rows at 3M revisions)."""
    return run_snapshot_bench(max(1, revisions // 10), revisions, disclosures=True)


def table_rows(result: dict) -> list[tuple[str, object, str, bool | None]]:
    """The rows of the docs table (target: a snapshot of 3M releases / 30M revisions in under 60 s)."""
    target = result["revisions"] >= 30_000_000
    rows = [
        ("releases / revisions", f"{result['releases']} / {result['revisions']}", "", None),
        ("fill the synthetic warehouse (s, not part of the figure)", result["fill_seconds"], "", None),
        ("first version (s)", result["first_snapshot_seconds"], "", None),
        (
            "daily version, diffed against the previous (s)",
            result["snapshot_seconds"],
            "< 60 s at 30M revisions" if target else "(target at 30M revisions)",
            result["snapshot_seconds"] < 60 if target else None,
        ),
        ("peak RSS (GiB)", result["peak_rss_gib"], "", None),
    ]
    rows += [
        (f"table {t}: rows / MB", f"{e['rows']} / {round(e['bytes'] / 2**20, 1)}", "", None)
        for t, e in result["tables"].items()
    ]
    return rows


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:3]] or [300_000, 3_000_000]
    print(json.dumps(run_snapshot_bench(*sizes), indent=1))
