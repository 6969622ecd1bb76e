"""A canary HF_TOKEN is used by the crawler but never appears in any file written or any line logged."""

from __future__ import annotations

import os
import secrets
import subprocess

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from tests.small_mirror import make_small_mirror

pytestmark = pytest.mark.slow


def test_canary_token_is_used_and_never_written(tmp_path):
    canary = f"hf_canary{secrets.token_hex(12)}"
    mirror = make_small_mirror(tmp_path / "mirror")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home"), "HF_TOKEN": canary}
    proc = subprocess.run(
        ["make", "--no-print-directory", "demo", f"MIRROR={mirror}", f"WAREHOUSE={tmp_path / 'wh'}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The token was really sent: the mirror grants gated files to any bearer token.
    with duckdb.connect(str(tmp_path / "wh" / "openness.duckdb"), read_only=True) as con:
        (status,) = con.execute(
            "SELECT readme_status FROM core.revisions WHERE repo_id = 'acme/gated-13b'"
        ).fetchone()
    assert status == "ok"
    assert canary not in proc.stdout and canary not in proc.stderr
    leaks = []
    needle = canary.encode()
    for path in tmp_path.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            leaks.append(str(path.relative_to(tmp_path)))
    # Parquet and DuckDB compress strings, so also look inside them, decoded.
    for path in tmp_path.rglob("*.parquet"):
        table = pq.read_table(path)
        for column in table.column_names:
            if canary in str(table.column(column).to_pylist()):
                leaks.append(f"{path.relative_to(tmp_path)}:{column}")
    for path in tmp_path.rglob("*.duckdb"):
        with duckdb.connect(str(path), read_only=True) as con:
            for schema, table, column in con.execute(
                "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                "WHERE NOT internal AND data_type NOT IN ('BLOB')"
            ).fetchall():
                hit = con.execute(
                    f'SELECT count(*) FROM "{schema}"."{table}" '  # noqa: S608 - catalog names
                    f'WHERE CAST("{column}" AS VARCHAR) LIKE ?',
                    [f"%{canary}%"],
                ).fetchone()[0]
                if hit:
                    leaks.append(f"{path.name}:{schema}.{table}.{column}")
    assert leaks == [], f"the token was written to {leaks}"
