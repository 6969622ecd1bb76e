"""The arXiv client's rules on a fake clock and a scripted session: pacing, backoff, Retry-After, 400 splitting."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests

from pipelines.papers.client import ArxivClient
from pipelines.transport import Pacer, retry_after_seconds
from tests.papers.recorded import needs_reference, wrapper


class FakeClock:
    """Monotonic time that only moves when the client sleeps (or a request takes `latency`)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@dataclass
class FakeResponse:
    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedSession:
    """Answers with `answer(id_list)`; records (send time, id_list) of every request."""

    def __init__(self, clock: FakeClock, answer, latency: float = 0.25) -> None:
        self.clock, self.answer, self.latency = clock, answer, latency
        self.sent: list[tuple[float, str]] = []

    def get(self, url: str, timeout: float) -> FakeResponse:
        id_list = parse_qs(urlsplit(url).query)["id_list"][0]
        self.sent.append((self.clock.now, id_list))
        self.clock.now += self.latency
        reply = self.answer(id_list, len(self.sent))
        if isinstance(reply, Exception):
            raise reply
        return reply


def _client(clock: FakeClock, session: ScriptedSession, **kw) -> ArxivClient:
    return ArxivClient(
        "https://export.arxiv.org/api/query",
        session=session,
        clock=clock,  # type: ignore[arg-type]
        sleep=clock.sleep,
        **kw,
    )


@needs_reference
def test_a_rejected_batch_is_halved_until_the_bad_id_stands_alone() -> None:
    error_body = wrapper("id_abc")["body"].encode()
    empty_body = wrapper("id_0000.0000")["body"].encode()
    clock = FakeClock()

    def answer(id_list: str, n: int) -> FakeResponse:
        # This server dislikes 2401.00003 although the id grammar accepts it.
        return FakeResponse(400, error_body) if "2401.00003" in id_list else FakeResponse(200, empty_body)

    session = ScriptedSession(clock, answer)
    ids = ["2401.00001", "2401.00002", "2401.00003", "2401.00004"]
    result = _client(clock, session).fetch(ids)
    assert [s[1] for s in session.sent] == [
        "2401.00001,2401.00002,2401.00003,2401.00004",
        "2401.00001,2401.00002",
        "2401.00003,2401.00004",
        "2401.00003",
        "2401.00004",
    ]
    assert result.status == {
        "2401.00001": "not_found",
        "2401.00002": "not_found",
        "2401.00003": "invalid",
        "2401.00004": "not_found",
    }
    assert result.messages["2401.00003"] == "incorrect id format for abc"  # arXiv's own message, verbatim
    # Every send is 3 s after the previous answer arrived (latency 0.25 s).
    sends = [s[0] for s in session.sent]
    assert [round(b - a, 6) for a, b in zip(sends, sends[1:], strict=False)] == [3.25] * 4


def test_backoff_grows_and_honours_retry_after() -> None:
    clock = FakeClock()
    script = [
        FakeResponse(503, b"busy"),
        requests.ConnectTimeout("slow"),
        FakeResponse(429, b"Rate exceeded.", {"Retry-After": "30"}),
        FakeResponse(502, b""),
        FakeResponse(200, b'<feed xmlns="http://www.w3.org/2005/Atom"/>'),
    ]
    session = ScriptedSession(clock, lambda id_list, n: script[n - 1], latency=0.0)
    result = _client(clock, session, max_retries=4).fetch(["2401.00001"])
    assert result.status == {"2401.00001": "not_found"}
    # 3 (min_interval), 6 (2x), 30 (Retry-After beats 12), 24 (8 x 3).
    assert clock.sleeps == [3.0, 6.0, 30.0, 24.0]
    assert [r["status_code"] for r in result.responses] == [503, 429, 502, 200]
    assert [f["error"].split(":")[0] for f in result.failures] == ["ConnectTimeout"]
    assert result.response_index == {"2401.00001": 3}


def test_exhausted_retries_mark_the_batch_as_error() -> None:
    clock = FakeClock()
    session = ScriptedSession(clock, lambda id_list, n: FakeResponse(500, b"oops"), latency=0.0)
    result = _client(clock, session, max_retries=2, min_interval=3.0).fetch(["2401.00001", "2401.00002"])
    assert result.status == {"2401.00001": "error", "2401.00002": "error"}
    assert result.messages["2401.00001"] == "HTTP 500"
    assert len(session.sent) == 3 and clock.sleeps == [3.0, 6.0]


def test_an_unreadable_200_is_retried() -> None:
    clock = FakeClock()
    script = [
        FakeResponse(200, b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>"),
        FakeResponse(200, b"<feed xmlns='http://www.w3.org/2005/Atom'/>"),
    ]
    session = ScriptedSession(clock, lambda id_list, n: script[n - 1], latency=0.0)
    result = _client(clock, session).fetch(["2401.00001"])
    assert result.status == {"2401.00001": "not_found"} and len(session.sent) == 2


def test_pacer_counts_from_the_end_of_the_exchange() -> None:
    clock = FakeClock()
    pacer = Pacer(3.0, clock=clock, sleep=clock.sleep)
    pacer.wait()  # first request: no wait
    clock.now += 1.0  # the exchange takes a second
    assert pacer.done() == 3.0
    pacer.wait()
    assert clock.sleeps == [3.0]
    assert Pacer(0.0, max_backoff=10.0, clock=clock, sleep=clock.sleep).done(failed_attempt=5) == 10.0
    assert retry_after_seconds("7") == 7.0 and retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None
