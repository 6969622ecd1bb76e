"""The dependency tree: requirements.lock pins all of it with hashes and agrees with pyproject.toml, this
environment is exactly the lock (what `make venv` installs), and deptry finds no undeclared or unused
dependency (what `make lint` runs)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
HAS_DEPTRY = importlib.util.find_spec("deptry") is not None


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {name: (version, hashes)}."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            current = _norm(match.group(1))
            entries[current] = (match.group(2), [])
        elif current and (h := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            entries[current][1].append(h.group(1))
    return entries


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        match = PIN.match(spec)
        assert match, f"pyproject.toml: {spec!r} is not pinned with =="
        pins[_norm(match.group(1))] = match.group(2)
    return pins


def test_lock_pins_every_declared_dependency_at_its_version_with_hashes():
    lock = _lock()
    assert len(lock) > 100, "requirements.lock should hold the whole tree"
    for name, version in _declared().items():
        assert name in lock, f"{name} is declared in pyproject.toml but missing from requirements.lock"
        assert lock[name][0] == version, (
            f"{name}: pyproject.toml pins {version}, requirements.lock {lock[name][0]}"
        )
    unhashed = sorted(name for name, (_, hashes) in lock.items() if not hashes)
    assert not unhashed, f"requirements.lock entries without a hash: {unhashed}"


def test_this_environment_is_the_lock():
    """Every locked package is installed at its locked version (`make venv` installs the lock, nothing else)."""
    wrong = {}
    for name, (version, _) in _lock().items():
        try:
            got = metadata.version(name)
        except metadata.PackageNotFoundError:
            got = None
        if got != version:
            wrong[name] = (version, got)
    assert not wrong, f"installed versions differ from requirements.lock (locked, installed): {wrong}"


def _deptry(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deptry", ".", "--no-ansi", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not HAS_DEPTRY, reason="deptry is not installed in this environment")
def test_deptry_finds_no_dependency_issue():
    product = _deptry(ROOT, "--extend-exclude", "^tests/", "--extend-exclude", "^benchmarks/")
    assert product.returncode == 0, product.stdout + product.stderr
    everything = _deptry(ROOT, "--ignore", "DEP004")
    assert everything.returncode == 0, everything.stdout + everything.stderr


@pytest.mark.skipif(not HAS_DEPTRY, reason="deptry is not installed in this environment")
def test_deptry_reports_an_undeclared_and_an_unused_dependency(tmp_path):
    """The check can fail: a module importing an undeclared package and one only installed as a dependency of
    another, and a declared package nobody imports."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\ndependencies = ["requests==2.34.2"]\n', encoding="utf-8"
    )
    (tmp_path / "p.py").write_text("import polars\nimport openness_unlisted_module\n", encoding="utf-8")
    proc = _deptry(tmp_path)
    assert proc.returncode != 0
    assert (
        "DEP001 'openness_unlisted_module' imported but missing from the dependency definitions"
        in proc.stderr
    )
    assert "DEP003 'polars' imported but it is a transitive dependency" in proc.stderr
    assert "DEP002 'requests' defined as a dependency but not used" in proc.stderr
