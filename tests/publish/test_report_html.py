"""The snapshot's HTML report: charts that match the data, escaping of untrusted values, and a real render.

The warehouse is built here with hand-made rows over five months, so every expected bar count below is
worked out by hand from the rows (see the comments), not recomputed the way the report computes it.
Chromium (Debian's `chromium`, installed by `.ci/install-chromium`) renders the page headless; without it
the render test is skipped and the string-level tests still run.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.publish.report_html import render_report
from pipelines.storage.warehouse import migrate, sql_text

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PROBE_REPO = "org/<script>alert(1)</script>"
PROBE_FAMILY = '"><img src=x onerror=alert(2)>'
OPENNESS_DDL = """CREATE TABLE core.openness (repo_id VARCHAR, revision VARCHAR, valid_from TIMESTAMPTZ,
    valid_to TIMESTAMPTZ, spectrum_level TINYINT, license_family VARCHAR, license_id VARCHAR, mof_class TINYINT,
    osai_score DOUBLE, osaid VARCHAR, release_level VARCHAR, rubric_version VARCHAR)"""
TRANSITIONS_DDL = """CREATE TABLE core.transitions (repo_id VARCHAR, changed_at TIMESTAMPTZ, dimension VARCHAR,
    from_value VARCHAR, to_value VARCHAR, direction VARCHAR, from_revision VARCHAR, to_revision VARCHAR,
    evidence_url VARCHAR, short_lived BOOLEAN)"""
RELEASES = [
    ("acme/alpha", "acme"),
    ("acme/beta", "acme"),
    ("zeta/gamma", "zeta"),
    ("zeta/delta", "zeta"),
    (PROBE_REPO, "org"),
]
# repo, revision, valid_from, valid_to, spectrum level, licence family, OSAI score
OPENNESS = [
    ("acme/alpha", "a1", "2024-01-10", "2024-03-05 10:00", 1, "non-commercial", 0.2),
    ("acme/alpha", "a2", "2024-03-05 10:00", None, 3, "osi-permissive", 0.4),
    ("acme/beta", "b1", "2024-01-20", "2024-04-02 12:00", 3, "osi-permissive", 0.3),
    ("acme/beta", "b2", "2024-04-02 12:00", None, 2, "community", 0.3),
    ("zeta/gamma", "g1", "2024-02-15", None, 5, "osi-permissive", 0.8),
    (PROBE_REPO, "s1", "2024-02-01", "2024-05-03 09:00", None, PROBE_FAMILY, None),
    (PROBE_REPO, "s2", "2024-05-03 09:00", None, 0, "proprietary", 0.1),
    ("zeta/delta", "d1", "2024-05-10", None, 4, "open-data", 0.6),
]
HUB = "https://huggingface.co/"
# repo, changed_at, dimension, from, to, direction, to_revision, evidence URL, short-lived
TRANSITIONS = [
    (
        "acme/alpha",
        "2024-03-05 10:00",
        "spectrum_level",
        "1",
        "3",
        "opening",
        "a2",
        HUB + "acme/alpha/commit/a2",
        False,
    ),
    (
        "acme/alpha",
        "2024-03-05 10:00",
        "license_family",
        "non-commercial",
        "osi-permissive",
        "opening",
        "a2",
        HUB + "acme/alpha/commit/a2",
        False,
    ),
    (
        "acme/beta",
        "2024-04-02 12:00",
        "spectrum_level",
        "3",
        "2",
        "closing",
        "b2",
        HUB + "acme/beta/commit/b2",
        False,
    ),
    (
        "acme/beta",
        "2024-04-02 12:00",
        "license_family",
        "osi-permissive",
        "community",
        "closing",
        "b2",
        HUB + "acme/beta/commit/b2",
        False,
    ),
    (
        "acme/beta",
        "2024-05-15 08:00",
        "gated",
        "false",
        "manual",
        "closing",
        "b3",
        HUB + "acme/beta/commit/b3",
        False,
    ),
    (  # the card became unreadable: one change to unknown naming the dimensions (not drawn, not a mover)
        "acme/beta",
        "2024-05-18 08:00",
        "dimensions",
        "license_id,osaid",
        None,
        "to_unknown",
        "b4",
        HUB + "acme/beta/commit/b4",
        False,
    ),
    (
        PROBE_REPO,
        "2024-05-03 09:00",
        "spectrum_level",
        None,
        "0",
        "lateral",
        "s2",
        "javascript:alert(3)",
        False,
    ),
    (
        PROBE_REPO,
        "2024-05-03 09:00",
        "license_family",
        PROBE_FAMILY,
        "proprietary",
        "lateral",
        "s2",
        "javascript:alert(3)",
        False,
    ),
    (
        "zeta/gamma",
        "2024-05-20 08:00",
        "license_family",
        "osi-permissive",
        "proprietary",
        "closing",
        "g2",
        HUB + "zeta/gamma/commit/g2",
        True,
    ),
    (
        "zeta/gamma",
        "2024-05-20 09:00",
        "license_family",
        "proprietary",
        "osi-permissive",
        "opening",
        "g3",
        HUB + "zeta/gamma/commit/g3",
        True,
    ),
]
# Month-end states: Jan {L1, L3}; Feb {L1, L3, L5, unknown}; Mar {L3 x2, L5, unknown}; Apr {L2, L3, L5, unknown};
# May {L0, L2, L3, L4, L5}.
SPECTRUM_BARS = 2 + 4 + 3 + 4 + 5
# Jan {nc, permissive}; Feb {nc, permissive, probe}; Mar {permissive, probe}; Apr {permissive, community, probe};
# May {permissive, community, proprietary, open-data}.
LICENCE_BARS = 2 + 3 + 2 + 3 + 4
# Mar: opening; Apr: closing; May: closing (gated). The short-lived pair and the lateral changes are not drawn.
TRANSITION_BARS = 3
MANIFEST = {
    "version": "2024-05-31.1",
    "rubric_version": "test",
    "checks": {
        "passed": False,
        "suites": {
            "releases": {"success": True, "evaluated": 3, "successful": 3},
            "openness": {"success": False, "evaluated": 4, "successful": 2},
        },
        "gates": {
            "passed": False,
            "gates": [
                {"name": "release_drop", "passed": True, "value": 0.0, "threshold": 0.05, "reason": "ok"},
                {
                    "name": "spectrum_flip",
                    "passed": False,
                    "value": 0.5,
                    "threshold": 0.2,
                    "reason": "<b>half</b> flipped",
                },
            ],
        },
    },
}


def build_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A migrated DuckDB file with the rows above and the marts computed by the project's SQL files."""
    con = duckdb.connect(str(path))
    con.execute("SET TimeZone = 'UTC'")  # month boundaries of the marts follow the session's time zone
    migrate(con)
    con.execute(OPENNESS_DDL)
    con.execute(TRANSITIONS_DDL)
    for repo, org in RELEASES:
        con.execute(
            "INSERT INTO core.releases (repo_id, org, name, first_seen, last_seen, modality) "
            "VALUES (?, ?, ?, '2024-01-01', '2024-05-31', 'text')",
            [repo, org, repo.split("/", 1)[1]],
        )
    con.executemany(
        "INSERT INTO core.openness (repo_id, revision, valid_from, valid_to, spectrum_level, "
        "license_family, osai_score, rubric_version) VALUES (?, ?, ?, ?, ?, ?, ?, 'test')",
        OPENNESS,
    )
    con.executemany(
        "INSERT INTO core.transitions (repo_id, changed_at, dimension, from_value, to_value, direction, "
        "to_revision, evidence_url, short_lived) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        TRANSITIONS,
    )
    create_marts(con)
    return con


def create_marts(con: duckdb.DuckDBPyConnection) -> None:
    """marts.monthly_openness and marts.monthly_transitions from the project's SQL files."""
    con.execute("CREATE SCHEMA marts")
    # The mart's rule stated over the core tables in one query (the build keeps it by difference).
    reference = (Path(__file__).parents[1] / "history" / "monthly_openness_reference.sql").read_text()
    con.register("mart_rows", con.sql(reference).pl())
    con.execute("CREATE TABLE marts.monthly_openness AS SELECT * FROM mart_rows")
    con.register("mart_rows", con.sql(sql_text("marts/monthly_transitions.sql")).pl())
    con.execute("CREATE TABLE marts.monthly_transitions AS SELECT * FROM mart_rows")
    con.unregister("mart_rows")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("report")
    build_warehouse(folder / "work.duckdb").close()
    shutil.copyfile(folder / "work.duckdb", folder / "copy.duckdb")  # render from a copy, read-only
    con = duckdb.connect(str(folder / "copy.duckdb"), read_only=True)
    try:
        return render_report(con, MANIFEST, title="Test <report>")
    finally:
        con.close()


class Page(HTMLParser):
    """Counts the elements the tests look for: bars per chart, scripts, images, links and table rows."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.bars: dict[str, int] = {}
        self.charts: dict[str, dict[str, str | None]] = {}
        self.chart: str | None = None
        self.tags: dict[str, int] = {}
        self.hrefs: list[str] = []
        self.sources = 0
        self.section: str | None = None
        self.rows: dict[str, int] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.sources += sum(1 for k in a if k in ("src", "srcset", "xlink:href", "data", "background"))
        if tag == "section":
            self.section = a.get("id")
        if tag == "svg" and "data-chart" in a:
            self.chart = a["data-chart"]
            self.charts[self.chart] = a
        if tag == "rect" and self.chart and "bar" in (a.get("class") or "").split():
            self.bars[self.chart] = self.bars.get(self.chart, 0) + 1
        if tag == "a":
            self.hrefs.append(a.get("href") or "")
        if tag == "tr" and self.section:
            self.rows[self.section] = self.rows.get(self.section, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.chart = None


def check_page(html: str) -> Page:
    """The assertions shared by the HTML string and the DOM Chromium built from it."""
    page = Page(html)
    assert page.bars == {
        "spectrum": SPECTRUM_BARS,
        "licence_families": LICENCE_BARS,
        "transitions": TRANSITION_BARS,
    }
    for name, attrs in page.charts.items():
        assert attrs.get("role") == "img" and attrs.get("aria-label"), name
    assert (
        page.tags.get("script", 0) == 0 and page.tags.get("img", 0) == 0 and page.tags.get("iframe", 0) == 0
    )
    # No external resources: nothing with a source, no stylesheet links (and a CSP forbids loading besides).
    assert (
        page.sources == 0 and page.tags.get("link", 0) == 0 and "@import" not in html and "url(" not in html
    )
    assert all(h.startswith(("#", "https://huggingface.co/")) for h in page.hrefs), page.hrefs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "javascript:" not in html.lower()  # the probe's evidence URL is not made a link, nor shown
    return page


def test_report_matches_the_data_and_escapes_untrusted_values(report: str) -> None:
    page = check_page(report)
    assert "<script" not in report.lower() and "<img" not in report.lower()
    assert "<title>Test &lt;report&gt;</title>" in report
    assert "default-src 'none'" in report
    assert "2024-01 · 1 weights without reuse rights: 1 release (50% of 2)" in report  # a tooltip
    assert " 1 releases" not in report and " 1 transitions" not in report
    assert "mean European Open Source AI Index score" in report and "OSAI score" not in report
    # Latest month (May): the gated change, the probe's two lateral changes and the change to unknown; the
    # short-lived pair is left out.
    latest = report[report.index("Latest month with transitions: 2024-05") : report.index('id="movers"')]
    assert latest.count("<tr>") == 1 + 4 and "zeta/gamma" not in latest
    assert "4 transitions: 1 closing, 2 lateral, 1 to unknown" in latest
    assert "license_id, osaid</td><td>known → <i>unknown</i>" in latest and "▲ to unknown" not in latest
    movers = report[report.index('id="movers"') : report.index('id="orgs"')]
    assert movers.count("<tr>") == 1 + 4 and movers.count("▲ opening") == 2 and movers.count("▼ closing") == 2
    assert page.rows["orgs"] == 1 + 3  # acme, zeta, org
    quality = report[report.index('id="quality"') :]
    assert (
        "Checks failed" in quality and "1 of 2 table suites" in quality and "1 of 2 snapshot gates" in quality
    )
    assert "&lt;b&gt;half&lt;/b&gt; flipped" in quality


def test_the_charts_and_tables_agree_with_the_mart(report: str) -> None:
    """The transitions chart's bars, the totals under it and the latest month's table give the same counts,
    those of marts.monthly_transitions (worked out by hand from TRANSITIONS: March 2 openings, April 2
    closings, May 1 closing; the pair undone within a day, 2 lateral changes and 1 change to unknown apart)."""
    import re

    section = report[report.index('id="transitions"') : report.index('id="movers"')]
    bars = re.findall(r"<title>(\d{4}-\d{2}) · (opening|closing): (\d+) transitions?</title>", section)
    assert sorted(bars) == [
        ("2024-03", "opening", "2"),
        ("2024-04", "closing", "2"),
        ("2024-05", "closing", "1"),
    ]
    drawn = {d: sum(int(n) for _, dd, n in bars if dd == d) for d in ("opening", "closing")}
    assert (
        f"In all (marts.monthly_transitions): {drawn['opening']} opening, {drawn['closing']} closing, "
        in section
    )
    assert "2 opening, 3 closing, 2 lateral, 1 to unknown;" in section and "2 short-lived changes" in section
    may = re.search(r"(\d+) transitions: (\d+) closing, (\d+) lateral, (\d+) to unknown", section)
    assert may and int(may[1]) == int(may[2]) + int(may[3]) + int(may[4])
    assert ("2024-05", "closing", may[2]) in bars  # the month's closings in the table are the chart's bar


def test_report_is_deterministic(tmp_path: Path, report: str) -> None:
    con = build_warehouse(tmp_path / "again.duckdb")
    try:
        assert render_report(con, MANIFEST, title="Test <report>") == report
    finally:
        con.close()


@pytest.mark.parametrize("tables", ["none", "empty"])
def test_missing_or_empty_tables_give_messages(tmp_path: Path, tables: str) -> None:
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    migrate(con)
    if tables == "empty":
        con.execute(OPENNESS_DDL)
        con.execute(TRANSITIONS_DDL)
        create_marts(con)
    html = render_report(con, None)
    con.close()
    assert "data-chart=" not in html and "<rect" not in html
    assert "No monthly openness data" in html and "No quality results" in html
    assert html.count('class="empty"') >= 5


def test_no_licence_and_unknown_licence_are_two_bars_with_their_own_names(tmp_path: Path) -> None:
    """One month, one release without a licence (`none`) and one with an unplaceable licence (`unknown`):
    the licence chart shows them as two bars, each named for what it means (once, they were one key)."""
    con = duckdb.connect(str(tmp_path / "vocab.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)
    con.execute(OPENNESS_DDL)
    con.execute(TRANSITIONS_DDL)
    for repo in ("acme/bare", "acme/odd"):
        con.execute(
            "INSERT INTO core.releases (repo_id, org, name, first_seen, last_seen, modality) "
            "VALUES (?, 'acme', ?, '2024-01-01', '2024-01-31', 'text')",
            [repo, repo.split("/")[1]],
        )
    con.executemany(
        "INSERT INTO core.openness (repo_id, revision, valid_from, spectrum_level, license_family, "
        "rubric_version) VALUES (?, ?, '2024-01-10', ?, ?, 'test')",
        [("acme/bare", "b1", 1, "none"), ("acme/odd", "o1", None, "unknown")],
    )
    create_marts(con)
    html = render_report(con, None)
    con.close()
    chart = html.split('data-chart="licence_families"', 1)[1].split("</svg>", 1)[0]
    bars = {p.split('"', 1)[0]: p for p in chart.split('data-series="')[1:]}
    assert set(bars) == {"none", "unknown"}
    assert 'data-value="1"' in bars["none"] and "none (no licence declared): 1 release " in bars["none"]
    assert 'data-value="1"' in bars["unknown"] and "unknown (unmapped or undecidable): 1" in bars["unknown"]


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and pixel rows of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
        elif kind == b"IDAT":
            idat.append(body)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(b"".join(idat)), width * bpp, []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((x + u) & 255 for x, u in zip(line, prev, strict=True))
        elif kind in (3, 4):
            for i in range(stride):
                a, b, c = (line[i - bpp], prev[i], prev[i - bpp]) if i >= bpp else (0, prev[i], 0)
                if kind == 3:
                    line[i] = (line[i] + (a + b) // 2) & 255
                    continue
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3))
        prev = line
    return width, height, rows


def chromium(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )


@pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Chromium is not installed (run .ci/install-chromium); string-level tests still ran",
)
def test_chromium_renders_the_report(report: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, png = ARTIFACTS / "report.html", ARTIFACTS / "report.png"
    page.write_text(report, encoding="utf-8")
    png.unlink(missing_ok=True)
    chromium(f"--screenshot={png}", "--window-size=1280,2000", page.as_uri())
    dom = chromium("--dump-dom", page.as_uri()).stdout
    check_page(dom)
    assert "<script" not in dom.lower()

    width, height, rows = decode_png(png.read_bytes())
    assert (width, height) == (1280, 2000)
    white = b"\xff\xff\xff"
    inked = sum(
        1 for row in rows for i in range(0, len(row), 12) if row[i : i + 3] != white
    )  # every 4th pixel
    assert inked > 0.02 * width * height / 4, f"screenshot looks blank ({inked} sampled pixels not white)"
    colours = {row[i : i + 3] for row in rows[::8] for i in range(0, len(row), 24)}
    assert len(colours) > 10, "screenshot has too few colours to hold the charts"
