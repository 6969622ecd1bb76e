"""`openness demo`: replay a hub mirror as a sequence of daily crawls through the Dagster instance."""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path

from assets.environment import prepare_dagster_home
from assets.partitions import CRAWL_SHARDS
from pipelines.mirror.layout import FORMAT, parse_date

log = logging.getLogger("openness.demo")
# Step events are in the UI; the terminal gets INFO lines (progress), not Dagster's DEBUG event stream.
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def replay_dates(mirror: Path, max_dates: int = 8) -> list[str]:
    """Crawl dates spread over the mirror's history (always including its last commit date)."""
    days: set[date] = set()
    for commits in mirror.glob("models/*/*/commits.json"):
        for commit in json.loads(commits.read_text(encoding="utf-8")):
            days.add(parse_date(commit["date"]).date())
    ordered = sorted(days)
    if max_dates < 1:
        raise SystemExit(f"--max-dates must be at least 1, got {max_dates}")
    if not ordered:
        raise SystemExit(f"{mirror} holds no model commits: nothing to crawl")
    if len(ordered) <= max_dates:
        return [d.isoformat() for d in ordered]
    if max_dates == 1:
        return [ordered[-1].isoformat()]
    step = (len(ordered) - 1) / (max_dates - 1)
    picked = sorted({ordered[round(i * step)] for i in range(max_dates)})
    return [d.isoformat() for d in picked]


def check_mirror(mirror: Path) -> None:
    """Refuse anything that is not a hub-mirror/1 folder, with a clear message."""
    manifest = mirror / "mirror.json"
    if not manifest.is_file():
        raise SystemExit(f"{mirror} is not a hub mirror: {manifest} is missing (see MIRROR_FORMAT.md)")
    fmt = json.loads(manifest.read_text(encoding="utf-8")).get("format")
    if fmt != FORMAT:
        raise SystemExit(f"{mirror}: mirror.json says format {fmt!r}, expected {FORMAT!r}")


def recorded_code_repos(mirror: Path) -> list[str]:
    """The GitHub repositories (owner/name) a mirror records in its code/ folder (MIRROR_FORMAT.md)."""
    root = mirror / "code" / "github"
    if not root.is_dir():
        return []
    return sorted(
        f"{o.name}/{r.name}".lower() for o in root.iterdir() if o.is_dir() for r in o.iterdir() if r.is_dir()
    )


def demo_config(warehouse: Path, hub_url: str, arxiv_url: str, github_url: str, mirror: Path) -> dict:
    """Run config for the demo's runs: the resources pointed at the warehouse and the loopback mirror."""
    return {
        **QUIET,
        "resources": {
            "warehouse": {"config": {"root": str(warehouse)}},
            "hub": {"config": {"endpoint": hub_url, "replay": "true", "rate_limit": "false"}},
            "papers": {"config": {"arxiv_endpoint": arxiv_url}},
            # Only the repositories the mirror records: any other would be answered 404 and recorded as gone,
            # which is not known of the real repository (so it stays unknown).
            "code": {"config": {"endpoint": github_url, "only_repos": recorded_code_repos(mirror)}},
        },
    }


def mirror_environment(hub_url: str, arxiv_url: str, github_url: str, mirror: Path) -> dict[str, str]:
    """The environment variables that point the resources at a loopback mirror, as `demo_config` does by run
    config: for the runs the UI launches (`openness ui --mirror`), which read their settings from there."""
    return {
        "OPENNESS_HUB_ENDPOINT": hub_url,
        "OPENNESS_HUB_REPLAY": "true",
        "OPENNESS_HUB_RATE_LIMIT": "false",
        "OPENNESS_ARXIV_ENDPOINT": arxiv_url,
        "OPENNESS_GITHUB_ENDPOINT": github_url,
        "OPENNESS_GITHUB_ONLY_REPOS": ",".join(recorded_code_repos(mirror)),
    }


# The code location `openness ui` loads (`dagster dev -m assets.definitions`): the demo's runs name it as
# their origin, so the UI ties them to its jobs (Overview timeline, job pages) as it does the runs it launches.
DEFINITIONS_MODULE = "assets.definitions"
DEFINITIONS_ATTRIBUTE = "defs"


def code_location_origin():
    """The origin of the code location the UI serves (the one `openness ui` loads, built the same way)."""
    from dagster._core.workspace.load_target import ModuleTarget

    from assets.environment import PROJECT_ROOT

    (origin,) = ModuleTarget(DEFINITIONS_MODULE, None, str(PROJECT_ROOT), None).create_origins()
    return origin


def _repository():
    """The repository of the Definitions, reconstructable by module (as a run worker loads it)."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from assets.environment import PROJECT_ROOT

    return ReconstructableRepository.for_module(
        DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=str(PROJECT_ROOT)
    )


def run_job(instance, job_name: str, partition_key, run_config: dict, tags: dict[str, str] | None = None):
    """Execute one run of the repository's job `job_name` in this process; returns its execution result.

    Unlike `execute_in_process` (an ephemeral job without origin, which the UI shows under no job), the run
    is created with the origin of the code location the UI loads (`code_location_origin`) and the Python
    origin of the job, as a run launched from the UI is; it carries this process's tags (assets/runs.py).
    """
    from dagster._core.execution.api import execute_run
    from dagster._core.execution.execute_in_process import merge_run_tags
    from dagster._core.remote_origin import RemoteRepositoryOrigin
    from dagster._core.storage.tags import MAX_RETRIES_TAG

    from assets.runs import process_tags

    repository = _repository()
    recon = repository.get_reconstructable_job(job_name)
    job_def = recon.get_definition()
    # Never retried by the daemon (dagster.yaml `run_retries`): its config names this process's loopback
    # mirror, gone once the demo ends; the next `openness demo` runs a failed date again.
    run_tags = merge_run_tags(
        job_def,
        partition_key,
        {**(tags or {}), **process_tags(), MAX_RETRIES_TAG: "0"},
        None,
        instance,
        run_config,
    )
    origin = RemoteRepositoryOrigin(code_location_origin(), repository.get_definition().name)
    run = instance.create_run_for_job(
        job_def,
        run_config=run_config,
        tags=run_tags,
        remote_job_origin=origin.get_job_origin(job_name),
        job_code_origin=recon.get_python_origin(),
    )
    return execute_run(recon, run, instance, raise_on_error=False)


def _run(
    job_name: str, instance, partition_key, run_config: dict, tags: dict[str, str] | None = None
) -> None:
    result = run_job(instance, job_name, partition_key, run_config, tags)
    if not result.success:
        where = f"{job_name}, {partition_key}" if partition_key is not None else job_name
        raise SystemExit(f"run {result.run_id} ({where}) failed; see `make ui` (Runs)")


def run_demo(mirror: Path, warehouse: Path, max_dates: int = 8) -> dict:
    """Serve the mirror on loopback, crawl it day by day through Dagster, build, check and publish."""
    import dagster as dg

    from assets.definitions import defs
    from assets.runs import sweep_dead_runs
    from pipelines.mirror.github_quota import TOKEN_LIMIT, Quota
    from pipelines.mirror.server import MirrorServer

    check_mirror(mirror)
    prepare_dagster_home()
    dates = replay_dates(mirror, max_dates)
    started = time.monotonic()
    # The demo crawls GitHub's mirror without a token but with a token's quota (5,000 requests an hour):
    # the anonymous 60 would stop the first crawl date part-way (a real deployment sets GITHUB_TOKEN).
    with MirrorServer(mirror, quota=Quota(TOKEN_LIMIT, TOKEN_LIMIT)) as srv:
        config = demo_config(warehouse, srv.url, srv.arxiv_url, srv.github_url, mirror)
        instance = dg.DagsterInstance.get()
        # A run killed with its process (SIGKILL, OOM) stays STARTED and keeps its pool's slot: free them
        # first, or the runs below would wait for that slot for ever.
        sweep_dead_runs(instance, log=lambda line: print(line, flush=True))
        for i, day in enumerate(dates, start=1):
            print(
                f"[{i}/{len(dates)}] crawl date {day}: listing, {CRAWL_SHARDS} shards, datasets, papers and code",
                flush=True,
            )
            _run("daily_listing", instance, day, config)
            for shard in range(CRAWL_SHARDS):
                _run(
                    "daily_shards", instance, dg.MultiPartitionKey({"date": day, "shard": str(shard)}), config
                )
            _run("daily_extras", instance, day, config)
        # Publishing goes through the same sensor as in production: it asks for a publish run only
        # because the build (and so every blocking check) succeeded. A run status sensor watches the runs
        # that end after its first tick: tick once before the build. It is evaluated as the daemon would,
        # in the UI's code location: it watches only the runs of its own repository.
        sensor = defs.resolve_sensor_def("publish_after_checks")
        ticks = dg.SensorEvaluationContext(
            instance_ref=None,
            instance=instance,
            definitions=defs,
            repository_name=_repository().get_definition().name,
            code_location_origin=code_location_origin(),
        )
        sensor.evaluate_tick(ticks)
        print("build and check the tables ...", flush=True)
        _run("build_tables", instance, None, config)
        (request,) = sensor.evaluate_tick(ticks).run_requests
        print("checks passed: publish ...", flush=True)
        _run("publish_snapshot", instance, None, config, tags=dict(request.tags))
    return {"dates": dates, "seconds": round(time.monotonic() - started, 1), "warehouse": str(warehouse)}
