"""A data defect confined to some repos (their cards) is flagged, and the rest still publishes.

The small mirror's defect repos (tests/small_mirror.py, DEFECT_REPOS) cite a paper by a card link only
(no `arxiv:` tag), cite a paper the arXiv mirror does not have, mistype an id, declare a mapping as
licence, a `..` dataset and themselves as base model. Crawled, built and published for real: every check
passes, the snapshot of the last crawl date is written, the repos are in it and each defect is flagged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.hub.step import run_crawl, run_datasets
from pipelines.mirror.server import MirrorServer
from pipelines.papers.step import run_papers_step
from pipelines.publish.publish import publish
from pipelines.runner import build_all
from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import table
from tests.hub.crawl_helpers import papers_settings, settings
from tests.small_mirror import DEFECT_REPOS, PAPER_IN_MIRROR, PAPER_NOT_IN_MIRROR, make_small_mirror

DAY = "2024-03-06"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """The small mirror with its defect repos."""
    return make_small_mirror(tmp_path_factory.mktemp("defects") / "mirror", defects=True)


def _crawl(wh: Warehouse, mirror, day: str) -> None:
    """One day's crawl as the daily jobs run it: listing and READMEs, datasets, cited papers."""
    with MirrorServer(mirror) as srv:
        conf = settings(srv.url, token="hf_test")
        run_crawl(wh, conf, day, now=NOW)
        run_datasets(wh, conf, day, now=NOW)
        run_papers_step(wh, papers_settings(conf, srv.arxiv_url), day)


@pytest.fixture(scope="module")
def built(mirror, tmp_path_factory):
    """The mirror crawled for one day and built by the runner in full mode."""
    wh = Warehouse(tmp_path_factory.mktemp("built") / "wh")
    _crawl(wh, mirror, DAY)
    with wh.connect() as con:
        build_all(wh, con, full=True)
    return wh


def _sql(wh: Warehouse, query: str) -> pl.DataFrame:
    with wh.connect() as con:
        return con.sql(query).pl()


def test_every_cited_paper_is_looked_up(built):
    papers = _sql(built, "SELECT arxiv_id, status FROM core.papers")
    status = dict(papers.iter_rows())
    assert status.get(PAPER_IN_MIRROR) == "found"  # cited by a card link only, no tag
    assert status.get(PAPER_NOT_IN_MIRROR) == "not_found"  # looked up, recorded as not there
    cited = _sql(built, "SELECT repo_id, arxiv_id, source FROM core.release_papers ORDER BY repo_id")
    assert cited.rows() == [
        ("gamma/missing-paper", PAPER_NOT_IN_MIRROR, "card_link"),
        ("gamma/untagged-link", PAPER_IN_MIRROR, "card_link"),
    ]


def test_a_mistyped_id_is_flagged_never_truncated(built):
    ids = _sql(built, "SELECT arxiv_ids FROM core.revisions WHERE repo_id = 'gamma/untagged-link'")
    # 2306.038451 is not recorded as 2306.03845 (nor at all)
    assert ids.get_column("arxiv_ids").to_list() == [[PAPER_IN_MIRROR]]
    flags = _sql(built, "SELECT repo_id, detail FROM core.quarantine WHERE reason = 'invalid_arxiv_id'")
    assert flags.get_column("repo_id").to_list() == ["gamma/untagged-link"]
    assert "2306.038451" in flags.get_column("detail")[0]


def test_stored_bad_values_are_kept_and_flagged(built):
    row = _sql(
        built,
        "SELECT license_raw, datasets, base_models FROM core.revisions WHERE repo_id = 'gamma/odd-card'",
    ).row(0, named=True)
    assert json.loads(row["license_raw"]) == DEFECT_REPOS["gamma/odd-card"][1]["license"]  # not "missing"
    assert row["datasets"] == ["acme/../secrets"] and row["base_models"] == ["gamma/odd-card"]
    reasons = _sql(
        built, "SELECT reason FROM core.quarantine WHERE repo_id = 'gamma/odd-card' ORDER BY reason"
    ).get_column("reason")
    assert reasons.to_list() == ["invalid_dataset_id", "licence_not_text", "self_base_model"]
    status = _sql(built, "SELECT license_status FROM core.openness WHERE repo_id = 'gamma/odd-card'")
    assert status.get_column("license_status").to_list() == ["unmapped"]  # a licence, not none
    loops = _sql(
        built, "SELECT repo_id FROM core.quarantine WHERE reason = 'circular_base_model' ORDER BY repo_id"
    )
    assert loops.get_column("repo_id").to_list() == ["gamma/loop-a", "gamma/loop-b"]


def test_the_snapshot_of_the_last_crawl_date_is_published(built):
    with built.connect() as con:
        folder = publish(built, con)
    assert folder.name.startswith(DAY)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["checks"]["passed"]
    assert {"invalid_arxiv_id", "licence_not_text"} <= set(manifest["quarantine"])
    releases = pl.read_parquet(folder / manifest["tables"]["releases"]["path"])
    assert set(DEFECT_REPOS) <= set(releases.get_column("repo_id").to_list())


def test_the_incremental_build_flags_the_same(mirror, tmp_path):
    """Two days (the defect repos appear on the second), built incrementally: the flags, papers and
    citations are those a full rebuild of the same raw layer gives."""
    wh = Warehouse(tmp_path / "wh")
    names = ("quarantine", "papers", "release_papers", "revisions")
    for day in ("2024-03-01", DAY):
        _crawl(wh, mirror, day)
        with wh.connect() as con:
            build_all(wh, con)
    incremental = {n: table(wh, n) for n in names}
    assert incremental["quarantine"].filter(pl.col("reason") == "circular_base_model").height == 2
    with wh.connect() as con:
        build_all(wh, con, full=True)
    for name in names:
        assert_frame_equal(table(wh, name), incremental[name])


def test_a_paper_never_looked_up_still_blocks(built):
    """A citation whose paper was never asked for is a defect of the pipeline, not of a card: it fails."""
    from pipelines.quality.gx_run import run_suite

    with built.connect() as con:
        con.execute("BEGIN")  # rolled back: the other tests' warehouse stays as built
        con.execute("DELETE FROM core.papers WHERE arxiv_id = ?", [PAPER_NOT_IN_MIRROR])
        result = run_suite(con, "release_papers", now=datetime.now(UTC))
        con.execute("ROLLBACK")
    assert not result["success"] and result["metadata"]["failed"] == ["references:papers"]
