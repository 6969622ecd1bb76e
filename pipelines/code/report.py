"""`openness code URL...`: crawl named GitHub repositories now and describe each as one JSON object.

The crawl goes through the same client, policy and raw captures as the pipeline's step, into a
temporary raw store that is removed afterwards; nothing is written to the warehouse.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipelines.code import raw
from pipelines.code.client import GitHubClient, RateLimited
from pipelines.code.crawl import crawl_repo
from pipelines.code.links import repo_key
from pipelines.code.parse import code_repo_rows, identify_seam
from pipelines.code.settings import CodeSettings
from pipelines.code.state import KnownCaptures
from pipelines.storage.raw import RawStore

OUTPUT_FIELDS = (
    "repo",
    "license_id",
    "license_family",
    "training_code",
    "preprocessing_code",
    "evaluation_code",
    "inference_code",
    "evidence",
)


def describe_repos(urls: Iterable[str], settings: CodeSettings) -> Iterator[dict]:
    """One dict per URL (in order): the OUTPUT_FIELDS, plus `status`, or `error` if it failed."""
    keys = [repo_key(u) for u in urls]  # BadRepoUrl before any request
    now = datetime.now(UTC)
    crawl_date = now.date().isoformat()
    with tempfile.TemporaryDirectory(prefix="openness-code-") as tmp:
        store = RawStore(Path(tmp))
        known = KnownCaptures()
        client = GitHubClient(settings)
        try:
            for key in keys:
                try:
                    outcome = crawl_repo(
                        client, store, known, key, crawl_date=crawl_date, now=now, settings=settings
                    )
                except RateLimited as exc:
                    yield {"repo": key, "error": str(exc)}
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad repo never hides the others
                    yield {"repo": key, "error": f"{type(exc).__name__}: {exc}"}
                    continue
                rows = code_repo_rows(
                    raw.scan(store, "github_repo").filter(repo=key),
                    raw.scan(store, "github_tree").filter(repo=key),
                    raw.scan(store, "github_file").filter(repo=key),
                    identify=identify_seam(),
                )
                row = rows.row(0, named=True)
                out = {f: row[f] for f in OUTPUT_FIELDS}
                out["evidence"] = json.loads(row["evidence"])
                out["status"] = outcome.status
                if outcome.moved_to:
                    out["moved_to"] = outcome.moved_to
                yield out
        finally:
            client.close()
