"""The Hub papers client against the mirror's `/api/papers/{id}`: found, not found, invalid, faults."""

from __future__ import annotations

import json

from pipelines.mirror.server import FaultConfig, MirrorServer
from pipelines.papers.client import HubPapersClient
from pipelines.papers.parse import paper_links


def test_found_paper_gives_code_repo_and_project_page(server: MirrorServer) -> None:
    with HubPapersClient(server.url, min_interval=0.0) as client:
        got = client.fetch("1706.00679v3")
    assert got["status"] == "found" and got["arxiv_id"] == "1706.00679" and got["status_code"] == 200
    assert got["github_repo"] == "https://github.com/ydecastro/super-resolution-testing"
    assert got["project_page"] == "https://example.org/srt"
    assert got["published_at"] == "2017-06-02T13:17:03Z"
    assert json.loads(got["body"])["id"] == "1706.00679"
    assert [e["path"] for e in server.requests] == ["/api/papers/1706.00679"]  # version dropped


def test_paper_without_links_and_unknown_paper(server: MirrorServer) -> None:
    with HubPapersClient(server.url, min_interval=0.0) as client:
        plain, unknown, missing = client.fetch_many(["1605.08386", "2401.99999", "1707.08567"])
    assert (plain["status"], plain["github_repo"], plain["project_page"]) == ("found", None, None)
    assert unknown["status"] == "not_found" and unknown["status_code"] == 404
    assert missing["status"] == "not_found"  # on arXiv, but the Hub has no page for it


def test_invalid_id_is_not_sent(server: MirrorServer) -> None:
    with HubPapersClient(server.url) as client:
        got = client.fetch("../models/acme")
    assert got["status"] == "invalid" and got["url"] is None
    assert server.requests == []


def test_retries_through_server_errors(make_server) -> None:
    server = make_server(FaultConfig(seed=4, rate_5xx=0.5, rate_malformed=0.2, paths="^/api/papers/"))
    with HubPapersClient(server.url, min_interval=0.0, max_retries=6) as client:
        results = client.fetch_many(["1706.00679", "1605.08386", "2104.12255"])
    assert [r["status"] for r in results] == ["found", "found", "not_found"]
    assert {"5xx", "malformed"} <= {e["fault"] for e in server.requests}  # seed 4: both kinds, then success


def test_paper_links_reads_nested_daily_items() -> None:
    body = json.dumps(
        {
            "paper": {
                "id": "2401.00001",
                "githubRepo": "github.com/Acme/Repo",
                "projectPage": "javascript:alert(1)",
                "publishedAt": "2024-01-01T00:00:00.000Z",
            }
        }
    )
    assert paper_links(body) == {
        "github_repo": "https://github.com/acme/repo",
        "project_page": None,
        "published_at": "2024-01-01T00:00:00Z",
    }
    assert paper_links("not json") == {"github_repo": None, "project_page": None, "published_at": None}
