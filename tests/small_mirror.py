"""A small hub-mirror/1 folder made by the tests (distinct from the bundled sample corpus)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from pipelines.mirror.layout import Commit, MirrorWriter


def _sha(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


def _card(meta: dict, body: str) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=True) + "---\n\n" + body + "\n"


def _info(
    repo_id: str,
    date: str,
    created: str,
    meta: dict,
    files: list[str],
    gated: object = False,
    pipeline_tag: str = "text-generation",
) -> dict:
    tags = ["transformers", pipeline_tag]
    lic = meta.get("license")
    if lic:
        tags.append(f"license:{lic}")
    tags += [f"dataset:{d}" for d in meta.get("datasets", [])]
    if meta.get("base_model"):
        tags.append(f"base_model:{meta['base_model']}")
    return {
        "_id": hashlib.md5(repo_id.encode()).hexdigest()[:24],
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.split("/")[0],
        "lastModified": date,
        "createdAt": created,
        "private": False,
        "disabled": False,
        "gated": gated,
        "downloads": 10,
        "likes": 1,
        "tags": sorted(tags),
        "pipeline_tag": pipeline_tag,
        "library_name": "transformers",
        "cardData": meta,
        "siblings": [{"rfilename": f} for f in sorted(files)],
    }


# repo id -> list of (date, card metadata, files, gated); oldest first.
SMALL_REPOS: dict[str, list[tuple[str, dict, list[str], object]]] = {
    "acme/open-7b": [
        (
            "2024-01-10T10:00:00.000Z",
            {"license": "other", "license_name": "acme-research"},
            ["README.md", "config.json", "model.safetensors"],
            False,
        ),
        (
            "2024-02-20T09:30:00.000Z",
            {"license": "apache-2.0", "datasets": ["acme/corpus"]},
            ["README.md", "config.json", "model.safetensors"],
            False,
        ),
    ],
    "acme/gated-13b": [
        (
            "2024-01-15T12:00:00.000Z",
            {"license": "llama2", "extra_gated_prompt": "Accept the licence"},
            [
                "README.md",
                "config.json",
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors",
            ],
            "manual",
        ),
    ],
    "beta/card-only": [
        ("2024-02-01T08:00:00.000Z", {"license": "mit"}, ["README.md"], False),
    ],
    "beta/open-7b-gguf": [
        (
            "2024-03-05T16:45:00.000Z",
            {"license": "apache-2.0", "base_model": "acme/open-7b"},
            ["README.md", "open-7b.Q4_K_M.gguf"],
            False,
        ),
    ],
}


def make_small_mirror(root: Path) -> Path:
    """Write the small mirror to `root` and return it."""
    writer = MirrorWriter(root, title="test mirror", sources=["made by tests/small_mirror.py"])
    for repo_id, history in SMALL_REPOS.items():
        created = history[0][0]
        for date, meta, files, gated in history:
            commit = Commit(
                id=_sha(repo_id, date), date=date, title=f"Update card {date[:10]}", authors=["tester"]
            )
            info = _info(repo_id, date, created, meta, files, gated)
            body = (
                f"# {repo_id}\n\nA test model card.\n\n## Training\n\nSee https://github.com/acme/trainer ."
            )
            writer.add_revision("models", repo_id, commit, info, files={"README.md": _card(meta, body)})
    writer.finish()
    return root
