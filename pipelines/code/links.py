"""GitHub repository names from the links that cards and papers carry (pure).

The Hub card parser and the papers parser already extract code links (`code_urls`, normalised by
pipelines/code_links.py to `https://github.com/owner/repo`, lower-cased). This module turns
such a link, or anything a user types (`owner/repo`, `github.com/owner/repo/tree/main/x`,
`git@github.com:owner/repo.git`), into the key the code source uses: `owner/repo`, lower-cased
(GitHub treats names case-insensitively).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# GitHub's own rules: an owner is 1-39 alphanumerics or single hyphens, not starting with one; a repo
# name is 1-100 of [A-Za-z0-9._-] and is neither "." nor "..".
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_NAME = r"[A-Za-z0-9._\-]{1,100}"
_URL = re.compile(
    rf"^(?:(?:https?|git|ssh)://)?(?:[^@/]+@)?(?:www\.)?github\.com[/:]({_OWNER})/({_NAME})(?:[/?#].*)?$",
    re.IGNORECASE,
)
_SHORT = re.compile(rf"^({_OWNER})/({_NAME})$")
# First path segments that are GitHub pages, not owners (as in pipelines/code_links.py).
_NOT_OWNERS = frozenset(
    "about apps assets blog collections contact customer-stories enterprise events explore features help "
    "join login marketplace new notifications organizations orgs pricing pulls issues search security "
    "settings site sponsors topics trending users user-attachments".split()
)


class BadRepoUrl(ValueError):
    """A string that does not name a GitHub repository."""


def repo_key(url: str) -> str:
    """`owner/repo` (lower-cased) named by a GitHub URL or `owner/repo`; BadRepoUrl if it names none."""
    if not isinstance(url, str) or not url.strip():
        raise BadRepoUrl("empty repository URL")
    text = url.strip()
    m = _URL.match(text) or _SHORT.match(text)
    if m is None:
        if re.match(r"^(?:https?://)?(?:www\.)?(gitlab\.com|bitbucket\.org)/", text, re.IGNORECASE):
            raise BadRepoUrl(f"not a GitHub repository (only github.com is crawled): {text}")
        raise BadRepoUrl(f"not a GitHub repository URL (expected https://github.com/OWNER/REPO): {text}")
    owner, name = m.group(1).lower(), m.group(2).lower()
    name = name.removesuffix(".git").rstrip("._-") if name.endswith(".git") else name.rstrip(".")
    if owner in _NOT_OWNERS or not name or name in {".", ".."}:
        raise BadRepoUrl(f"not a GitHub repository URL (expected https://github.com/OWNER/REPO): {text}")
    return f"{owner}/{name}"


def repo_key_or_none(url: object) -> str | None:
    """Like repo_key, but None for anything that is not a GitHub repository link."""
    if not isinstance(url, str):
        return None
    try:
        return repo_key(url)
    except BadRepoUrl:
        return None


def repo_keys(urls: Iterable[object]) -> list[str]:
    """The distinct GitHub repositories named by a list of links, in first-seen order (others ignored)."""
    out: list[str] = []
    for url in urls:
        key = repo_key_or_none(url)
        if key is not None and key not in out:
            out.append(key)
    return out
