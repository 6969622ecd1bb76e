"""The Model Openness Framework exactly as the Model Openness Tool (MOT) computes it.

Re-implements MOT @ 8b5d30e9 `ModelEvaluator.php` (evaluate, resolveLicense, getProgress,
getClassification, handleTechnicalReportOmission) and `LicenseHandler.php` (isOpenSourceLicense,
isTypeAppropriate) over the tool's own data files in `mot/`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MOT_DIR = Path(__file__).with_name("mot")
TECHNICAL_REPORT_CID = 11
RESEARCH_PAPER_CID = 21
CLASS_LABELS = {
    -1: "Pending evaluation",
    0: "Unclassified",
    1: "Class I - Open Science Model",
    2: "Class II - Open Tooling Model",
    3: "Class III - Open Model",
}
# LicenseHandler::OPEN_DATA_LICENSES and OPEN_LICENSES, as coded (ODC-PDDL-1.0 is not an SPDX id: a tool quirk).
OPEN_DATA_LICENSES = frozenset(
    "CC0-1.0 CC-BY-1.0 CC-BY-2.0 CC-BY-2.5 CC-BY-2.5-AU CC-BY-3.0 CC-BY-3.0-AT CC-BY-3.0-AU CC-BY-3.0-DE "
    "CC-BY-3.0-IGO CC-BY-3.0-NL CC-BY-3.0-US CC-BY-4.0 CC-BY-SA-1.0 CC-BY-SA-2.0 CC-BY-SA-2.0-UK CC-BY-SA-2.1-JP "
    "CC-BY-SA-2.5 CC-BY-SA-3.0 CC-BY-SA-3.0-AT CC-BY-SA-4.0 CDLA-Permissive-1.0 CDLA-Permissive-2.0 "
    "CDLA-Sharing-1.0 ODC-PDDL-1.0 ODC-By-1.0 ODbL-1.0 GFDL-1.3 OGL-Canada-2.0 OGL-UK-2.0 OGL-UK-3.0".split()
)
OPEN_LICENSES = frozenset({"OpenMDW-1.0"})


@cache
def mot_components() -> tuple[dict[str, Any], ...]:
    """The 17 components of mof.settings.yml (id, name, content_type, class, required), by class then id."""
    settings = yaml.safe_load((MOT_DIR / "mof.settings.yml").read_text(encoding="utf-8"))
    comps = [
        {k: c[k] for k in ("id", "name", "description", "content_type", "class", "required")}
        for c in settings["components"]
    ]
    return tuple(sorted(comps, key=lambda c: (-c["class"], c["id"])))


@cache
def mot_licenses() -> dict[str, dict[str, Any]]:
    """The tool's licence entities: the SPDX list, then mof-licenses.json records overwriting by id."""
    merged: dict[str, dict[str, Any]] = {}
    for name in ("spdx-licenses.json", "mof-licenses.json"):
        for lic in json.loads((MOT_DIR / name).read_text(encoding="utf-8"))["licenses"]:
            types = lic.get("ContentType") or []
            merged[lic["licenseId"]] = {
                "osi": bool(lic.get("isOsiApproved")),
                "fsf": bool(lic.get("isFsfLibre")),
                "types": frozenset([types] if isinstance(types, str) else types),
            }
    return merged


def is_open_license(license_id: str | None) -> bool:
    """LicenseHandler::isOpenSourceLicense: FSF-libre or OSI-approved, open data, or OpenMDW-1.0 (exact ids)."""
    if not license_id:
        return False
    lic = mot_licenses().get(license_id)
    return (
        bool(lic and (lic["osi"] or lic["fsf"]))
        or license_id in OPEN_DATA_LICENSES
        or license_id in OPEN_LICENSES
    )


def is_type_appropriate(license_id: str | None, content_type: str) -> bool:
    """LicenseHandler::isTypeAppropriate: listed for that content type in mof-licenses.json."""
    lic = mot_licenses().get(license_id or "")
    return bool(lic and content_type in lic["types"])


def required_by_class() -> dict[int, list[int]]:
    """Required component ids per class (ComponentManager::getRequired)."""
    out: dict[int, list[int]] = {1: [], 2: [], 3: []}
    for c in mot_components():
        if c["required"]:
            out[c["class"]].append(c["id"])
    return out


def classify(status: dict[int, str]) -> tuple[int, dict[str, float]]:
    """MOF class and per-class progress from each listed component's status (included | invalid | unlicensed)."""
    required = required_by_class()
    included: dict[int, list[int]] = {}
    cumulative: list[int] = []
    for cls in (3, 2, 1):
        cumulative = cumulative + required[cls]
        included[cls] = [cid for cid in cumulative if status.get(cid) == "included"]
    # handleTechnicalReportOmission: a listed research paper stands in for a report that is not included-and-open.
    paper = status.get(RESEARCH_PAPER_CID)
    if TECHNICAL_REPORT_CID not in included[3] and paper == "included":
        for cls in (2, 3):
            included[cls].append(RESEARCH_PAPER_CID)
    progress = {str(cls): _progress(cls, included, required, status) for cls in (1, 2, 3)}
    completed = 0
    for cls in (3, 2, 1):
        if progress[str(cls)] == 100.0:
            completed = cls
    return completed, progress


def _progress(
    cls: int, included: dict[int, list[int]], required: dict[int, list[int]], status: dict[int, str]
) -> float:
    """ModelEvaluator::getProgress, including its early stop and the Class I denominator rule."""
    total = 0
    count = 0
    level = 3
    while level >= cls:
        total += len(required[level])
        count = len(included[level])
        if count < total:
            break
        level -= 1
    if level > cls:
        return 0
    if (
        cls == 1
        and status.get(TECHNICAL_REPORT_CID) != "included"
        and status.get(RESEARCH_PAPER_CID) == "included"
    ):
        total -= 1
    return min((count / total) * 100, 100)


def evaluate_mot_record(record: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one MOT model record (the YAML of `models/*.yml`) as the tool does."""
    release = record.get("release", record) if isinstance(record, dict) else {}
    release = release if isinstance(release, dict) else {}
    global_licenses = release.get("license") or {}
    by_name = {c["name"]: c for c in mot_components()}
    listed: dict[int, dict[str, Any]] = {}
    unknown: list[str] = []
    components = release.get("components")
    for comp in components if isinstance(components, list) else []:
        spec = by_name.get(comp.get("name")) if isinstance(comp, dict) else None
        if spec is None:
            unknown.append(str(comp.get("name") if isinstance(comp, dict) else comp))
            continue
        listed[spec["id"]] = comp

    status: dict[int, str] = {}
    verdicts = []
    not_type_appropriate = []
    for spec in mot_components():
        cid = spec["id"]
        verdict = {k: spec[k] for k in ("id", "name", "class", "content_type", "required")}
        if cid not in listed:
            verdict.update(
                included=False,
                license=None,
                license_source=None,
                status="not included",
                type_appropriate=None,
                warning=None,
            )
            verdicts.append(verdict)
            continue
        license_id, source = _resolve_license(listed[cid], spec["content_type"], global_licenses)
        is_open = is_open_license(license_id)
        typed = is_type_appropriate(license_id, spec["content_type"])
        status[cid] = "included" if is_open else ("unlicensed" if license_id is None else "invalid")
        warning = None
        if is_open and not typed:
            not_type_appropriate.append(spec["name"])
            warning = f"open licence {license_id} is not type-appropriate for {spec['content_type']}"
        verdict.update(
            included=True,
            license=license_id,
            license_source=source,
            status={"included": "open"}.get(status[cid], status[cid]),
            type_appropriate=typed,
            warning=warning,
        )
        verdicts.append(verdict)

    mof_class, progress = classify(status)
    return {
        "name": release.get("name"),
        "class": mof_class,
        "label": CLASS_LABELS[mof_class],
        "progress": progress,
        "components": verdicts,
        "not_type_appropriate": not_type_appropriate,
        "unknown_components": unknown,
    }


def _resolve_license(
    comp: dict[str, Any], content_type: str, global_licenses: dict[str, Any]
) -> tuple[str | None, str | None]:
    """ModelEvaluator::resolveLicense; `unlicensed` (stored as '') blocks inheritance from the globals."""
    value = comp.get("license")
    if value is not None:
        text = "" if value == "unlicensed" else str(value)
        return (text or None), "component"
    for key in (content_type, "distribution"):
        entry = global_licenses.get(key) if isinstance(global_licenses, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        if name:
            return str(name), f"global:{key}"
    return None, None


class MotRecordError(ValueError):
    """A file that is not a readable Model Openness Tool record; the message is one line for the user."""


def load_mot_record(path: Path) -> dict[str, Any]:
    """The mapping of a MOT model YAML, or MotRecordError naming the file and what is wrong with it."""
    path = Path(path)
    what = "give the path of a Model Openness Tool record (YAML with a `release` section)"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MotRecordError(f"{path} does not exist; {what}") from None
    except IsADirectoryError:
        raise MotRecordError(f"{path} is a folder; {what}") from None
    except UnicodeDecodeError:
        raise MotRecordError(f"{path} is not a UTF-8 text file; {what}") from None
    except OSError as exc:
        raise MotRecordError(f"{path} cannot be read ({exc.strerror or exc}); {what}") from None
    try:
        record = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise MotRecordError(f"{path} is not valid YAML{where}: {problem}; {what}") from None
    if record is None:
        raise MotRecordError(f"{path} is empty; {what}")
    if not isinstance(record, dict):
        raise MotRecordError(f"{path} holds a YAML {type(record).__name__}, not a mapping; {what}")
    if not isinstance(record.get("release"), dict) and not isinstance(record.get("components"), list):
        raise MotRecordError(f"{path} has neither a `release` section nor `components`; {what}")
    return record


def mof_report(path: Path) -> dict[str, Any]:
    """Load a MOT model YAML and return its JSON-serialisable evaluation (MotRecordError if it is not one)."""
    record = load_mot_record(path)
    result = evaluate_mot_record(record)
    result["file"] = str(path)
    result["framework"] = record.get("framework") if isinstance(record, dict) else None
    return result
