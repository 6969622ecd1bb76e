"""Time to openness on replayed histories: the first dates of weights, an open licence and training code,
exact only where the revision before shows the event absent, and the days between them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.hub.step import run_crawl, run_history
from pipelines.mirror.layout import Commit, MirrorWriter
from pipelines.mirror.server import MirrorServer
from pipelines.publish.report_html import render_report
from pipelines.storage.warehouse import Warehouse
from tests.history.helpers import build_all
from tests.hub.crawl_helpers import settings
from tests.small_mirror import _card, _info, _sha

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WEIGHTS = ["README.md", "config.json", "model.safetensors"]
# repo -> commits (date, card metadata or None for the Hub's initial commit without README, files)
HISTORIES = {
    # weights under a non-commercial licence, opened to Apache-2.0 sixty days later
    "t/late-licence": [
        ("2024-01-01T00:00:00.000Z", None, [".gitattributes"]),
        ("2024-01-05T00:00:00.000Z", {"license": "cc-by-nc-4.0"}, WEIGHTS),
        ("2024-03-05T00:00:00.000Z", {"license": "apache-2.0"}, WEIGHTS),
    ],
    # weights under Apache-2.0 from the start, the training script added 31.5 days later
    "t/late-code": [
        ("2024-02-01T00:00:00.000Z", None, [".gitattributes"]),
        ("2024-02-02T00:00:00.000Z", {"license": "apache-2.0"}, WEIGHTS),
        ("2024-03-04T12:00:00.000Z", {"license": "apache-2.0"}, [*WEIGHTS, "train.py"]),
    ],
    # a history that starts with weights and an open licence: when they came is not known
    "t/cut-history": [
        ("2024-04-01T00:00:00.000Z", {"license": "mit"}, WEIGHTS),
    ],
}
LAST_DAY = "2024-04-02"


def _mirror(root: Path) -> Path:
    writer = MirrorWriter(root, title="time to openness", sources=["made by the test"])
    for repo_id, commits in HISTORIES.items():
        created = commits[0][0]
        for date, meta, files in commits:
            commit = Commit(id=_sha(repo_id, date), date=date, title=f"commit {date[:10]}", authors=["t"])
            info = _info(repo_id, date, created, meta or {}, files)
            if meta is None:
                info.pop("cardData")
            readme = {} if meta is None else {"README.md": _card(meta, f"# {repo_id}\n\nA card.")}
            writer.add_revision("models", repo_id, commit, info, files=readme)
    writer.finish()
    return root


@pytest.fixture(scope="module")
def timing(tmp_path_factory) -> dict[str, dict]:
    base = tmp_path_factory.mktemp("tto")
    wh = Warehouse(base / "wh")
    with MirrorServer(_mirror(base / "mirror")) as srv:
        conf = settings(srv.url, token="hf_test")
        run_crawl(wh, conf, LAST_DAY, now=NOW)
        run_history(wh, conf, LAST_DAY, now=NOW)
    build_all(wh)
    with wh.connect() as con:
        rows = con.sql("SELECT * FROM core.time_to_openness").pl().to_dicts()
        summary = con.sql("SELECT * FROM marts.time_to_openness_summary WHERE breakdown = 'all'").pl()
        report = render_report(con)
    return {r["repo_id"]: r for r in rows} | {
        "_summary": {r["event"]: r for r in summary.to_dicts()},
        "_report": report,
    }


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_licence_that_opens_after_the_weights(timing):
    row = timing["t/late-licence"]
    commits = HISTORIES["t/late-licence"]
    assert row["weights_exact"] and row["weights_at"] == _day(commits[1][0])
    assert row["weights_revision"] == _sha("t/late-licence", commits[1][0])
    assert row["open_license_exact"] and row["open_license_at"] == _day(commits[2][0])
    assert row["open_license_revision"] == _sha("t/late-licence", commits[2][0])
    assert row["days_to_open_license"] == 60.0
    assert row["training_code_at"] is None and row["days_to_training_code"] is None


def test_training_code_that_arrives_later(timing):
    row = timing["t/late-code"]
    commits = HISTORIES["t/late-code"]
    assert row["weights_exact"] and row["weights_at"] == _day(commits[1][0])
    assert row["open_license_exact"] and row["days_to_open_license"] == 0.0  # the same commit
    assert row["training_code_exact"] and row["training_code_at"] == _day(commits[2][0])
    assert row["days_to_training_code"] == 31.5


def test_a_history_that_starts_with_the_events_gives_no_exact_dates(timing):
    row = timing["t/cut-history"]
    assert row["weights_at"] == _day(HISTORIES["t/cut-history"][0][0])  # seen by then
    assert row["weights_exact"] is False and row["open_license_exact"] is False
    assert row["days_to_open_license"] is None


def test_the_summary_counts_exact_intervals_only(timing):
    summary = timing["_summary"]
    licence = summary["open_license"]
    assert licence["releases"] == 3 and licence["with_weights"] == 3 and licence["seen"] == 3
    assert licence["timed"] == 2 and licence["median_days"] == 30.0  # median of 60 and 0
    code = summary["training_code"]
    assert code["seen"] == 1 and code["timed"] == 1 and code["median_days"] == 31.5


def test_the_report_shows_the_timed_medians(timing):
    """The report's section carries the mart's numbers: per event releases, with weights, seen, timed,
    median and mean days; and per organisation the median with how many releases are timed."""
    section = timing["_report"].split('<section id="timing">', 1)[1].split("</section>", 1)[0]
    cells = [c.split(">", 1)[1] for c in section.split("<td")[1:]]
    cells = [c.split("</td>", 1)[0] for c in cells]
    assert cells[:7] == ["open licence", "3", "3", "3", "2", "30", "30"]
    assert cells[7:14] == ["training code", "3", "3", "1", "1", "31.5", "31.5"]
    assert "t" in cells and "30 (2)" in cells  # organisation t: median 30 days over 2 timed releases
