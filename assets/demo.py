"""`openness demo`: replay a hub mirror as a sequence of daily crawls through the Dagster instance."""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path

from assets.environment import apply_settings, prepare_dagster_home
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
    if not ordered:
        raise SystemExit(f"{mirror} holds no model commits: nothing to crawl")
    if len(ordered) <= max_dates:
        return [d.isoformat() for d in ordered]
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


def run_demo(mirror: Path, warehouse: Path, max_dates: int = 8) -> dict:
    """Serve the mirror on loopback, crawl it day by day through Dagster, build, check and publish."""
    import dagster as dg

    from assets.definitions import defs
    from pipelines.mirror.server import MirrorServer

    check_mirror(mirror)
    prepare_dagster_home()
    dates = replay_dates(mirror, max_dates)
    started = time.monotonic()
    with MirrorServer(mirror) as srv:
        apply_settings(OPENNESS_WAREHOUSE=str(warehouse), OPENNESS_HUB_ENDPOINT=srv.url,
                       OPENNESS_HUB_REPLAY="true", OPENNESS_HUB_RATE_LIMIT="false",
                       OPENNESS_ARXIV_ENDPOINT=srv.arxiv_url)
        instance = dg.DagsterInstance.get()
        crawl_job = defs.resolve_job_def("daily_crawl")
        full_job = defs.resolve_job_def("daily_pipeline")
        for i, day in enumerate(dates, start=1):
            job = full_job if i == len(dates) else crawl_job
            print(f"[{i}/{len(dates)}] {job.name} for crawl date {day} ...", flush=True)
            result = job.execute_in_process(instance=instance, partition_key=day, raise_on_error=False,
                                            run_config=QUIET)
            if not result.success:
                raise SystemExit(f"run {result.run_id} for {day} failed; see `make ui` (Runs) for the error")
    return {"dates": dates, "seconds": round(time.monotonic() - started, 1), "warehouse": str(warehouse)}
