"""Operations: freshness checks on the daily crawl and the published snapshot, the sensor that evaluates
them, and the alerts an operator receives (a webhook and/or e-mail) when a run fails or data goes stale.

Deadlines (docs/operations.md): the daily schedule starts a crawl at 02:15 UTC, so each watched asset is
updated about once a day, at about the same time. A check fails when the last update is older than:
- `raw/hub_listing` (the crawl started): 26 h, a day plus 2 h for a run queued behind a pool or a slow start;
- `raw/code_repos` (the crawl date complete: the last step of a day) and `publish/snapshot` (published):
  30 h, a day plus 6 h, because the end of the chain moves with the day's work (the Sunday full listing,
  many new commits, a slow arXiv) far more than its start does.
A missed day is thus reported 2 h (start) or 6 h (end) after its usual time. The checks are not blocking:
a stale asset is news for the operator, not a reason to stop the next run.

The alert settings are read when a sensor ticks, never at import (`AlertResource`); with no channel
configured the alert sensors skip quietly.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC, datetime, timedelta

import dagster as dg

from assets import hub, publish
from assets.automation import DAY_COMPLETE
from assets.resources import configured
from pipelines.alerts import Alert, AlertDeliveryError, AlertSettings, deliver

SNAPSHOT = publish.snapshot.key
CRAWL_STARTED = hub.LISTING
CRAWL_COMPLETE = DAY_COMPLETE  # the code step: the last step of a crawl date
DEADLINES = {
    CRAWL_STARTED: timedelta(hours=26),
    CRAWL_COMPLETE: timedelta(hours=30),
    SNAPSHOT: timedelta(hours=30),
}
ERROR_CHARS = 4000  # the failure text an alert carries at most (the UI has the whole event log)

with warnings.catch_warnings():
    # Dagster marks these factories "superseded" by FreshnessPolicy, whose state only the freshness daemon
    # computes; a check runs in any run (and in tests) and leaves a result in the event log to alert on.
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    freshness_checks = [
        check
        for delta in sorted(set(DEADLINES.values()))
        for check in dg.build_last_update_freshness_checks(
            assets=[key for key, d in DEADLINES.items() if d == delta], lower_bound_delta=delta
        )
    ]
    freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        name="freshness_checks",
        minimum_interval_seconds=600,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )

FRESHNESS_KEYS = sorted(
    (key for check in freshness_checks for key in check.check_keys), key=lambda k: k.to_user_string()
)


class AlertResource(dg.ConfigurableResource):
    """Where alerts go (resolved when a sensor ticks; each empty field falls back to the variable beside it).

    The webhook URL and the SMTP password are read from the variables NAMED here, never stored or logged.
    """

    webhook_env: str = "OPENNESS_ALERT_WEBHOOK"  # the NAME of the variable holding the webhook URL
    email_to: str = ""  # comma-separated; empty: $OPENNESS_ALERT_EMAIL_TO (no recipients: no e-mail)
    email_from: str = ""  # empty: $OPENNESS_ALERT_EMAIL_FROM
    smtp_host: str = ""  # empty: $OPENNESS_ALERT_SMTP_HOST
    smtp_port: str = ""  # empty: $OPENNESS_ALERT_SMTP_PORT, else the usual port of the security mode
    smtp_security: str = ""  # starttls, ssl or none; empty: $OPENNESS_ALERT_SMTP_SECURITY, else starttls
    smtp_user: str = ""  # empty: $OPENNESS_ALERT_SMTP_USER (no user: no login)
    smtp_password_env: str = "OPENNESS_ALERT_SMTP_PASSWORD"  # the NAME of the variable holding the password
    ui_url: str = ""  # the UI's address in alert links; empty: $OPENNESS_UI_URL, else http://127.0.0.1:3000

    def settings(self) -> AlertSettings:
        """The alert settings for this tick; a clear one-line error for a malformed value."""
        port = configured(self.smtp_port, "OPENNESS_ALERT_SMTP_PORT", "0")
        if not port.isdigit():
            raise ValueError(f"OPENNESS_ALERT_SMTP_PORT must be a port number, got {port!r}")
        security = configured(self.smtp_security, "OPENNESS_ALERT_SMTP_SECURITY", "starttls").strip().lower()
        recipients = configured(self.email_to, "OPENNESS_ALERT_EMAIL_TO", "")
        return AlertSettings(
            webhook=(os.environ.get(self.webhook_env) or "").strip(),
            email_to=tuple(r.strip() for r in recipients.split(",") if r.strip()),
            email_from=configured(self.email_from, "OPENNESS_ALERT_EMAIL_FROM", ""),
            smtp_host=configured(self.smtp_host, "OPENNESS_ALERT_SMTP_HOST", ""),
            smtp_port=int(port),
            smtp_security=security,
            smtp_user=configured(self.smtp_user, "OPENNESS_ALERT_SMTP_USER", ""),
            smtp_password=os.environ.get(self.smtp_password_env) or "",
            ui_url=configured(self.ui_url, "OPENNESS_UI_URL", "http://127.0.0.1:3000"),
        )


NOT_CONFIGURED = "no alert channel configured (set OPENNESS_ALERT_WEBHOOK or OPENNESS_ALERT_EMAIL_TO)"


def _failure_text(context: dg.RunFailureSensorContext) -> str:
    """What went wrong: each failed step's own error (a `dg.Failure`'s description, else the exception that
    Dagster's wrapper was caused by), else the run's failure message."""
    errors = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        error = data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if data.user_failure_data is not None and data.user_failure_data.description:
            message = data.user_failure_data.description
        else:
            message = error.message.strip() if error is not None else event.message or ""
        errors.append(f"{event.step_key}: {message}" if event.step_key else message)
    text = "\n".join(errors) or context.failure_event.message or "the run failed"
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def run_failure_alert(context: dg.RunFailureSensorContext, settings: AlertSettings) -> Alert:
    """The alert for one failed run: run id, job, partition, the error and a link to the run."""
    run = context.dagster_run
    partition = run.tags.get("dagster/partition")
    where = f" ({partition})" if partition else ""
    return Alert(
        kind="run_failure",
        summary=f"run of {run.job_name}{where} failed",
        url=settings.link(f"runs/{run.run_id}"),
        details={
            "run_id": run.run_id,
            "job": run.job_name,
            "partition": partition,
            "error": _failure_text(context),
        },
    )


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Send an alert (webhook and/or e-mail, docs/operations.md) for every run that fails; "
    "skips when no channel is configured.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertResource):
    """One alert per failed run of any job of the project."""
    settings = alerts.settings()
    if not settings.channels:
        return dg.SkipReason(NOT_CONFIGURED)
    alert = run_failure_alert(context, settings)
    sent = deliver(alert, settings)
    context.log.info(f"alert for run {context.dagster_run.run_id} sent by {', '.join(sent)}")
    return None


def stale_asset_alert(
    key: dg.AssetCheckKey, evaluation: dg.AssetCheckEvaluation, settings: AlertSettings
) -> Alert:
    """The alert for one failed freshness check: the asset, why it is stale and a link to its checks."""
    asset = key.asset_key.to_user_string()
    last = evaluation.metadata.get("dagster/last_updated_timestamp")
    return Alert(
        kind="stale_asset",
        summary=f"{asset} is stale",
        url=settings.link(f"assets/{asset}?view=checks"),
        details={
            "asset": asset,
            "check": key.name,
            "deadline_hours": str(round(DEADLINES[key.asset_key].total_seconds() / 3600)),
            "last_updated": datetime.fromtimestamp(last.value, UTC).isoformat() if last else None,
            "error": evaluation.description,
        },
    )


@dg.sensor(
    name="alert_on_stale_data",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Send an alert (webhook and/or e-mail) when a freshness check of the crawl or the snapshot "
    "fails; one alert per failed evaluation.",
)
def alert_on_stale_data(context: dg.SensorEvaluationContext, alerts: AlertResource):
    """One alert per freshness check evaluation that failed since the last alert for that check."""
    settings = alerts.settings()
    if not settings.channels:
        return dg.SkipReason(NOT_CONFIGURED)
    # The cursor: for each check, the id of the last evaluation alerted on (or found passing).
    seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    summaries = context.instance.event_log_storage.get_asset_check_summary_records(FRESHNESS_KEYS)
    sent, failed = [], []
    for key in FRESHNESS_KEYS:
        record = summaries[key].last_completed_check_execution_record
        if record is None or record.id <= seen.get(key.to_user_string(), -1):
            continue
        evaluation = record.event.asset_check_evaluation if record.event else None
        if evaluation is not None and not evaluation.passed:
            try:
                deliver(stale_asset_alert(key, evaluation, settings), settings)
                sent.append(key.asset_key.to_user_string())
            except AlertDeliveryError as exc:
                # Not retried (as for failed runs): a channel that stays down would resend the alert to
                # the others every tick. The skip reason and the log say what was lost.
                failed.append(f"{key.asset_key.to_user_string()}: {exc}")
        seen[key.to_user_string()] = record.id
    context.update_cursor(json.dumps(seen, sort_keys=True))
    done = [f"stale-data alerts sent for {', '.join(sent)}"] if sent else []
    if failed:
        context.log.error("; ".join(failed))
    # A sensor that requests no run reports its outcome as the tick's skip reason (Automation, the sensor).
    return dg.SkipReason("; ".join(done + failed) or "no freshness check failed since the last tick")


SENSORS = [freshness_checks_sensor, alert_on_run_failure, alert_on_stale_data]
RESOURCES = {"alerts": AlertResource()}
