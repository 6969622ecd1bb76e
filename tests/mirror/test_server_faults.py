"""Seeded faults reach huggingface_hub 2.4.0 exactly as the Hub's would, and are reproducible."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from pipelines.mirror.faults import FaultConfig
from pipelines.mirror.server import MirrorServer

INFO = r"^/api/models/acme/evolving$"


def faults_of(srv: MirrorServer) -> list[str | None]:
    return [r["fault"] for r in srv.requests]


def list_all(api: HfApi) -> list[str]:
    return [m.id for m in api.list_models(expand=["sha"])]


@pytest.mark.parametrize("kind", ["429", "5xx", "truncate"])
def test_paginated_listing_retries_through_faults(srv: MirrorServer, api: HfApi, kind: str) -> None:
    expected = list_all(api)
    # Seeds are tried in order until one faults at least one page; each seed's outcome is deterministic.
    for seed in range(20):
        srv.set_faults(
            FaultConfig.from_dict({"seed": seed, kind: 0.3, "retry_after": 0, "paths": "^/api/models$"})
        )
        srv.reset_log()
        assert list_all(api) == expected  # the client retried and got everything, once, in order
        if kind in faults_of(srv):
            break
    else:
        pytest.fail(f"no seed produced a {kind} fault")
    assert all(r["status"] in (200, 429, 500, 502, 503, 504) for r in srv.requests)


def test_429_headers_and_message(srv: MirrorServer, api: HfApi) -> None:
    srv.set_faults(FaultConfig(rate_429=1.0, retry_after=7))
    r = httpx2.get(f"{srv.url}/api/models/acme/evolving")
    assert r.status_code == 429
    assert r.headers["ratelimit"] == '"api";r=0;t=7'
    assert r.headers["ratelimit-policy"] == '"fixed window";"api";q=1000;w=300'
    assert r.headers["retry-after"] == "7"
    assert r.json()["error"].startswith("We had to rate limit you, you hit the quota of 1000 api requests")
    head = httpx2.head(f"{srv.url}/acme/evolving/resolve/main/README.md")
    assert head.status_code == 429 and head.headers["ratelimit"] == '"resolvers";r=0;t=7'
    with pytest.raises(HfHubHTTPError) as err:  # model_info does not retry
        api.model_info("acme/evolving")
    assert err.value.response.status_code == 429
    assert "you have reached your 'api' rate limit" in str(err.value)
    assert [(r["bucket"], r["fault"]) for r in srv.requests] == [
        ("api", "429"),
        ("resolvers", "429"),
        ("api", "429"),
    ]


def test_5xx_reaches_model_info(srv: MirrorServer, api: HfApi) -> None:
    srv.set_faults(FaultConfig(rate_5xx=1.0, paths=INFO))
    with pytest.raises(HfHubHTTPError) as err:
        api.model_info("acme/evolving")
    assert err.value.response.status_code in (500, 502, 503, 504)
    assert api.model_info("acme/gated").id == "acme/gated"  # outside `paths`: not faulted
    assert faults_of(srv) == ["5xx", None]


def test_stall_times_the_client_out(srv: MirrorServer, api: HfApi) -> None:
    srv.set_faults(FaultConfig(rate_stall=1.0, stall_seconds=5, paths=INFO))
    started = time.monotonic()
    with pytest.raises(httpx2.TimeoutException):
        api.model_info("acme/evolving", timeout=0.5)
    assert time.monotonic() - started < 3
    with pytest.raises(httpx2.TimeoutException):  # on HEAD the headers themselves are withheld
        httpx2.head(f"{srv.url}/api/models/acme/evolving", timeout=0.3)
    srv.set_faults(FaultConfig(rate_stall=1.0, stall_seconds=0.3, paths=INFO))
    started = time.monotonic()
    assert api.model_info("acme/evolving", timeout=5).id == "acme/evolving"  # a slow but complete answer
    assert time.monotonic() - started >= 0.3
    assert faults_of(srv) == ["stall", "stall", "stall"]


def test_truncated_body_makes_the_client_raise(srv: MirrorServer, api: HfApi) -> None:
    srv.set_faults(FaultConfig(rate_truncate=1.0, paths=INFO))
    with pytest.raises(httpx2.RemoteProtocolError):
        api.model_info("acme/evolving")
    with pytest.raises(httpx2.RemoteProtocolError):  # HEAD: the connection drops before any response
        httpx2.head(f"{srv.url}/api/models/acme/evolving")
    assert [(r["status"], r["fault"]) for r in srv.requests] == [(200, "truncate"), (None, "truncate")]


def test_malformed_json(srv: MirrorServer, api: HfApi) -> None:
    srv.set_faults(FaultConfig(rate_malformed=1.0))
    with pytest.raises(json.JSONDecodeError):
        api.model_info("acme/evolving")
    r = httpx2.get(f"{srv.url}/api/models/acme/evolving")
    assert r.status_code == 200 and r.headers["content-length"] == str(len(r.content))
    r = httpx2.get(f"{srv.url}/acme/evolving/resolve/main/README.md")  # not JSON: a 5xx instead
    assert r.status_code in (500, 502, 503, 504)
    assert faults_of(srv) == ["malformed", "malformed", "5xx"]


def test_decisions_are_a_pure_function() -> None:
    cfg = FaultConfig(
        seed=3, rate_429=0.2, rate_5xx=0.2, rate_stall=0.1, rate_truncate=0.1, rate_malformed=0.1
    )
    draws = [cfg.decide("GET", f"/api/models?p={i}", n) for i in range(400) for n in range(5)]
    assert draws == [cfg.decide("GET", f"/api/models?p={i}", n) for i in range(400) for n in range(5)]
    counts = {
        k: sum(1 for d in draws if d and d.kind == k)
        for k in ("429", "5xx", "stall", "truncate", "malformed")
    }
    assert abs(counts["429"] / len(draws) - 0.2) < 0.04 and abs(counts["malformed"] / len(draws) - 0.1) < 0.03
    assert sum(1 for d in draws if d is None) / len(draws) == pytest.approx(0.3, abs=0.04)
    other = replace(cfg, seed=4)
    assert draws != [other.decide("GET", f"/api/models?p={i}", n) for i in range(400) for n in range(5)]


def test_same_requests_same_faults_whatever_the_scheduling(srv: MirrorServer) -> None:
    cfg = FaultConfig(seed=11, rate_429=0.25, rate_5xx=0.25, rate_malformed=0.2)
    urls = [f"{srv.url}/api/models/zoo/model-{i % 6:02d}" for i in range(24)]

    def run(parallel: bool) -> dict[str, list]:
        srv.set_faults(cfg)
        srv.reset_log()
        with httpx2.Client() as client:
            if parallel:
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(client.get, urls))
            else:
                for url in urls:
                    client.get(url)
        per_path: dict[str, list] = {}
        for r in srv.requests:
            per_path.setdefault(r["path"], []).append((r["fault"], r["status"]))
        return {p: sorted(v, key=str) for p, v in per_path.items()}

    sequential = run(False)
    assert any(f for v in sequential.values() for f, _ in v) and any(
        f is None for v in sequential.values() for f, _ in v
    )
    assert run(False) == sequential
    assert run(True) == sequential


def test_fault_config_parsing() -> None:
    cfg = FaultConfig.parse("seed=1,429=0.1,5xx=0.1,stall=0.05,stall_seconds=2,retry_after=3")
    assert (cfg.seed, cfg.rate_429, cfg.rate_5xx, cfg.rate_stall, cfg.stall_seconds, cfg.retry_after) == (
        1,
        0.1,
        0.1,
        0.05,
        2.0,
        3,
    )
    assert (
        FaultConfig.parse("truncate=0.2,paths=^/api/(models|datasets)$,x").paths
        == "^/api/(models|datasets)$,x"
    )
    assert FaultConfig.from_dict(cfg.to_dict()) == cfg
    assert FaultConfig.from_dict({"malformed": 0.5}).rate_malformed == 0.5
    for bad in ("429=2", "429=0.6,5xx=0.6", "bogus=1", "seed", "stall_seconds=-1", "paths=("):
        with pytest.raises(ValueError):
            FaultConfig.parse(bad)


def test_control_endpoints(srv: MirrorServer) -> None:
    r = httpx2.post(f"{srv.url}/_mirror/faults", json={"rate_5xx": 1.0, "seed": 2})
    assert (
        r.status_code == 200
        and r.json()["rate_5xx"] == 1.0
        and srv.faults == FaultConfig(seed=2, rate_5xx=1.0)
    )
    assert httpx2.get(f"{srv.url}/api/models").status_code >= 500
    health = httpx2.get(f"{srv.url}/_mirror/health")  # never faulted
    assert health.status_code == 200 and health.json()["repos"] == {"models": 17, "datasets": 2}
    log = httpx2.get(f"{srv.url}/_mirror/log").json()  # never logged
    assert [(e["path"], e["fault"]) for e in log] == [("/api/models", "5xx")]
    assert set(log[0]) == {"method", "path", "query", "status", "bucket", "ts", "fault", "token"}
    assert httpx2.post(f"{srv.url}/_mirror/faults", content=b"null").json() is None and srv.faults is None
    assert httpx2.get(f"{srv.url}/api/models").status_code == 200
    assert httpx2.post(f"{srv.url}/_mirror/log/reset").json() == {"ok": True} and srv.requests == []
    assert httpx2.post(f"{srv.url}/_mirror/faults", json={"rate_429": 7}).status_code == 400
    assert httpx2.post(f"{srv.url}/_mirror/faults", content=b"{not json").status_code == 400
    assert httpx2.get(f"{srv.url}/_mirror/nope").status_code == 404
