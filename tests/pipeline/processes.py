"""The processes below a process, read from /proc, and whether they and a port are gone (UI tests)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(root: int) -> dict[int, str]:
    """The processes below `root`, with their start times (so a reused pid is not mistaken for one)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            if (fields := _stat(pid)) is not None:
                found[pid] = fields[19]
                todo.append(pid)
    return found


def still_running(pids: dict[int, str]) -> list[int]:
    """Those of `pids` (from `descendants`) that still run (zombies do not count)."""
    alive = []
    for pid, started in pids.items():
        fields = _stat(pid)
        if fields is not None and fields[19] == started and fields[0] != "Z":
            alive.append(pid)
    return alive


def wait_until_gone(port: int, pids: dict[int, str], seconds: float = 5) -> None:
    """Wait up to `seconds` for the port to be free and `pids` to be gone."""
    deadline = time.monotonic() + seconds
    while (listening(port) or still_running(pids)) and time.monotonic() < deadline:
        time.sleep(0.2)


def kill_left(pids: dict[int, str]) -> None:
    """SIGKILL those of `pids` still running (what a failed stop left behind)."""
    for pid in still_running(pids):
        os.kill(pid, signal.SIGKILL)
