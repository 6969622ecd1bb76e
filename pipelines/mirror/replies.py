"""What the mirror's handlers return: a finished HTTP reply, or a Hub-style error raised as an exception."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
# On a 404 for a repo of a kind the recording does not hold (mirror.json `unrecorded`): the answer says
# "not recorded", not "not on the Hub". The real Hub never sends it.
UNRECORDED_HEADER = "X-Mirror-Unrecorded"


@dataclass
class Reply:
    """A complete answer: status, body bytes, content type and extra headers (Content-Length is derived)."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    is_json: bool = True  # only JSON answers can be given a malformed-JSON fault


def json_reply(obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
    """A JSON reply, compact like the Hub's."""
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, JSON_TYPE, list(headers or []))


def header_safe(text: str) -> str:
    """A header value that cannot break the response: ASCII only, no line breaks."""
    return text.encode("ascii", "backslashreplace").decode("ascii").replace("\r", " ").replace("\n", " ")


class HubError(Exception):
    """An error answered the way the Hub does: JSON {"error": ...}, X-Error-Message and X-Error-Code."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = list(headers or [])

    def reply(self) -> Reply:
        """The error as a reply."""
        headers = list(self.headers)
        if self.code:
            headers.append(("X-Error-Code", self.code))
        headers.append(("X-Error-Message", header_safe(self.message)))
        return json_reply({"error": self.message}, self.status, headers)


def bad_request(message: str) -> HubError:
    """HTTP 400 (huggingface_hub raises BadRequestError)."""
    return HubError(400, message)
