"""How much memory and how many threads DuckDB may use: decided once, from the machine or the environment.

DuckDB's own defaults are 80% of the physical memory and one thread per core of the machine; they ignore
a container's memory limit and the CPUs the process is pinned to, and leave little room for Polars (which
holds its frames outside DuckDB's limit) and the OS. Every connection the pipeline opens (the working
database, and the in-memory ones it sorts and compares with) opens through `connect`:

- `memory_limit`: `MEMORY_FRACTION` (60%) of the memory this process may use: the cgroup's limit
  (`/sys/fs/cgroup/memory.max`, or cgroup v1's `memory.limit_in_bytes`) when there is one and it is
  smaller than the machine's, else the physical memory (`os.sysconf`); `OPENNESS_DUCKDB_MEMORY_LIMIT`
  (e.g. `8GB`, `512MiB`) overrides it;
- `threads`: the CPUs this process may run on (`os.sched_getaffinity`); `OPENNESS_DUCKDB_THREADS`
  overrides it;
- `temp_directory`: where DuckDB spills what does not fit, on the warehouse's disk.

A bad value in either variable is a one-line `ValueError` naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

MEMORY_LIMIT_ENV = "OPENNESS_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "OPENNESS_DUCKDB_THREADS"
# DuckDB's share of the memory: the rest is for Polars frames, Python objects and the OS's file cache.
MEMORY_FRACTION = 0.6
CGROUP_LIMIT_FILES = (
    Path("/sys/fs/cgroup/memory.max"),  # cgroup v2
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),  # cgroup v1
)
_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.IGNORECASE)


def parse_size(text: str, name: str = MEMORY_LIMIT_ENV) -> int:
    """Bytes in a size such as `8GB`, `512MiB` or `1.5GB` (decimal or binary units); a one-line
    ValueError naming `name` otherwise."""
    match = _SIZE.match(text)
    unit = match and _UNITS.get(match.group(2).lower())
    if not match or not unit:
        raise ValueError(f"{name} must be a size such as 8GB or 512MiB, not {text!r}")
    size = int(float(match.group(1)) * unit)
    if size < 1024**2:
        raise ValueError(f"{name} must be at least 1MiB, not {text!r}")
    return size


def physical_memory() -> int:
    """The machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def cgroup_memory_limit(files: tuple[Path, ...] | None = None) -> int | None:
    """The memory limit of this process's cgroup in bytes (read from `files`, default
    `CGROUP_LIMIT_FILES`: the first that exists decides), None without one (`max`, or no such file)."""
    for path in CGROUP_LIMIT_FILES if files is None else files:
        try:
            text = path.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text.isdigit():
            return int(text)
        return None  # "max": no limit
    return None


def available_memory() -> int:
    """The memory this process may use: the cgroup's limit when smaller than the machine, else the
    machine's (cgroup v1 reports a huge number when there is no limit)."""
    physical = physical_memory()
    limit = cgroup_memory_limit()
    return min(physical, limit) if limit else physical


def memory_limit_bytes(environ: Mapping[str, str] | None = None) -> int:
    """DuckDB's memory limit in bytes: `OPENNESS_DUCKDB_MEMORY_LIMIT` when set, else `MEMORY_FRACTION` of
    `available_memory()`."""
    env = os.environ if environ is None else environ
    raw = env.get(MEMORY_LIMIT_ENV, "").strip()
    if raw:
        return parse_size(raw, MEMORY_LIMIT_ENV)
    return int(available_memory() * MEMORY_FRACTION)


def thread_count(environ: Mapping[str, str] | None = None) -> int:
    """DuckDB's threads: `OPENNESS_DUCKDB_THREADS` when set (a positive integer), else the CPUs this
    process may run on."""
    env = os.environ if environ is None else environ
    raw = env.get(THREADS_ENV, "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, not {raw!r}")
        return int(raw)
    return len(os.sched_getaffinity(0))


def duckdb_settings(
    temp_directory: Path | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The DuckDB settings of a pipeline connection: memory limit, threads and, when given, the spill folder."""
    settings = {
        "memory_limit": f"{memory_limit_bytes(environ)}B",
        "threads": str(thread_count(environ)),
    }
    if temp_directory is not None:
        settings["temp_directory"] = str(temp_directory)
    return settings


def apply_settings(con: duckdb.DuckDBPyConnection, settings: Mapping[str, str]) -> None:
    """SET each setting on the connection's database (values from `duckdb_settings`, quoted)."""
    for name, value in settings.items():
        quoted = value.replace("'", "''")
        con.execute(f"SET {name} = '{quoted}'")


def connect(
    database: str | Path = ":memory:", read_only: bool = False, temp_directory: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the pipeline's memory limit, threads and spill folder.

    The settings are read first (a bad variable opens nothing), then SET on the open database rather
    than passed as `config`: DuckDB refuses a second connection to an open file with another `config`,
    and a SET applies to the whole database, so any other connection to the same file in this process
    shares it."""
    settings = duckdb_settings(temp_directory)
    con = duckdb.connect(str(database), read_only=read_only)
    try:
        apply_settings(con, settings)
    except BaseException:
        con.close()
        raise
    return con
