"""Freshness checks on the crawl and the snapshot, and the alerts an operator receives (docs/operations.md).

Real parts only: the project's Definitions on an ephemeral Dagster instance, runs of the project's jobs
that really fail, the sensors ticked as the daemon ticks them, an HTTP server and an SMTP responder on
127.0.0.1 that receive what the sensors send.
"""

from __future__ import annotations

import email
import json
import logging
import socketserver
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from assets import monitoring
from assets.definitions import defs
from pipelines.alerts import Alert, AlertDeliveryError, AlertSettings, deliver

ALERT_VARIABLES = (
    "OPENNESS_ALERT_WEBHOOK",
    "OPENNESS_ALERT_EMAIL_TO",
    "OPENNESS_ALERT_EMAIL_FROM",
    "OPENNESS_ALERT_SMTP_HOST",
    "OPENNESS_ALERT_SMTP_PORT",
    "OPENNESS_ALERT_SMTP_SECURITY",
    "OPENNESS_ALERT_SMTP_USER",
    "OPENNESS_ALERT_SMTP_PASSWORD",
    "OPENNESS_UI_URL",
)
SECRET = "s3cr3t-token-in-the-webhook-path"


class Webhook:
    """An HTTP server on loopback that records the JSON bodies POSTed to it and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        received, self.status = [], status
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, self.headers["Content-Type"], json.loads(body)))
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook/{SECRET}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpResponder(socketserver.ThreadingTCPServer):
    """The smallest SMTP server that accepts mail (no TLS, no auth): enough for smtplib, on loopback."""

    daemon_threads = allow_reuse_address = True

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.Message]] = []
        super().__init__(("127.0.0.1", 0), self.Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            def say(line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            say("220 loopback ESMTP")
            sender, recipients = "", []
            while line := self.rfile.readline().decode().rstrip("\r\n"):
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 loopback")
                elif verb == "MAIL":
                    sender, recipients = line.split(":", 1)[1].strip(" <>"), []
                    say("250 OK")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip(" <>"))
                    say("250 OK")
                elif verb == "DATA":
                    say("354 end with <CRLF>.<CRLF>")
                    data = b""
                    while (chunk := self.rfile.readline()) != b".\r\n":
                        data += chunk
                    self.server.messages.append((sender, recipients, email.message_from_bytes(data)))
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 OK")


@pytest.fixture
def quiet_env(tmp_path, monkeypatch):
    """No alert channel configured; an empty warehouse (a publish run fails at once)."""
    for name in ALERT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENNESS_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setenv("OPENNESS_PUBLISH_TARGETS", "")
    return monkeypatch


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook()
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpResponder]:
    server = SmtpResponder()
    yield server
    server.shutdown()
    server.server_close()


def _tick(name: str, context: dg.SensorEvaluationContext):
    return defs.resolve_sensor_def(name).evaluate_tick(context)


def _sensor_context(instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(
        instance=instance, definitions=defs, resources=monitoring.RESOURCES, cursor=cursor
    )


def _run_checks(instance: dg.DagsterInstance, keys) -> dict[str, tuple[bool, str]]:
    """Run the given freshness checks alone, as the freshness sensor's run does: {asset: (passed, why)}."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_check_selection=set(keys), asset_selection=set()
    )
    result = job.execute_in_process(instance=instance)
    return {
        e.asset_key.to_user_string(): (e.passed, e.description) for e in result.get_asset_check_evaluations()
    }


def _updated(instance: dg.DagsterInstance, hours_ago: dict[dg.AssetKey, float]) -> None:
    """Record that each asset was last updated `hours_ago` (an observation carrying the update time)."""
    now = time.time()
    for key, hours in hours_ago.items():
        instance.report_runless_asset_event(
            dg.AssetObservation(
                asset_key=key,
                metadata={"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(now - hours * 3600)},
            )
        )


def test_the_deadlines_are_a_day_plus_slack():
    """Start of the crawl: 26 h; end of the crawl and the snapshot: 30 h (docs/operations.md)."""
    assert {k.to_user_string(): d.total_seconds() / 3600 for k, d in monitoring.DEADLINES.items()} == {
        "raw/hub_listing": 26,
        "raw/code_repos": 30,
        "publish/snapshot": 30,
    }
    assert {k.asset_key for k in monitoring.FRESHNESS_KEYS} == set(monitoring.DEADLINES)


def test_freshness_checks_fail_when_never_or_long_ago_updated_and_pass_once_materialised(quiet_env):
    names = {k.asset_key.to_user_string(): k for k in monitoring.FRESHNESS_KEYS}
    deadline = {k.to_user_string(): d.total_seconds() / 3600 for k, d in monitoring.DEADLINES.items()}
    with dg.DagsterInstance.ephemeral() as instance:
        sensor = _sensor_context(instance)
        (request,) = _tick("freshness_checks", sensor).run_requests  # never evaluated: every check
        assert set(request.asset_check_keys) == set(monitoring.FRESHNESS_KEYS)

        results = _run_checks(instance, request.asset_check_keys)
        assert results == {a: (False, "Asset has never been observed/materialized.") for a in names}
        assert not _tick("freshness_checks", sensor).run_requests  # failed, and nothing updated since

        # Last updated a little more than the deadline ago: overdue. A little less: fresh.
        _updated(instance, {names[a].asset_key: deadline[a] + 0.2 for a in names})
        assert not any(passed for passed, _ in _run_checks(instance, names.values()).values())
        _updated(instance, {names[a].asset_key: deadline[a] - 0.2 for a in names})
        assert all(passed for passed, _ in _run_checks(instance, names.values()).values())

        # Stale again; then the daily crawl materialises a new crawl date of the listing: fresh.
        _updated(instance, {names[a].asset_key: deadline[a] + 0.2 for a in names})
        assert _run_checks(instance, names.values())["raw/hub_listing"][0] is False
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=names["raw/hub_listing"].asset_key, partition="2026-12-07")
        )
        # The sensor asks again for the check whose asset changed after its last (failed) evaluation.
        (request,) = _tick("freshness_checks", sensor).run_requests
        assert list(request.asset_check_keys) == [names["raw/hub_listing"]]
        passed, why = _run_checks(instance, request.asset_check_keys)["raw/hub_listing"]
        assert passed, why


def test_a_failed_run_alerts_the_webhook_and_the_mailbox_and_nothing_when_unconfigured(
    quiet_env, webhook, smtp, caplog
):
    caplog.set_level(logging.DEBUG)
    listing = defs.resolve_job_def("daily_listing")
    with dg.DagsterInstance.ephemeral() as instance:
        first = _sensor_context(instance)
        assert _tick("alert_on_run_failure", first).skip_message.startswith("Initiating")  # watches from now
        cursor = first.cursor
        # A real run of the daily crawl that fails at once: a malformed setting.
        quiet_env.setenv("OPENNESS_HUB_RATE_LIMIT", "maybe")
        failed = listing.execute_in_process(
            instance=instance, partition_key="2026-12-06", raise_on_error=False
        )
        assert not failed.success

        # Nothing configured: the sensor skips quietly and nothing is sent.
        unconfigured = _tick("alert_on_run_failure", _sensor_context(instance, cursor))
        assert unconfigured.skip_message == monitoring.NOT_CONFIGURED
        assert webhook.received == [] and smtp.messages == []

        quiet_env.setenv("OPENNESS_ALERT_WEBHOOK", webhook.url)
        quiet_env.setenv("OPENNESS_ALERT_EMAIL_TO", "ops@example.org, oncall@example.org")
        quiet_env.setenv("OPENNESS_ALERT_EMAIL_FROM", "openness@example.org")
        quiet_env.setenv("OPENNESS_ALERT_SMTP_HOST", "127.0.0.1")
        quiet_env.setenv("OPENNESS_ALERT_SMTP_PORT", str(smtp.server_address[1]))
        quiet_env.setenv("OPENNESS_ALERT_SMTP_SECURITY", "none")
        quiet_env.setenv("OPENNESS_UI_URL", "http://dagster.example.org:3000/")
        result = _tick("alert_on_run_failure", _sensor_context(instance, cursor))
        assert [r.error for r in result.dagster_run_reactions] == [None]

    ((path, content_type, body),) = webhook.received
    assert path == f"/hook/{SECRET}" and content_type == "application/json"
    assert body["kind"] == "run_failure"
    assert body["run_id"] == failed.run_id
    assert body["job"] == "daily_listing"
    assert body["partition"] == "2026-12-06"
    assert body["error"] == "raw__hub_listing: ValueError: expected true or false, got 'maybe'"
    assert body["url"] == f"http://dagster.example.org:3000/runs/{failed.run_id}"
    assert body["url"] in body["text"]

    ((sender, recipients, message),) = smtp.messages
    assert sender == "openness@example.org"
    assert recipients == ["ops@example.org", "oncall@example.org"]
    assert message["Subject"] == "[openness] run of daily_listing (2026-12-06) failed"
    text = message.get_payload(decode=True).decode()
    assert failed.run_id in text and "expected true or false, got 'maybe'" in text and body["url"] in text

    assert SECRET not in caplog.text  # the webhook URL (and its token) is never logged


def test_a_failed_freshness_check_alerts_once(quiet_env, webhook):
    quiet_env.setenv("OPENNESS_ALERT_WEBHOOK", webhook.url)
    with dg.DagsterInstance.ephemeral() as instance:
        alerts = _sensor_context(instance)
        assert (
            _tick("alert_on_stale_data", alerts).skip_message
            == "no freshness check failed since the last tick"
        )
        _updated(instance, {monitoring.SNAPSHOT: 31})
        _run_checks(instance, monitoring.FRESHNESS_KEYS)  # the snapshot is 31 h old; the others never came
        _tick("alert_on_stale_data", alerts)
        by_asset = {body["asset"]: body for _, _, body in webhook.received}
        assert sorted(by_asset) == ["publish/snapshot", "raw/code_repos", "raw/hub_listing"]
        snapshot = by_asset["publish/snapshot"]
        assert snapshot["kind"] == "stale_asset" and snapshot["deadline_hours"] == "30"
        assert snapshot["last_updated"] is not None and "overdue" in snapshot["error"]
        assert snapshot["url"] == "http://127.0.0.1:3000/assets/publish/snapshot?view=checks"
        assert by_asset["raw/hub_listing"]["last_updated"] is None
        # The same failed evaluations are not sent again.
        assert _tick("alert_on_stale_data", alerts).skip_message.startswith("no freshness check failed")
        assert len(webhook.received) == 3


def test_a_channel_that_fails_is_named_without_its_secret_and_the_others_still_get_the_alert(smtp):
    refusing = Webhook(status=500)
    try:
        settings = AlertSettings(
            webhook=refusing.url,
            email_to=("ops@example.org",),
            email_from="openness@example.org",
            smtp_host="127.0.0.1",
            smtp_port=smtp.server_address[1],
            smtp_security="none",
        )
        alert = Alert(
            kind="run_failure", summary="run of build_tables failed", url="http://ui/runs/1", details={}
        )
        with pytest.raises(AlertDeliveryError) as raised:
            deliver(alert, settings)
    finally:
        refusing.close()
    assert str(raised.value) == "alert not delivered (webhook: HTTP 500); delivered: e-mail"
    assert len(refusing.received) == 1 and len(smtp.messages) == 1
    assert SECRET not in repr(settings)
    with pytest.raises(AlertDeliveryError, match=r"^alert not delivered \(webhook: URLError\)"):
        deliver(alert, AlertSettings(webhook=refusing.url))  # the server is gone


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OPENNESS_ALERT_SMTP_PORT", "25x", "OPENNESS_ALERT_SMTP_PORT must be a port number, got '25x'"),
        (
            "OPENNESS_ALERT_SMTP_SECURITY",
            "tls",
            "SMTP security must be one of starttls, ssl, none, got 'tls'",
        ),
        ("OPENNESS_ALERT_EMAIL_TO", "ops@example.org", "alert e-mail recipients are set but no SMTP host is"),
        (
            "OPENNESS_ALERT_WEBHOOK",
            "ftp://example.org/hook",
            "the alert webhook must be an http:// or https:// URL",
        ),
    ],
)
def test_bad_alert_settings_are_one_line_errors(quiet_env, variable, value, message):
    quiet_env.setenv(variable, value)
    with pytest.raises(ValueError) as raised:
        monitoring.AlertResource().settings()
    assert str(raised.value) == message


def test_no_channel_means_no_alert(quiet_env):
    assert monitoring.AlertResource().settings().channels == []
    with dg.DagsterInstance.ephemeral() as instance:
        assert (
            _tick("alert_on_stale_data", _sensor_context(instance)).skip_message == monitoring.NOT_CONFIGURED
        )
