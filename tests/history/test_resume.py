"""The first build of a warehouse, killed half-way (SIGKILL) in a real process, resumes where it stopped.

The build commits its parsed keys batch by batch and says so, one line a batch; killed after its first
batch, the next run parses only the keys no committed batch holds, and every table equals the one an
uninterrupted build writes.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from benchmarks.rawgen import generate_raw
from pipelines.incremental import normalise, state
from pipelines.runner import build_all
from tests.history.test_incremental import assert_same_tables, twin

BATCH = 40  # keys a batch: four batches for this raw layer
# The child: the whole build, its progress on stdout; after the first committed batch it waits on stdin
# (which the test never writes) so that it is killed there, between two batches.
CHILD = """
import sys
from pathlib import Path
from pipelines.incremental import normalise
from pipelines.runner import build_all
from pipelines.storage.warehouse import Warehouse

normalise.BUILD_BATCH = int(sys.argv[2])
wh = Warehouse(Path(sys.argv[1]))

def progress(line):
    print(line, flush=True)
    if " batch " in line:
        sys.stdin.readline()

with wh.connect() as con:
    build_all(wh, con, progress=progress)
print("finished", flush=True)
"""
COMMITTED = re.compile(r"batch (\d+)/(\d+) committed: ([\d,]+) of ([\d,]+) keys")


def _killed_at(child: str, root, argument: str, pattern: re.Pattern) -> re.Match:
    """Run a build child on `root`, SIGKILL it at its first line matching `pattern` (where it waits), check
    that it died of the kill; returns that line's match."""
    proc = subprocess.Popen(
        [sys.executable, "-c", child, str(root), argument],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = _first_line(proc, pattern, timeout=120)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return first


def _first_line(proc: subprocess.Popen, pattern: re.Pattern, timeout: float) -> re.Match:
    """The first line of the child's stdout that matches `pattern` (fails if it exits or times out first)."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if not ready:
            continue
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.strip())
        if match := pattern.search(line):
            return match
    proc.kill()
    pytest.fail(
        f"no line matched {pattern.pattern!r} before the build ended or timed out; its lines: {seen[-5:]}"
    )


def _number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.slow
def test_a_first_build_killed_after_a_batch_resumes_without_redoing_it(tmp_path, monkeypatch):
    """A real build process SIGKILLed after its first committed batch; the next run parses only the keys
    left (counted from the batch lines and the result), and every table equals an uninterrupted build's."""
    inc, pure = twin(tmp_path, "killed")
    generate_raw(inc.raw, 40, seed=5)
    first = _killed_at(CHILD, inc.root, str(BATCH), COMMITTED)
    batches, committed, keys = int(first.group(2)), _number(first.group(3)), _number(first.group(4))
    assert batches >= 3 and 0 < committed < keys

    # What the killed run left: its index and first batch committed, the rebuild marked unfinished.
    with inc.connect() as con:
        state.attach(inc, con)
        assert normalise._candidate_count(con) == committed
        assert state.state_problem(con) == state.UNFINISHED

    monkeypatch.setattr(normalise, "BUILD_BATCH", BATCH)
    lines: list[str] = []
    with inc.connect() as con:
        done = build_all(inc, con, progress=lines.append)["revisions"]
    rerun = [COMMITTED.search(line) for line in lines if COMMITTED.search(line)]
    assert done["mode"] == "full" and done["reason"] == state.UNFINISHED
    assert done["resumed_after"] == committed
    # Only the keys the killed run had not committed are parsed: none twice, none left out.
    assert done["parsed"] == keys - committed
    assert _number(rerun[-1].group(4)) == keys - committed
    assert len(rerun) == done["batches"] == int(rerun[-1].group(2)) <= batches
    assert all(
        "committed by the interrupted one" in line for line in lines if line.startswith("revisions: batch")
    )

    with pure.connect() as con:  # the same build, never interrupted
        whole = build_all(pure, con)["revisions"]
    assert whole["parsed"] == keys and whole["reason"] == "no incremental state yet"
    assert_same_tables(inc, pure, "resumed after a kill")
    with inc.connect() as con:  # finished: the next run is an incremental one
        state.attach(inc, con)
        assert state.state_problem(con) is None


# The same child, stopped after its first committed part of the index (before any key is parsed).
INDEX_CHILD = CHILD.replace(
    "normalise.BUILD_BATCH = int(sys.argv[2])", "normalise.INDEX_PART_FILES = int(sys.argv[2])"
).replace('if " batch " in line:', 'if " index part " in line:')
INDEXED = re.compile(r"index part (\d+)/(\d+) committed: ([\d,]+) of ([\d,]+) files")


@pytest.mark.slow
def test_a_first_build_killed_while_indexing_resumes_with_the_files_left(tmp_path):
    """The first build indexes the raw files part by part, each part committed with its ledger rows (at Hub
    scale the whole index does not fit in memory); SIGKILLed after its first part, the next run indexes only
    the files left, and every table equals an uninterrupted build's."""
    inc, pure = twin(tmp_path, "killed-indexing")
    generate_raw(inc.raw, 40, seed=11)
    first = _killed_at(INDEX_CHILD, inc.root, "1", INDEXED)
    parts, indexed, files = int(first.group(2)), _number(first.group(3)), _number(first.group(4))
    assert parts == files >= 3 and indexed == 1

    with inc.connect() as con:
        state.attach(inc, con)
        assert con.execute("SELECT count(*) FROM incr.files").fetchone()[0] == indexed
        assert normalise._candidate_count(con) == 0  # killed before any key was parsed
        assert state.state_problem(con) == state.UNFINISHED
        done = build_all(inc, con)["revisions"]
    assert done["mode"] == "full" and done["reason"] == state.UNFINISHED
    assert done["new_files"] == files - indexed  # the committed part is not read again

    with pure.connect() as con:
        whole = build_all(pure, con)["revisions"]
    assert whole["new_files"] == files and whole["parsed"] == done["parsed"]
    assert_same_tables(inc, pure, "resumed after a kill while indexing")


# The same child, stopped after its first committed batch of the derive (every key parsed).
DERIVE_CHILD = CHILD.replace(
    "normalise.BUILD_BATCH = int(sys.argv[2])", "normalise.DERIVE_BATCH = int(sys.argv[2])"
).replace('if " batch " in line:', 'if " derive " in line:')
DERIVED = re.compile(r"derive (\d+)/(\d+) committed: ([\d,]+) revisions")


@pytest.mark.slow
def test_a_first_build_killed_while_deriving_resumes_at_the_next_batch(tmp_path, monkeypatch):
    """The first build derives core.revisions batch by batch, each batch committed (at Hub scale one
    transaction of every batch held its rows in memory until the OOM killer stopped it); SIGKILLed after its
    first derive batch, the next run parses nothing, derives only the batches left, and every table equals
    an uninterrupted build's."""
    inc, pure = twin(tmp_path, "killed-deriving")
    generate_raw(inc.raw, 40, seed=13)
    first = _killed_at(DERIVE_CHILD, inc.root, "40", DERIVED)
    derived, batches, rows = int(first.group(1)), int(first.group(2)), _number(first.group(3))
    assert derived == 1 and batches >= 3 and rows > 0

    with inc.connect() as con:
        state.attach(inc, con)
        assert state.state_problem(con) == state.UNFINISHED
        assert con.execute("SELECT count(*) FROM core.revisions").fetchone()[0] == rows  # batch 1 is kept

    monkeypatch.setattr(normalise, "DERIVE_BATCH", 40)
    lines: list[str] = []
    with inc.connect() as con:
        done = build_all(inc, con, progress=lines.append)["revisions"]
    assert done["mode"] == "full" and done["reason"] == state.UNFINISHED
    assert done["parsed"] == 0 and done["new_files"] == 0  # nothing is read or parsed again
    assert done["derive_resumed_at"] == 1
    again = [DERIVED.search(line) for line in lines if DERIVED.search(line)]
    assert [int(m.group(1)) for m in again] == list(range(2, batches + 1))  # batch 1 is not derived again
    assert _number(again[-1].group(3)) == done["revisions"]

    with pure.connect() as con:
        whole = build_all(pure, con)["revisions"]
    assert whole["derive_resumed_at"] == 0 and whole["revisions"] == done["revisions"]
    assert_same_tables(inc, pure, "resumed after a kill while deriving")
    with inc.connect() as con:  # finished: the next run is an incremental one, and no derive is recorded
        state.attach(inc, con)
        assert state.state_problem(con) is None
        assert state.get_meta(con, "derive", "meta.incremental") is None


def test_a_full_rescoring_interrupted_after_two_batches_resumes_from_the_third(tmp_path, monkeypatch):
    """The scores of a first build commit batch by batch; interrupted in its third batch, the next run
    scores only the batches not committed, to the tables of an uninterrupted build."""
    from pipelines.incremental import scoring

    monkeypatch.setattr(scoring, "SCORE_BATCH", 40)
    inc, pure = twin(tmp_path, "rescoring")
    generate_raw(inc.raw, 40, seed=7)
    score = scoring.score_repos
    scored: list[int] = []

    def dies_in_the_third_batch(con, batch, *args):
        if len(scored) == 2:
            raise KeyboardInterrupt("killed during the scores")
        scored.append(batch.height)
        return score(con, batch, *args)

    monkeypatch.setattr(scoring, "score_repos", dies_in_the_third_batch)
    lines: list[str] = []
    with inc.connect() as con, pytest.raises(KeyboardInterrupt):
        build_all(inc, con, progress=lines.append)
    committed = [re.match(r"scores: batch (\d+)/(\d+) committed", line) for line in lines]
    committed = [(int(m.group(1)), int(m.group(2))) for m in committed if m]
    batches = committed[0][1]
    assert committed == [(1, batches), (2, batches)] and batches > 2
    scored.clear()
    monkeypatch.setattr(
        scoring, "score_repos", lambda con, batch, *args: scored.append(0) or score(con, batch, *args)
    )
    with inc.connect() as con:
        done = build_all(inc, con)["scores"]
    assert done["mode"] == "full" and done["batches"] == batches and done["resumed_after_batches"] == 2
    assert len(scored) == batches - 2  # the two committed batches are not scored again
    with pure.connect() as con:
        whole = build_all(pure, con)["scores"]
    assert whole["resumed_after_batches"] == 0
    assert_same_tables(inc, pure, "scores resumed after an interruption")


def test_a_full_rescoring_reads_the_raw_reconstruction_marks_once(tmp_path, monkeypatch):
    """The reconstruction marks come from a scan of every revision and README capture: a full rescoring
    reads them once, not once per batch (at 3,000,000 models each batch's filtered scan took minutes)."""
    from pipelines.hub import provenance
    from pipelines.incremental import scoring

    monkeypatch.setattr(scoring, "SCORE_BATCH", 40)
    wh = twin(tmp_path, "marks")[0]
    generate_raw(wh.raw, 40, seed=7)
    read = provenance.revision_marks
    calls: list[object] = []
    monkeypatch.setattr(provenance, "revision_marks", lambda *a, **k: calls.append(a[1:]) or read(*a, **k))
    with wh.connect() as con:
        done = build_all(wh, con)["scores"]
    assert done["mode"] == "full" and done["batches"] > 2
    assert calls == [()]  # one read, of the whole raw layer
