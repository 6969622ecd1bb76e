"""DuckDB's memory limit, threads and spill folder on the pipeline's connections (real DuckDB files)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

from pipelines.storage.warehouse import Warehouse

GIB = 1024**3


def settings(con: duckdb.DuckDBPyConnection) -> tuple[float, int, str]:
    """The connection's memory limit in GiB (as DuckDB shows it), threads and temp directory."""
    memory, threads, temp = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
    ).fetchone()
    number, unit = re.fullmatch(r"([\d.]+) (\w+)", memory).groups()
    scale = {"MiB": 1 / 1024, "GiB": 1.0, "TiB": 1024.0}[unit]
    return float(number) * scale, int(threads), temp


def machine_memory() -> int:
    """This process's memory, computed apart from the code under test: /proc/meminfo and the cgroup."""
    text = Path("/proc/meminfo").read_text()
    total = int(re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE).group(1)) * 1024
    for name in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        if os.path.exists(name):
            limit = Path(name).read_text().strip()
            if limit.isdigit():
                total = min(total, int(limit))
            break
    return total


def shows(memory: float, expected_gib: float) -> bool:
    """Whether DuckDB's display (GiB cut, not rounded, to one decimal) is that of `expected_gib`."""
    return expected_gib - 0.1 - 1e-6 <= memory <= expected_gib + 1e-6


@pytest.fixture
def no_overrides(monkeypatch):
    monkeypatch.delenv("OPENNESS_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("OPENNESS_DUCKDB_THREADS", raising=False)


def test_the_working_database_takes_the_configured_limit_threads_and_spill_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENNESS_DUCKDB_MEMORY_LIMIT", "3GiB")
    monkeypatch.setenv("OPENNESS_DUCKDB_THREADS", "1")
    wh = Warehouse(tmp_path)
    with wh.connect() as con:
        memory, threads, temp = settings(con)
    assert (memory, threads) == (3.0, 1)
    assert Path(temp) == tmp_path.resolve() / "work.duckdb.tmp"
    monkeypatch.setenv("OPENNESS_DUCKDB_MEMORY_LIMIT", "1500MB")  # decimal units too
    with wh.connect(read_only=True) as con:
        assert shows(settings(con)[0], 1500e6 / GIB)


def test_the_defaults_follow_the_machine(tmp_path, no_overrides):
    expected = 0.6 * machine_memory() / GIB
    with Warehouse(tmp_path).connect() as con:
        memory, threads, _ = settings(con)
    assert shows(memory, expected)
    assert memory < 0.7 * machine_memory() / GIB  # not DuckDB's own default of 80%
    assert threads == len(os.sched_getaffinity(0))


def test_in_memory_connections_take_the_same_limits(monkeypatch):
    from pipelines.storage.resources import connect

    monkeypatch.setenv("OPENNESS_DUCKDB_MEMORY_LIMIT", "2GiB")
    monkeypatch.setenv("OPENNESS_DUCKDB_THREADS", "1")
    with connect() as con:
        assert settings(con)[:2] == (2.0, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENNESS_DUCKDB_MEMORY_LIMIT", "8 gigs"),
        ("OPENNESS_DUCKDB_MEMORY_LIMIT", "8"),
        ("OPENNESS_DUCKDB_MEMORY_LIMIT", "10KB"),
        ("OPENNESS_DUCKDB_THREADS", "0"),
        ("OPENNESS_DUCKDB_THREADS", "two"),
    ],
)
def test_a_bad_variable_is_a_one_line_error_naming_it(tmp_path, no_overrides, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name) as err, Warehouse(tmp_path).connect():
        pass
    assert "\n" not in str(err.value)
    assert repr(value) in str(err.value)
    assert not (tmp_path / "work.duckdb").exists()  # refused before DuckDB opened anything


def test_a_cgroup_limit_smaller_than_the_machine_wins(tmp_path, monkeypatch, no_overrides):
    from pipelines.storage import resources

    limited = tmp_path / "memory.max"
    limited.write_text("2147483648\n")
    unlimited = tmp_path / "unlimited"
    unlimited.write_text("max\n")
    assert resources.cgroup_memory_limit((limited,)) == 2 * GIB
    assert resources.cgroup_memory_limit((unlimited, limited)) is None  # the first file found decides
    assert resources.cgroup_memory_limit((tmp_path / "absent",)) is None
    monkeypatch.setattr(resources, "CGROUP_LIMIT_FILES", (limited,))
    assert resources.memory_limit_bytes() == int(0.6 * 2 * GIB)
    with resources.connect() as con:
        assert shows(settings(con)[0], 1.2)


def test_another_connection_to_the_open_working_file_still_opens_and_shares_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENNESS_DUCKDB_MEMORY_LIMIT", "3GiB")
    monkeypatch.setenv("OPENNESS_DUCKDB_THREADS", "1")
    wh = Warehouse(tmp_path)
    with wh.connect(), duckdb.connect(str(wh.work_db)) as other:  # as tests and tools open it
        assert settings(other)[:2] == (3.0, 1)
