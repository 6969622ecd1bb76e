"""Releases that cite papers have release_papers rows, and the rubric uses those papers as evidence."""

from __future__ import annotations

import json

import duckdb
import pytest

CITING = {
    "mistralai/Mistral-7B-v0.1": "2310.06825",
    "meta-llama/Llama-2-7b-chat-hf": "2307.09288",
    "Qwen/Qwen-7B": "2309.16609",
    "upstage/SOLAR-10.7B-v1.0": "2312.15166",
}
LATEST = """SELECT * FROM core.openness WHERE repo_id = ?
            QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY valid_from DESC) = 1"""


@pytest.mark.parametrize("repo,paper", sorted(CITING.items()))
def test_a_cited_paper_is_linked_and_decides_the_technical_report(warehouse, repo, paper):
    with duckdb.connect(str(warehouse.work_db), read_only=True) as con:
        link = con.execute(
            "SELECT source, first_revision FROM core.release_papers WHERE repo_id = ? AND arxiv_id = ?",
            [repo, paper],
        ).fetchall()
        latest = con.execute(f"SELECT revision, osai_preprint FROM ({LATEST})", [repo]).fetchone()  # noqa: S608
        disclosure = con.execute(
            "SELECT included, method, evidence FROM core.disclosures "
            "WHERE repo_id = ? AND revision = ? AND component = 'Technical report'",
            [repo, latest[0]],
        ).fetchone()
    assert link and link[0][0] == "tag"
    included, method, evidence = disclosure
    assert included and method == "inferred"
    cited = {e.get("value") for e in json.loads(evidence)}
    assert paper in cited
    assert any(e.get("url") == f"https://arxiv.org/abs/{paper}" for e in json.loads(evidence))
    assert latest[1] in ("partial", "open")  # the Index's preprint criterion is decided by the citation
