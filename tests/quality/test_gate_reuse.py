"""The build job runs every Great Expectations suite after its last write, so that the publish gate finds the
working file the suites recorded and reuses each pass by file (docs/quality.md, "Validated once").

The run itself, build then publish through Dagster, is `tests/pipeline/test_demo.py`: there every present
suite of the published manifest says `reused_by: file`.
"""

from __future__ import annotations

from dagster._core.execution.api import create_execution_plan

from assets.definitions import defs
from pipelines.tables import TABLES


def _ancestors(parents: dict[str, set[str]], step: str) -> set[str]:
    seen: set[str] = set()
    todo = list(parents[step])
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(parents[key])
    return seen


def test_every_suite_of_the_build_runs_after_every_step_that_writes_the_file():
    job = defs.resolve_job_def("build_tables")
    steps = create_execution_plan(job).get_all_steps_in_topo_order()
    parents = {
        s.key: {h.step_key for i in s.step_inputs for h in i.get_step_output_handle_dependencies()}
        for s in steps
    }
    suites = {t.short for t in TABLES if t.suite}
    checks = {s.key for s in steps if any(s.key.endswith(f"_{name}_suite") for name in suites)}
    assert len(checks) == len(suites)  # one step per suite the registry declares
    key_checks = {s.key for s in steps if s.key.endswith(("_revisions_keys", "_releases_cover_revisions"))}
    writers = set(parents) - checks - key_checks  # the build steps (one per runner step)
    assert len(writers) == len({t.step for t in TABLES})
    for check in checks:
        assert writers <= _ancestors(parents, check), (check, sorted(writers - _ancestors(parents, check)))
