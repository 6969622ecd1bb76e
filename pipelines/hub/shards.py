"""Sharding the per-repo crawl work by a stable hash of the repo id."""

from __future__ import annotations

import hashlib


def shard_of(repo_id: str, shards: int) -> int:
    """The shard (0..shards-1) a repo belongs to; stable across runs, machines and Python versions."""
    if shards < 1:
        raise ValueError("shards must be >= 1")
    return int.from_bytes(hashlib.sha1(repo_id.encode("utf-8")).digest()[:8], "big") % shards


def in_shard(repo_id: object, shard: int, shards: int) -> bool:
    """Whether a repo id falls in a shard (anything that is not a string falls in shard 0)."""
    if shards == 1:
        return True
    return shard_of(repo_id, shards) == shard if isinstance(repo_id, str) else shard == 0
