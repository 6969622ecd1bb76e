"""One GitHub quota per token, shared by every process that crawls with it (a file-locked window counter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.code.settings import CodeSettings
from pipelines.mirror.server import MirrorServer
from pipelines.transport import quota_folder, token_key
from tests.code.conftest import make_code_mirror
from tests.shared_quota import most_in_any_window, run_together

TOKEN = "ghp_sharedquota0123456789abcdef"
QUOTA, WINDOW, EACH = 10, 1.0, 15  # two processes ask 15 each: 30 requests, at most 10 per second

# One crawling process: the code source's client with the token's shared quota, EACH reads of one repo.
CHILD = """
import sys, time
from pipelines.code.client import GitHubClient
from pipelines.code.settings import CodeSettings
url, folder, quota, window, each, start, token = sys.argv[1:8]
settings = CodeSettings(endpoint=url, token=token, quota=int(quota), quota_window=float(window))
client = GitHubClient(settings, shared_dir=folder)
time.sleep(max(0.0, float(start) - time.time()))  # both processes begin together
for _ in range(int(each)):
    assert client.get("/repos/meta-llama/llama").status == 200
"""


def test_two_processes_with_one_token_never_exceed_the_window(tmp_path: Path) -> None:
    folder = quota_folder(None, tmp_path / "wh" / "state")
    with MirrorServer(make_code_mirror(tmp_path / "mirror")) as srv:
        run_together(CHILD, [srv.github_url, str(folder), str(QUOTA), str(WINDOW), str(EACH), TOKEN])
        log = [r for r in srv.requests if r["path"].endswith("/repos/meta-llama/llama")]
    assert len(log) == 2 * EACH
    # Stamped when answered, a little after the permit: a quarter of the window is left as slack.
    assert most_in_any_window([r["ts"] for r in log], WINDOW - 0.25) <= QUOTA
    assert [p.name for p in folder.iterdir()] == [f"github-{token_key(TOKEN)}-core.quota"]


def test_the_published_quota_applies_to_github_only_unless_set() -> None:
    assert CodeSettings(token="t").effective_quota() == 5000
    assert CodeSettings().effective_quota() == 60
    assert (
        CodeSettings(endpoint="http://127.0.0.1:9/api/v3").effective_quota() == 0
    )  # a mirror: headers govern
    assert CodeSettings(endpoint="http://127.0.0.1:9/api/v3", quota=7).effective_quota() == 7
    with pytest.raises(ValueError, match="quota must not be negative"):
        CodeSettings(quota=-1)
    with pytest.raises(ValueError, match="quota_window must be positive"):
        CodeSettings(quota_window=0)
