"""Jobs, the daily schedule and the sensors that chain a crawl date: listing -> shards -> extras -> build ->
publish.

Which Dagster mechanism does each link:
- listing -> shards, shards -> extras and extras -> build are asset sensors written here. Declarative automation
  (`AutomationCondition.eager()`) cannot express them: eager only requests the latest time window, so a
  backfilled or replayed crawl date would not chain (and without that limit the daemon evaluates every
  (date, shard) since 2019 each tick); it requests asset partitions, not the named per-(date, shard) and
  per-date runs of `daily_shards` and `daily_extras`; and it would rebuild the unpartitioned core tables
  after every shard, where one build follows each batch of completed crawl dates.
- build -> publish is Dagster's `run_status_sensor`: a publish run after a successful build run, and so
  only after every blocking check on the core tables passed (a failing blocking check fails the run); when
  several builds succeeded since the last tick, only the newest is published.
The sensors name the assets they watch by the keys the source modules export, never by position.
"""

import dagster as dg

from assets import code, hub, papers
from assets.partitions import CRAWL_SHARDS

LISTING = hub.LISTING
SHARDED = (hub.READMES, hub.HISTORY)
EXTRAS = (hub.DATASETS, papers.PAPERS, code.CODE)
# The asset whose materialisation completes a crawl date: the code step runs last (after the papers, whose
# links it follows, which run after the history of every shard), and the build waits for it.
DAY_COMPLETE = code.CODE

daily_listing = dg.define_asset_job(
    "daily_listing",
    selection=dg.AssetSelection.assets(LISTING),
    description="Read one day's Hub listing to the watermark.",
)
daily_shards = dg.define_asset_job(
    "daily_shards",
    selection=dg.AssetSelection.assets(*SHARDED),
    description="READMEs and history of one shard of repos for one day.",
)
daily_extras = dg.define_asset_job(
    "daily_extras",
    selection=dg.AssetSelection.assets(*EXTRAS),
    description="Training datasets, cited papers and linked code repositories for one day.",
)
build_tables = dg.define_asset_job(
    "build_tables",
    selection=dg.AssetSelection.groups("core", "marts"),
    description="Bring the core tables up to date with the raw layer (incremental; run config resources.build."
    "config.full_rebuild: true rebuilds everything) and run their blocking checks.",
)
publish_snapshot = dg.define_asset_job(
    "publish_snapshot",
    selection=dg.AssetSelection.groups("publish"),
    description="Publish a snapshot of the public tables (requested only after a build whose checks passed).",
)

daily_listing_schedule = dg.build_schedule_from_partitioned_job(
    daily_listing, hour_of_day=2, minute_of_hour=15, default_status=dg.DefaultScheduleStatus.STOPPED
)


def _new_partitions(context: dg.SensorEvaluationContext, key: dg.AssetKey) -> tuple[list[str], int]:
    """Partitions of `key` materialised since the cursor, and the new cursor."""
    after = int(context.cursor) if context.cursor else 0
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, after_storage_id=after), limit=1000, ascending=True
    ).records
    parts = [r.asset_materialization.partition for r in records if r.asset_materialization.partition]
    return parts, max([after] + [r.storage_id for r in records])


@dg.sensor(
    job=daily_shards,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="When a day's listing is in, request that day's shard runs (one per shard).",
)
def shards_after_listing(context: dg.SensorEvaluationContext):
    """One run per (date, shard) after the date's listing materialises."""
    days, cursor = _new_partitions(context, LISTING)
    context.update_cursor(str(cursor))
    for day in sorted(set(days)):
        for shard in range(CRAWL_SHARDS):
            key = dg.MultiPartitionKey({"date": day, "shard": str(shard)})
            yield dg.RunRequest(run_key=f"shards:{day}|{shard}", partition_key=key)


@dg.sensor(
    job=daily_extras,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="When every shard of a day is in, request the day's datasets and papers run.",
)
def extras_after_shards(context: dg.SensorEvaluationContext):
    """The datasets/papers run of a day once all its shards have materialised."""
    done = [context.instance.get_materialized_partitions(k) for k in SHARDED]
    days = {str(p).split("|")[0] for p in done[0]}
    for day in sorted(days):
        keys = {str(dg.MultiPartitionKey({"date": day, "shard": str(s)})) for s in range(CRAWL_SHARDS)}
        if all(keys <= {str(p) for p in d} for d in done):
            yield dg.RunRequest(run_key=f"extras:{day}", partition_key=day)


@dg.sensor(
    job=build_tables,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="When a day's crawl is complete (datasets and papers in), rebuild and check the tables.",
)
def build_after_crawl(context: dg.SensorEvaluationContext):
    """One build run per batch of completed crawl dates."""
    days, cursor = _new_partitions(context, DAY_COMPLETE)
    context.update_cursor(str(cursor))
    if days:
        yield dg.RunRequest(run_key=f"build:{max(days)}:{cursor}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[build_tables],
    request_job=publish_snapshot,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Publish once a build has succeeded, i.e. every blocking check on the core tables passed.",
)
def publish_after_checks(context: dg.RunStatusSensorContext):
    """A publish run for the newest successful build run; failed builds never publish."""
    build = context.dagster_run.run_id
    newest = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=build_tables.name, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1
    )
    if newest and newest[0].run_id != build:
        return dg.SkipReason(f"build {newest[0].run_id} succeeded after {build}: it is the one to publish")
    return dg.RunRequest(run_key=f"publish:{build}", tags={"openness/build_run": build})


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Mark failed the runs whose process is gone (killed, out of memory, a reboot) and free the "
    "concurrency slots they hold, so that the runs the schedule and sensors request next do not wait for "
    "them for ever.",
)
def free_slots_of_dead_runs(context: dg.SensorEvaluationContext):
    """Each minute: fail the runs left STARTED by a dead process and free their slots (assets/runs.py)."""
    from assets.runs import sweep_dead_runs

    swept = sweep_dead_runs(context.instance, log=context.log.warning)
    if not swept:
        return dg.SkipReason("no run of a dead process and no slot held by an ended run")
    return dg.SkipReason("; ".join(s.line() for s in swept))
