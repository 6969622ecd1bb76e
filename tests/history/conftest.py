"""The sample corpus crawled on its last day with the full history backfill, every table built."""

from __future__ import annotations

import pytest

from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import build_all, crawl

LAST = "2025-04-15"


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("history"))
    crawl(wh, [LAST], history=True)
    build_all(wh)
    return wh
