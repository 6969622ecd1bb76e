"""Operator alerts: one message, delivered to a webhook (HTTP POST of JSON) and/or by e-mail (SMTP).

Plain Python: the Dagster sensors that decide when to alert (assets/monitoring.py) build an `Alert` and
pass the `AlertSettings` their resource resolved at run time. Secrets (the webhook URL, which often
embeds a token, and the SMTP password) are never part of a log line, an error message or a repr: a
failed delivery is reported by channel and cause only ("webhook: HTTP 500").
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import urlsplit

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT_SECONDS = 10.0


class AlertDeliveryError(RuntimeError):
    """A configured channel did not take the alert (the message names the channel and cause, no secret)."""


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go; empty webhook and no recipients mean that alerting is off."""

    webhook: str = field(default="", repr=False)
    email_to: tuple[str, ...] = ()
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = 0  # 0: the usual port of the security mode (587, 465 or 25)
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    ui_url: str = "http://127.0.0.1:3000"
    timeout: float = TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        if self.webhook and urlsplit(self.webhook).scheme not in ("http", "https"):
            raise ValueError("the alert webhook must be an http:// or https:// URL")
        if self.smtp_security not in SECURITY_MODES:
            raise ValueError(
                f"SMTP security must be one of {', '.join(SECURITY_MODES)}, got {self.smtp_security!r}"
            )
        if self.email_to and not self.smtp_host:
            raise ValueError("alert e-mail recipients are set but no SMTP host is")
        if self.email_to and not self.email_from:
            raise ValueError("alert e-mail recipients are set but no sender address is")
        if not 0 <= self.smtp_port <= 65535:
            raise ValueError(f"the SMTP port must be between 1 and 65535, got {self.smtp_port}")

    @property
    def channels(self) -> list[str]:
        """The configured channels, by name ("webhook", "e-mail"); empty when alerting is off."""
        return [name for name, on in (("webhook", self.webhook), ("e-mail", self.email_to)) if on]

    def link(self, path: str) -> str:
        """A link into the Dagster UI."""
        return f"{self.ui_url.rstrip('/')}/{path.lstrip('/')}"


@dataclass(frozen=True)
class Alert:
    """One thing an operator must look at: a failed run or a stale asset."""

    kind: str  # "run_failure" or "stale_asset"
    summary: str  # one line, also the e-mail subject
    url: str  # where to look in the UI
    details: dict[str, str | None]

    def payload(self) -> dict:
        """The webhook's JSON body: the fields, plus `text` (summary and link) that chat webhooks display."""
        return {
            "kind": self.kind,
            "summary": self.summary,
            "url": self.url,
            **self.details,
            "text": f"{self.summary}\n{self.url}",
        }

    def body(self) -> str:
        """The e-mail's plain-text body."""
        lines = [self.summary, "", *(f"{k}: {v}" for k, v in self.details.items() if k != "error")]
        if self.details.get("error"):
            lines += ["", "error:", str(self.details["error"])]
        return "\n".join([*lines, "", self.url, ""])


def post_webhook(url: str, payload: dict, timeout: float = TIMEOUT_SECONDS) -> None:
    """POST `payload` as JSON to `url`; an answer other than 2xx is an `AlertDeliveryError`."""
    # The standard library's client, not requests: urllib3 logs each request line (the URL's path, and so
    # a token in it) at DEBUG, which a debug-level log handler would write out.
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "openness-tracker-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        # The exception's text may carry the URL (and so any token in it): report its type only.
        raise AlertDeliveryError(f"webhook: {type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise AlertDeliveryError(f"webhook: HTTP {status}")


def send_email(settings: AlertSettings, subject: str, body: str) -> None:
    """Send one plain-text message to the configured recipients."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = (
        subject,
        settings.email_from,
        ", ".join(settings.email_to),
    )
    message.set_content(body)
    port = settings.smtp_port or DEFAULT_PORTS[settings.smtp_security]
    try:
        if settings.smtp_security == "ssl":
            server = smtplib.SMTP_SSL(
                settings.smtp_host, port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(settings.smtp_host, port, timeout=settings.timeout)
        with server:
            if settings.smtp_security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password)
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        code = getattr(exc, "smtp_code", None)
        raise AlertDeliveryError(f"e-mail: {type(exc).__name__}{f' {code}' if code else ''}") from None


def deliver(alert: Alert, settings: AlertSettings) -> list[str]:
    """Send `alert` to every configured channel; returns the channels that took it.

    Every channel is tried; if any failed, one `AlertDeliveryError` names them all (and no secret).
    """
    sent, failed = [], []
    if settings.webhook:
        try:
            post_webhook(settings.webhook, alert.payload(), settings.timeout)
            sent.append("webhook")
        except AlertDeliveryError as exc:
            failed.append(str(exc))
    if settings.email_to:
        try:
            send_email(settings, f"[openness] {alert.summary}", alert.body())
            sent.append("e-mail")
        except AlertDeliveryError as exc:
            failed.append(str(exc))
    if failed:
        raise AlertDeliveryError(
            f"alert not delivered ({'; '.join(failed)}); delivered: {', '.join(sent) or 'none'}"
        )
    return sent
