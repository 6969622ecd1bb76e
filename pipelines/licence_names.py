"""Which files of a repository are licence or use-policy documents, by their names alone.

One rule for the Hub's model repositories (pipelines.hub.licences) and code repositories
(pipelines.openness.license_files, which identifies what such a file says). It lives outside both so that
a source can choose the files to read without importing the licence detector's package.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

# Files larger than this are not licence files; reading them is refused.
MAX_FILE_BYTES = 2_000_000

_TEXT_EXTENSIONS = {"", ".txt", ".md", ".markdown", ".rst"}
# LICENSE.<x>: any suffix names a licence (LICENSE.MIT, LICENSE.apache-2.0) except formats that are not
# plain text or are code/data.
_NOT_TEXT = {
    ".pdf",
    ".doc",
    ".docx",
    ".odt",
    ".rtf",
    ".html",
    ".htm",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".py",
    ".js",
    ".ts",
    ".json",
    ".yaml",
    ".yml",
    ".toml",
    ".csv",
    ".ipynb",
    ".sh",
}
_POLICY = re.compile(r"(^|[_\-. ])(acceptable[_\-. ]?)?use[_\-. ]?polic(y|ies)($|[_\-. ])", re.IGNORECASE)
_LICENCE_START = re.compile(r"^(licen[cs]e|copying)($|[._\-\s])", re.IGNORECASE)
_LICENCE_WORD = re.compile(r"licen[cs]e", re.IGNORECASE)


def licence_file_kind(path: str | Path) -> str | None:
    """'licence', 'policy' or None for a repo file path, from its name alone.

    Licence files: LICENSE, LICENCE, COPYING and their suffixed forms (LICENSE.txt, LICENSE-MODEL,
    COPYING.LESSER), and text files whose name contains LICENSE (MODEL_LICENSE, DATA_LICENSE,
    "Tongyi Qianwen LICENSE AGREEMENT", LLAMA_LICENSE.md). Policy documents: USE_POLICY.md,
    ACCEPTABLE_USE_POLICY*. NOTICE files are not licences; PDFs and other binary formats are not read.
    """
    name = PurePosixPath(str(path).replace("\\", "/")).name
    if not name:
        return None
    stem, dot, ext = name.rpartition(".")
    if not dot or " " in ext or len(ext) > 12:
        stem, ext = name, ""
    ext = f".{ext.lower()}" if ext else ""
    if ext in _NOT_TEXT:
        return None
    if _POLICY.search(stem) and ext in _TEXT_EXTENSIONS:
        return "policy"
    if _LICENCE_START.match(name):
        return "licence"
    if _LICENCE_WORD.search(stem) and ext in _TEXT_EXTENSIONS:
        return "licence"
    return None
