"""The output of `openness show`: one aligned text block per release for people, or one JSON object per
release and line for programs (pipelines/publish/show.py makes the records both print)."""

from __future__ import annotations

import json
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import duckdb

from pipelines.publish.show import OSAI_CRITERIA, UNKNOWN, ShowError, UnknownRelease, lookup, open_source


def _shown(value: object) -> str:
    """A value as the text shows it: unknown for null, yes/no for booleans."""
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _spectrum_names() -> dict[int, str]:
    from pipelines.openness.rubric import load_rubric

    with suppress(Exception):  # a name is a nicety: the level alone still answers
        return {int(lvl["level"]): str(lvl.get("name", "")) for lvl in load_rubric()["spectrum_levels"]}
    return {}


def _licence_text(lic: dict[str, Any]) -> str:
    if lic["id"] is None and lic["family"] is None:
        return UNKNOWN
    text = f"{_shown(lic['id'])} ({_shown(lic['family'])})"
    if lic["source"]:
        text += f", from the {'licence files' if lic['source'] == 'files' else lic['source']}"
    if lic["status"] and lic["status"] != "mapped":
        text += f", {lic['status']}"
    return text


def render_text(record: dict[str, Any], spectrum_names: dict[int, str] | None = None) -> str:
    """One release as an aligned block of text (verdicts, evidence, timeline)."""
    names = _spectrum_names() if spectrum_names is None else spectrum_names
    lic, mof, osai = record["license"], record["mof"], record["osai_index"]
    level = record["spectrum_level"]
    level_text = _shown(level) + (f" ({names[level]})" if level in names else "")
    declared = (
        "none declared"
        if record["license"]["declared_family"] == "none"
        else f"{_shown(lic['declared_id'])} ({_shown(lic['declared_family'])})"
    )
    files = f"{_shown(lic['file_id'])} ({_shown(lic['file_family'])})" if lic["file_id"] else "none read"
    progress = ", ".join(
        f"{n}: {UNKNOWN if p is None else f'{round(p, 1):g}%'}" for n, p in mof["progress"].items()
    )
    mof_text = (
        UNKNOWN if mof["class"] is None else f"{mof['class']} ({_shown(mof['label'])}); progress {progress}"
    )
    osaid = record["osaid"]
    osaid_text = _shown(osaid["verdict"])
    if osaid["unmet"]:
        osaid_text += f"; unmet: {', '.join(osaid['unmet'])}"
    score = osai["score"]
    index_text = (
        UNKNOWN
        if score is None
        else f"{score:.3f} over {_shown(osai['decided'])} of {len(osai['criteria'])} criteria decided"
    )
    revision = record["revision"]
    rev_text = UNKNOWN if revision is None else f"{revision[:12]} of {_date(record['committed_at'])}"
    rows: list[tuple[str, str]] = [
        ("revision", rev_text + (f"  {record['revision_url']}" if record["revision_url"] else "")),
    ]
    if record["previous_ids"]:
        rows.append(("formerly", ", ".join(record["previous_ids"])))
    if record["deleted_at"]:
        rows.append(("deleted", _date(record["deleted_at"])))
    rows += [
        ("spectrum level", level_text),
        ("licence", _licence_text(lic)),
        ("  declared", declared),
        ("  licence files", files),
    ]
    if lic["inherited_id"]:
        rows.append(("  base model's", lic["inherited_id"]))
    if lic["conflict"]:
        rows.append(("  conflict", "the card and the licence files disagree"))
    rows += [
        ("MOF class", mof_text),
        ("OSAID", osaid_text),
        ("OSAI Index score", index_text),
        ("release level", _shown(record["release_level"])),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{record['repo_id']}"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    criteria = record["osai_index"]["criteria"]
    lines.append("  OSAI Index criteria")
    cwidth = max(len(n) for n in OSAI_CRITERIA.values())
    lines += [f"    {OSAI_CRITERIA['osai_' + k]:<{cwidth}}  {_shown(v)}" for k, v in criteria.items()]
    lines.append("  evidence (Model Openness Framework components of this revision)")
    if record["components"]:
        cw = max(len(c["component"]) for c in record["components"])
        for c in record["components"]:
            state = "included" if c["included"] else ("not included" if c["included"] is False else UNKNOWN)
            if c["included"] and c["is_open"] is None and c["license_id"] is None:
                state += ", licence unknown"
            elif c["included"]:
                openness = {True: "open", False: "not open"}.get(c["is_open"], "openness unknown")
                state += f", {openness} ({c['license_id'] or 'licence unknown'})"
            urls = "  " + " ".join(c["urls"]) if c["urls"] else ""
            lines.append(f"    {c['component']:<{cw}}  {state}{urls}")
    else:
        lines.append(f"    {UNKNOWN} (the revision is not scored)")
    timeline = record["timeline"]
    lines.append(f"  timeline ({len(timeline)} transition{'' if len(timeline) == 1 else 's'})")
    if not timeline:
        lines.append("    no change since the first observed revision")
    dw = max((len(t["dimension"]) for t in timeline), default=0)
    last_commit = None
    for t in timeline:
        if t["to_revision"] != last_commit:
            last_commit = t["to_revision"]
            made_up = "synthetic-commit-id" in (t.get("reconstructed") or "")
            where = t["evidence_url"] or _shown(last_commit) + (
                "  (commit id reconstructed by the recording, not on the Hub)" if made_up else ""
            )
            lines.append(f"    {_date(t['changed_at'])}  {where}")
        note = ", short-lived" if t["short_lived"] else ""
        lines.append(
            f"      {t['dimension']:<{dw}}  {_shown(t['from'])} -> {_shown(t['to'])}  ({t['direction']}{note})"
        )
    return "\n".join(lines)


def _date(value: object) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM` (UTC); unknown for null."""
    if not isinstance(value, str):
        return UNKNOWN
    return value[:16].replace("T", " ")


def run_show(
    repo_ids: list[str],
    *,
    as_json: bool = False,
    warehouse: Path | None = None,
    snapshot: Path | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """The `openness show` command: 0 when every release was found, 1 for an unknown id (nothing printed
    but the one-line error), 2 when the source cannot be read."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        source = open_source(warehouse, snapshot)
    except ShowError as exc:
        print(f"openness show: error: {exc}", file=err)
        return 2
    try:
        records = lookup(source, repo_ids)
    except UnknownRelease as exc:
        print(f"openness show: error: {exc}", file=err)
        return 1
    except duckdb.Error as exc:  # a damaged file or a table of another schema
        print(f"openness show: error: cannot read {source.label}: {str(exc).splitlines()[0]}", file=err)
        return 2
    finally:
        source.close()
    if as_json:
        lines = [json.dumps(record, ensure_ascii=False, default=str) for record in records]
    else:
        names = _spectrum_names()
        lines = [f"From {source.label}", *(f"\n{render_text(record, names)}" for record in records)]
    try:
        for line in lines:
            print(line, file=out)
        out.flush()
    except BrokenPipeError:  # `openness show ... | head`: the reader has what it wanted
        with suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return 0
