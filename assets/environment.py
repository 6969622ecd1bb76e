"""Process environment for Dagster runs started by the CLI: the instance folder and the pipeline settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = {
    "OPENNESS_WAREHOUSE": str(PROJECT_ROOT / "warehouse"),
    "OPENNESS_HUB_ENDPOINT": "https://huggingface.co",
    "OPENNESS_HUB_REPLAY": "false",
    "OPENNESS_HUB_RATE_LIMIT": "true",
    "OPENNESS_ARXIV_ENDPOINT": "https://export.arxiv.org/api/query",
    "OPENNESS_HUB_SCOPE_FILE": "",
    "OPENNESS_PUBLISH_TARGETS": "",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


def prepare_dagster_home(home: Path | None = None) -> Path:
    """Make $DAGSTER_HOME (default .dagster/) hold the project's dagster.yaml; returns it."""
    home = Path(home or os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    # assets/dagster.yaml: a link to the repository's dagster.yaml, package data in a wheel.
    source, target = Path(__file__).resolve().parent / "dagster.yaml", home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def apply_settings(**settings: str) -> None:
    """Set pipeline settings for runs in this process (explicit values win over inherited ones)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    for key, value in settings.items():
        os.environ[key] = value
