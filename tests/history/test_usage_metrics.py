"""Usage over time: the mirror's metrics.json served as of the replayed date, core.release_metrics from the
listing's expand fields, and download-weighted shares (marts.monthly_usage, the report) that differ from
the unweighted ones, checked against values computed by hand from tests/small_mirror.py SMALL_METRICS."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from pipelines.mirror.server import MirrorServer
from pipelines.mirror.store import MirrorStore
from pipelines.publish.report_html import render_report
from pipelines.runner import build_all
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.small_mirror import make_small_mirror

DAY = "2024-03-06"


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    """One crawl date of the small mirror with its usage histories, every table built."""
    from pipelines.hub.step import run_crawl

    base = tmp_path_factory.mktemp("usage")
    wh = Warehouse(base / "wh")
    with MirrorServer(make_small_mirror(base / "mirror", metrics=True)) as srv:
        run_crawl(wh, settings(srv.url), DAY, now=datetime(2024, 3, 6, 12, tzinfo=UTC))
        listings = [r for r in srv.requests if r["path"].endswith("/api/models")]
    with wh.connect() as con:
        build_all(wh, con)
        metrics = con.execute(
            "SELECT repo_id, crawl_date::VARCHAR, downloads, downloads_all_time, likes, trending_score "
            "FROM core.release_metrics ORDER BY repo_id"
        ).fetchall()
        mart = con.execute(
            "SELECT population, metric, value, releases, downloads, release_share, download_share "
            "FROM marts.monthly_usage WHERE month = DATE '2024-03-01'"
        ).fetchall()
        report = render_report(con, None)
    return {"listings": listings, "metrics": metrics, "mart": mart, "report": report}


def test_the_mirror_serves_the_counts_as_of_the_date(tmp_path):
    store = MirrorStore(make_small_mirror(tmp_path / "m", metrics=True)).load()
    repo = store.repo("models", "acme/open-7b")
    assert store.metrics_at(repo, datetime(2024, 1, 31, tzinfo=UTC)) == {}  # before the first entry
    assert store.metrics_at(repo, datetime(2024, 2, 15, tzinfo=UTC))["downloads"] == 50
    assert store.metrics_at(repo, datetime(2024, 3, 1, 0, tzinfo=UTC))["downloads"] == 1500  # from that day
    assert store.metrics_at(repo, None)["downloadsAllTime"] == 1550  # the latest
    assert store.metrics_at(store.repo("models", "acme/gated-13b"), None)["downloads"] == 8000
    # A repo without metrics.json has no dated counts: its info.json answers.
    plain = MirrorStore(make_small_mirror(tmp_path / "plain")).load()
    assert plain.metrics_at(plain.repo("models", "acme/open-7b"), None) == {}


def test_release_metrics_hold_the_listing_counts_of_the_date(replay):
    assert replay["metrics"] == [
        ("acme/gated-13b", DAY, 8000, 9000, 30, 12.0),
        ("acme/open-7b", DAY, 1500, 1550, 9, 4.0),
        ("beta/card-only", DAY, 0, 3, 0, 0.0),
        ("beta/open-7b-gguf", DAY, 500, 500, 1, 2.0),
    ]
    # The counts came with the day's listing pages: the one to the watermark and the most-downloaded page.
    sorts = sorted(r["query"]["sort"][0] for r in replay["listings"])
    assert sorts == ["downloads", "lastModified"]
    top = next(r for r in replay["listings"] if r["query"]["sort"] == ["downloads"])
    assert top["query"]["limit"] == ["100"]


def _rows(mart, population, metric):
    return {r[2]: r[3:] for r in mart if r[0] == population and r[1] == metric}


def test_download_weighted_shares_differ_from_release_shares(replay):
    # Spectrum levels on 2024-03-06: gated-13b level 2 (llama2, 8000 downloads), open-7b and open-7b-gguf
    # level 3 (apache-2.0, 1500 + 500), card-only level 0 (no weights, 0). 10000 downloads in all.
    spectrum = _rows(replay["mart"], "all", "spectrum_level")
    assert spectrum == {
        "0": (1, 0, 0.25, 0.0),
        "2": (1, 8000, 0.25, 0.8),
        "3": (2, 2000, 0.5, 0.2),
    }
    assert _rows(replay["mart"], "all", "openness_kind") == {
        "open_weights": (2, 2000, 0.5, 0.2),
        "other": (2, 8000, 0.5, 0.8),
    }
    families = _rows(replay["mart"], "all", "license_family")
    assert families == {"community": (1, 8000, 0.25, 0.8), "osi-permissive": (3, 2000, 0.75, 0.2)}
    # Over the threshold (>= 1,000 downloads): gated-13b and open-7b only; 9500 downloads.
    over = _rows(replay["mart"], "over_threshold", "spectrum_level")
    assert set(over) == {"2", "3"}
    assert over["2"][:3] == (1, 8000, 0.5) and over["2"][3] == pytest.approx(8000 / 9500)
    assert over["3"][:3] == (1, 1500, 0.5) and over["3"][3] == pytest.approx(1500 / 9500)


def test_the_report_shows_both_shares(replay):
    html = replay["report"]
    section = html[html.index('<section id="usage">') : html.index("</section>", html.index('id="usage"'))]
    chart = section[: section.index("</svg>")]
    parts = dict(
        ((row, series), int(value))
        for row, series, value in re.findall(
            r'data-row="([^"]+)" data-series="([^"]+)" data-value="(\d+)"', chart
        )
    )
    assert parts[("Releases (all releases)", "3")] == 2
    assert parts[("Downloads (all releases)", "2")] == 8000
    assert ("Downloads (all releases)", "0") not in parts  # no downloads at level 0
    assert "(80.0%)" in chart and "(25.0%)" in chart  # weighted level 2 beside unweighted
    rows = re.findall(r"<tr><td>spectrum level</td><td>(\w+)</td><td>all</td>(.*?)</tr>", section)
    cells = {level: re.findall(r"<td>([^<]*)</td>", rest) for level, rest in rows}
    assert cells["2"] == ["1", "25.0%", "8000", "80.0%"]
    assert cells["3"] == ["2", "50.0%", "2000", "20.0%"]


def test_captures_older_than_the_usage_columns_give_the_counts_their_item_holds(tmp_path):
    """A `hub_listing` file written before the usage columns existed: its counts come from the stored item
    (then `downloads` and `likes` only); a malformed or negative count is no count."""
    import json

    import polars as pl

    from pipelines.incremental.metrics import file_metrics

    folder = tmp_path / "hub_listing" / "crawl_date=2026-11-01"
    folder.mkdir(parents=True)
    items = [{"id": "a/x", "downloads": 7, "likes": 2}, {"id": "a/y", "downloads": -1, "likes": "many"}]
    pl.DataFrame(
        {
            "fetched_at": [datetime(2026, 11, 1, tzinfo=UTC)] * 2,
            "repo_id": ["a/x", "a/y"],
            "item": [json.dumps(i) for i in items],
        }
    ).write_parquet(folder / "old.parquet")
    frame = file_metrics(folder / "old.parquet", "hub_listing/crawl_date=2026-11-01/old.parquet")
    rows = frame.select("repo_id", "downloads", "downloads_all_time", "likes", "trending_score").rows()
    assert rows == [("a/x", 7, None, 2, None), ("a/y", None, None, None, None)]
    assert frame.get_column("crawl_date").cast(pl.String).to_list() == ["2026-11-01"] * 2
