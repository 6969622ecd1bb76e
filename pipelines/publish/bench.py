"""Benchmark of snapshot writing: seconds and bytes per table for synthetic releases and revisions.

`python -m pipelines.publish.bench 3000000 30000000` (issue 7: 3 million releases, 30 million revisions).
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
from pipelines.storage.warehouse import migrate


def _fill(con: duckdb.DuckDBPyConnection, releases: int, revisions: int) -> None:
    """Synthetic rows with the public columns, generated inside DuckDB (values shaped like the Hub's)."""
    con.execute("""
        INSERT INTO core.releases (repo_id, previous_ids, org, name, created_at, first_seen, last_seen, pipeline_tag,
                                   library_name, base_models, modality, latest_revision, revision_count)
        SELECT 'org' || (i % 250000) || '/model-' || i, [], 'org' || (i % 250000), 'model-' || i,
               TIMESTAMPTZ '2021-01-01' + to_seconds(i % 150000000), TIMESTAMPTZ '2024-01-01',
               TIMESTAMPTZ '2026-11-01', ['text-generation', 'text-to-image', 'fill-mask'][1 + i % 3],
               'transformers', CASE WHEN i % 4 = 0 THEN ['org1/base-' || (i % 1000)] ELSE [] END,
               ['text', 'image', 'text'][1 + i % 3], lpad(to_hex(i), 40, '0'), 10
        FROM range(?) t(i)""", [releases])
    con.execute("""
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
        FROM (SELECT i, i // ? AS r FROM range(?) t(i))""", [max(1, revisions // max(1, releases)), revisions])


def run_snapshot_bench(releases: int, revisions: int) -> dict:
    """Time writing a snapshot of the given sizes; seconds and bytes per table."""
    with tempfile.TemporaryDirectory(prefix="openness-bench-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        migrate(con)
        started = time.perf_counter()
        _fill(con, releases, revisions)
        fill_seconds = time.perf_counter() - started
        con.execute("INSERT INTO core.crawl_runs (run_key, crawl_date, started_at, status) "
                    "VALUES ('bench', DATE '2026-11-01', TIMESTAMPTZ '2026-11-01', 'complete')")
        started = time.perf_counter()
        folder = write_snapshot(con, Path(tmp) / "snapshots", "2026-11-01")
        seconds = time.perf_counter() - started
        manifest = json.loads((folder / "manifest.json").read_text())
        con.close()
    return {"releases": releases, "revisions": revisions, "fill_seconds": round(fill_seconds, 1),
            "snapshot_seconds": round(seconds, 1),
            "tables": {t: {"rows": e["rows"], "bytes": e["bytes"]} for t, e in manifest["tables"].items()},
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


def run_snapshot_scaled(revisions: int) -> dict:
    """The snapshot benchmark at one release per ten revisions (3M releases / 30M revisions at full scale)."""
    return run_snapshot_bench(max(1, revisions // 10), revisions)


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:3]] or [300_000, 3_000_000]
    print(json.dumps(run_snapshot_bench(*sizes), indent=1))
