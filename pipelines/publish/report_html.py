"""`report.html` of a snapshot: one self-contained page (inline CSS and SVG, no script, no network).

It shows the spectrum and licence-family mix over time, opening and closing transitions, the releases
that moved, per-organisation views and the quality checks. Repo ids, licence names and URLs are
untrusted input: every value from data is escaped, links are kept only for http(s) URLs, and a
Content-Security-Policy forbids scripts and any loading, should something slip through.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

import duckdb

from pipelines.openness.rubric import load_rubric
from pipelines.publish.markdown import plural
from pipelines.publish.provenance import source_sentences
from pipelines.publish.svg_charts import (
    CHART_CSS,
    DIRECTION_COLOURS,
    LEVEL_COLOURS,
    Series,
    bar_chart,
    family_series,
    month_range,
    share_chart,
)

MAX_ROWS = 100  # tables are a summary; the full rows are in the snapshot's Parquet files
MAX_ORGS = 50
_NOT_SHORT = {True: "NOT coalesce(short_lived, false)", False: "true"}  # older tables lack short_lived

USAGE_SQL = """SELECT strftime(month, '%Y-%m'), population, value, releases, downloads, release_share, download_share
FROM marts.monthly_usage WHERE metric = ? AND month = (SELECT max(month) FROM marts.monthly_usage)
ORDER BY population, value"""
USAGE_THRESHOLD = "1,000"  # the mart's over_threshold population (sql/marts/monthly_usage.sql)
MONTHLY_SQL = """SELECT strftime(month, '%Y-%m'), coalesce(value, 'unknown'), sum(releases)::BIGINT
FROM marts.monthly_openness WHERE breakdown = 'all' AND metric = ? GROUP BY ALL ORDER BY 1, 2"""
MONTHLY_TRANSITIONS_SQL = """SELECT strftime(month, '%Y-%m'), direction, sum(transitions)::BIGINT
FROM marts.monthly_transitions WHERE direction IN ('opening', 'closing') GROUP BY ALL ORDER BY 1, 2"""
# Every direction over all months, for the line under the chart (the same mart, so the same counts).
TRANSITION_TOTALS_SQL = """SELECT direction, sum(transitions)::BIGINT, sum(short_lived)::BIGINT
FROM marts.monthly_transitions GROUP BY ALL"""
# The directions in the order the report names them; `to_unknown` (facts that became unreadable) apart.
DIRECTION_NAMES = {
    "opening": "opening",
    "closing": "closing",
    "lateral": "lateral",
    "to_unknown": "to unknown",
}
LATEST_MONTH_SQL = """WITH t AS (SELECT *, date_trunc('month', changed_at)::DATE AS month FROM core.transitions
                  WHERE {not_short})
SELECT strftime(month, '%Y-%m'), changed_at, repo_id, dimension, from_value, to_value, direction, evidence_url,
       to_revision
FROM t WHERE month = (SELECT max(month) FROM t) ORDER BY changed_at DESC, repo_id, dimension LIMIT ?"""
# The latest month's transitions by direction (a list of them on every row, as a window, was one copy per
# row: at 3,000,000 models it ran DuckDB out of memory).
LATEST_MONTH_COUNTS_SQL = """WITH t AS (SELECT direction, date_trunc('month', changed_at)::DATE AS month
                  FROM core.transitions WHERE {not_short})
SELECT direction, count(*) FROM t WHERE month = (SELECT max(month) FROM t) GROUP BY direction"""
MOVERS_SQL = """SELECT *, count(*) OVER () FROM (
    SELECT changed_at, repo_id, dimension, from_value, to_value, direction, evidence_url, to_revision
    FROM core.transitions
    WHERE dimension IN ('spectrum_level', 'license_family') AND direction IN ('opening', 'closing') AND {not_short}
    QUALIFY row_number() OVER (PARTITION BY repo_id, dimension ORDER BY changed_at DESC, to_revision) = 1)
ORDER BY changed_at DESC, repo_id, dimension LIMIT ?"""
ORGS_SQL = """SELECT r.org, count(*),
       [count(*) FILTER (WHERE o.spectrum_level = 0), count(*) FILTER (WHERE o.spectrum_level = 1),
        count(*) FILTER (WHERE o.spectrum_level = 2), count(*) FILTER (WHERE o.spectrum_level = 3),
        count(*) FILTER (WHERE o.spectrum_level = 4), count(*) FILTER (WHERE o.spectrum_level = 5)],
       count(*) FILTER (WHERE o.spectrum_level IS NULL), avg(o.osai_score), count(*) OVER ()
FROM core.openness o JOIN core.releases r USING (repo_id)
WHERE o.valid_to IS NULL AND r.deleted_at IS NULL GROUP BY r.org ORDER BY 2 DESC, lower(r.org), r.org LIMIT ?"""
ORG_CHANGE_SQL = """SELECT r.org, t.changed_at, t.repo_id, t.dimension, t.from_value, t.to_value, t.direction
FROM core.transitions t JOIN core.releases r USING (repo_id)
WHERE t.dimension IN ('spectrum_level', 'license_family') AND {not_short}
QUALIFY row_number() OVER (PARTITION BY r.org ORDER BY t.changed_at DESC, t.repo_id, t.dimension) = 1"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?", [schema, table]
    ).fetchall()
    return {r[0] for r in rows}


def _ts(value: object) -> str:
    if isinstance(value, dt.datetime):
        # UTC so that the page does not depend on the session's time zone.
        value = value.astimezone(dt.UTC) if value.tzinfo else value
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _link(url: object, text: object) -> str:
    # html.escape does not stop `javascript:` URLs: only plain web links become anchors.
    if isinstance(url, str) and url.strip().lower().startswith(("https://", "http://")):
        return f'<a href="{_e(url.strip())}" rel="noopener noreferrer nofollow">{_e(text)}</a>'
    return _e(text) if url else ""


def _value(v: object) -> str:
    return "<i>unknown</i>" if v is None else f"<code>{_e(v)}</code>"


def _direction(d: object) -> str:
    cls = d if d in DIRECTION_NAMES else "other"
    arrow = {"opening": "▲ ", "closing": "▼ "}.get(cls, "")
    return f'<span class="dir dir-{cls}">{arrow}{_e(DIRECTION_NAMES.get(cls, d))}</span>'


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'


def _empty(message: str) -> str:
    return f'<p class="empty">{_e(message)}</p>'


def _more(total: int, shown: int, where: str) -> str:
    return (
        f'<p class="note">Showing {shown} of {total}; all rows are in {_e(where)}.</p>'
        if total > shown
        else ""
    )


def _spectrum_series(rubric: dict[str, Any]) -> list[Series]:
    names = {str(lvl["level"]): lvl.get("name", "") for lvl in rubric["spectrum_levels"]}
    return [
        Series(k, f"{k} {names[k].replace('-', ' ')}" if k in names else "unknown", c)
        for k, c in LEVEL_COLOURS.items()
    ]


def _definitions(rubric: dict[str, Any]) -> str:
    rows = [
        [
            f'<span class="sw" style="background:{LEVEL_COLOURS[str(lvl["level"])]}"></span> {lvl["level"]}',
            _e(lvl.get("name")),
            _e(lvl.get("definition")),
        ]
        for lvl in rubric["spectrum_levels"]
    ]
    rows.append(
        [
            f'<span class="sw" style="background:{LEVEL_COLOURS["unknown"]}"></span> ?',
            "unknown",
            "Undecidable: no file list, or a licence that is unmapped, in conflict or of an unknown family.",
        ]
    )
    return (
        f"<details open><summary>Level definitions (rubric {_e(rubric.get('rubric_version'))})</summary>"
        + _table(["level", "name", "definition"], rows, "defs")
        + "</details>"
    )


def _charts(con: duckdb.DuckDBPyConnection, rubric: dict[str, Any]) -> tuple[str, str, str, str]:
    """The spectrum, licence-family and transitions charts on one shared month axis, and a summary line."""
    marts = {
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
            "UNION SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts'"
        ).fetchall()
    }
    data = {}
    for metric in ("spectrum_level", "license_family"):
        rows = con.execute(MONTHLY_SQL, [metric]).fetchall() if "monthly_openness" in marts else []
        data[metric] = {(m, v): n for m, v, n in rows}
    moves = con.execute(MONTHLY_TRANSITIONS_SQL).fetchall() if "monthly_transitions" in marts else []
    totals = con.execute(TRANSITION_TOTALS_SQL).fetchall() if "monthly_transitions" in marts else []
    moves_data = {(m, d): n for m, d, n in moves if n}
    months = {m for d in data.values() for m, _ in d} | {m for m, _ in moves_data}
    axis = month_range(months) if months else []
    x_label = "Month (state at the month's end)"
    none = "No monthly openness data in this snapshot (marts.monthly_openness is missing or empty)."
    spectrum = licences = _empty(none)
    summary = ""
    if data["spectrum_level"]:
        spectrum = bar_chart(
            "spectrum",
            "Releases by openness spectrum level, per month",
            axis,
            _spectrum_series(rubric),
            data["spectrum_level"],
            y_label="Releases",
            x_label=x_label,
            unit="release",
        )
        last = max(m for m, _ in data["spectrum_level"])
        at = {v: n for (m, v), n in data["spectrum_level"].items() if m == last}
        total, open_ = sum(at.values()), sum(n for v, n in at.items() if v in ("3", "4", "5"))
        summary = (
            f"At the end of {last}: {plural(total, 'release')}; {open_} ({open_ / total:.0%}) with open weights "
            f"(level 3 or above), {at.get('0', 0)} without weights, {at.get('unknown', 0)} undecided."
        )
    if data["license_family"]:
        seen = {v for _, v in data["license_family"]}
        licences = bar_chart(
            "licence_families",
            "Releases by licence family, per month",
            axis,
            family_series(seen),
            data["license_family"],
            y_label="Releases",
            x_label=x_label,
            unit="release",
        )
    transitions = _empty("No opening or closing transitions in this snapshot.")
    lasting = {d: n for d, n, _ in totals if n}
    short = sum(s for _, _, s in totals)
    note = (
        '<p class="note">Counts changes of every tracked dimension (licence, gating, weights, MOF components, '
        "Index criteria, OSAID, release and spectrum level), so one commit can count several times. A release's "
        "first commits (before its README, and its upload in its first 3 days) are its first "
        "observation, not changes. "
        f"In all (marts.monthly_transitions): {_e(_by_direction(lasting) or 'none')}; lateral changes, changes "
        "to unknown (facts that became unreadable, e.g. a gated README: one per release and commit) "
        f"and {plural(short, 'short-lived change')} (undone within 24 hours) are not drawn.</p>"
    )
    if moves_data:
        series = [Series(d, d, DIRECTION_COLOURS[d]) for d in ("opening", "closing")]
        transitions = (
            bar_chart(
                "transitions",
                "Opening and closing transitions per month (all tracked dimensions)",
                axis,
                series,
                moves_data,
                y_label="Transitions",
                x_label="Month of the change",
                unit="transition",
                stacked=False,
            )
            + note
        )
    return spectrum, licences, transitions, summary


def _usage(con: duckdb.DuckDBPyConnection, rubric: dict[str, Any]) -> str:
    """Share of releases beside share of downloads by spectrum level in the latest month of
    marts.monthly_usage (all releases with counts, and those over the threshold), then a table of both
    shares by spectrum level, licence family and kind of openness."""
    if "monthly_usage" not in _mart_names(con):
        return _empty("No usage counts in this snapshot (marts.monthly_usage is missing).")
    rows = con.execute(USAGE_SQL, ["spectrum_level"]).fetchall()
    if not rows:
        return _empty("No usage counts in this snapshot (marts.monthly_usage is empty).")
    month = rows[0][0]
    over = f"releases with at least {USAGE_THRESHOLD} downloads"
    bars = []
    for population, name in (("all", "all releases"), ("over_threshold", over)):
        at = [r for r in rows if r[1] == population]
        bars.append((f"Releases ({name})", "release", {r[2]: r[3] for r in at}))
        bars.append((f"Downloads ({name})", "download", {r[2]: r[4] for r in at}))
    chart = share_chart(
        "usage_spectrum",
        f"Share of releases and of downloads by openness spectrum level, {month}",
        [b for b in bars if sum(b[2].values()) > 0 or b[1] == "release"],
        _spectrum_series(rubric),
    )
    table_rows = []
    for metric, label in (
        ("spectrum_level", "spectrum level"),
        ("license_family", "licence family"),
        ("openness_kind", "kind"),
    ):
        for _, population, value, releases, downloads, r_share, d_share in con.execute(
            USAGE_SQL, [metric]
        ).fetchall():
            table_rows.append(
                [
                    _e(label),
                    _e(value),
                    "all" if population == "all" else f"&ge; {USAGE_THRESHOLD}",
                    _e(releases),
                    f"{r_share:.1%}",
                    _e(downloads),
                    "" if d_share is None else f"{d_share:.1%}",
                ]
            )
    note = (
        f"<p class=\"note\">Downloads are the Hub's 30-day count as of each release's last crawl date in {month} "
        "(core.release_metrics); a release counts with its openness at the end of that day. Unweighted shares "
        "count releases; weighted shares count their downloads. Kind: open_source when the OSAID verdict is "
        "meets, open_weights at spectrum level 3 or above otherwise, other below. Read from "
        "marts.monthly_usage.</p>"
    )
    headers = [
        "metric",
        "value",
        "population",
        "releases",
        "share of releases",
        "downloads",
        "share of downloads",
    ]
    return chart + note + _table(headers, table_rows, "usage")


def _mart_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
            "UNION SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts'"
        ).fetchall()
    }


def _by_direction(counts: dict[str, int]) -> str:
    """'3 opening, 1 closing, ...': every direction with a count, in DIRECTION_NAMES order."""
    return ", ".join(f"{counts[d]} {name}" for d, name in DIRECTION_NAMES.items() if counts.get(d))


def _change_rows(rows: list[tuple], with_month: bool = False) -> list[list[str]]:
    out = []
    for at, repo, dim, a, b, d, url, rev in rows:
        if d == "to_unknown":  # one row for the dimensions that became unknown, named in from_value
            what, change = _e(str(a or "").replace(",", ", ")), "known → <i>unknown</i>"
        else:
            what, change = _e(dim), f"{_value(a)} → {_value(b)}"
        evidence = (
            _link(url, (rev or "commit")[:8])
            if url
            else "<i>none: commit id reconstructed, not on the Hub</i>"
        )
        out.append([_e(_ts(at)), _e(repo), what, change, _direction(d), evidence])
    return out


def _latest_transitions(con: duckdb.DuckDBPyConnection, not_short: str) -> str:
    rows = con.execute(LATEST_MONTH_SQL.replace("{not_short}", not_short), [MAX_ROWS]).fetchall()
    if not rows:
        return "<h3>Latest month</h3>" + _empty("No transitions recorded yet.")
    month = rows[0][0]
    counts = dict(con.execute(LATEST_MONTH_COUNTS_SQL.replace("{not_short}", not_short)).fetchall())
    total = sum(counts.values())
    table = _table(
        ["changed (UTC)", "release", "dimension", "from → to", "direction", "evidence"],
        _change_rows([r[1:] for r in rows]),
        "changes",
    )
    return (
        f"<h3>Latest month with transitions: {_e(month)}</h3>"
        f'<p class="note">{plural(total, "transition")}: {_e(_by_direction(counts))} '
        "(short-lived ones, undone within 24 hours, left out).</p>"
        + table
        + _more(total, len(rows), "transitions/*.parquet")
    )


def _movers(con: duckdb.DuckDBPyConnection, not_short: str) -> str:
    rows = con.execute(MOVERS_SQL.replace("{not_short}", not_short), [MAX_ROWS]).fetchall()
    if not rows:
        return _empty("No release has opened or closed on the spectrum or its licence family yet.")
    table = _table(
        ["changed (UTC)", "release", "dimension", "from → to", "direction", "evidence"],
        _change_rows([r[:-1] for r in rows]),
        "changes",
    )
    return table + _more(rows[0][-1], len(rows), "transitions/*.parquet")


def _orgs(con: duckdb.DuckDBPyConnection, not_short: str) -> str:
    rows = con.execute(ORGS_SQL, [MAX_ORGS]).fetchall()
    if not rows:
        return _empty("No scored releases yet.")
    latest = {r[0]: r[1:] for r in con.execute(ORG_CHANGE_SQL.replace("{not_short}", not_short)).fetchall()}
    out = []
    for org, n, levels, unknown, osai, _ in rows:
        cells = [_e(org), str(n)]
        for key, count in [*zip("012345", levels, strict=True), ("unknown", unknown)]:
            share = count / n
            # The cell's tint is the level's chart colour, as strong as the share, so columns read as a heatmap.
            rgb = ",".join(str(int(LEVEL_COLOURS[key][i : i + 2], 16)) for i in (1, 3, 5))
            cells.append(
                f'<span class="share" style="background:rgba({rgb},{0.15 + 0.7 * share:.2f})">{share:.0%}</span>'
                if count
                else '<span class="share zero">–</span>'
            )
        cells.append("" if osai is None else f"{osai:.2f}")
        change = latest.get(org)
        cells.append(
            ""
            if change is None
            else f"{_e(_ts(change[0])[:10])} {_direction(change[5])} {_e(change[1])}: {_e(change[2])} "
            f"{_value(change[3])} → {_value(change[4])}"
        )
        out.append(cells)
    headers = [
        "organisation",
        "releases",
        *[f"L{k}" for k in range(6)],
        "unknown",
        "mean European Open Source AI Index score",
        "latest change",
    ]
    return _table(headers, out, "orgs") + _more(
        rows[0][-1], len(rows), "releases/*.parquet and openness/*.parquet"
    )


TIMING_EVENTS = {
    "open_license": "open licence",
    "training_code": "training code",
    "open_data": "open training data",
    "own_paper": "own paper",
}
TIMING_SQL = """SELECT group_value, event, releases, with_weights, seen, timed, median_days, mean_days,
    max(releases) OVER (PARTITION BY group_value) AS n
FROM marts.time_to_openness_summary WHERE breakdown = ?
ORDER BY n DESC, group_value, event"""


def _days(value: object) -> str:
    return "–" if value is None else f"{float(value):g}"


def _time_to_openness(con: duckdb.DuckDBPyConnection) -> str:
    """Median days from the weights to each event, for all releases and the largest organisations."""
    if not _columns(con, "marts", "time_to_openness_summary"):
        return _empty("The time-to-openness mart is not in this warehouse.")
    overall = con.execute(TIMING_SQL, ["all"]).fetchall()
    if not overall:
        return _empty("No scored releases yet.")
    note = (
        '<p class="note">Days from a release\'s first weights to its first open licence, training code, open '
        "training data and own paper (marts.time_to_openness_summary; per release in time_to_openness/*.parquet). "
        "Only exact intervals count: both dates exact, i.e. the recorded revision just before each shows it "
        "absent. A history that starts with the weights already there, or with revisions whose files or card "
        "were not recorded, shows when an event was seen, not when it came: it is counted as seen, not "
        "timed. Negative days: the event came before the weights.</p>"
    )
    rows = [
        [
            _e(label),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            str(r[5]),
            _days(r[6]),
            _days(r[7]),
        ]
        for key, label in TIMING_EVENTS.items()
        for r in overall
        if r[1] == key
    ]
    headers = ["event", "releases", "with weights", "seen", "timed", "median days", "mean days"]
    orgs = con.execute(TIMING_SQL, ["org"]).fetchall()
    by_org: dict[str, dict[str, tuple]] = {}
    for r in orgs:
        by_org.setdefault(r[0], {})[r[1]] = r
    org_rows = [
        [_e(org), str(next(iter(events.values()))[2])]
        + [
            "–" if events.get(k) is None or not events[k][5] else f"{_days(events[k][6])} ({events[k][5]})"
            for k in TIMING_EVENTS
        ]
        for org, events in list(by_org.items())[:MAX_ORGS]
    ]
    org_table = _table(
        ["organisation", "releases", *[f"median days to {v} (timed)" for v in TIMING_EVENTS.values()]],
        org_rows,
        "orgs",
    )
    return (
        note
        + _table(headers, rows, "timing")
        + org_table
        + _more(len(by_org), len(org_rows), "time_to_openness/*.parquet")
    )


def _quality(manifest: dict | None) -> str:
    checks = (manifest or {}).get("checks")
    if not isinstance(checks, dict):
        return _empty("No quality results were given to this report (see QUALITY.md in the snapshot).")
    suites = checks.get("suites") or {}
    gates = (checks.get("gates") or {}).get("gates") or []
    ok = sum(1 for s in suites.values() if isinstance(s, dict) and s.get("success"))
    gates_ok = sum(1 for g in gates if isinstance(g, dict) and g.get("passed"))
    verdict = "passed" if checks.get("passed") else "failed"
    parts = [
        f'<p><span class="badge {verdict}">Checks {verdict}</span> {ok} of '
        f"{plural(len(suites), 'table suite')} passed, {gates_ok} of {plural(len(gates), 'snapshot gate')} "
        "passed.</p>"
    ]

    def mark(flag: object) -> str:
        return '<span class="pass">✓ passed</span>' if flag else '<span class="fail">✗ failed</span>'

    if suites:
        rows = [
            [
                _e(t),
                mark(s.get("success")) if s.get("present", True) else "table absent",
                _e(s.get("successful")),
                _e(s.get("evaluated")),
            ]
            for t, s in sorted(suites.items())
            if isinstance(s, dict)
        ]
        parts.append(_table(["table", "suite", "expectations met", "evaluated"], rows, "quality"))
    if gates:
        rows = [
            [
                _e(g.get("name")),
                mark(g.get("passed")),
                "—" if g.get("value") is None else _e(g.get("value")),
                _e(g.get("threshold")),
                _e(g.get("reason")),
            ]
            for g in gates
            if isinstance(g, dict)
        ]
        parts.append(_table(["gate", "result", "value", "threshold", "reason"], rows, "quality"))
    override = (checks.get("gates") or {}).get("override")
    if override:
        parts.append(f'<p class="note">Gates overridden: {_e(override)}</p>')
    return "\n".join(parts)


def _header(title: str, manifest: dict | None, summary: str) -> str:
    m = manifest or {}
    window = m.get("crawl_window") if isinstance(m.get("crawl_window"), dict) else {}
    facts = [
        ("snapshot", m.get("version")),
        ("rubric", m.get("rubric_version")),
        ("schema", m.get("schema_version")),
        ("published", m.get("published_at")),
        ("crawl window", f"{window.get('from') or '?'} to {window.get('to') or '?'}" if window else None),
    ]
    meta = " · ".join(f"{k} <b>{_e(v)}</b>" for k, v in facts if v not in (None, ""))
    source = source_sentences(m.get("source") if isinstance(m.get("source"), dict) else None)
    return (
        f"<header><h1>{_e(title)}</h1>"
        + (f'<p class="meta">{meta}</p>' if meta else "")
        + "".join(f'<p class="source">{_e(line)}</p>' for line in source)
        + (f'<p class="summary">{_e(summary)}</p>' if summary else "")
        + "</header>"
    )


CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0; background: #fff; }
main { max-width: 1000px; margin: 0 auto; padding: 16px 24px 48px; font-size: 14px; line-height: 1.45; }
h1 { font-size: 24px; margin: 8px 0; } h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 16px 0 6px; } .meta, .note { color: #555; } .summary { font-size: 15px; }
.source { color: #7a4100; background: #fff6e8; padding: 4px 8px; margin: 4px 0; }
nav a { margin-right: 12px; } .empty { color: #777; font-style: italic; padding: 12px; background: #f6f6f6; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td { overflow-wrap: anywhere; } code { font-size: 12px; }
.dir { white-space: nowrap; } .dir-opening, .pass { color: #1b7837; } .dir-closing, .fail { color: #b2182b; }
.dir-lateral, .dir-other { color: #666; } .dir-to_unknown { color: #666; font-style: italic; } .badge { padding: 2px 8px; border-radius: 4px; color: #fff; }
.badge.passed { background: #1b7837; } .badge.failed { background: #b2182b; }
.sw { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; }
.share { display: inline-block; min-width: 38px; text-align: right; padding: 0 3px; white-space: nowrap; }
.share.zero { color: #bbb; } .meta b { white-space: nowrap; }
table.orgs td:nth-child(n+2):nth-child(-n+10) { text-align: right; }
"""


def render_report(
    con: duckdb.DuckDBPyConnection, manifest: dict | None = None, *, title: str = "Openness Tracker"
) -> str:
    """One self-contained HTML page (inline CSS and SVG) summarising the warehouse behind a snapshot."""
    rubric = load_rubric()
    spectrum, licences, transitions, summary = _charts(con, rubric)
    cols = _columns(con, "core", "transitions")
    has_core = bool(cols) and bool(_columns(con, "core", "openness"))
    not_short = _NOT_SHORT["short_lived" in cols]
    missing = _empty("The core openness and transitions tables are not in this warehouse.")
    sections = [
        ("spectrum", "Openness spectrum over time", spectrum + _definitions(rubric)),
        ("licences", "Licence families over time", licences),
        ("usage", "Usage: shares of releases and of downloads", _usage(con, rubric)),
        (
            "transitions",
            "Transitions",
            transitions + (_latest_transitions(con, not_short) if cols else missing),
        ),
        (
            "movers",
            "Releases that opened or closed",
            '<p class="note">Latest opening or closing change of each release\'s spectrum level and licence family '
            "(short-lived changes left out), newest first.</p>"
            + (_movers(con, not_short) if cols else missing),
        ),
        (
            "orgs",
            "Organisations",
            '<p class="note">Current releases per organisation (deleted ones left out), '
            "the share at each spectrum level (L0 to L5), the mean European Open Source AI Index score, and the "
            "latest spectrum or licence-family change.</p>"
            + (_orgs(con, not_short) if has_core else missing),
        ),
        ("timing", "Time to openness", _time_to_openness(con)),
        ("quality", "Quality checks", _quality(manifest)),
    ]
    nav = "<nav>" + "".join(f'<a href="#{k}">{_e(h)}</a>' for k, h, _ in sections) + "</nav>"
    body = "\n".join(f'<section id="{k}"><h2>{_e(h)}</h2>\n{html}\n</section>' for k, h, html in sections)
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}{CHART_CSS}</style></head>\n<body><main>\n"
        f"{_header(title, manifest, summary)}\n{nav}\n{body}\n"
        '<footer class="note"><p>Generated by Openness Tracker from the snapshot\'s tables; the charts '
        "read marts.monthly_openness, marts.monthly_transitions and marts.monthly_usage. No script, no external resources.</p>"
        "</footer>\n</main></body></html>\n"
    )
