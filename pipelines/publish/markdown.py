"""Small Markdown renderings of frames for run metadata, dataset cards and reports."""

from __future__ import annotations

import polars as pl


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")[:120]


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """A count with its noun in the right number: `1 release`, `2 releases` (`nouns` for an irregular plural)."""
    return f"{n} {noun if n == 1 else (nouns or noun + 's')}"


def frame_to_markdown(frame: pl.DataFrame, max_rows: int = 20) -> str:
    """A GitHub-style Markdown table of the first rows of a frame."""
    if frame.width == 0:
        return "(no columns)"
    head = frame.head(max_rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * head.width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in head.iter_rows()]
    if frame.height > max_rows:
        lines.append(f"\n({plural(frame.height - max_rows, 'more row')})")
    if frame.height == 0:
        lines.append("(no rows)")
    return "\n".join(lines)
