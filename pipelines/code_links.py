"""Code repository links (github.com, gitlab.com) found in model cards, paper comments, abstracts and Hub
paper pages.

Every source normalises URLs with these functions: `https://host/owner/repo`, lower-cased, without `.git`
or trailing punctuation, so paper links and card links join on equality.
"""

from __future__ import annotations

import re

_CODE_LINK = re.compile(
    r"(?<![\w.\-])(?:https?://)?(?:www\.)?(github\.com|gitlab\.com)/"
    r"([A-Za-z0-9][A-Za-z0-9\-]{0,38})/([A-Za-z0-9._\-]{1,100})",
    re.IGNORECASE,
)
# First path segments that are GitHub/GitLab pages, not owners.
_NOT_OWNERS = frozenset(
    "about apps assets blog collections contact customer-stories enterprise events explore features help "
    "join login marketplace new notifications organizations orgs pricing pulls issues search security "
    "settings site sponsors topics trending users user-attachments -".split()
)


def _normalise(host: str, owner: str, repo: str) -> str | None:
    host, owner, repo = host.lower(), owner.lower(), repo.lower()
    # Sentences end in "." and abstracts wrap links in brackets: trim what cannot end a repo name.
    repo = repo.rstrip("._-").removesuffix(".git").rstrip("._-")
    if owner in _NOT_OWNERS or not repo or repo in {".", ".."}:
        return None
    return f"https://{host}/{owner}/{repo}"


def find_code_urls(*texts: str | None) -> list[str]:
    """Normalised repository URLs found in the texts, in order of first appearance, without duplicates."""
    out: list[str] = []
    for text in texts:
        for m in _CODE_LINK.finditer(text or ""):
            url = _normalise(m.group(1), m.group(2), m.group(3))
            if url is not None and url not in out:
                out.append(url)
    return out


def normalise_code_url(url: object) -> str | None:
    """One repository URL normalised (e.g. the Hub's `githubRepo`), or None if it is not one."""
    if not isinstance(url, str):
        return None
    found = find_code_urls(url.strip())
    return found[0] if found else None
