"""Dagster resources shared by every source: the warehouse, the build mode, publishing and the quality checks.

Settings are read when a run uses them, never at import. Each setting resolves in this order: a value set
on the resource (in the Definitions or in the run config: `resources: <name>: config: ...`), else the
environment variable named beside the field in the process that runs the step (the deployment's way,
`.env.example` lists them), else the project default, which is defined once in `pipelines` (or here for
the warehouse folder). The source resources (`HubResource`, `PapersResource`) live with their assets in
assets/hub.py and assets/papers.py.
"""

import json
import os
from pathlib import Path

import dagster as dg

from assets.environment import PROJECT_ROOT
from pipelines.quality.gx_run import BATCH_ROWS
from pipelines.storage.warehouse import Warehouse


def configured(value: str, variable: str, default: str) -> str:
    """The resolved value of one setting: `value` if set, else `$variable` if set, else `default`."""
    if value != "":
        return value
    return os.environ.get(variable) or default


def truthy(value: str) -> bool:
    """A boolean setting written as text (true/false, 1/0, yes/no); a clear error for anything else."""
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"expected true or false, got {value!r}")
    return text in ("true", "1", "yes")


def configured_flag(value: str, variable: str, default: bool) -> bool:
    """A boolean setting resolved as `configured` does (text on the resource or in `$variable`)."""
    return truthy(configured(value, variable, str(default)))


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse lives (the DuckDB files, raw Parquet and snapshots)."""

    root: str = ""  # empty: $OPENNESS_WAREHOUSE, else warehouse/ in the project folder
    # The raw layer: a folder or an fsspec URL (s3://bucket/raw; credentials and endpoint from the standard
    # AWS variables). Empty: $OPENNESS_RAW_URL, else raw/ in the warehouse folder.
    raw_url: str = ""

    def get(self) -> Warehouse:
        """The warehouse object for this run."""
        root = Path(configured(self.root, "OPENNESS_WAREHOUSE", str(PROJECT_ROOT / "warehouse")))
        return Warehouse(root, raw_url=self.raw_url or None)


class BuildResource(dg.ConfigurableResource):
    """How `build_tables` builds: incremental by default (only the raw files not read yet, only the repos
    they touch); `full_rebuild: true` in the run config (resources: build: config:) rebuilds every table
    from the whole raw layer, as the first run and a change of the normalisation or scoring code do."""

    full_rebuild: bool = False


class QualityResource(dg.ConfigurableResource):
    """How the Great Expectations suites run: `batch_rows` is the rows validated in one pass for a suite
    that can be validated by whole repos (more memory, fewer passes; 0: one pass whatever the size)."""

    batch_rows: int = -1  # negative: $OPENNESS_GX_BATCH_ROWS, else pipelines.quality.gx_run.BATCH_ROWS

    def rows(self) -> int:
        """The resolved batch size."""
        if self.batch_rows >= 0:
            return self.batch_rows
        text = configured("", "OPENNESS_GX_BATCH_ROWS", str(BATCH_ROWS))
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"OPENNESS_GX_BATCH_ROWS must be a whole number, got {text!r}") from None


class PublishResource(dg.ConfigurableResource):
    """Where snapshots go besides warehouse/snapshots/: fsspec URLs (s3://...) or hf://datasets/<org>/<name>."""

    # Comma-separated; empty: $OPENNESS_PUBLISH_TARGETS, else the local snapshots folder only.
    targets: str = ""
    token_env: str = "HF_TOKEN"  # the NAME of the variable holding a Hub token for hf:// targets
    storage_options_env: str = "OPENNESS_STORAGE_OPTIONS"  # the NAME of a variable with JSON fsspec options
    # An operator's override of failed snapshot gates, as JSON: {"reason": ..., "by": ..., "gates": [...]}.
    # It is recorded in the manifest and the quality report; a reason is required.
    gate_override: str = ""
    # The publish gate reuses a suite result the build's checks recorded for exactly the same table content
    # (pipelines/quality/ledger.py); true runs every suite again.
    revalidate: bool = False

    def override(self) -> dict | None:
        """The gate override, if one is configured."""
        return json.loads(self.gate_override) if self.gate_override.strip() else None

    def target_list(self) -> list[str]:
        """The configured extra targets."""
        targets = configured(self.targets, "OPENNESS_PUBLISH_TARGETS", "")
        return [t.strip() for t in targets.split(",") if t.strip()]

    def credentials(self) -> tuple[str | None, dict | None]:
        """(Hub token, fsspec storage options) read at run time from the named variables; never logged."""
        raw = os.environ.get(self.storage_options_env)
        return os.environ.get(self.token_env) or None, json.loads(raw) if raw else None
