"""core.reconstructions says which rows rest on a hub mirror's reconstruction, and core.releases states no
creation date the recording only bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipelines.hub.step import run_crawl, run_history
from pipelines.incremental.reconstructions import parse_affects
from pipelines.mirror.server import MirrorServer
from pipelines.runner import build_all
from pipelines.storage.warehouse import Warehouse
from tests.hub.crawl_helpers import settings
from tests.mirror.test_provenance import REAL, SYNTH, _mirror

NOW = datetime(2024, 3, 1, tzinfo=UTC)


def test_reconstructed_rows_join_the_revisions_and_a_bounded_creation_is_no_fact(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(_mirror(tmp_path / "m")) as srv:
        run_crawl(wh, settings(srv.url), "2024-03-01", now=NOW)
        run_history(wh, settings(srv.url), "2024-03-01", now=NOW)
    with wh.connect() as con:
        build_all(wh, con)
        rows = con.sql(
            "SELECT repo_id, revision, file, kind FROM core.reconstructions ORDER BY ALL"
        ).fetchall()
        # the researcher's join (README): which revisions rest on a reconstruction, and of what kind
        joined = con.sql("""
            SELECT r.repo_id, r.revision, x.kind, x.file
            FROM core.revisions r
            JOIN core.reconstructions x
              ON x.repo_id = r.repo_id AND (x.revision IS NULL OR x.revision = r.revision)
            ORDER BY ALL""").fetchall()
        releases = dict(con.sql("SELECT repo_id, (created_at, existed_by) FROM core.releases").fetchall())
        timing = dict(con.sql("SELECT repo_id, created_at FROM core.time_to_openness").fetchall())
    # acme/mixed's two commits carry the same card and files: the synthetic head gets no revision row, so no
    # row here either; the code repo's reconstruction names no model repo of the warehouse
    assert rows == [
        ("acme/mixed", REAL, "README.md", "readme-from-card-data"),
        ("acme/mixed", None, None, "createdAt-upper-bound"),
    ]
    assert SYNTH not in {r[1] for r in rows}
    assert joined == [
        ("acme/mixed", REAL, "createdAt-upper-bound", None),
        ("acme/mixed", REAL, "readme-from-card-data", "README.md"),
    ]
    # the mirror only bounds acme/mixed's creation: no created_at, the bound as existed_by
    bound = datetime(2024, 1, 1, tzinfo=UTC)
    assert releases["acme/mixed"][0] is None and releases["acme/mixed"][1] == bound
    assert timing["acme/mixed"] is None
    plain = datetime(2024, 1, 5, tzinfo=UTC)
    assert releases["acme/plain"][0] == plain and releases["acme/plain"][1] == plain


def test_a_list_captured_after_a_build_reaches_the_releases_incrementally(tmp_path):
    """The releases step re-derives the repos whose reconstruction rows changed, as a full rebuild would."""
    wh = Warehouse(tmp_path / "wh")
    with MirrorServer(_mirror(tmp_path / "m")) as srv:
        run_crawl(wh, settings(srv.url), "2024-03-01", now=NOW)
    (listed,) = wh.raw.files("hub_reconstructions")
    held = tmp_path / listed.name
    listed.rename(held)  # as if the list came with a later capture
    with wh.connect() as con:
        build_all(wh, con)
        before = con.sql("SELECT created_at FROM core.releases WHERE repo_id = 'acme/mixed'").fetchall()
        held.rename(listed)
        build_all(wh, con)  # incremental: nothing but the list is new
        after = con.sql(
            "SELECT created_at, existed_by FROM core.releases WHERE repo_id = 'acme/mixed'"
        ).fetchall()
    bound = datetime(2024, 1, 1, tzinfo=UTC)
    assert before == [(bound,)] and after == [(None, bound)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("acme/mixed", ("acme/mixed", None, None)),
        ("models/acme/mixed", ("acme/mixed", None, None)),
        (f"models/acme/mixed/revisions/{REAL}", ("acme/mixed", REAL, None)),
        (f"models/acme/mixed/revisions/{REAL}/docs/README.md", ("acme/mixed", REAL, "docs/README.md")),
        ("code/github/acme/trainer", None),
        ("datasets/acme/corpus", None),
        ("models/acme/mixed/tree/main", None),
        ("acme", None),
    ],
)
def test_affected_paths_name_a_model_repo_revision_or_file(path, expected):
    assert parse_affects(path) == expected
