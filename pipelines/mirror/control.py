"""The mirror's own control surface under `/_mirror/`: never logged, never faulted.

Lets a test drive a server that runs the crawler in another process: read or reset the request log,
switch faults on and off, check health.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pipelines.mirror.faults import FaultConfig
from pipelines.mirror.github_quota import Quota
from pipelines.mirror.replies import HubError, Reply, json_reply

if TYPE_CHECKING:
    from pipelines.mirror.server import MirrorServer


def control(mirror: MirrorServer, method: str, path: str, body: bytes) -> Reply:
    """Answer one `/_mirror/...` request."""
    try:
        return _control(mirror, method, path.rstrip("/"), body)
    except HubError as err:
        return err.reply()


def _control(mirror: MirrorServer, method: str, path: str, body: bytes) -> Reply:
    read = method in ("GET", "HEAD")
    if path == "/_mirror/health" and read:
        repos = {kind: len(mirror.store.repos(kind)) for kind in ("models", "datasets")}
        return json_reply(
            {
                "status": "ok",
                "root": str(mirror.store.root),
                "manifest": mirror.store.manifest,
                "repos": repos,
                "code": {"github": mirror.code.count("github")},
            }
        )
    if path == "/_mirror/log" and read:
        return json_reply(mirror.requests)
    if path == "/_mirror/log/reset" and method == "POST":
        mirror.reset_log()
        return json_reply({"ok": True})
    if path == "/_mirror/faults" and read:
        return json_reply(mirror.faults.to_dict() if mirror.faults else None)
    if path == "/_mirror/faults" and method == "POST":
        try:
            data = json.loads(body or b"null")
            faults = None if data is None else FaultConfig.from_dict(data)
        except (ValueError, TypeError) as err:
            raise HubError(400, f"invalid fault config: {err}") from err
        mirror.set_faults(faults)
        return json_reply(faults.to_dict() if faults else None)
    if path == "/_mirror/quota" and read:
        return json_reply(mirror.quota.to_dict())
    if path == "/_mirror/quota" and method == "POST":
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("a quota config must be a JSON object")
            quota = Quota(**data)
        except (ValueError, TypeError) as err:
            raise HubError(400, f"invalid quota config: {err}") from err
        mirror.set_quota(quota)
        return json_reply(quota.to_dict())
    if path in ("/_mirror/health", "/_mirror/log", "/_mirror/log/reset", "/_mirror/faults", "/_mirror/quota"):
        raise HubError(405, f"Method {method} not allowed on {path}")
    raise HubError(404, "Not Found")
