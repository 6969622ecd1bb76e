"""The shipped package: `pip wheel .`, then a fresh venv that gets the product only from that wheel applies
the migrations and runs the demo on the sample corpus the wheel carries.

The fresh venv sees the dependencies already installed for the tests (their site-packages folders are
listed in a .pth file, so nothing is downloaded), but not the checkout: it runs from a folder outside it,
without PYTHONPATH, and the tests check that `pipelines` and `assets` are imported from the wheel's files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

# Left out of the copy the wheel is built from: local state that a fresh clone does not have.
NOT_SOURCE = {
    ".git",
    ".venv",
    "build",
    "dist",
    "warehouse",
    ".dagster",
    "bench-results",
    "test-artifacts",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
}
# Run by the fresh venv's python: migrate a new database (sys.argv[1]) twice, report where things came from.
MIGRATE = """
import json, sys
import duckdb, pipelines, assets
from pipelines.storage.warehouse import SQL_DIR, migrate
con = duckdb.connect(sys.argv[1])
applied = migrate(con)
tables = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()
print(json.dumps({"pipelines": pipelines.__file__, "assets": assets.__file__, "sql": str(SQL_DIR),
                  "applied": applied, "again": migrate(con), "tables": [t for (t,) in tables]}))
"""
DEMO_DATES = 3  # the first, a middle and the last commit date of the sample: every table gets rows


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def _setuptools_builds_wheels() -> bool:
    """Whether this interpreter's setuptools builds wheels by itself (>= 70.1, the `[test]` extra's pin)."""
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1)


def _ignore(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in NOT_SOURCE or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel . --no-deps` on a copy of the source tree (a stale build/ folder of the checkout cannot
    leak into it); returns the wheel file."""
    base = tmp_path_factory.mktemp("wheel")
    source, out = base / "source", base / "dist"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_ignore)
    cmd = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--quiet", "--wheel-dir", str(out)]
    if _setuptools_builds_wheels():
        # The installed setuptools builds it: no build environment to fetch.
        cmd += ["--no-build-isolation", "--no-index"]
    _run(cmd, cwd=source, timeout=300)
    (built,) = out.glob("openness_tracker-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict[str, Path]:
    """A fresh venv with the wheel installed and the test interpreter's dependencies visible; returns its
    python, its `openness` script, a working folder outside the checkout and the environment to run in."""
    base = tmp_path_factory.mktemp("fresh")
    venv, work = base / "venv", base / "work"
    work.mkdir()
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    shared = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    assert shared, "no site-packages on this interpreter's path to share with the fresh venv"
    (purelib / "_dependencies.pth").write_text("\n".join(shared) + "\n", encoding="utf-8")
    # Nothing of this test process's settings (other tests set OPENNESS_* and DAGSTER_* variables).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        and not k.startswith(("OPENNESS_", "DAGSTER_"))
    }
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    env["DAGSTER_HOME"] = str(base / "dagster_home")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            str(wheel),
        ],
        cwd=work,
        env=env,
        timeout=300,
    )
    return {"python": python, "openness": venv / "bin" / "openness", "work": work, "env": env, "venv": venv}


def _installed_python(installed: dict, code: str, *args: str) -> dict:
    """Run `code` (which prints one JSON object) with the fresh venv's python, outside the checkout."""
    proc = _run(
        [str(installed["python"]), "-c", code, *args],
        cwd=installed["work"],
        env=installed["env"],
        timeout=120,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_wheel_ships_the_product_its_sql_and_sample_but_no_tooling(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {
        "pipelines",
        "assets",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    code = [Path(n) for n in names if n.endswith(".py")]
    assert not [p for p in code if "bench" in p.stem or "bench" in p.parent.name or p.stem == "synthetic"]
    # Every SQL file of the repository, under the package.
    sql = {f"pipelines/sql/{p.relative_to(ROOT / 'sql').as_posix()}" for p in (ROOT / "sql").rglob("*.sql")}
    assert {n for n in sql if "/migrations/" in n}, "the repository has no migrations"
    assert sql <= names
    # The whole sample corpus (the demo and `openness mirror serve` use it) and the Dagster instance file.
    sample_root = ROOT / "pipelines" / "mirror" / "sample"
    sample = {
        f"pipelines/mirror/sample/{p.relative_to(sample_root).as_posix()}" for p in sample_root.rglob("*")
    }
    sample = {n for n in sample if (ROOT / n).is_file()}
    assert "pipelines/mirror/sample/mirror.json" in sample and sample <= names
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("assets/dagster.yaml") == (ROOT / "dagster.yaml").read_bytes()


def test_the_installed_wheel_applies_its_migrations(installed, tmp_path):
    found = _installed_python(installed, MIGRATE, str(tmp_path / "new.duckdb"))
    venv = installed["venv"].resolve()
    for key in ("pipelines", "assets", "sql"):
        assert venv in Path(found[key]).resolve().parents, f"{key} not from the wheel: {found[key]}"
    assert found["applied"] == sorted(p.name for p in (ROOT / "sql" / "migrations").glob("*.sql"))
    assert found["again"] == []
    assert {"core.revisions", "core.releases", "core.crawl_runs"} <= set(found["tables"])


def test_the_installed_wheel_runs_the_demo_on_its_sample(installed):
    sample = _installed_python(
        installed,
        "import json, pathlib, pipelines.mirror\n"
        "print(json.dumps({'sample': str(pathlib.Path(pipelines.mirror.__file__).parent / 'sample')}))",
    )["sample"]
    assert installed["venv"].resolve() in Path(sample).resolve().parents
    warehouse = installed["work"] / "wh"
    proc = _run(
        [
            str(installed["openness"]),
            "demo",
            "--mirror",
            sample,
            "--warehouse",
            str(warehouse),
            "--max-dates",
            str(DEMO_DATES),
        ],
        cwd=installed["work"],
        env=installed["env"],
        timeout=600,
    )
    assert "checksums verified" in proc.stdout
    with duckdb.connect(str(warehouse / "openness.duckdb"), read_only=True) as con:
        counts = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
            for t in (
                "core.revisions",
                "core.releases",
                "core.openness",
                "core.crawl_runs",
                "marts.monthly_openness",
            )
        }
    assert all(n > 0 for n in counts.values()), counts
    latest = (warehouse / "snapshots" / "LATEST").read_text().strip()
    manifest = json.loads((warehouse / "snapshots" / latest / "manifest.json").read_text())
    assert manifest["tables"]["releases"]["rows"] == counts["core.releases"]
