"""GitHub's quota, conditional requests and faults on the mirror: X-RateLimit-* headers, ETag/304 (not
counted), primary-limit exhaustion, injected primary/secondary limits and 5xx, and the request log."""

from __future__ import annotations

import time

import pytest
import requests
from github import GithubException, GithubRetry, RateLimitExceededException

from pipelines.mirror.faults import FaultConfig
from pipelines.mirror.github_quota import Quota
from pipelines.mirror.server import MirrorServer
from tests.mirror.conftest import github_client

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used")


def _github_log(server: MirrorServer) -> list[dict]:
    return [e for e in server.requests if e["bucket"] == "github"]


def test_every_answer_carries_githubs_rate_limit_headers(gh) -> None:
    before = int(time.time())
    ok = requests.get(f"{gh.github_url}/repos/acme/tool")
    missing = requests.get(f"{gh.github_url}/repos/acme/nope")
    for r in (ok, missing):
        assert all(h in r.headers for h in RATE_HEADERS) and r.headers["X-RateLimit-Resource"] == "core"
    assert ok.headers["X-RateLimit-Limit"] == "60"  # anonymous
    assert (ok.headers["X-RateLimit-Used"], ok.headers["X-RateLimit-Remaining"]) == ("1", "59")
    assert (missing.headers["X-RateLimit-Used"], missing.headers["X-RateLimit-Remaining"]) == ("2", "58")
    assert before + 3600 <= int(ok.headers["X-RateLimit-Reset"]) <= int(time.time()) + 3600
    authed = requests.get(f"{gh.github_url}/repos/acme/tool", headers={"authorization": "token abc"})
    assert authed.headers["X-RateLimit-Limit"] == "5000" and authed.headers["X-RateLimit-Used"] == "1"
    assert missing.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
        "status": "404",
    }


def test_rate_limit_endpoint_is_free(gh) -> None:
    g = github_client(gh)
    g.get_repo("acme/tool")
    overview = g.get_rate_limit()
    assert overview.rate.limit == 5000 and overview.rate.remaining == 4999
    assert overview.resources.core.used == 1
    again = g.get_rate_limit()
    assert again.rate.remaining == 4999  # GET /rate_limit does not count
    assert [e["counted"] for e in _github_log(gh)] == [True, False, False]


def test_conditional_requests_get_304_and_cost_nothing(gh, tool) -> None:
    headers = {"Authorization": "token abc"}
    urls = [
        f"{gh.github_url}/repos/acme/tool",
        f"{gh.github_url}/repos/acme/tool/commits?path=LICENSE",
        f"{gh.github_url}/repos/acme/tool/git/trees/main?recursive=1",
        f"{gh.github_url}/repos/acme/tool/contents/LICENSE",
        f"{gh.github_url}/repos/acme/tool/license",
    ]
    first = [requests.get(u, headers=headers) for u in urls]
    assert all(r.status_code == 200 and r.headers["ETag"].startswith('W/"') for r in first)
    used = int(first[-1].headers["X-RateLimit-Used"])
    assert used == len(urls)
    for url, r in zip(urls, first, strict=True):
        # header names are case-insensitive; the strong form of a weak tag matches too
        again = requests.get(url, headers={"authorization": "token abc", "if-none-match": r.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == r.headers["ETag"]
        assert again.headers["X-RateLimit-Used"] == str(used)
        strong = r.headers["ETag"].removeprefix("W/")
        assert requests.get(url, headers={**headers, "If-None-Match": strong}).status_code == 304
    changed = requests.get(urls[0], headers={**headers, "If-None-Match": 'W/"other", "also-other"'})
    assert changed.status_code == 200 and changed.headers["X-RateLimit-Used"] == str(used + 1)
    counted = [e["counted"] for e in _github_log(gh)]
    assert counted == [True] * len(urls) + [False] * 2 * len(urls) + [True]
    # The ETag is a function of the stored content, not of the server's address: a re-crawl against a new
    # server (another port) still gets its 304s.
    with MirrorServer(gh.store.root) as other:
        r = requests.get(
            f"{other.github_url}/repos/acme/tool", headers={"If-None-Match": first[0].headers["ETag"]}
        )
        assert r.status_code == 304
    past = requests.get(f"{gh.url}/as-of/2023-02-15/api/v3/repos/acme/tool")
    assert past.headers["ETag"] != first[0].headers["ETag"]  # another state, another tag
    raw = requests.get(urls[3], headers={"Accept": "application/vnd.github.raw+json"})
    assert raw.headers["ETag"] != first[3].headers["ETag"]


def test_the_quota_runs_out_then_resets(gh) -> None:
    now = [1_800_000_000.0]
    gh.set_quota(Quota(token_limit=4, anonymous_limit=2, window_seconds=60, clock=lambda: now[0]))
    url = f"{gh.github_url}/repos/acme/tool"
    assert [requests.get(url).status_code for _ in range(2)] == [200, 200]
    refused = requests.get(url)
    assert refused.status_code == 403
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == str(1_800_000_060)
    assert refused.json()["message"].startswith("API rate limit exceeded for")
    etag = requests.get(f"{gh.github_url}/rate_limit").status_code  # still answered, and free
    assert etag == 200
    # A token has its own, larger window; PyGithub sees the primary limit as RateLimitExceededException.
    g = github_client(gh, token="t1")
    for _ in range(4):
        g.get_repo("acme/tool")
    with pytest.raises(RateLimitExceededException) as err:
        g.get_repo("acme/tool")
    assert err.value.status == 403 and err.value.headers["x-ratelimit-remaining"] == "0"
    now[0] += 60
    assert requests.get(url).status_code == 200  # a new window
    log = _github_log(gh)
    assert [(e["status"], e["counted"]) for e in log if e["path"].endswith("/acme/tool")] == [
        (200, True),
        (200, True),
        (403, False),
        *[(200, True)] * 4,
        (403, False),
        (200, True),
    ]


def test_quota_is_configured_over_the_control_surface(gh) -> None:
    r = requests.post(f"{gh.url}/_mirror/quota", json={"token_limit": 7, "anonymous_limit": 1})
    assert r.status_code == 200 and r.json() == {
        "token_limit": 7,
        "anonymous_limit": 1,
        "window_seconds": 3600,
    }
    assert requests.get(f"{gh.url}/_mirror/quota").json()["token_limit"] == 7
    assert [requests.get(f"{gh.github_url}/repos/acme/tool").status_code for _ in range(2)] == [200, 403]
    assert requests.post(f"{gh.url}/_mirror/quota", json={"token_limit": -1}).status_code == 400
    assert requests.post(f"{gh.url}/_mirror/quota", json={"bogus": 1}).status_code == 400
    health = requests.get(f"{gh.url}/_mirror/health").json()
    assert health["code"] == {"github": 6} and health["repos"]["models"] == 1


@pytest.mark.parametrize("status", [403, 429])
def test_injected_primary_limit(gh, status: int) -> None:
    gh.set_faults(FaultConfig(rate_primary=1.0, retry_after=30, limit_status=status, paths="^/api/v3/repos/"))
    before = int(time.time())
    r = requests.get(f"{gh.github_url}/repos/acme/tool", headers={"Authorization": "token x"})
    assert r.status_code == status and r.headers["X-RateLimit-Remaining"] == "0"
    assert before + 30 <= int(r.headers["X-RateLimit-Reset"]) <= int(time.time()) + 30
    assert r.json()["message"] == "API rate limit exceeded for user ID 1."
    assert requests.get(f"{gh.github_url}/rate_limit").status_code == 200  # outside `paths`
    assert [(e["fault"], e["counted"]) for e in _github_log(gh)] == [("primary", False), (None, False)]


def test_injected_secondary_limit_is_retried_by_pygithub(gh) -> None:
    gh.set_faults(FaultConfig(rate_secondary=1.0, retry_after=0))
    r = requests.get(f"{gh.github_url}/repos/acme/tool")
    assert r.status_code == 403 and r.headers["Retry-After"] == "0"
    assert r.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert r.headers["X-RateLimit-Remaining"] != "0"  # a secondary limit leaves the primary quota alone
    with pytest.raises(RateLimitExceededException):
        github_client(gh).get_repo("acme/tool")
    # A seed whose first draw for this request is a secondary limit and whose second is not: PyGithub's own
    # retry waits Retry-After and gets the repo.
    target = "/api/v3/repos/acme/long"
    seed = next(
        s
        for s in range(1000)
        if FaultConfig(seed=s, rate_secondary=0.5).decide("GET", target, 0) is not None
        and FaultConfig(seed=s, rate_secondary=0.5).decide("GET", target, 1) is None
    )
    gh.set_faults(FaultConfig(seed=seed, rate_secondary=0.5, retry_after=0))
    gh.reset_log()
    retrying = github_client(gh, retry=GithubRetry(total=3, secondary_rate_wait=0))
    assert retrying.get_repo("acme/long").full_name == "acme/long"
    assert [e["fault"] for e in _github_log(gh)] == ["secondary", None]
    gh.set_faults(FaultConfig(rate_429=1.0, retry_after=2))
    r = requests.get(f"{gh.github_url}/repos/acme/tool")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"  # the Hub's 429 fault, GitHub-style here


def test_injected_server_errors(gh) -> None:
    statuses = set()
    for seed in range(12):
        gh.set_faults(FaultConfig(seed=seed, rate_5xx=1.0))
        r = requests.get(f"{gh.github_url}/repos/acme/tool")
        statuses.add(r.status_code)
        assert r.status_code >= 500 and "X-RateLimit-Remaining" in r.headers
        if r.status_code == 503:
            assert r.headers["Content-Type"].startswith("text/html")  # as recorded from GitHub
        else:
            assert r.json()["message"]
    assert len(statuses) >= 3
    assert all(not e["counted"] and e["fault"] == "5xx" for e in _github_log(gh))
    with pytest.raises(GithubException) as err:
        github_client(gh).get_repo("acme/tool")
    assert err.value.status >= 500


def test_faults_over_the_control_surface_and_hub_paths_unchanged(gh) -> None:
    r = requests.post(f"{gh.url}/_mirror/faults", json={"primary": 1.0, "paths": "^/api/v3/"})
    assert r.status_code == 200 and r.json()["rate_primary"] == 1.0
    assert requests.get(f"{gh.github_url}/repos/acme/tool").status_code == 403
    assert requests.get(f"{gh.url}/api/models/acme/model").status_code == 200  # not under paths
    requests.post(f"{gh.url}/_mirror/faults", json={"secondary": 1.0})
    hub = requests.get(f"{gh.url}/api/models/acme/model")
    assert hub.status_code == 429 and "RateLimit" in hub.headers  # the Hub's own 429 on a Hub path
    assert requests.post(f"{gh.url}/_mirror/faults", json={"limit_status": 500}).status_code == 400
    requests.post(f"{gh.url}/_mirror/faults", data=b"null")
    assert FaultConfig.parse("seed=1,primary=0.1,secondary=0.2,limit_status=429").limit_status == 429
    buckets = [(e["bucket"], "counted" in e) for e in gh.requests]
    assert ("api", False) in buckets and ("github", True) in buckets


def test_a_conditional_recrawl_of_the_sample_costs_no_quota() -> None:
    """What a benchmark measures from the log: the first crawl of the sample's code repos costs quota, a
    re-crawl of the unchanged repos with If-None-Match costs none."""
    from tests.mirror.test_sample_corpus import SAMPLE

    repos = sorted(
        f"{p.parent.parent.name}/{p.parent.name}" for p in SAMPLE.glob("code/github/*/*/commits.json")
    )
    with MirrorServer(SAMPLE) as server:
        session = requests.Session()
        session.headers["Authorization"] = "token bench"
        etags = {}
        for name in repos:
            for tail in ("", "/git/trees/HEAD?recursive=1", "/commits?path=LICENSE", "/license"):
                r = session.get(f"{server.github_url}/repos/{name}{tail}")
                assert r.status_code in (200, 404), (name, tail)
                if r.status_code == 200:
                    etags[name + tail] = r.headers["ETag"]
        first = sum(e["counted"] for e in _github_log(server))
        assert first == 4 * len(repos)
        server.reset_log()
        for key, etag in etags.items():
            assert (
                session.get(f"{server.github_url}/repos/{key}", headers={"If-None-Match": etag}).status_code
                == 304
            )
        log = _github_log(server)
        assert len(log) == len(etags) and sum(e["counted"] for e in log) == 0
