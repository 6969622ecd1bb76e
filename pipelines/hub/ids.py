"""Validation of untrusted Hub identifiers before they reach a path, a URL or SQL; git blob ids."""

from __future__ import annotations

import hashlib
import re

# The Hub's grammar for a namespace or repo name: letters, digits, '.', '_', '-'; no '..', no
# leading/trailing separator; at most 96 characters (huggingface_hub's validate_repo_id rules).
_PART = re.compile(r"^(?!.*\.\.)(?!.*--)[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
# Legacy canonical datasets have no namespace ("c4", "wikipedia"); the Hub still answers for them.
_CANONICAL = re.compile(r"^(?!.*\.\.)[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")


class InvalidIdentifier(ValueError):
    """An identifier that does not follow the Hub's grammar."""


def is_valid_repo_id(repo_id: object) -> bool:
    """True if `repo_id` is `org/name` in the Hub's grammar."""
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        return False
    org, name = repo_id.split("/")
    return bool(_PART.match(org) and _PART.match(name))


def is_dataset_id(value: object) -> bool:
    """A Hub dataset id: `org/name`, or a legacy canonical name."""
    return isinstance(value, str) and (is_valid_repo_id(value) or bool(_CANONICAL.match(value)))


def validate_repo_id(repo_id: object) -> str:
    """Return `repo_id` unchanged, or raise InvalidIdentifier."""
    if not is_valid_repo_id(repo_id):
        raise InvalidIdentifier(f"not a valid Hub repo id: {str(repo_id)[:200]!r}")
    return repo_id  # type: ignore[return-value]


def validate_revision(revision: object) -> str:
    """Return a branch name or commit id unchanged, or raise InvalidIdentifier."""
    if not isinstance(revision, str) or not _REVISION.match(revision) or ".." in revision:
        raise InvalidIdentifier(f"not a valid revision: {str(revision)[:200]!r}")
    return revision


def is_commit_sha(value: object) -> bool:
    """True for a full 40-hex commit id."""
    return isinstance(value, str) and bool(_SHA.match(value))


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of some bytes: the Hub's `blobId` (and resolve ETag) of a file not stored in LFS."""
    digest = hashlib.sha1(b"blob %d\0" % len(data))  # noqa: S324 - git's object id, not security
    digest.update(data)  # not header + data: that would copy a large file
    return digest.hexdigest()
