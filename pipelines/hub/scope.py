"""What to crawl: the whole Hub, some organisations, a watchlist file, thresholds, or the top N."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from pipelines.hub.ids import is_valid_repo_id

DEFAULT_WATCHLIST = Path(__file__).with_name("watchlist.yml")


def load_watchlist(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(organisations, repo ids) from a watchlist YAML file; a clear error for anything malformed."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read watchlist {path}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"organisations", "repos", "description"}:
        raise ValueError(f"watchlist {path}: expected keys 'organisations' and 'repos' only")
    orgs = data.get("organisations") or []
    repos = data.get("repos") or []
    if not all(isinstance(o, str) and is_valid_repo_id(f"{o}/x") for o in orgs):
        raise ValueError(f"watchlist {path}: every organisation must be a Hub namespace")
    bad = [r for r in repos if not is_valid_repo_id(r)]
    if bad:
        raise ValueError(f"watchlist {path}: not repo ids: {bad[:5]}")
    # A watched repo is crawled through its organisation's listing, then filtered to the repo.
    return tuple(sorted(set(orgs))), tuple(sorted(set(repos)))


def item_filter(
    orgs: tuple[str, ...], repos: tuple[str, ...], min_downloads: int = 0, min_likes: int = 0
) -> Callable[[dict], bool]:
    """A predicate on listing items: in one of the organisations or a watched repo, and over the thresholds."""
    org_set, repo_set = set(orgs), set(repos)

    def keep(item: dict) -> bool:
        repo_id = item.get("id")
        if not isinstance(repo_id, str):
            return True  # kept so that the normaliser can quarantine it with a reason
        if (org_set or repo_set) and repo_id.split("/", 1)[0] not in org_set and repo_id not in repo_set:
            return False
        downloads, likes = item.get("downloads"), item.get("likes")
        if min_downloads and not (isinstance(downloads, int) and downloads >= min_downloads):
            return False
        return not (min_likes and not (isinstance(likes, int) and likes >= min_likes))

    return keep
