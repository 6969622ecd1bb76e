"""The arXiv client against a real MirrorServer on 127.0.0.1: batching, pacing, invalid and unknown ids, faults."""

from __future__ import annotations

from pipelines.mirror.server import FaultConfig, MirrorServer
from pipelines.papers.client import ArxivClient
from tests.papers.recorded import MIRROR_IDS

SLACK = 0.0  # the client measures from the end of each exchange, so the server-side gap needs no slack


def _arxiv_log(server: MirrorServer) -> list[dict]:
    return [e for e in server.requests if e["bucket"] == "arxiv"]


def _gaps(log: list[dict]) -> list[float]:
    stamps = [e["ts"] for e in log]
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)]


def test_batches_ids_and_keeps_the_interval(server: MirrorServer) -> None:
    ids = MIRROR_IDS[:5]
    with ArxivClient(server.arxiv_url, min_interval=1.0, batch_size=2) as client:
        result = client.fetch(ids)
    log = _arxiv_log(server)
    assert [e["query"]["id_list"] for e in log] == [[",".join(ids[0:2])], [",".join(ids[2:4])], [ids[4]]]
    assert [e["query"]["max_results"] for e in log] == [["2"], ["2"], ["1"]]
    assert all(e["status"] == 200 for e in log)
    assert min(_gaps(log)) >= 1.0 - SLACK
    assert result.status == dict.fromkeys(ids, "found")
    assert [result.papers[i]["arxiv_id"] for i in ids] == ids
    assert result.papers["1605.08386"]["title"] == "Heat-bath random walks with Markov bases"
    assert result.papers["astro-ph/0601001"]["journal_ref"] == "ActaAstron.56:1-50,2006"
    assert result.response_index == {ids[0]: 0, ids[1]: 0, ids[2]: 1, ids[3]: 1, ids[4]: 2}
    assert [r["status_code"] for r in result.responses] == [200, 200, 200]
    assert result.responses[0]["url"].startswith(server.arxiv_url + "?id_list=1605.08386%2C1707.08567")
    assert "<entry>" in result.responses[2]["body"] and result.requests_sent == 3


def test_default_interval_is_three_seconds(server: MirrorServer) -> None:
    with ArxivClient(server.arxiv_url, batch_size=2) as client:
        assert client.min_interval == 3.0
        result = client.fetch(MIRROR_IDS[:4])
    log = _arxiv_log(server)
    assert len(log) == 2
    assert _gaps(log)[0] >= 3.0 - SLACK
    assert set(result.status.values()) == {"found"}


def test_default_batch_is_one_request(server: MirrorServer) -> None:
    with ArxivClient(server.arxiv_url, min_interval=1.0) as client:
        result = client.fetch(MIRROR_IDS + ["2401.99999"])
    (request,) = _arxiv_log(server)
    assert request["query"]["id_list"] == [",".join(MIRROR_IDS + ["2401.99999"])]
    assert sum(s == "found" for s in result.status.values()) == len(MIRROR_IDS)


def test_invalid_ids_are_never_sent(server: MirrorServer) -> None:
    bad = ["abc", "0000.0000", "2307.09288&start=5", "1605.08386,1707.08567", "../etc/passwd", ""]
    with ArxivClient(server.arxiv_url, min_interval=1.0) as client:
        only_bad = client.fetch(bad)
        assert server.requests == []  # nothing at all left the client
        mixed = client.fetch(["abc", "1605.08386", "2307.09288 v2"])
    assert only_bad.status == dict.fromkeys(bad, "invalid") and only_bad.requests_sent == 0
    assert mixed.status == {"abc": "invalid", "2307.09288 v2": "invalid", "1605.08386": "found"}
    assert [e["query"]["id_list"] for e in _arxiv_log(server)] == [["1605.08386"]]
    assert "abc" not in mixed.response_index


def test_unknown_and_versioned_ids(server: MirrorServer) -> None:
    with ArxivClient(server.arxiv_url, min_interval=1.0) as client:
        result = client.fetch(["2401.99999", "hep-th/9901001v2", "2104.12255v1", "1605.08386", "1605.08386"])
    assert result.status == {
        "2401.99999": "not_found",
        "hep-th/9901001v2": "not_found",
        "2104.12255v1": "found",
        "1605.08386": "found",
    }
    assert result.papers["2104.12255v1"]["version"] == 1 and "2401.99999" not in result.papers
    assert result.response_index["2401.99999"] == 0  # the answer that said "not there" is kept
    (request,) = _arxiv_log(server)
    assert request["query"]["id_list"] == ["2401.99999,hep-th/9901001v2,2104.12255v1,1605.08386"]


def test_retries_through_faults_and_keeps_the_interval(make_server) -> None:
    faults = FaultConfig(
        seed=2, rate_429=0.25, rate_5xx=0.25, rate_truncate=0.1, retry_after=1, paths="^/arxiv/"
    )
    server = make_server(faults)
    ids = MIRROR_IDS[:6]
    with ArxivClient(server.arxiv_url, min_interval=1.0, batch_size=2, max_retries=6, timeout=5.0) as client:
        result = client.fetch(ids)
    log = _arxiv_log(server)
    kinds = [e["fault"] for e in log]
    assert kinds.count(None) == 3 and len(kinds) > 3  # three batches got through, after some faults
    assert {"429", "5xx", "truncate"} <= set(kinds)  # seed 2: all three kinds, retried in turn
    assert len(result.failures) >= 1  # the truncated body surfaced as a transport error
    assert min(_gaps(log)) >= 1.0 - SLACK
    assert result.status == dict.fromkeys(ids, "found")
    assert len(result.responses) + len(result.failures) == len(log)


def test_gives_up_after_max_retries(make_server) -> None:
    server = make_server(FaultConfig(seed=1, rate_5xx=1.0, paths="^/arxiv/"))
    with ArxivClient(server.arxiv_url, min_interval=0.2, max_retries=1) as client:
        result = client.fetch(["1605.08386", "abc"])
    assert result.status == {"abc": "invalid", "1605.08386": "error"}
    assert result.messages["1605.08386"].startswith("HTTP 5")
    log = _arxiv_log(server)
    assert len(log) == 2
    assert _gaps(log)[0] >= 1.0  # backoff: at least a second even with a short min_interval
