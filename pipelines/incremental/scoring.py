"""Scores, history, derivatives and paper links of the repos whose inputs changed (the rest are kept).

A revision's scores depend on its own row, on the datasets and papers it names (core.datasets,
core.papers) and, for a derivative, on the latest revision of its first base model (`base_verdicts`).
Its validity interval and transitions depend on the other revisions of its repo only. So a run rescores:

- the repos whose revisions were rewritten (`pending` from the normalisation step, old and new ids);
- the repos with a revision that names a dataset or paper whose row changed;
- the derivatives (first base model) of all of those, whose base verdicts may have moved;

and rewrites their rows of core.disclosures, core.openness and core.transitions, whole repos at a time,
with the pure scoring functions (`score_in_batches`, `openness_history`). core.derivatives is
rewritten for the changed repos and the repos naming one of them as a base; core.release_papers for the
changed repos. A new rubric or scoring code (a digest of its files and of the rubric version), or a
rebuilt normalisation state, rescores everything, in batches of whole repos; each batch commits with a
mark of how far it got (`meta.incremental` key `scores_rebuild`), so a rescoring killed half-way is
resumed by the next run from its next batch when its inputs are the same (`_resume_from`).
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

import duckdb
import polars as pl

from pipelines.history.build import openness_history
from pipelines.hub.schema import REVISIONS_SCHEMA
from pipelines.incremental import state
from pipelines.incremental.normalise import _insert, _typed
from pipelines.storage.warehouse import Warehouse, table_exists, transaction
from pipelines.tables import tables_of_step

SCORE_BATCH = 250_000  # revisions per scoring batch (whole repos)
RESUME_KEY = "scores_rebuild"  # meta.incremental: "<inputs>:<batches done>" of a full rescoring not finished


def _inputs(con: duckdb.DuckDBPyConnection, version: str, batches: list[pl.DataFrame]) -> str:
    """What a full rescoring's batches depend on: the scoring version, the normalisation state, what is
    pending for scoring (every change of an input adds rows there until a rescoring ends), the batches."""
    pending = con.execute(
        "SELECT (SELECT count(*) FROM incr.pending WHERE consumer = 'scoring') || '/' || "
        "(SELECT count(*) FROM incr.pending_refs WHERE consumer = 'scoring')"
    ).fetchall()[0][0]
    digest = hashlib.sha256(f"{version}\0{state.get_meta(con, 'state_id')}\0{pending}".encode())
    for batch in batches:
        ids = batch.get_column("repo_id")
        digest.update(f"\0{ids.len()}\0{ids.first()}\0{ids.last()}".encode())
    return digest.hexdigest()[:16]


def _resume_from(con: duckdb.DuckDBPyConnection, inputs: str) -> int:
    """The batches a killed full rescoring with the same inputs committed (0: none, or other inputs)."""
    mark = state.get_meta(con, RESUME_KEY, "meta.incremental")
    if not mark or not mark.startswith(inputs + ":"):
        return 0
    return int(mark.rsplit(":", 1)[1])


def _frame(con: duckdb.DuckDBPyConnection, sql: str, ids: pl.DataFrame | None = None) -> pl.DataFrame:
    if ids is not None:
        con.register("wanted", ids)
    try:
        return con.sql(sql).pl()
    finally:
        if ids is not None:
            con.unregister("wanted")


def _ids(values: list[str] | set[str]) -> pl.DataFrame:
    return pl.DataFrame({"repo_id": sorted(values)}, schema={"repo_id": pl.String})


def revisions_of(con: duckdb.DuckDBPyConnection, repos: pl.DataFrame) -> pl.DataFrame:
    """core.revisions rows of some repos, in the table's order (repo, commit time, revision)."""
    frame = _frame(
        con,
        "SELECT * FROM core.revisions SEMI JOIN wanted USING (repo_id) "
        "ORDER BY repo_id, committed_at, revision",
        repos,
    )
    return _typed(frame, REVISIONS_SCHEMA)


def _pending(con: duckdb.DuckDBPyConnection, consumer: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT repo_id FROM incr.pending WHERE consumer = ?", [consumer]
        ).fetchall()
    }


# Each release's links to code repositories with what the crawl found in them: the scoring's `code` input,
# and what the code step compares before and after to know which releases to rescore.
CODE_EVIDENCE_SELECT = """SELECT rc.repo_id, rc.code_repo, rc.linked_via, rc.role, cr.license_id, cr.license_family,
    cr.github_license, cr.training_code, cr.preprocessing_code, cr.evaluation_code, cr.inference_code,
    cr.evidence, cr.status
FROM {release_code} rc LEFT JOIN {code_repos} cr ON cr.repo = rc.code_repo"""
_FOR_WANTED = (
    "\nWHERE rc.repo_id IN (SELECT repo_id FROM wanted)\nORDER BY rc.repo_id, rc.code_repo, rc.linked_via"
)
CODE_EVIDENCE_SQL = (
    CODE_EVIDENCE_SELECT.format(release_code="core.release_code", code_repos="core.code_repos")  # noqa: S608
    + _FOR_WANTED
)


def licence_file_evidence(
    wh: Warehouse, con: duckdb.DuckDBPyConnection, repos: pl.DataFrame
) -> pl.DataFrame | None:
    """The `license_files` input of the scoring for some repos: each model revision's licence and policy
    files that were read, with what their blob was identified as (pipelines/incremental/code.py); None
    before any licence file was captured (nothing is known of them, as before they were crawled)."""
    from pipelines.hub.raw import LICENSE_FILE_RAW_SCHEMA
    from pipelines.incremental.code import revision_licence_files

    if not wh.raw.files("hub_license_files") or not table_exists(con, "core.license_files"):
        return None
    wanted = set(repos["repo_id"].to_list())
    raw = (
        wh.raw.scan("hub_license_files", LICENSE_FILE_RAW_SCHEMA)
        .filter(pl.col("repo_id").is_in(sorted(wanted)))
        .collect()
    )
    identified = con.sql("SELECT * FROM core.license_files WHERE host = 'hub'").pl()
    rows = revision_licence_files(raw, identified)
    # A file that could not be read (gated, missing, too large) shows nothing: it is left out, so the
    # revision's licence files stay unknown rather than "unknown licence".
    return rows.filter(pl.col("status") == "ok")


def code_evidence(con: duckdb.DuckDBPyConnection, repos: pl.DataFrame) -> pl.DataFrame | None:
    """The `code` input of the scoring for some repos: each release's links to code repositories
    (core.release_code) with what the crawl found in them (core.code_repos); None before the code step
    has run (nothing is known, as before code repositories were crawled)."""
    if not (table_exists(con, "core.release_code") and table_exists(con, "core.code_repos")):
        return None
    return _frame(con, CODE_EVIDENCE_SQL, repos.select("repo_id"))


def bases_for(
    con: duckdb.DuckDBPyConnection,
    revisions: pl.DataFrame,
    datasets: pl.DataFrame,
    papers: pl.DataFrame,
    rubric: dict[str, Any],
    wh: Warehouse | None = None,
) -> pl.DataFrame:
    """The `bases` frame `base_verdicts` would give for the first base models these revisions name."""
    from pipelines.openness.catalogue import resolve_licenses
    from pipelines.openness.components import detect_components
    from pipelines.openness.scoring import base_facts, score_revisions

    named = revisions.select(pl.col("base_models").list.first().alias("repo_id")).drop_nulls().unique()
    base_revs = revisions_of(con, named) if named.height else revisions.clear()
    if base_revs.height == 0:
        return base_facts(base_revs)
    # As base_verdicts: each repo's latest revision; these repos are all named as bases, so all are scored.
    latest = base_revs.sort("committed_at", nulls_last=False).unique(
        "repo_id", keep="last", maintain_order=True
    )
    heads = resolve_licenses(latest)
    evidence = {
        "code": code_evidence(con, named),
        "license_files": licence_file_evidence(wh, con, named) if wh is not None else None,
    }
    scored = score_revisions(
        heads,
        detect_components(heads, datasets, papers, rubric=rubric, **evidence),
        rubric=rubric,
        **evidence,
    )
    return base_facts(latest, scored)


def score_repos(
    con: duckdb.DuckDBPyConnection,
    repos: pl.DataFrame,
    datasets: pl.DataFrame,
    papers: pl.DataFrame,
    rubric: dict[str, Any],
    wh: Warehouse | None = None,
    marks: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(disclosures, openness with validity, transitions) of every revision of `repos` (with the licence
    files the warehouse `wh` holds for them). `marks` is `revision_marks` of the whole raw layer when the
    caller read it already (a scan of every revision and README capture: read once per step, not once per
    batch); None reads these repos' marks."""
    from pipelines.openness.run import score_in_batches

    revisions = revisions_of(con, repos)
    bases = bases_for(con, revisions, datasets, papers, rubric, wh)
    evidence = {
        "code": code_evidence(con, repos),
        "license_files": licence_file_evidence(wh, con, repos) if wh is not None else None,
    }
    parts = list(score_in_batches(revisions, datasets, papers, rubric=rubric, bases=bases, **evidence))
    disclosures = pl.concat([p[0] for p in parts]) if parts else pl.DataFrame()
    openness = pl.concat([p[1] for p in parts]) if parts else pl.DataFrame()
    if wh is None:
        marks = None
    else:  # a mirror's reconstruction marks of these repos' captures (none from the live Hub)
        from pipelines.hub.provenance import revision_marks, synthetic_commits, unlink_commits

        listed = revisions.get_column("listed_as").unique().drop_nulls()
        marks = (
            revision_marks(wh.raw, listed.to_list())
            if marks is None
            else marks.filter(pl.col("repo_id").is_in(listed.implode()))
        )
        disclosures = unlink_commits(disclosures, "evidence", synthetic_commits(marks))
    openness, transitions = openness_history(revisions, openness, disclosures, rubric, marks)
    return {"core.disclosures": disclosures, "core.openness": openness, "core.transitions": transitions}


def _write(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, repos: pl.DataFrame | None
) -> None:
    """Replace the rows of `repos` (all rows when None) with `frame`; create the table from the frame if new."""
    if repos is None or not table_exists(con, table):
        con.register("incoming_frame", frame)
        try:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM incoming_frame")  # noqa: S608
        finally:
            con.unregister("incoming_frame")
        return
    con.register("gone", repos)
    try:
        con.execute(f"DELETE FROM {table} WHERE repo_id IN (SELECT repo_id FROM gone)")  # noqa: S608
    finally:
        con.unregister("gone")
    _insert(con, table, frame)


def scoring_version(rubric: dict[str, Any]) -> str:
    """What a stored score was computed with: the scoring code and data, and the rubric version."""
    return f"{rubric.get('rubric_version')}:{state.code_version(state.SCORING_CODE)}"


def rescore_set(con: duckdb.DuckDBPyConnection) -> tuple[set[str], dict[str, int]]:
    """The repos to rescore (see the module docstring) and how each reason contributed."""
    pending = _pending(con, "scoring")
    refs = con.sql("SELECT DISTINCT kind, ref_id FROM incr.pending_refs WHERE consumer = 'scoring'").pl()
    cites: set[str] = set()
    for kind, column in (("dataset", "datasets"), ("paper", "arxiv_ids")):
        ids = refs.filter(pl.col("kind") == kind).select(pl.col("ref_id").alias("ref"))
        if ids.height:
            con.register("refs", ids)
            sql = (
                f"SELECT DISTINCT repo_id FROM (SELECT repo_id, unnest({column}) AS ref "  # noqa: S608 - fixed names
                "FROM core.revisions) WHERE ref IN (SELECT ref FROM refs)"
            )
            cites |= {r[0] for r in con.execute(sql).fetchall()}
            con.unregister("refs")
    changed = pending | cites
    derivatives: set[str] = set()
    if changed:
        con.register("changed_ids", _ids(changed))
        derivatives = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT repo_id FROM core.revisions WHERE base_models[1] IN (SELECT repo_id FROM changed_ids)"
            ).fetchall()
        }
        con.unregister("changed_ids")
    return changed | derivatives, {
        "pending": len(pending),
        "citing_changed_refs": len(cites - pending),
        "derivatives_of_changed": len(derivatives - changed),
    }


def update_scores(
    wh: Warehouse,
    con: duckdb.DuckDBPyConnection,
    *,
    full: bool = False,
    rubric: dict[str, Any] | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """core.licenses, disclosures, openness, transitions and derivatives, for the repos that need it. A
    full rescoring commits batch by batch (`progress` gets a line a batch) and, killed, is resumed by the
    next run not asking for `full` from its next batch (when its inputs did not change meanwhile)."""
    from pipelines.openness.catalogue import load_catalogue
    from pipelines.openness.rubric import load_rubric

    started = time.perf_counter()
    state.attach(wh, con)
    rubric = rubric or load_rubric()
    version = scoring_version(rubric)
    reason = (
        "full rebuild asked for"
        if full
        else "the normalisation state was rebuilt"
        if state.get_meta(con, "full_scoring") == "pending"
        else "no scores yet"
        if not all(table_exists(con, t.name) for t in tables_of_step("scores") if t.by_repo)
        else "the rubric or the scoring code changed"
        if state.get_meta(con, "scoring_version") != version
        else None
    )
    datasets = con.sql("SELECT * FROM core.datasets").pl()
    papers = con.sql("SELECT * FROM core.papers").pl()
    if reason:
        repos = {r[0] for r in con.execute("SELECT DISTINCT repo_id FROM core.revisions").fetchall()}
        why: dict[str, int] = {"all": len(repos)}
    else:
        repos, why = rescore_set(con)
    batches = _batches(con, repos)
    # Commit ids a hub mirror made up: the derivatives' evidence does not link them (pipelines/hub/provenance.py).
    from pipelines.hub.provenance import revision_marks, synthetic_commits, unlink_commits

    marks = revision_marks(wh.raw)
    made_up = synthetic_commits(marks)
    rows: dict[str, int] = {}
    derivatives = 0
    inputs = _inputs(con, version, batches) if reason else ""
    start = _resume_from(con, inputs) if reason and not full else 0
    if reason:
        # Every repo, batch by batch; each batch commits with the mark of how far the rescoring got (a
        # failed rebuild leaves the reason in place; the next run goes on after the last batch committed).
        for i, batch in enumerate(batches):
            if i < start:
                continue
            frames = score_repos(con, batch, datasets, papers, rubric, wh, marks)
            links = unlink_commits(derivative_rows(con, batch, rubric), "evidence", made_up)
            with transaction(con):
                for table, frame in frames.items():
                    _write(con, table, frame, None) if i == 0 else _insert(con, table, frame)
                    rows[table] = rows.get(table, 0) + frame.height
                _write(con, "core.derivatives", links, None) if i == 0 else _insert(
                    con, "core.derivatives", links
                )
                derivatives += links.height
                state.set_meta(con, RESUME_KEY, f"{inputs}:{i + 1}", "meta.incremental")
            if progress:
                progress(
                    f"scores: batch {i + 1}/{len(batches)} committed ({sum(rows.values()):,} rows written)"
                )
    with transaction(con):
        if not reason:
            for batch in batches:
                frames = score_repos(con, batch, datasets, papers, rubric, wh, marks)
                for table, frame in frames.items():
                    _write(con, table, frame, batch)
                    rows[table] = rows.get(table, 0) + frame.height
            # Derivative links of the rescored repos and of every repo naming one of them as a base.
            ids = _ids(repos)
            con.register("changed_ids", ids)
            namers = {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT repo_id FROM (SELECT repo_id, unnest(base_models) AS b FROM core.revisions) "
                    "WHERE b IN (SELECT repo_id FROM changed_ids)"
                ).fetchall()
            }
            con.unregister("changed_ids")
            linked = _ids(repos | namers)
            links = unlink_commits(derivative_rows(con, linked, rubric), "evidence", made_up)
            _write(con, "core.derivatives", links, linked)
            derivatives = links.height
        replace_table_rows(con, "core.licenses", load_catalogue())
        con.execute("DELETE FROM meta.incremental WHERE key = ?", [RESUME_KEY])
    with transaction(con):
        con.execute("DELETE FROM incr.pending WHERE consumer = 'scoring'")
        con.execute("DELETE FROM incr.pending_refs WHERE consumer = 'scoring'")
        if reason:
            state.set_meta(con, "full_marts", "pending")
        else:  # the monthly mart follows these repos' openness rows
            _insert(
                con,
                "incr.pending",
                pl.DataFrame(
                    {"consumer": "marts", "repo_id": sorted(repos)},
                    schema={"consumer": pl.String, "repo_id": pl.String},
                ),
            )
        state.set_meta(con, "scoring_version", version)
        state.set_meta(con, "full_scoring", "done")
    return {
        "mode": "full" if reason else "incremental",
        **({"reason": reason} if reason else {}),
        "rescored_repos": len(repos),
        **({"batches": len(batches), "resumed_after_batches": start} if reason else {}),
        **{f"rescored_{k}": v for k, v in why.items()},
        **{f"{t.removeprefix('core.')}_written": n for t, n in rows.items()},
        "derivatives_written": derivatives,
        "rubric_version": str(rubric.get("rubric_version")),
        "seconds": round(time.perf_counter() - started, 3),
    }


def replace_table_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Replace a code-defined table (created from the frame the first time), inside the caller's transaction."""
    if table_exists(con, table):
        con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        _insert(con, table, frame)
    else:
        _write(con, table, frame, None)


def _batches(con: duckdb.DuckDBPyConnection, repos: set[str]) -> list[pl.DataFrame]:
    """`repos` in batches of about SCORE_BATCH revisions (whole repos), in repo order; at least one batch."""
    if not repos:
        return [_ids([])]
    ids = _ids(repos)
    counts = _frame(
        con,
        "SELECT repo_id, count(*) AS n FROM core.revisions SEMI JOIN wanted USING (repo_id) "
        "GROUP BY repo_id ORDER BY repo_id",
        ids,
    )
    counts = ids.join(counts, on="repo_id", how="left").with_columns(pl.col("n").fill_null(0)).sort("repo_id")
    total = int(counts.get_column("n").sum() or 0)
    n = max(1, math.ceil(total / SCORE_BATCH))
    counts = counts.with_columns((pl.col("n").cum_sum() * n // max(total, 1)).clip(0, n - 1).alias("_b"))
    return [g.select("repo_id") for _, g in counts.group_by("_b", maintain_order=True)]


def derivative_rows(
    con: duckdb.DuckDBPyConnection, repos: pl.DataFrame, rubric: dict[str, Any]
) -> pl.DataFrame:
    """core.derivatives rows of `repos` (link_derivatives over them and the bases they name)."""
    from pipelines.openness.derivatives import link_derivatives

    revisions = revisions_of(con, repos)
    named = revisions.select(pl.col("base_models").explode().alias("repo_id")).drop_nulls().unique()
    bases = (
        revisions_of(con, named.join(repos, on="repo_id", how="anti")) if named.height else revisions.clear()
    )
    frame = (
        pl.concat([revisions, bases]).sort("repo_id", "committed_at", "revision")
        if bases.height
        else revisions
    )
    return link_derivatives(frame, rubric=rubric).filter(
        pl.col("repo_id").is_in(repos.get_column("repo_id").implode())
    )


def update_release_papers(
    wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False
) -> dict[str, Any]:
    """core.papers when new paper captures arrived (recording which papers changed), and core.release_papers
    for the repos whose revisions changed."""
    from pipelines.papers.parse import release_papers_frame
    from pipelines.papers.step import stored_papers

    state.attach(wh, con)
    counts: dict[str, Any] = {}
    fresh = _new_ledger_files(wh, con, ("arxiv", "hf_paper"))
    rebuild = full or state.get_meta(con, "full_release_papers") == "pending"
    reload = bool(fresh.height) or rebuild
    changed: set[str] = set()
    if reload:
        papers = stored_papers(wh.raw)
        changed = _changed_refs(
            con.sql("SELECT * FROM core.papers").pl(), papers, "arxiv_id", ("fetched_at",)
        )
        counts["papers_changed"] = len(changed)
    if rebuild:
        repos = None
    else:
        repos = _pending(con, "release_papers")
    counts["release_papers_mode"] = "full" if rebuild else "incremental"
    ids = None if repos is None else _ids(repos)
    revisions = (
        con.sql("SELECT repo_id, revision, committed_at, arxiv_ids, tags FROM core.revisions").pl()
        if ids is None
        else _frame(
            con,
            "SELECT repo_id, revision, committed_at, arxiv_ids, tags "
            "FROM core.revisions SEMI JOIN wanted USING (repo_id)",
            ids,
        )
    )
    links = release_papers_frame(revisions)
    with transaction(con):
        if reload:
            _replace_in_tx(con, "core.papers", papers)
        if ids is None:
            _replace_in_tx(con, "core.release_papers", links)
        else:
            con.register("gone", ids)
            con.execute("DELETE FROM core.release_papers WHERE repo_id IN (SELECT repo_id FROM gone)")
            con.unregister("gone")
            _insert(con, "core.release_papers", links)
    with transaction(con):
        if reload:
            _insert(con, "incr.files", fresh)
            _insert(
                con,
                "incr.pending_refs",
                state.pending_refs("scoring", "paper", changed),
            )
        con.execute("DELETE FROM incr.pending WHERE consumer = 'release_papers'")
        state.set_meta(con, "full_release_papers", "done")
    total = con.execute("SELECT count(*) FROM core.papers").fetchall()[0][0]
    found = con.execute("SELECT count(*) FROM core.papers WHERE status = 'found'").fetchall()[0][0]
    return {
        "papers": total,
        "papers_found": found,
        "release_papers_written": links.height,
        "release_papers": con.execute("SELECT count(*) FROM core.release_papers").fetchall()[0][0],
        "touched_repos": len(repos) if repos is not None else None,
        **counts,
    }


def _replace_in_tx(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    _insert(con, table, frame)


def update_datasets(wh: Warehouse, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """core.datasets when new dataset captures arrived, recording which datasets changed for the scoring."""
    from pipelines.hub.datasets import build_datasets
    from pipelines.hub.raw import DATASET_RAW_SCHEMA

    state.attach(wh, con)
    fresh = _new_ledger_files(wh, con, ("hub_dataset",))
    if not (fresh.height or full):
        rows = con.execute('SELECT count(*), count(*) FILTER (WHERE "exists") FROM core.datasets').fetchall()[
            0
        ]
        return {"datasets": rows[0], "datasets_found": rows[1], "mode": "unchanged", "datasets_changed": 0}
    frame = build_datasets(wh.raw.scan("hub_dataset", DATASET_RAW_SCHEMA).collect())
    changed = _changed_refs(
        con.sql("SELECT * FROM core.datasets").pl(), frame, "dataset_id", ("observed_at",)
    )
    with transaction(con):
        _replace_in_tx(con, "core.datasets", frame)
    with transaction(con):
        _insert(con, "incr.files", fresh)
        _insert(
            con,
            "incr.pending_refs",
            state.pending_refs("scoring", "dataset", changed),
        )
    return {
        "datasets": frame.height,
        "datasets_found": int(frame.get_column("exists").sum() or 0),
        "mode": "full" if full else "rebuilt (new captures)",
        "datasets_changed": len(changed),
    }


def _new_ledger_files(
    wh: Warehouse, con: duckdb.DuckDBPyConnection, sources: tuple[str, ...]
) -> pl.DataFrame:
    rows = []
    for source in sources:
        known = {
            r[0] for r in con.execute("SELECT path FROM incr.files WHERE source = ?", [source]).fetchall()
        }
        for path in wh.raw.files(source):
            rel = wh.raw.relative(path)
            if rel not in known:
                rows.append((source, rel, path.parent.name.split("=", 1)[1], None))
    return pl.DataFrame(
        rows,
        schema={"source": pl.String, "path": pl.String, "crawl_date": pl.String, "rows": pl.Int64},
        orient="row",
    )


def _changed_refs(old: pl.DataFrame, new: pl.DataFrame, key: str, ignore: tuple[str, ...]) -> set[str]:
    """Ids whose row differs between two versions of a table (capture times aside), or is in one only."""
    cols = [c for c in new.columns if c not in ignore]
    if old.height == 0 or any(c not in old.columns for c in cols):
        return set(new.get_column(key).to_list()) | (
            set(old.get_column(key).to_list()) if key in old.columns else set()
        )

    def comparable(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            pl.col(c).list.join("\x1f") if isinstance(new.schema[c], pl.List) else pl.col(c) for c in cols
        )

    old = comparable(old.select(cols).cast({c: new.schema[c] for c in cols}))
    new = comparable(new.select(cols))
    diff = pl.concat(
        [
            old.join(new, on=cols, how="anti", nulls_equal=True),
            new.join(old, on=cols, how="anti", nulls_equal=True),
        ]
    )
    return set(diff.get_column(key).to_list())
