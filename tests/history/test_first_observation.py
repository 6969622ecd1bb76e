"""A release's first commits are its first observation, not openings; a README that turns unreadable is one
change to unknown (docs/history.md, "First observation and changes to unknown").

A replay of dated commits as the Hub records a new release: the initial commit with `.gitattributes` only,
then the README, then the weights; three weeks later a licence change (a real one); then the repo is gated
(the README is unreadable without access: every card fact unknown), and the gate is lifted again with the
same README. Two daily crawls with the history walk, one in the middle of the set-up; the incremental
build equals the full one after each day.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest

from pipelines.history.dimensions import SETUP_DAYS, observed
from pipelines.hub.step import run_crawl, run_history
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import NOW
from tests.history.test_incremental import step, twin
from tests.hub.crawl_helpers import settings

REPO = "acme/fresh-7b"
WEIGHTS = [".gitattributes", "README.md", "config.json", "model.safetensors"]
# (sha, date, licence of the card (None: no README), files, gated)
COMMITS = [
    ("1" * 40, "2024-03-01T10:00:00.000Z", None, [".gitattributes"], False),
    ("2" * 40, "2024-03-01T10:05:00.000Z", "apache-2.0", [".gitattributes", "README.md"], False),
    ("3" * 40, "2024-03-01T12:00:00.000Z", "apache-2.0", WEIGHTS, False),
    ("4" * 40, "2024-03-20T09:00:00.000Z", "mit", WEIGHTS, False),
    ("5" * 40, "2024-04-10T09:00:00.000Z", "mit", WEIGHTS, "manual"),
    ("6" * 40, "2024-05-02T09:00:00.000Z", "mit", WEIGHTS, False),
]
SETUP, CHANGE, GATED, UNGATED = COMMITS[1][0], COMMITS[3][0], COMMITS[4][0], COMMITS[5][0]


def _mirror(root, until: str) -> None:
    """The repo's commits dated up to `until` (the mirror answers as of any date; the history is the same)."""
    writer = MirrorWriter(root, title="first observation", sources=["made by tests/history"])
    for sha, date, licence, files, gated in COMMITS:
        if date[:10] > until:
            continue
        meta = {"license": licence} if licence else {}
        info = {
            "_id": "f" * 24,
            "id": REPO,
            "author": "acme",
            "lastModified": date,
            "createdAt": COMMITS[0][1],
            "private": False,
            "gated": gated,
            "tags": ["transformers", *([f"license:{licence}"] if licence else [])],
            "cardData": meta,
            "siblings": [{"rfilename": f} for f in files],
        }
        # The gated commit notes the gate in its card: a README of its own, which the history walk asks for.
        note = "\nAccess is gated.\n" if gated else ""
        card = {"README.md": f"---\nlicense: {licence}\n---\n# {REPO}\n\nA model.\n{note}"} if licence else {}
        writer.add_revision("models", REPO, Commit(id=sha, date=date, title="c"), info, files=card)
    writer.finish()


def _crawl(wh: Warehouse, root, day: str) -> None:
    _mirror(root, day)
    with MirrorServer(root) as srv:
        run_crawl(wh, settings(srv.url), day, now=NOW)
        run_history(wh, settings(srv.url), day, now=NOW)


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> dict:
    """The replay's readme statuses, its transitions by revision and April 2024 of the monthly mart."""
    tmp_path = tmp_path_factory.mktemp("first")
    inc, pure = twin(tmp_path, "first")
    _crawl(inc, tmp_path / "day1", "2024-03-01")  # in the middle of the set-up: README, no weights yet
    step(inc, pure, "set-up", "full")
    _crawl(inc, tmp_path / "day2", "2024-05-02")
    step(inc, pure, "after the gate", "incremental")
    with duckdb.connect(str(inc.work_db), read_only=True) as con:
        statuses = dict(con.execute("SELECT revision, readme_status FROM core.revisions").fetchall())
        rows = con.execute(
            "SELECT to_revision, dimension, from_value, to_value, direction FROM core.transitions "
            "WHERE repo_id = ? ORDER BY changed_at, dimension",
            [REPO],
        ).fetchall()
        mart = dict(
            con.execute(
                "SELECT direction, sum(transitions) FROM marts.monthly_transitions "
                "WHERE month = '2024-04-01' GROUP BY ALL"
            ).fetchall()
        )
    assert statuses[COMMITS[0][0]] == "missing" and statuses[GATED] == "gated" and statuses[UNGATED] == "ok"
    by_revision: dict[str, list[tuple]] = {}
    for rev, *change in rows:
        by_revision.setdefault(rev, []).append(tuple(change))
    return {"by_revision": by_revision, "mart": mart}


def test_a_releases_first_commits_are_its_first_observation_not_openings(replay):
    by_revision = replay["by_revision"]
    # The set-up (no README, README without weights, weights) is the first observation: no change there.
    assert not {c[0] for c in COMMITS[:3]} & set(by_revision)
    # The licence change after it is a transition.
    assert ("license_id", "apache-2.0", "mit", "lateral") in by_revision[CHANGE]


def test_a_readme_turning_gated_is_one_change_to_unknown_and_back_is_no_change(replay):
    by_revision = replay["by_revision"]
    # Gated: the gate closes, and the card facts turning unknown are one change to unknown, nothing lateral.
    gated = by_revision[GATED]
    unknown = [c for c in gated if c[3] == "to_unknown"]
    assert len(unknown) == 1 and unknown[0][0] == "dimensions" and unknown[0][2] is None
    assert {"osaid", "osai_modelcard", "mof:Model card"} <= set(unknown[0][1].split(","))
    assert ("gated", "false", "manual", "closing") in gated
    # Beside it only what the gate itself closes (the weights behind it): no lateral change.
    assert {c[3] for c in gated} == {"closing", "to_unknown"}
    assert {c[0] for c in gated if c[3] == "closing"} <= {
        "gated",
        "osai_weights_basemodel",
        "osai_weights_endmodel",
    }
    # Readable again with the same card: the gate reopens, the card facts are back to what they were.
    ungated = by_revision[UNGATED]
    assert ("gated", "manual", "false", "opening") in ungated
    assert {c[0] for c in ungated} == {c[0] for c in gated if c[3] == "closing"}
    assert {c[3] for c in ungated} == {"opening"}
    assert replay["mart"].get("to_unknown") == 1 and replay["mart"].get("lateral", 0) == 0


def _observed(rows: list[tuple[str, str, str | None, bool | None]]) -> list[bool]:
    """observed() of one repo's revisions given as (revision, commit time, readme_status, has_weights)."""
    frame = pl.DataFrame(
        [
            ("x/y", rev, datetime.fromisoformat(at).replace(tzinfo=UTC), status, weights)
            for rev, at, status, weights in rows
        ],
        schema={
            "repo_id": pl.String,
            "revision": pl.String,
            "committed_at": pl.Datetime("us", "UTC"),
            "readme_status": pl.String,
            "has_weights": pl.Boolean,
        },
        orient="row",
    )
    flags = {rev: seen for _, rev, seen in observed(frame).rows()}
    return [flags[rev] for rev, *_ in rows]


def test_the_set_up_ends_with_the_weights_or_the_window():
    # Weights a week after the README: the README is the first observation, the weights an opening.
    late = [
        ("a", "2024-03-01 10:00", "missing", False),
        ("b", "2024-03-01 10:05", "ok", False),
        ("c", "2024-03-08 10:00", "ok", True),
    ]
    assert _observed(late) == [False, True, True]
    # No file list known (a recording without them): the first SETUP_DAYS are the set-up, their last
    # revision the first observation; later revisions are observations.
    unknown = [
        ("a", "2024-03-01 10:00", "missing", None),
        ("b", "2024-03-02 10:00", "ok", None),
        ("c", "2024-03-03 10:00", "ok", None),
        ("d", "2024-03-20 10:00", "ok", None),
    ]
    assert SETUP_DAYS == 3 and _observed(unknown) == [False, False, True, True]
    # No README in the window: nothing is observed before the first README.
    bare = [("a", "2024-03-01 10:00", "missing", None), ("b", "2024-03-09 10:00", "ok", None)]
    assert _observed(bare) == [False, True]
