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


def _run(job, instance, partition_key, run_config: dict) -> None:
    from assets.runs import process_tags

    result = job.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        raise_on_error=False,
        run_config=run_config,
        tags=process_tags(),
    )
    if not result.success:
        raise SystemExit(f"run {result.run_id} ({job.name}, {partition_key}) failed; see `make ui` (Runs)")


def run_demo(mirror: Path, warehouse: Path, max_dates: int = 8) -> dict:
    """Serve the mirror on loopback, crawl it day by day through Dagster, build, check and publish."""
    import dagster as dg

    from assets.definitions import defs
    from assets.runs import process_tags, sweep_dead_runs
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
        listing, shards = defs.resolve_job_def("daily_listing"), defs.resolve_job_def("daily_shards")
        extras, build = defs.resolve_job_def("daily_extras"), defs.resolve_job_def("build_tables")
        for i, day in enumerate(dates, start=1):
            print(
                f"[{i}/{len(dates)}] crawl date {day}: listing, {CRAWL_SHARDS} shards, datasets, papers and code",
                flush=True,
            )
            _run(listing, instance, day, config)
            for shard in range(CRAWL_SHARDS):
                _run(shards, instance, dg.MultiPartitionKey({"date": day, "shard": str(shard)}), config)
            _run(extras, instance, day, config)
        # Publishing goes through the same sensor as in production: it asks for a publish run only
        # because the build (and so every blocking check) succeeded. A run status sensor watches the runs
        # that end after its first tick: tick once before the build.
        sensor = defs.resolve_sensor_def("publish_after_checks")
        ticks = dg.build_sensor_context(instance=instance, definitions=defs)
        sensor.evaluate_tick(ticks)
        print("build and check the tables ...", flush=True)
        _run(build, instance, None, config)
        (request,) = sensor.evaluate_tick(ticks).run_requests
        print("checks passed: publish ...", flush=True)
        result = defs.resolve_job_def("publish_snapshot").execute_in_process(
            instance=instance,
            tags={**request.tags, **process_tags()},
            raise_on_error=False,
            run_config=config,
        )
        if not result.success:
            raise SystemExit(f"publish run {result.run_id} failed; see `make ui` (Runs)")
    return {"dates": dates, "seconds": round(time.monotonic() - started, 1), "warehouse": str(warehouse)}
