"""The Dagster UI, started as the README says (`openness ui`, i.e. `make ui`), serves the graph and the demo's runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import requests

from tests.conftest import ROOT
from tests.pipeline.processes import descendants, kill_left, listening, still_running, wait_until_gone
from tests.small_mirror import SMALL_REPOS

pytestmark = pytest.mark.slow

RUNS = "{ runsOrError { ... on Runs { results { runId jobName status tags { key value } } } } }"
ASSETS = "{ assetNodes { assetKey { path } groupName } }"
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"


url_log: dict[str, object] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(url: str, query: str) -> dict:
    response = requests.post(f"{url}/graphql", json={"query": query}, timeout=10)
    response.raise_for_status()
    return response.json()["data"]


@pytest.fixture(scope="module")
def ui(small_demo):
    base, _ = small_demo
    port = _free_port()
    # The UI's runs use the demo's warehouse (the variables a deployment would set, cf. .env.example).
    env = {**os.environ, "DAGSTER_HOME": str(base / "dagster_home"), "OPENNESS_WAREHOUSE": str(base / "wh")}
    log = open(base / "ui.log", "w")  # noqa: SIM115 - closed below; its tail explains a failed run
    proc = subprocess.Popen(
        # Offline, as docs/operations.md says to try it: the crawls launched from the UI read the demo's mirror.
        [sys.executable, "-m", "assets.cli", "ui", "--port", str(port), "--mirror", str(base / "mirror")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    url_log[url] = base / "ui.log"
    children: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, "the UI process exited early"
            try:
                entries = _graphql(url, LOCATIONS)["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (requests.RequestException, KeyError, TypeError):
                pass
            assert time.monotonic() < deadline, "the UI did not come up within 120 s"
            time.sleep(1)
        children = descendants(proc.pid)
        yield url
    finally:
        # SIGTERM to `openness ui` alone, as a service manager stops it: it stops its webserver and daemon.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wait_until_gone(port, children)
        left, port_taken = still_running(children), listening(port)
        kill_left(children)
        log.close()
    # Checked when the module's tests are done (a failure shows as an error in the teardown).
    assert not port_taken, "the port is still taken after `openness ui` got SIGTERM"
    assert not left, f"left running after SIGTERM: {left}"


def test_ui_binds_to_loopback_and_shows_the_asset_graph(ui):
    assert ui.startswith("http://127.0.0.1:")
    nodes = _graphql(ui, ASSETS)["assetNodes"]
    keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
    assert {
        "raw/hub_listing",
        "raw/hub_readmes",
        "core/revisions",
        "core/releases",
        "publish/snapshot",
    } <= keys


def test_ui_lists_the_demo_runs(ui):
    runs = _graphql(ui, RUNS)["runsOrError"]["results"]
    assert runs, "no runs visible in the UI"
    assert {r["jobName"] for r in runs} == {
        "daily_listing",
        "daily_shards",
        "daily_extras",
        "build_tables",
        "publish_snapshot",
    }
    assert all(r["status"] == "SUCCESS" for r in runs)


DEMO_JOBS = ("daily_listing", "daily_shards", "daily_extras", "build_tables", "publish_snapshot")
JOB_RUNS = """query JobRuns($job: String!, $location: String!) {
  runsOrError(filter: {pipelineName: $job}) {
    ... on Runs { results { runId tags { key value }
      repositoryOrigin { repositoryLocationName repositoryName } } }
  }
  pipelineOrError(params: {repositoryLocationName: $location, repositoryName: "__repository__", pipelineName: $job}) {
    __typename
    ... on Pipeline { runs { runId } }
  }
}"""


def test_the_demo_runs_belong_to_their_jobs_in_the_ui(ui):
    # The Overview timeline places a run by its repository origin and a job page lists the runs tagged with
    # its repository: a run executed without an origin (an ephemeral job) shows on neither.
    location = _graphql(ui, LOCATIONS)["workspaceOrError"]["locationEntries"][0]["name"]
    for job in DEMO_JOBS:
        data = _gql(ui, JOB_RUNS, {"job": job, "location": location})
        demo_runs = [
            r
            for r in data["runsOrError"]["results"]
            if any(t["key"] == "openness/pid" for t in r["tags"])  # executed by `openness demo`
        ]
        assert demo_runs, f"no run of {job} from the demo"
        origins = {(r["repositoryOrigin"] or {}).get("repositoryLocationName") for r in demo_runs}
        assert origins == {location}, (
            f"{job}: the demo's runs have origins {origins}, the UI loads {location}"
        )
        assert {r["repositoryOrigin"]["repositoryName"] for r in demo_runs} == {"__repository__"}
        assert data["pipelineOrError"]["__typename"] == "Pipeline", data["pipelineOrError"]
        on_job_page = {r["runId"] for r in data["pipelineOrError"]["runs"]}
        missing = {r["runId"] for r in demo_runs} - on_job_page
        assert not missing, f"{len(missing)} of the demo's {job} runs are not on the job's page"


LAUNCH = """mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}"""
RUN = """query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
EVENTS = """query Events($id: ID!) {
  logsForRun(runId: $id) {
    ... on EventConnection {
      events {
        __typename
        ... on MaterializationEvent { assetKey { path }
          metadataEntries { label ... on IntMetadataEntry { intValue } } }
        ... on AssetCheckEvaluationEvent { evaluation { checkName success } }
        ... on ExecutionStepFailureEvent { stepKey error { message stack } }
        ... on RunFailureEvent { message }
        ... on EngineEvent { message error { message } }
      }
    }
  }
}"""


def _gql(url: str, query: str, variables: dict) -> dict:
    response = requests.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def _why_failed(url: str, events: list[dict]) -> str:
    """The failure and engine messages of a run, and the tail of the UI's own log: what a failed run says."""
    lines = []
    for e in events:
        if e["__typename"] == "ExecutionStepFailureEvent":
            lines.append(
                f"step {e['stepKey']} failed: {e['error']['message']}\n{''.join(e['error']['stack'])[-3000:]}"
            )
        elif e["__typename"] in ("RunFailureEvent", "EngineEvent") and e.get("message"):
            err = (e.get("error") or {}).get("message", "")
            lines.append(f"{e['__typename']}: {e['message']} {err}".strip())
    log = url_log.get(url)
    tail = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
    return "\n".join(lines) + "\n--- UI log (tail) ---\n" + tail


def _launch_and_wait(ui: str, job: str, run_config: dict, tags: list[dict] | None = None) -> list[dict]:
    """Launch `job` of the UI's code location through GraphQL, wait for it to end (4 minutes at most),
    check it succeeded and return its events."""
    location = _graphql(ui, LOCATIONS)["workspaceOrError"]["locationEntries"][0]["name"]
    params: dict = {
        "selector": {"repositoryLocationName": location, "repositoryName": "__repository__", "jobName": job},
        "runConfigData": run_config,
    }
    if tags:
        params["executionMetadata"] = {"tags": tags}
    launched = _gql(ui, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 240
    while (status := _gql(ui, RUN, {"id": run_id})["runOrError"]["status"]) not in (
        "SUCCESS",
        "FAILURE",
        "CANCELED",
    ):
        assert time.monotonic() < deadline, f"run {run_id} still {status}"
        time.sleep(1)
    events = _gql(ui, EVENTS, {"id": run_id})["logsForRun"]["events"]
    assert status == "SUCCESS", _why_failed(ui, events)
    return events


def test_a_run_launched_through_graphql_succeeds_with_materialisations_and_checks(ui, small_demo):
    events = _launch_and_wait(ui, "build_tables", {})
    materialised = {
        "/".join(e["assetKey"]["path"]) for e in events if e["__typename"] == "MaterializationEvent"
    }
    checks = {
        e["evaluation"]["checkName"]: e["evaluation"]["success"]
        for e in events
        if e["__typename"] == "AssetCheckEvaluationEvent"
    }
    assert {"core/revisions", "core/releases", "core/openness", "core/transitions"} <= materialised
    assert {"revisions_keys", "revisions_suite", "openness_suite"} <= set(checks)
    assert all(checks.values()), checks
    # The run honoured the OPENNESS_WAREHOUSE it was started with: it rebuilt the demo's warehouse.
    built = {
        e["assetKey"]["path"][1]: {m["label"]: m.get("intValue") for m in e["metadataEntries"]}
        for e in events
        if e["__typename"] == "MaterializationEvent"
    }
    with duckdb.connect(str(small_demo[0] / "wh" / "openness.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM core.revisions").fetchall()[0][0]
    assert stored > 0
    assert built["revisions"]["dagster/row_count"] == stored


def test_a_crawl_launched_from_the_ui_reads_the_mirror_it_was_started_with(ui, small_demo):
    # `openness ui --mirror` serves the mirror on loopback and points the launched runs at it: without it,
    # the listing would go to huggingface.co (unreachable here) and fail. Into a warehouse of its own, so
    # that the demo's is left as it was.
    events = _launch_and_wait(
        ui,
        "daily_listing",
        {"resources": {"warehouse": {"config": {"root": str(small_demo[0] / "ui_crawl")}}}},
        tags=[{"key": "dagster/partition", "value": "2024-03-05"}],
    )
    (listing,) = [e for e in events if e["__typename"] == "MaterializationEvent"]
    metadata = {m["label"]: m.get("intValue") for m in listing["metadataEntries"]}
    # The mirror's models as of the partition date (a first crawl of this warehouse lists them all).
    assert metadata["models_listed"] == len(SMALL_REPOS)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--mirror", "{tmp}/missing"], "--mirror {tmp}/missing does not exist; give a hub-mirror/1 folder"),
        (["--warehouse", "{tmp}/a-file"], "--warehouse {tmp}/a-file is a file; give a folder"),
    ],
)
def test_openness_ui_refuses_a_wrong_mirror_or_warehouse_in_one_line(tmp_path, capsys, args, says):
    from assets.cli import main

    (tmp_path / "a-file").write_text("not a folder\n")
    status = main(["ui", "--warehouse", str(tmp_path / "wh"), *[a.format(tmp=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("openness ui: error: " + says.format(tmp=tmp_path)), err


def test_openness_ui_reads_the_project_env_file_over_the_shell_and_its_flag_over_both(tmp_path):
    # `dagster dev`, started in $DAGSTER_HOME, does not see the project's .env: `openness ui` reads it itself.
    from assets.cli import ui_environment

    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# settings\n"
        "OPENNESS_WAREHOUSE=wh\n"
        'export OPENNESS_HUB_ENDPOINT="http://127.0.0.1:9"\n'
        "OPENNESS_HUB_SCOPE_FILE=\n"
        "OPENNESS_HUB_REPLAY=true  # a comment\n"
    )
    shell = {"OPENNESS_HUB_ENDPOINT": "https://huggingface.co", "OPENNESS_WAREHOUSE": "/elsewhere", "X": "1"}
    warehouse, env, names = ui_environment(None, shell, dotenv)
    assert warehouse == tmp_path / "wh"  # relative to the folder of the .env
    assert env["OPENNESS_WAREHOUSE"] == str(tmp_path / "wh")
    assert env["OPENNESS_HUB_ENDPOINT"] == "http://127.0.0.1:9"
    assert env["OPENNESS_HUB_REPLAY"] == "true" and env["OPENNESS_HUB_SCOPE_FILE"] == "" and env["X"] == "1"
    assert names == [
        "OPENNESS_HUB_ENDPOINT",
        "OPENNESS_HUB_REPLAY",
        "OPENNESS_HUB_SCOPE_FILE",
        "OPENNESS_WAREHOUSE",
    ]
    warehouse, env, _ = ui_environment(str(tmp_path / "cli"), shell, dotenv)
    assert warehouse == tmp_path / "cli" and env["OPENNESS_WAREHOUSE"] == str(tmp_path / "cli")
    warehouse, env, names = ui_environment(None, shell, tmp_path / "none" / ".env")
    assert warehouse == Path("/elsewhere") and env["OPENNESS_HUB_ENDPOINT"] == "https://huggingface.co"
    assert names == []


def test_openness_ui_names_the_other_warehouses_its_instance_holds_runs_of(small_demo, monkeypatch, tmp_path):
    from assets.cli import _other_warehouses

    base, _ = small_demo
    monkeypatch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
    wh = (base / "wh").resolve()
    assert str(wh) not in _other_warehouses(wh)  # the demo's runs wrote the UI's own warehouse
    assert str(wh) in _other_warehouses(tmp_path / "another")
