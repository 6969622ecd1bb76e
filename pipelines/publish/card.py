"""The dataset card (`README.md`) of a snapshot: schema with column meanings, provenance, licences, citation.

The card is rendered from the manifest and the Parquet schemas only, so it always describes the files it
ships with. Its YAML header follows the Hugging Face dataset card format (licence, one config per table)
so that `datasets.load_dataset(<version folder>, "releases")` reads a downloaded version; its `data_files`
are relative to the card's own folder (the version). The landing card of a Hub dataset repo sits at the
snapshots root, above the version folders: `root_card` points its `data_files` into `<version>/`.
"""

from __future__ import annotations

import json
import re

from pipelines.publish.columns import column_meaning, table_meaning
from pipelines.publish.markdown import plural
from pipelines.publish.provenance import source_name, source_sentences

DATA_LICENSE = "cc-by-4.0"
PRETTY_NAME = "Openness Tracker: openness of AI model releases on the Hugging Face Hub"

ATTRIBUTIONS = """\
The dataset (this compilation: its tables, the openness classification and this card) is released under the
[Creative Commons Attribution 4.0 International licence (CC-BY-4.0)](https://creativecommons.org/licenses/by/4.0/).
You may share and adapt it for any purpose, provided you give credit (see "How to cite") and indicate changes.

Its sources keep their own terms:

- **Hugging Face Hub metadata** (repository ids, tags, dates, file lists, card metadata) is read from the public
  Hub API (https://huggingface.co). **Model cards and models belong to their owners** and stay under the licences
  their owners chose (recorded in the `license_*` columns). The snapshot stores facts derived from cards
  (licence fields, headings, checksums, links), not the cards' text.
- **arXiv metadata** (identifiers, titles, authors, dates) comes from the arXiv API; arXiv releases its metadata
  under [CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/). The papers themselves stay under their
  authors' licences.
- **European Open Source AI Index** (criteria and scoring scheme), CC-BY-4.0: Andreas Liesenfeld and Mark
  Dingemanse. 2024. Rethinking open source generative AI: open-washing and the EU AI Act. In *The 2024 ACM
  Conference on Fairness, Accountability, and Transparency (FAccT '24)*. https://doi.org/10.1145/3630106.3659005
- **Model Openness Tool** (LF AI & Data, https://github.com/lfai/model_openness_tool), MIT licence: the Model
  Openness Framework classes are computed as the tool computes them, over its component and licence data.
- **OSI Open Source AI Definition 1.0** (https://opensource.org/ai/open-source-ai-definition) and Solaiman's
  release gradient (doi 10.1145/3593013.3593981) define the `osaid` and `release_level` columns.
"""


def _front_matter(manifest: dict, tables: list[str]) -> str:
    lines = [
        "---",
        f"license: {DATA_LICENSE}",
        f"pretty_name: {json.dumps(PRETTY_NAME)}",
        "tags:",
        "  - openness",
        "  - open-source-ai",
        "  - model-cards",
        "  - licenses",
        "configs:",
    ]
    for name in tables:
        path = manifest["tables"][name]["path"]
        lines += [f"  - config_name: {name}", f"    data_files: {json.dumps(path)}"]
    return "\n".join(lines + ["---", ""])


def root_card(card: str, version: str) -> str:
    """A version's card as the landing card of its snapshots root: each config's `data_files` gets the prefix
    `<version>/` (the card's other text is unchanged)."""
    if not card.startswith("---\n") or "\n---\n" not in card[3:]:
        raise ValueError("the card has no YAML header")
    end = card.index("\n---\n", 3)
    header = re.sub(
        r'^(    data_files: )"([^"]+)"$',
        lambda m: m[1] + json.dumps(f"{version}/{m[2]}"),
        card[:end],
        flags=re.MULTILINE,
    )
    return header + card[end:]


def _summary(manifest: dict) -> str:
    window = manifest.get("crawl_window") or {}
    rows = [
        ("Version", manifest.get("version")),
        ("Schema version", manifest.get("schema_version")),
        ("Rubric version", manifest.get("rubric_version")),
        ("Crawl window", f"{window.get('from') or '?'} to {window.get('to') or '?'}"),
        ("Published at", manifest.get("published_at")),
        ("Previous version", manifest.get("previous_version") or "(none: first version)"),
    ]
    return "\n".join(["| | |", "|---|---|"] + [f"| {k} | {'' if v is None else v} |" for k, v in rows])


def _files(manifest: dict, tables: list[str]) -> str:
    if "files" not in manifest:  # a version written before tables were split into files: one file per table
        lines = ["| table | file | rows | bytes | sha256 |", "|---|---|---:|---:|---|"]
        for name in tables:
            e = manifest["tables"][name]
            lines.append(f"| {name} | `{e['path']}` | {e['rows']} | {e['bytes']} | `{e['sha256']}` |")
        return "\n".join(lines)
    lines = ["| table | files | rows | bytes |", "|---|---|---:|---:|"]
    for name in tables:
        e = manifest["tables"][name]
        count = sum(1 for f in manifest["files"].values() if f.get("table") == name)
        lines.append(f"| {name} | `{e['path']}` ({count}) | {e['rows']} | {e['bytes']} |")
    return "\n".join(lines)


def _schema(table: str, columns: list[tuple[str, str]], column_docs: dict[str, dict[str, str]]) -> str:
    lines = [
        f"### `{table}`",
        "",
        table_meaning(table),
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    for column, dtype in columns:
        meaning = column_meaning(table, column, column_docs).replace("|", "\\|")
        lines.append(f"| `{column}` | {dtype} | {meaning} |")
    return "\n".join(lines)


def checks_summary(checks: dict) -> str:
    """One line on the checks that gated publishing (manifest `checks`): every table suite and every gate.

    E.g. "Checks: all 15 passed before publishing (12 suites, 3 gates)."; failures and overridden gates are
    named.
    """
    suites = {t: r for t, r in (checks.get("suites") or {}).items() if isinstance(r, dict)}
    gates = [g for g in ((checks.get("gates") or {}).get("gates") or []) if isinstance(g, dict)]
    if not suites and not gates:
        return "Checks: none recorded."
    suites_ok = sum(1 for r in suites.values() if r.get("success"))
    gates_ok = sum(1 for g in gates if g.get("passed"))
    total, passed = len(suites) + len(gates), suites_ok + gates_ok
    if passed == total:
        line = f"Checks: all {total} passed before publishing ({plural(len(suites), 'suite')}, "
        line += f"{plural(len(gates), 'gate')})"
    else:
        line = (
            f"Checks: {passed} of {total} passed before publishing ({suites_ok} of {plural(len(suites), 'suite')}, "
            f"{gates_ok} of {plural(len(gates), 'gate')})"
        )
        failed = [f"`{t}` suite" for t, r in sorted(suites.items()) if not r.get("success")]
        failed += [f"`{g.get('name')}` gate" for g in gates if not g.get("passed")]
        line += "; failed: " + ", ".join(failed)
    overridden = [f"`{g.get('name')}`" for g in gates if g.get("overridden")]
    if overridden:
        line += f"; passed by an operator's override: {', '.join(overridden)}"
    return line + "."


def _provenance(manifest: dict) -> str:
    window = manifest.get("crawl_window") or {}
    lines = [
        "Built by the Openness Tracker pipeline: daily incremental crawls of the Hugging Face Hub listing "
        "(read back to the previous crawl's watermark), the cards of repositories whose commit changed, the "
        "datasets and arXiv papers the cards cite, and each repository's commit history. Raw answers are kept "
        "as immutable Parquet; they are normalised into the tables above, scored under the rubric version "
        "shown, checked, and published as this immutable, checksummed version.",
        "",
        f"- Crawl window: {window.get('from') or '?'} to {window.get('to') or '?'}.",
        *(f"- {line}" for line in source_sentences(manifest.get("source"))),
    ]
    checks = manifest.get("checks")
    if checks:
        lines.append(f"- {checks_summary(checks)}")
    quarantine = manifest.get("quarantine") or {}
    if quarantine:
        lines.append(
            "- Quarantined inputs (could not be parsed; kept with their reason, not dropped): "
            + ", ".join(f"{reason}: {n}" for reason, n in sorted(quarantine.items()))
            + "."
        )
    else:
        lines.append("- Quarantined inputs: none.")
    lines.append(
        "- Every file's size and sha256 are in `manifest.json`; `CHANGELOG.md` lists what changed "
        "against the previous version."
    )
    return "\n".join(lines)


def _recording_notice(manifest: dict) -> list[str]:
    """A warning at the top of the card when the data was not crawled from the live Hub (else nothing)."""
    source = manifest.get("source")
    if not source or source.get("live_hub"):
        return []
    return [
        f"> **Not the live Hub.** This version was built from {source_name(source)}. "
        "Its facts are what that source answered; see Provenance for what it reconstructed.",
        "",
    ]


def _attributions(manifest: dict) -> str:
    """The licence section, naming the endpoint the Hub metadata was actually read from."""
    source = manifest.get("source")
    if not source or source.get("live_hub"):
        return ATTRIBUTIONS
    return ATTRIBUTIONS.replace(
        "is read from the public\n  Hub API (https://huggingface.co).",
        f"is read through the Hub API of\n  {source_name(source)}.",
    )


def query_views(manifest: dict) -> str:
    """DuckDB statements that name each table of a version `core.<table>` (as the warehouse and the example
    queries of `sql/queries/` do), over the version's Parquet files; run from the version folder."""
    lines = ["CREATE SCHEMA IF NOT EXISTS core;"]
    for name in sorted(manifest.get("tables", {})):
        path = manifest["tables"][name]["path"]
        # Text for the card, not run here: the names are the registry's tables and their plain file names.
        lines.append(f"CREATE OR REPLACE VIEW core.{name} AS SELECT * FROM read_parquet('{path}');")  # noqa: S608
    return "\n".join(lines)


def _how_to_read(manifest: dict) -> str:
    return "\n".join(
        [
            "```sql",
            "-- DuckDB, from the version folder",
            "SELECT org, count(*) FROM read_parquet('releases/*.parquet') GROUP BY org ORDER BY 2 DESC;",
            "```",
            "",
            "```python",
            "import polars as pl",
            "releases = pl.read_parquet('releases/*.parquet')",
            "",
            "import datasets  # each table is a config of this card",
            "releases = datasets.load_dataset('.', 'releases', split='train')",
            "```",
            "",
            "The project's example queries (`sql/queries/`, e.g. `relicensed_derivatives.sql`) name the tables "
            "`core.<table>`; in DuckDB, from the version folder, these views let them run on the files:",
            "",
            "```sql",
            query_views(manifest),
            "```",
            "",
            f"Fetch and verify a version with `openness download SOURCE --version {manifest.get('version')} --to DIR`.",
        ]
    )


def _citation(manifest: dict) -> str:
    version = manifest.get("version", "")
    year = str(manifest.get("published_at") or version)[:4]
    key = "openness_tracker_" + version.replace("-", "_").replace(".", "_")
    return "\n".join(
        [
            "Cite the version you used, so that others can fetch exactly the same files (their sha256 are in "
            "`manifest.json`), and cite the frameworks the columns implement (see Licence).",
            "",
            "```bibtex",
            f"@misc{{{key},",
            "  title  = {Openness Tracker: a longitudinal dataset of the openness of AI model releases "
            "on the Hugging Face Hub},",
            "  author = {{Openness Tracker contributors}},",
            f"  year   = {{{year}}},",
            f"  note   = {{Snapshot version {version}, schema version {manifest.get('schema_version')}, "
            f"rubric version {manifest.get('rubric_version')}. Licensed CC-BY-4.0}}",
            "}",
            "```",
            "",
            f"In text: Openness Tracker, snapshot {version} (CC-BY-4.0).",
        ]
    )


def render_dataset_card(
    manifest: dict,
    schemas: dict[str, list[tuple[str, str]]],
    column_docs: dict[str, dict[str, str]] | None = None,
) -> str:
    """The dataset card (Markdown with a Hub YAML header) of a snapshot, from its manifest and schemas."""
    tables = sorted(manifest.get("tables", {}))
    parts = [
        _front_matter(manifest, tables),
        f"# {PRETTY_NAME}",
        "",
        "A dated, per-revision history of what AI model releases on the Hugging Face Hub disclose (weights, "
        "licence, training code, training data, architecture, papers, documentation, evaluation) and where each "
        "release stands on the openness spectrum under the Model Openness Framework, the European Open Source "
        "AI Index, the OSI Open Source AI Definition and Solaiman's release gradient.",
        "",
        _summary(manifest),
        "",
        *_recording_notice(manifest),
        "## Files",
        "",
        "Each table is a folder of zstd-compressed Parquet files (`<table>/<part>.parquet`: one file, or the rows "
        "split by month or by a stable hash of `repo_id`; `manifest.json` says how); read a table with one glob, "
        "`<table>/*.parquet`. Verify the files against `manifest.json` (each file's size and sha256).",
        "",
        _files(manifest, tables),
        "",
        "## Schema",
        "",
        "Table and column names are stable within a schema version; columns may be added.",
    ]
    for table in tables:
        parts += ["", _schema(table, schemas.get(table, []), column_docs or {})]
    parts += [
        "",
        "## Provenance",
        "",
        _provenance(manifest),
        "",
        "## Reading the data",
        "",
        _how_to_read(manifest),
        "",
        "## Licence",
        "",
        _attributions(manifest),
        "## How to cite",
        "",
        _citation(manifest),
        "",
    ]
    return "\n".join(parts)
