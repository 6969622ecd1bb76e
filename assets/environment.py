"""The project folder and the Dagster instance folder for the CLI (read when a command runs, never at import)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Set for the processes the CLI starts (webserver, daemon): no usage reporting from Dagster, GX or the Hub client.
TELEMETRY_OFF = {
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
