"""Licence files: which files of a repo are licence or use-policy documents, and what each one says.

Identification is `license_detect.identify_licence` (ScanCode, mapped to the catalogue); this module
chooses the files by name, reads them and gives the record that `openness license FILE...` prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.licence_names import MAX_FILE_BYTES, licence_file_kind
from pipelines.openness.license_detect import (
    MIN_MATCH_SCORE,
    MIN_TEXT_COVERAGE,
    UNKNOWN,
    LicenceIdentification,
    LicenceMatch,
    identify_licence,
    licence_index,
    load_scancode_map,
    most_restrictive_family,
)

__all__ = [
    "MAX_FILE_BYTES",
    "MIN_MATCH_SCORE",
    "MIN_TEXT_COVERAGE",
    "UNKNOWN",
    "LicenceIdentification",
    "LicenceMatch",
    "identify_licence",
    "identify_licence_file",
    "licence_file_kind",
    "licence_index",
    "load_scancode_map",
    "most_restrictive_family",
    "read_licence_file",
    "run_license_command",
]


def read_licence_file(path: str | Path) -> str:
    """The text of a licence file (UTF-8, undecodable bytes replaced); ValueError for what is not one."""
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{path}: no such file")
    if not p.is_file():
        raise ValueError(f"{path}: not a regular file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: {size} bytes, too large for a licence file (max {MAX_FILE_BYTES})")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in data[:8192]:
        raise ValueError(f"{path}: a binary file, not a licence text")
    return data.decode("utf-8", errors="replace")


def identify_licence_file(path: str | Path) -> dict[str, Any]:
    """One JSON-ready record for a file: path, kind, catalogue id and family, score and matches."""
    ident = identify_licence(read_licence_file(path))
    return {
        "path": str(path),
        "kind": licence_file_kind(path),
        "license_id": ident.license_id,
        "license_family": ident.license_family,
        "score": ident.score,
        "text_coverage": ident.text_coverage,
        "matches": [
            {
                "key": m.key,
                "license_id": m.license_id,
                "score": m.score,
                "coverage": m.coverage,
                "rule": m.rule,
                "lines": [m.start_line, m.end_line],
                "kept": m.kept,
            }
            for m in ident.matches
        ],
        **({"reason": ident.reason} if ident.reason else {}),
    }


def run_license_command(paths: list[str], out: Any, err: Any) -> int:
    """`openness license FILE...`: one JSON object per line per file on `out`; 1 if any file failed.

    A missing or unreadable file gets a one-line error on `err`; the other files are still reported.
    """
    failed = 0
    for path in paths:
        try:
            record = identify_licence_file(path)
        except ValueError as exc:
            print(f"openness license: {exc}", file=err, flush=True)
            failed += 1
            continue
        print(json.dumps(record, ensure_ascii=False, sort_keys=False), file=out, flush=True)
    return 1 if failed else 0
