"""Inline SVG bar charts (stacked or grouped, one slot per period) for the self-contained HTML report.

Plain string building, no plotting library: the report must open offline with no JavaScript, and the same
data must give the same bytes. Every text that may come from data (period labels, series labels) is
escaped; colours and numbers are produced here, never taken from data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from pipelines.publish.markdown import plural

WIDTH = 960
PLOT_HEIGHT = 260
LEFT, RIGHT, BOTTOM = 64, 16, 58
LEGEND_ROW = 20
CHAR_WIDTH = 6.6  # approximate width of one 12px character, to wrap legend rows without measuring text

LEVEL_COLOURS = {
    "0": "#b2182b",
    "1": "#e66101",
    "2": "#fdb863",
    "3": "#92c5de",
    "4": "#4393c3",
    "5": "#2166ac",
    "unknown": "#bdbdbd",
}
FAMILY_COLOURS = {
    "osi-permissive": "#1b7837",
    "open-data": "#5aae61",
    "osi-copyleft": "#a6dba0",
    "responsible-ai": "#c2a5cf",
    "community": "#9970ab",
    "non-commercial": "#e08214",
    "proprietary": "#b2182b",
    "none": "#67001f",  # no licence declared (catalogue.NO_LICENCE): nothing granted
    "unknown": "#bdbdbd",
}
FAMILY_LABELS = {"none": "none (no licence declared)", "unknown": "unknown (unmapped or undecidable)"}
EXTRA_COLOURS = ("#8c510a", "#01665e", "#de77ae", "#4d4d4d", "#fee08b", "#35978f")
DIRECTION_COLOURS = {"opening": "#1b7837", "closing": "#b2182b"}


@dataclass(frozen=True)
class Series:
    """One series of a chart: the key in the data, its legend label and its colour."""

    key: str
    label: str
    colour: str


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(x: float) -> str:
    # Two decimals at most, so that the same data always gives the same bytes and the file stays small.
    return f"{x:.2f}".rstrip("0").rstrip(".")


def nice_ticks(top: int) -> list[int]:
    """Round, evenly spaced integer ticks from 0 to at least `top` (about five of them)."""
    if top <= 0:
        return [0, 1]
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude)
    step = max(1, int(step))
    return list(range(0, step * math.ceil(top / step) + 1, step))


def _legend(series: Sequence[Series]) -> tuple[list[str], int]:
    """Legend swatches and labels wrapped into rows; returns the SVG parts and the height used."""
    parts, x, y = [], LEFT, 14
    for s in series:
        width = 18 + CHAR_WIDTH * len(s.label) + 18
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + LEGEND_ROW
        parts.append(
            f'<rect class="swatch" x="{_n(x)}" y="{y - 10}" width="12" height="12" fill="{s.colour}"/>'
            f'<text x="{_n(x + 18)}" y="{y}" class="legend">{_e(s.label)}</text>'
        )
        x += width
    return parts, y + 14


def _x_labels(periods: Sequence[str], slot: float, top: float) -> list[str]:
    # Label every k-th period so that labels never overlap, however long the history gets.
    every = max(1, math.ceil(len(periods) * 62 / (WIDTH - LEFT - RIGHT)))
    parts = []
    for i, period in enumerate(periods):
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(top)}" y2="{_n(top + (5 if i % every == 0 else 2))}" '
            'class="tick"/>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{_n(x)}" y="{_n(top + 18)}" text-anchor="middle" class="axis">{_e(period)}</text>'
            )
    return parts


def bar_chart(
    name: str,
    title: str,
    periods: Sequence[str],
    series: Sequence[Series],
    values: Mapping[tuple[str, str], int],
    *,
    y_label: str,
    x_label: str,
    unit: str,
    stacked: bool = True,
) -> str:
    """An accessible inline SVG bar chart: one rect (class `bar`) per non-zero (period, series) value.

    `unit` is the singular noun of what is counted ("release"); each bar's tooltip gives its count with it.
    """
    legend, legend_height = _legend(series)
    top = legend_height + 10
    plot_w = WIDTH - LEFT - RIGHT
    bottom = top + PLOT_HEIGHT
    height = bottom + BOTTOM
    totals = {p: sum(values.get((p, s.key), 0) for s in series) for p in periods}
    peak = (
        max(totals.values(), default=0)
        if stacked
        else max((values.get((p, s.key), 0) for p in periods for s in series), default=0)
    )
    ticks = nice_ticks(peak)
    scale = PLOT_HEIGHT / ticks[-1]
    slot = plot_w / max(1, len(periods))
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" data-chart="{_e(name)}" class="chart" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{_e(title)}</title>",
        *legend,
    ]
    for t in ticks:
        y = bottom - t * scale
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_n(y)}" y2="{_n(y)}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{_n(y + 4)}" text-anchor="end" class="axis">{t}</text>'
        )
    for i, period in enumerate(periods):
        # Bars keep a readable width when there are only a few months.
        group_w = min(slot * 0.8, 72.0)
        x0, base = LEFT + slot * i + (slot - group_w) / 2, bottom
        for j, s in enumerate(series):
            v = values.get((period, s.key), 0)
            if v <= 0:
                continue
            h = v * scale
            if stacked:
                x, w, y = x0, group_w, base - h
                base -= h
                share = f" ({v / totals[period]:.0%} of {totals[period]})"
            else:
                w = group_w / len(series)
                x, y, share = x0 + j * w, bottom - h, ""
            parts.append(
                f'<rect class="bar" data-period="{_e(period)}" data-series="{_e(s.key)}" data-value="{v}" '
                f'x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0.5))}" height="{_n(h)}" fill="{s.colour}">'
                f"<title>{_e(period)} · {_e(s.label)}: {_e(plural(v, unit))}{share}</title></rect>"
            )
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" class="axis-line"/>')
    parts += _x_labels(periods, slot, bottom)
    parts.append(
        f'<text x="{_n(LEFT + plot_w / 2)}" y="{_n(height - 8)}" text-anchor="middle" class="axis-title">'
        f"{_e(x_label)}</text>"
    )
    parts.append(
        f'<text transform="translate(16 {_n(top + PLOT_HEIGHT / 2)}) rotate(-90)" text-anchor="middle" '
        f'class="axis-title">{_e(y_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def share_chart(
    name: str,
    title: str,
    rows: Sequence[tuple[str, str, Mapping[str, int]]],
    series: Sequence[Series],
) -> str:
    """An accessible inline SVG of 100% stacked horizontal bars: one bar per row, each split into the shares
    of its series (one rect, class `bar`, per non-zero part, its `data-value` the count).

    `rows` are (label, unit, counts by series key): a bar of releases beside one of downloads compares the
    unweighted share with the weighted one. A row whose counts total 0 is drawn as an empty bar.
    """
    legend, legend_height = _legend(series)
    label_w, bar_h, gap = 220, 26, 12
    top = legend_height + 10
    plot_w = WIDTH - LEFT - RIGHT - label_w
    height = top + len(rows) * (bar_h + gap) + 30
    x_left = LEFT + label_w
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" data-chart="{_e(name)}" class="chart" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{_e(title)}</title>",
        *legend,
    ]
    for pct in (0, 25, 50, 75, 100):
        x = x_left + plot_w * pct / 100
        bottom = top + len(rows) * (bar_h + gap)
        parts.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{top}" y2="{_n(bottom)}" class="grid"/>'
            f'<text x="{_n(x)}" y="{_n(bottom + 16)}" text-anchor="middle" class="axis">{pct}%</text>'
        )
    for i, (label, unit, counts) in enumerate(rows):
        y = top + i * (bar_h + gap) + gap / 2
        parts.append(
            f'<text x="{_n(x_left - 8)}" y="{_n(y + bar_h / 2 + 4)}" text-anchor="end" class="axis">'
            f"{_e(label)}</text>"
        )
        total = sum(max(counts.get(s.key, 0), 0) for s in series)
        x = float(x_left)
        for s in series:
            v = counts.get(s.key, 0)
            if v <= 0 or total <= 0:
                continue
            w = plot_w * v / total
            parts.append(
                f'<rect class="bar" data-row="{_e(label)}" data-series="{_e(s.key)}" data-value="{v}" '
                f'x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0.5))}" height="{bar_h}" fill="{s.colour}">'
                f"<title>{_e(label)} · {_e(s.label)}: {_e(plural(v, unit))} ({v / total:.1%})</title></rect>"
            )
            x += w
    parts.append("</svg>")
    return "\n".join(parts)


def month_range(months: set[str]) -> list[str]:
    """Every month (`YYYY-MM`) from the first to the last given: gaps stay visible as empty slots."""
    first, last = min(months), max(months)
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def family_series(seen: set[str]) -> list[Series]:
    """Licence-family series in openness order down to `none` (no licence declared), then values the
    catalogue does not know, then unknown."""
    known = [f for f in FAMILY_COLOURS if f != "unknown"]
    extra = sorted(seen - set(FAMILY_COLOURS))
    out = [Series(f, FAMILY_LABELS.get(f, f), FAMILY_COLOURS[f]) for f in known]
    out += [Series(f, f, EXTRA_COLOURS[i % len(EXTRA_COLOURS)]) for i, f in enumerate(extra)]
    return out + [Series("unknown", FAMILY_LABELS["unknown"], FAMILY_COLOURS["unknown"])]


CHART_CSS = """
svg.chart { max-width: 960px; height: auto; display: block; font-family: inherit; }
svg.chart .legend, svg.chart .axis { font-size: 12px; fill: #333; }
svg.chart .axis-title { font-size: 12px; fill: #555; font-style: italic; }
svg.chart .grid { stroke: #e4e4e4; stroke-width: 1; }
svg.chart .tick, svg.chart .axis-line { stroke: #888; stroke-width: 1; }
svg.chart rect.bar { stroke: #fff; stroke-width: 0.5; }
svg.chart rect.bar:hover { stroke: #000; stroke-width: 1.5; }
"""
