"""A dataset the recording does not hold is unknown, not missing; a real 404 still means it does not exist.

The small mirror's `acme/open-7b` names the dataset `acme/corpus`, which the mirror does not hold. Crawled
through the real client from two copies of the mirror: one declaring `"unrecorded": ["datasets"]` (its
404s carry X-Mirror-Unrecorded), one declaring nothing (a plain 404, as the Hub answers a missing repo).
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.hub.client import HubClient
from pipelines.hub.datasets import _names, build_datasets, fetch_datasets
from pipelines.hub.raw import DATASET_RAW_SCHEMA
from pipelines.hub.step import run_crawl, run_datasets
from pipelines.mirror.server import MirrorServer
from pipelines.runner import run_step
from pipelines.storage.warehouse import Warehouse, migrate, migration_files
from tests.hub.crawl_helpers import SAMPLE, settings
from tests.small_mirror import make_small_mirror

DAY = "2024-03-06"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
MODEL, DATASET = "acme/open-7b", "acme/corpus"


def _crawl_and_score(tmp_path, unrecorded: list[str] | None) -> tuple[Warehouse, dict]:
    mirror = make_small_mirror(tmp_path / "mirror", unrecorded=unrecorded)
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(mirror) as srv:
        conf = settings(srv.url)
        run_crawl(wh, conf, DAY, now=NOW)
        counts = run_datasets(wh, conf, DAY, now=NOW)
    with wh.connect() as con:
        for step in ("revisions", "releases", "datasets", "scores"):
            run_step(step, wh, con, full=True)
    return wh, counts


def _facts(wh: Warehouse) -> tuple:
    with wh.connect() as con:
        exists = con.execute('SELECT "exists" FROM core.datasets WHERE dataset_id = ?', [DATASET]).fetchall()
        data = con.execute(
            "SELECT osai_datasources_endmodel FROM core.openness WHERE repo_id = ? AND valid_to IS NULL",
            [MODEL],
        ).fetchall()
        disclosed = con.execute(
            "SELECT included, is_open FROM core.disclosures d JOIN core.openness o USING (repo_id, revision) "
            "WHERE repo_id = ? AND o.valid_to IS NULL AND component = 'Datasets'",
            [MODEL],
        ).fetchall()
    status = wh.raw.scan("hub_dataset", DATASET_RAW_SCHEMA).select("status").collect()["status"].to_list()
    return exists, data, disclosed, status


@pytest.mark.parametrize(
    ("unrecorded", "expected"),
    [
        # Not recorded: unknown existence, unknown training-data openness (not closed, not a pass).
        (["datasets"], ([(None,)], [(None,)], [(True, None)], ["unrecorded"])),
        # Recorded as absent (a real 404): the dataset does not exist and the data is closed.
        (None, ([(False,)], [("closed",)], [(True, False)], ["missing"])),
    ],
    ids=["unrecorded", "missing"],
)
def test_unrecorded_dataset_is_unknown_missing_one_does_not_exist(tmp_path, unrecorded, expected) -> None:
    wh, counts = _crawl_and_score(tmp_path, unrecorded)
    assert counts[expected[3][0]] == 1 and counts["datasets_due"] == 1
    assert _facts(wh) == expected


def test_a_warehouse_made_before_unknown_existence_upgrades(tmp_path) -> None:
    """A warehouse whose core.datasets was made with `exists` NOT NULL takes NULLs after `migrate`, and
    keeps its rows."""
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("CREATE SCHEMA meta")
    con.execute("CREATE TABLE meta.schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)")
    for path in migration_files():
        if path.name < "003":
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO meta.schema_migrations (name) VALUES (?)", [path.name])
    con.execute(
        "INSERT INTO core.datasets (dataset_id, observed_at, \"exists\") VALUES ('a/old', now(), false)"
    )
    assert "003_datasets_exists_unknown.sql" in migrate(con)
    con.execute("INSERT INTO core.datasets (dataset_id, observed_at) VALUES ('a/unknown', now())")
    rows = con.execute('SELECT dataset_id, "exists" FROM core.datasets ORDER BY dataset_id').fetchall()
    con.close()
    assert rows == [("a/old", False), ("a/unknown", None)]


def test_every_dataset_the_sample_cards_name_is_unknown_not_missing(tmp_path) -> None:
    """The bundled sample holds no dataset repo and says so: each of the datasets its cards name (77, many
    with legacy ids without a namespace) is captured as `unrecorded` and built with `exists` null."""
    names = sorted(
        set().union(*(_names(p.read_text("utf-8")) for p in SAMPLE.glob("models/*/*/revisions/*/info.json")))
    )
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(SAMPLE) as srv:
        client = HubClient(srv.url, token=None, timeout=5.0)
        counts = fetch_datasets(client, wh.raw, DAY, names, now=NOW)
    assert len(names) == 77 and counts == {"unrecorded": 77}
    built = build_datasets(wh.raw.scan("hub_dataset", DATASET_RAW_SCHEMA).collect())
    assert built.height == 77 and built["exists"].null_count() == 77
