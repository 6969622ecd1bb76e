"""The listing's watermark: a listing that runs out before any item older than the watermark has read
everything changed since it (nothing was missed), so it counts as having reached it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipelines.hub.crawl import Checkpoint, crawl_listing
from pipelines.hub.step import client_for
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.small_mirror import make_small_mirror

DAY = "2024-04-01"
NOW = datetime(2024, 4, 1, 12, tzinfo=UTC)


def _listing(tmp_path, watermark: datetime, name: str):
    mirror = make_small_mirror(tmp_path / "mirror")
    wh = Warehouse(tmp_path / name)
    with MirrorServer(mirror) as srv:
        client = client_for(settings(srv.url, page_size=2), DAY)
        checkpoint = Checkpoint.load(wh.state / "crawl" / f"{DAY}.json")
        return crawl_listing(client, wh.raw, DAY, checkpoint, now=NOW, watermark=watermark)


def test_a_listing_that_runs_out_before_the_watermark_reached_it(tmp_path):
    # Every model of the mirror changed after this watermark: the listing reads all pages and ends.
    result = _listing(tmp_path, datetime(2023, 1, 1, tzinfo=UTC), "all_newer")
    assert result.complete and result.pages >= 2 and result.items == 4
    assert result.reached_watermark


def test_a_listing_that_meets_an_older_item_stops_there(tmp_path):
    # Only the newest model changed after this watermark (minus the hour of overlap): one page of two.
    result = _listing(tmp_path, datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=1), "one_newer")
    assert result.complete and result.reached_watermark and result.pages == 1
