"""Training datasets named by model cards: fetched once, refreshed on a slower cadence (monthly)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime

import polars as pl

from pipelines.hub import crawl_state
from pipelines.hub.client import HubClient
from pipelines.hub.ids import is_dataset_id
from pipelines.hub.raw import DATASET_RAW_SCHEMA
from pipelines.hub.schema import DATASETS_SCHEMA
from pipelines.storage.raw import RawStore

REFRESH_DAYS = 30


def _names(item_text: str) -> set[str]:
    try:
        item = json.loads(item_text)
    except ValueError:
        return set()
    names = {
        t[len("dataset:") :]
        for t in item.get("tags") or []
        if isinstance(t, str) and t.startswith("dataset:")
    }
    declared = (
        (item.get("cardData") or {}).get("datasets") if isinstance(item.get("cardData"), dict) else None
    )
    if isinstance(declared, str):
        names.add(declared)
    elif isinstance(declared, list):
        names.update(d for d in declared if isinstance(d, str))
    return {n.strip() for n in names if is_dataset_id(n.strip())}


def named_datasets(raw: RawStore, until: str | None = None) -> set[str]:
    """Every dataset id named by a captured model info (card `datasets:` and `dataset:` tags); with `until`,
    by the captures of that crawl date and before (read from the crawl-state index, not every capture)."""
    return crawl_state.named_datasets(raw, until=until)


def due_datasets(raw: RawStore, today: date, refresh_days: int = REFRESH_DAYS) -> list[str]:
    """Named datasets never fetched, then those last fetched more than `refresh_days` ago; only those named
    by the captures of `today` and before (a date run again after later dates were crawled must not ask for
    datasets it could not know yet: as of that date they may not exist, and "missing" would stand for a
    month)."""
    last = crawl_state.datasets_fetched(raw)
    due = []
    for name in sorted(named_datasets(raw, until=today.isoformat())):
        seen = last.get(name)
        if seen is None or (today - date.fromisoformat(seen)).days >= refresh_days:
            due.append(name)
    return due


def fetch_datasets(
    client: HubClient,
    raw: RawStore,
    crawl_date: str,
    names: list[str],
    *,
    now: datetime,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Read each dataset's info and card; append the outcomes (one file per batch of 100). The status is
    `ok`, `missing` (the Hub says it does not exist) or `unrecorded` (a mirror that did not record datasets
    answered: unknown)."""
    counts: dict[str, int] = {}
    batch: list[dict] = []
    for n, name in enumerate(names, start=1):
        status, info = client.dataset_lookup(name)
        if status == "ok" and not info:
            status = "missing"
        row = {
            "fetched_at": now,
            "dataset_id": name,
            "status": status,
            "info": json.dumps(info, sort_keys=True, ensure_ascii=False) if info else None,
            "readme_status": None,
            "readme_sha256": None,
            "readme_bytes": None,
        }
        if (
            info
            and info.get("sha")
            and (
                not isinstance(info.get("siblings"), list)  # an unknown file list: ask for the README
                or any(isinstance(s, dict) and s.get("rfilename") == "README.md" for s in info["siblings"])
            )
        ):
            res = client.read_file(info.get("id", name), info["sha"], "README.md", repo_type="dataset")
            row.update(
                readme_status=res.status,
                readme_bytes=res.size if res.content else None,  # the real size, also when capped
                readme_sha256=hashlib.sha256(res.content).hexdigest() if res.content else None,
            )
        elif info:
            row["readme_status"] = "missing"
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        batch.append(row)
        if len(batch) >= 100 or n == len(names):
            frame = pl.DataFrame(batch, schema=DATASET_RAW_SCHEMA)
            path, written = raw.append(
                "hub_dataset", crawl_date, frame, payload=["dataset_id", "status", "info", "readme_sha256"]
            )
            crawl_state.record(raw, "hub_dataset", path if written else None, frame)
            batch = []
        if progress and (n % 50 == 0 or n == len(names)):
            progress(f"datasets: {n}/{len(names)}")
    return counts


def build_datasets(raw_rows: pl.DataFrame) -> pl.DataFrame:
    """core.datasets: the latest capture of each dataset (one row per dataset id); `exists` is null where
    the capture was `unrecorded` (unknown), false only where the Hub said the dataset does not exist."""
    if raw_rows.height == 0:
        return pl.DataFrame(schema=DATASETS_SCHEMA)
    latest = raw_rows.sort("crawl_date", "fetched_at").unique(subset=["dataset_id"], keep="last")
    rows = []
    for r in latest.sort("dataset_id").iter_rows(named=True):
        info = json.loads(r["info"]) if r["info"] else {}
        card = info.get("cardData") if isinstance(info.get("cardData"), dict) else {}
        lic = card.get("license")
        tag_lic = sorted(
            t[8:] for t in info.get("tags") or [] if isinstance(t, str) and t.startswith("license:")
        )
        gated = info.get("gated")
        rows.append(
            {
                "dataset_id": r["dataset_id"],
                "revision": info.get("sha"),
                "observed_at": datetime.fromisoformat(r["crawl_date"]).replace(tzinfo=UTC),
                # A recording that does not hold datasets tells nothing about the Hub: unknown, not absent.
                "exists": None if r["status"] == "unrecorded" else r["status"] == "ok",
                "license_raw": ",".join(lic)
                if isinstance(lic, list)
                else (str(lic) if lic else (",".join(tag_lic) or None)),
                "license_name": str(card["license_name"]) if card.get("license_name") else None,
                "gated": None if not info else ("false" if gated in (None, False, "false") else str(gated)),
                "readme_status": r["readme_status"],
                "card_bytes": r["readme_bytes"],
            }
        )
    return pl.DataFrame(rows, schema=DATASETS_SCHEMA)
