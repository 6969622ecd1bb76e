"""The human-readable quality report (Markdown): what was checked, the gates, what was held, the verdict."""

from __future__ import annotations

import json

from pipelines.quality.suites import QUARANTINE_REASONS

MAX_TEXT = 160


def _cell(value: object) -> str:
    # Table cells: no pipes or newlines from data may break the table; long values are cut.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\n", " ").replace("|", "\\|").replace("`", "'")
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def verdict(results: dict[str, dict], gates: dict) -> str:
    """The overall verdict line: PASS, PASS (with override) or FAIL, and why."""
    failed_suites = [name for name, r in results.items() if not r.get("success")]
    gate_rows = gates.get("gates") or []
    failed_gates = [g["name"] for g in gate_rows if not g.get("passed")]
    overridden = [g["name"] for g in gate_rows if g.get("overridden")]
    if failed_suites or failed_gates or (gates and not gates.get("passed", True)):
        parts = ([f"suites failed: {', '.join(failed_suites)}"] if failed_suites else []) + (
            [f"gates failed: {', '.join(failed_gates)}"] if failed_gates else []
        )
        return f"**Verdict: FAIL**: {'; '.join(parts) or 'gates did not pass'}. Do not publish."
    checked = sum(1 for r in results.values() if r.get("present"))
    if overridden:
        return (
            f"**Verdict: PASS (with override)**: {checked} suites passed; gates overridden: "
            f"{', '.join(overridden)}."
        )
    gate_note = f"all {len(gate_rows)} gates passed" if gate_rows else "gates not evaluated"
    return f"**Verdict: PASS**: {checked} suites passed, {gate_note}."


def _checked(results: dict[str, dict]) -> list[str]:
    lines = [
        "## What was checked",
        "",
        "| table | rows | expectations | passed | failed | seconds | validated |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results.values():
        if not r.get("present"):
            lines.append(f"| {r['table']} | | | | | not present (skipped) | |")
        else:
            # A result the build's checks recorded for exactly this content (pipelines/quality/ledger.py).
            when = f"by the build's check at {r['reused']['validated_at']}" if r.get("reused") else "now"
            how = {"file": "the working file unchanged since", "content": "the same content"}
            if r.get("reused", {}).get("by") in how:  # how the recorded pass was known to hold
                when += f" ({how[r['reused']['by']]})"
            lines.append(
                f"| {r['table']} | {r['rows']} | {r['evaluated']} | {r['successful']} | "
                f"{len(r['failed']) + (1 if r.get('error') else 0)} | {r['elapsed_seconds']:.2f} | {when} |"
            )
    failing = [r for r in results.values() if r.get("present") and not r.get("success")]
    if failing:
        lines += ["", "### Failures", ""]
    for r in failing:
        lines.append(f"**{r['table']}**")
        lines.append("")
        if r.get("error"):
            lines.append(f"- could not be read: {_cell(r['error'])}")
        for f in r["failed"]:
            count = (
                f"{f['unexpected_count']} unexpected" if f.get("unexpected_count") is not None else "no count"
            )
            lines.append(
                f"- `{f['check']}` ({_cell(f['description'])}): {count}"
                + (f"; error: {_cell(f['error'])}" if f.get("error") else "")
            )
            lines += [f"  - example: `{_cell(e)}`" for e in f.get("examples") or []]
        lines.append("")
    return lines


def _gates(gates: dict) -> list[str]:
    lines = ["## Snapshot gates", ""]
    rows = gates.get("gates") or []
    if not rows:
        return [*lines, "Gates were not evaluated.", ""]
    lines += ["| gate | result | value | threshold | reason |", "|---|---|---:|---:|---|"]
    for g in rows:
        result = "passed (override)" if g.get("overridden") else ("passed" if g["passed"] else "**FAILED**")
        value = "" if g.get("value") is None else g["value"]
        lines.append(
            f"| {g['name']} | {result} | {value} | {g.get('threshold', '')} | {_cell(g['reason'])} |"
        )
    for g in rows:
        if (g.get("overridden") or not g["passed"]) and g.get("examples"):
            lines.append("")
            lines.append(f"{g['name']} examples:")
            lines += [f"- `{_cell(e)}`" for e in g["examples"]]
    override = gates.get("override")
    if override:
        applied = ", ".join(override.get("applied") or []) or "none (the named gates passed)"
        lines += [
            "",
            f"Override by {_cell(override.get('by') or 'unknown')} for {', '.join(override['gates'])}: "
            f'"{_cell(override["reason"])}". Applied to: {applied}.',
        ]
    return [*lines, ""]


def _held(quarantine: dict[str, int]) -> list[str]:
    lines = ["## What was held (quarantine)", ""]
    if not quarantine:
        return [*lines, "Nothing was quarantined.", ""]
    lines += ["| reason | rows | known reason |", "|---|---:|---|"]
    for reason, n in sorted(quarantine.items()):
        lines.append(f"| {_cell(reason)} | {n} | {'yes' if reason in QUARANTINE_REASONS else '**no**'} |")
    lines += [
        "",
        f"{sum(quarantine.values())} row(s) in core.quarantine with their raw reference: inputs held back, "
        "and data defects of stored rows flagged (docs/quality.md, 'Data defects and pipeline invariants'); "
        "none were dropped silently.",
        "",
    ]
    return lines


def render_quality_report(results: dict[str, dict], gates: dict, quarantine: dict[str, int]) -> str:
    """The Markdown quality report of one run: suites, gates, quarantine counts and the verdict."""
    lines = ["# Data quality report", "", verdict(results, gates), ""]
    lines += _checked(results) + _gates(gates) + _held(quarantine)
    return "\n".join(lines).rstrip() + "\n"
