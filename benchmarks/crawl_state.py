"""The crawl-state reads of a daily crawl on a generated raw layer: seconds and capture files opened by each
state read the Hub steps make, with the crawl-state index (pipelines/storage/crawl_index.py) cold (rebuilt
from the captures) and warm (its snapshot plus the deltas since).

    python -m benchmarks.crawl_state --models 30000
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.cycle import D0, SEED, prepare_raw
from benchmarks.rawgen import generate_day
from pipelines.storage import crawl_index
from pipelines.storage.raw import RawStore

DAYS = ["2026-08-21", "2026-08-22", "2026-08-23"]


def _reads(raw: RawStore, day: str) -> list[tuple[str, Callable[[], Any]]]:
    """The state reads of the listing, README and history steps of `day`."""
    from pipelines.code.step import cited_code_repos
    from pipelines.hub import backfill, crawl, crawl_state, datasets, licences
    from pipelines.hub.step import watermark_before

    return [
        ("listing: watermark", lambda: watermark_before_raw(raw, day, watermark_before)),
        ("listing: earlier listings", lambda: crawl_state.listing_commits(raw)),
        ("readmes: captured revisions", lambda: crawl.captured_revisions(raw)),
        ("history: backfill state", lambda: backfill.backfill_state(raw)),
        ("history: tracked heads", lambda: backfill.tracked_heads(raw, until=day)),
        ("licences: file lists", lambda: licences.revision_file_lists(raw, until=day)),
        ("licences: capture state", lambda: licences.licence_capture_state(raw)),
        ("datasets: due", lambda: datasets.named_datasets(raw, until=day)),
        ("code: cited repos", lambda: cited_code_repos(raw, until=day)),
    ]


def watermark_before_raw(raw: RawStore, day: str, fn: Callable) -> Any:
    """`watermark_before` on a bare raw store (it takes a warehouse: only its `raw` is used)."""

    class _Wh:
        pass

    wh = _Wh()
    wh.raw = raw
    return fn(wh, day)


def measure(raw: RawStore, day: str) -> dict[str, dict[str, float]]:
    """Seconds and capture files opened per state read."""
    out = {}
    for name, fn in _reads(raw, day):
        raw.opened.clear()
        started = time.perf_counter()
        fn()
        out[name] = {"seconds": round(time.perf_counter() - started, 3), "files": len(set(raw.opened))}
    return out


def run(n_models: int, work: Path) -> dict[str, Any]:
    """The state reads of the last of DAYS, on n generated models: cold (no index) and warm."""
    base, _ = prepare_raw(work, n_models, SEED)
    root = work / f"state-{n_models}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(base, root)
    for i, day in enumerate(DAYS[:-1]):
        generate_day(RawStore(root), n_models, day, seed=SEED, d0=D0, earlier=DAYS[:i])
    measure(RawStore(root), DAYS[-2])  # the index as the crawl of the day before leaves it
    generate_day(RawStore(root), n_models, DAYS[-1], seed=SEED, d0=D0, earlier=DAYS[:-1])
    raw = RawStore(root)
    # The generator appends captures as the crawl steps do, but writes no deltas: write them as the steps do.
    for source in sorted({v.source for v in crawl_index.views_of_all()}):
        for capture_id in raw.capture_ids(source):
            if capture_id.startswith(f"crawl_date={DAYS[-1]}/"):
                frame = raw.read_captures(source, [capture_id]).drop("crawl_date", "capture_id")
                crawl_index.record(raw, source, raw.capture_path(source, capture_id), frame)
    files = sum(len(raw.files(s)) for s in ("hub_listing", "hub_readme", "hub_revision", "hub_commits"))
    warm = measure(raw, DAYS[-1])
    raw.remove_index()
    cold = measure(RawStore(root), DAYS[-1])
    return {"models": n_models, "capture_files": files, "warm": warm, "cold": cold}


def main() -> None:
    """Command line: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=30_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "openness-bench")
    args = parser.parse_args()
    print(json.dumps(run(args.models, args.work), indent=1))


if __name__ == "__main__":
    main()
