"""`openness show`: a release's verdicts, evidence and timeline, read from the demo's warehouse or snapshot.

The expected values are read from the demo's tables, not written here: the lookup must say what the
warehouse says, the same from the serving database and from the snapshot.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.show import OSAI_CRITERIA, Source, UnknownRelease, resolve_ids
from pipelines.publish.show_text import run_show
from tests.conftest import ROOT

SAMPLE = "acme/open-7b"  # the small mirror's release with two revisions, so transitions to show


def openness(*args: str) -> subprocess.CompletedProcess:
    """Run `openness ARGS...` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def show(*repo_ids: str, as_json: bool = False, **where: Path) -> tuple[int, str, str]:
    """`run_show` in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = run_show(list(repo_ids), as_json=as_json, out=out, err=err, **where)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo(small_demo) -> dict:
    """The demo's warehouse and snapshot folders, and the sample release's rows read from the warehouse."""
    base, _ = small_demo
    warehouse = base / "wh"
    snapshots = warehouse / "snapshots"
    with duckdb.connect(str(warehouse / "openness.duckdb"), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        cur = con.execute("SELECT * FROM core.openness WHERE repo_id = ? AND valid_to IS NULL", [SAMPLE])
        names = [d[0] for d in cur.description]
        (current,) = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        transitions = con.execute(
            "SELECT dimension, from_value, to_value, direction, evidence_url, to_revision, reconstructed "
            "FROM core.transitions "
            "WHERE repo_id = ? ORDER BY changed_at, to_revision, dimension",
            [SAMPLE],
        ).fetchall()
        links = con.execute(
            "SELECT DISTINCT u.url FROM core.disclosures, "
            "unnest(json_extract_string(evidence, '$[*].url')) AS u(url) "
            "WHERE repo_id = ? AND revision = ? AND u.url IS NOT NULL",
            [SAMPLE, current["revision"]],
        ).fetchall()
        repo_ids = [r[0] for r in con.execute("SELECT repo_id FROM core.releases ORDER BY 1").fetchall()]
    return {
        "warehouse": warehouse,
        "snapshot": snapshots / (snapshots / "LATEST").read_text().strip(),
        "current": current,
        "transitions": transitions,
        "links": {r[0] for r in links},
        "repo_ids": repo_ids,
    }


@pytest.mark.slow
def test_json_gives_the_current_verdicts_evidence_and_timeline_of_the_tables(demo) -> None:
    status, out, err = show(SAMPLE, as_json=True, warehouse=demo["warehouse"])
    assert (status, err) == (0, "")
    (line,) = out.splitlines()
    got, row = json.loads(line), demo["current"]
    assert got["repo_id"] == SAMPLE and got["revision"] == row["revision"]
    assert got["spectrum_level"] == row["spectrum_level"]
    assert got["license"]["id"] == row["license_id"] and got["license"]["family"] == row["license_family"]
    assert got["license"]["declared_id"] == row["declared_license_id"]
    assert got["mof"]["class"] == row["mof_class"] and got["mof"]["label"] == row["mof_class_label"]
    assert got["osaid"] == {"verdict": row["osaid"], "unmet": list(row["osaid_unmet"])}
    assert got["osai_index"]["score"] == row["osai_score"]
    assert got["osai_index"]["criteria"] == {c.removeprefix("osai_"): row[c] for c in OSAI_CRITERIA}
    assert None in got["osai_index"]["criteria"].values()  # an undecided criterion is a null, not left out
    assert got["release_level"] == row["release_level"]
    assert got["evidence"] == json.loads(row["evidence"])
    assert {u for c in got["components"] for u in c["urls"]} == demo["links"] and demo["links"]
    assert [
        (t["dimension"], t["from"], t["to"], t["direction"], t["evidence_url"]) for t in got["timeline"]
    ] == [t[:5] for t in demo["transitions"]]
    assert got["timeline"], "the sample release changed between its two revisions"
    # its current commit id was made up by the recording (tests/small_mirror.py): no link to the Hub
    made_up = {t[5] for t in demo["transitions"] if "synthetic-commit-id" in (t[6] or "")}
    assert got["revision"] in made_up and got["revision_url"] is None


@pytest.mark.slow
def test_text_is_one_aligned_block_with_unknown_for_what_is_undecided(demo) -> None:
    status, out, err = show(SAMPLE, demo["repo_ids"][0], warehouse=demo["warehouse"])
    assert (status, err) == (0, "")
    row = demo["current"]
    blocks = out.split("\n\n")
    assert blocks[0].startswith("From the warehouse ") and len(blocks) == 3
    block = blocks[1].splitlines()
    assert block[0] == SAMPLE
    # The verdict lines: two spaces, a label, two or more spaces, the value (aligned: all values start together).
    verdicts = [line for line in block if line.startswith("  ") and line[2] != " " and "  " in line[2:]]
    fields = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in verdicts)
    assert len({len(line) - len(line[2:].split("  ", 1)[1].lstrip()) for line in verdicts}) == 1, verdicts
    assert fields["spectrum level"].startswith(str(row["spectrum_level"]))
    assert fields["licence"].startswith(f"{row['license_id']} ({row['license_family']})")
    assert fields["MOF class"].startswith(f"{row['mof_class']} ({row['mof_class_label']})")
    assert fields["OSAID"].startswith(row["osaid"])
    assert fields["OSAI Index score"].startswith(f"{row['osai_score']:.3f}")
    assert fields["release level"] == row["release_level"]
    for column, name in OSAI_CRITERIA.items():  # undecided criteria read "unknown", never blank or false
        (line,) = [line for line in block if line.strip().startswith(name + "  ")]
        assert line.split()[-1] == (row[column] or "unknown")
    text = blocks[1]
    lines = text.splitlines()
    for dimension, before, after, direction, url, sha, kinds in demo["transitions"]:
        change = f"{before or 'unknown'} -> {after or 'unknown'}  ({direction}"
        assert any(line.strip().startswith(f"{dimension} ") and change in line for line in lines), dimension
        if url is None:  # a commit id the recording made up: named as such, never linked
            assert (
                "synthetic-commit-id" in kinds and f"https://huggingface.co/{SAMPLE}/commit/{sha}" not in text
            )
            assert f"{sha}  (commit id reconstructed by the recording, not on the Hub)" in text
        else:
            assert url in text
    assert all(link in text for link in demo["links"])
    assert blocks[2].startswith(demo["repo_ids"][0] + "\n")


@pytest.mark.slow
def test_the_snapshot_and_the_warehouse_give_the_same_answer(demo) -> None:
    ids = [SAMPLE, *demo["repo_ids"]]
    _, from_warehouse, _ = show(*ids, as_json=True, warehouse=demo["warehouse"])
    status, from_snapshot, err = show(*ids, as_json=True, snapshot=demo["snapshot"])
    assert (status, err) == (0, "")
    warehouse_records = [json.loads(line) for line in from_warehouse.splitlines()]
    snapshot_records = [json.loads(line) for line in from_snapshot.splitlines()]
    assert [r.pop("source")["kind"] for r in warehouse_records] == ["warehouse"] * len(demo["repo_ids"])
    assert [r.pop("source")["kind"] for r in snapshot_records] == ["snapshot"] * len(demo["repo_ids"])
    assert snapshot_records == warehouse_records
    # A snapshots folder answers for the version its LATEST names.
    assert (
        show(SAMPLE, as_json=True, snapshot=demo["snapshot"].parent)[1]
        == from_snapshot.splitlines()[0] + "\n"
    )


@pytest.mark.slow
def test_an_unknown_id_is_one_line_naming_it_and_a_close_match(demo) -> None:
    proc = openness("show", SAMPLE, "acme/opn-7b", "--warehouse", str(demo["warehouse"]))
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(
        "openness show: error: no release acme/opn-7b (did you mean acme/open-7b?) in "
    )
    status, out, err = show("nobody/nothing", snapshot=demo["snapshot"])
    assert (status, out) == (1, "")
    assert err == (
        f"openness show: error: no release nobody/nothing in the snapshot {demo['snapshot']} "
        f"(snapshot {demo['snapshot'].name})\n"
    )


@pytest.mark.parametrize(
    ("where", "says"),
    [
        (["--warehouse", "{tmp}/missing"], "--warehouse {tmp}/missing is not a folder"),
        (["--warehouse", "{tmp}"], "--warehouse {tmp} has no serving database openness.duckdb"),
        (["--snapshot", "{tmp}"], "--snapshot {tmp} has no manifest.json"),
    ],
)
def test_a_source_that_is_not_a_warehouse_or_snapshot_is_one_line(tmp_path: Path, where, says) -> None:
    status, out, err = show("a/b", **{where[0][2:]: Path(where[1].format(tmp=tmp_path))})
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"openness show: error: {says.format(tmp=tmp_path)}")


def test_a_former_id_finds_the_renamed_release_and_a_wrong_case_is_suggested() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core")
    con.execute(
        "CREATE TABLE core.releases AS SELECT * FROM (VALUES "
        "('acme/new-name', 'acme', 'new-name', ['acme/old-name'], TIMESTAMPTZ '2024-03-01'), "
        "('acme/old-name', 'acme', 'old-name', [], TIMESTAMPTZ '2024-04-01'), "
        "('zeta/Model-X', 'zeta', 'Model-X', [], TIMESTAMPTZ '2024-04-01')) "
        "AS t(repo_id, org, name, previous_ids, last_seen)"
    )
    source = Source(con, "warehouse", Path("openness.duckdb"), "2024-04-01.1")
    # A former id answers with the current one; an id taken again by a new repository is that repository.
    assert resolve_ids(source, ["acme/old-name", "acme/new-name"]) == {
        "acme/old-name": "acme/old-name",
        "acme/new-name": "acme/new-name",
    }
    con.execute("DELETE FROM core.releases WHERE repo_id = 'acme/old-name'")
    assert resolve_ids(source, ["acme/old-name"]) == {"acme/old-name": "acme/new-name"}
    with pytest.raises(UnknownRelease) as raised:
        resolve_ids(source, ["zeta/model-x", "nobody/nothing"])
    assert str(raised.value) == (
        "no releases zeta/model-x (did you mean zeta/Model-X?), nobody/nothing in the warehouse "
        "openness.duckdb (snapshot 2024-04-01.1)"
    )
