"""The code-crawl benchmark at its smallest size: the real code source against the mirror over HTTP.

The same code as `make bench` (benchmarks/code_crawl.py) on the sample's 17 real repositories plus 3
copies (so the copying path runs too): a re-crawl of unchanged repositories counts nothing against
GitHub's quota, and the mirror's request log and the crawler's crawl_run rows agree on every pass.
"""

from __future__ import annotations

import pytest

from benchmarks.code_crawl import PASSES, build_mirror, run_code_crawl, sample_repos, table_rows

SIZE = 20


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    return run_code_crawl(SIZE, work=tmp_path_factory.mktemp("code_crawl"))


def test_recrawl_of_unchanged_repos_counts_no_quota(result) -> None:
    passes = result["passes"]
    first = passes["first"]
    assert first["crawl_run"]["status"] == "complete" and not first["errors"], first
    assert first["log"]["counted"] > SIZE  # metadata, head commit, tree and licence files of each
    # the same crawl date again: every repository is done already, nothing is asked
    assert passes["same_day"]["log"]["requests"] == 0
    assert passes["same_day"]["crawl_run"]["outcomes"] == {"done_earlier": SIZE}
    # a day later: one conditional request per repository, every one answered 304 and not counted
    day = passes["next_day"]["log"]
    assert day["requests"] == SIZE and day["not_modified"] == SIZE and day["counted"] == 0
    assert day["by_status"] == {"304": SIZE}
    # past the refresh period: trees and history again, but no stored licence blob
    refresh = passes["after_refresh"]["log"]
    assert refresh["counted"] > 0 and refresh["contents_read"] == 0


def test_mirror_log_and_crawl_run_rows_agree(result) -> None:
    for name, _, _ in PASSES:
        p = result["passes"][name]
        log, run = p["log"], p["crawl_run"]
        for key in ("requests", "counted", "not_modified", "bytes"):
            assert log[key] == run[key], (name, key, log, run)
        assert p["agree"] is True
    assert result["passes"]["first"]["log"]["bytes"] > 0
    # the token's quota applied: the crawler saw the 5,000 limit less what the first pass used
    first = result["passes"]["first"]
    assert first["crawl_run"]["ratelimit_remaining"] == 5000 - first["log"]["counted"]


def test_licence_blobs_are_identified_once(result) -> None:
    lic = result["licences"]
    assert lic["blobs_identified"] > 0 and lic["blobs_identified_again"] == 0
    assert lic["code_repos_rows"] == SIZE


def test_table_rows_meet_every_target(result) -> None:
    rows = table_rows(result)
    assert all(len(r) == 4 for r in rows)
    assert [r for r in rows if r[3] not in ("", "yes")] == []
    assert sum(1 for r in rows if r[3] == "yes") >= 8


def test_copies_are_named_for_themselves(tmp_path) -> None:
    names = build_mirror(tmp_path / "m", 19)
    real = sample_repos()
    assert len(real) == 17 and len(names) == 19 and set(real) < set(names)
    copy = next(n for n in names if n not in real)
    owner, repo = copy.split("/")
    body = (tmp_path / "m" / "code" / "github" / copy / "repo.json").read_text()
    assert f'"full_name": "{copy}"' in body
    # the sample corpus itself is untouched (the copies' files are hard links)
    source = real[0]
    assert (
        f'"full_name": "{source}"' in (tmp_path / "m" / "code" / "github" / source / "repo.json").read_text()
    )
    with pytest.raises(ValueError, match="at least 1"):
        build_mirror(tmp_path / "n", 0)
