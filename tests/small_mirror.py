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
    if isinstance(lic, str):  # the Hub makes no licence tag of a mapping
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


# Repos whose cards hold data defects confined to them (docs/quality.md, "Data defects and pipeline
# invariants"): repo id -> (date, card metadata, card body). PAPER_IN_MIRROR is the only paper the
# mirror's arXiv has; the cards cite it by a link only (no `arxiv:` tag), cite a paper arXiv does not
# have, mistype an id (six digits), declare a mapping as licence, a `..` dataset and themselves as base,
# and two name each other as base model.
PAPER_IN_MIRROR = "2306.03845"
PAPER_NOT_IN_MIRROR = "2401.99999"
DEFECT_REPOS: dict[str, tuple[str, dict, str]] = {
    "gamma/untagged-link": (
        "2024-03-04T10:00:00.000Z",
        {"license": "apache-2.0"},
        f"Paper: https://arxiv.org/abs/{PAPER_IN_MIRROR}v2 (also arxiv.org/abs/2306.038451, a typo).",
    ),
    "gamma/missing-paper": (
        "2024-03-04T11:00:00.000Z",
        {"license": "mit"},
        f"Paper: [here](https://huggingface.co/papers/{PAPER_NOT_IN_MIRROR}).",
    ),
    "gamma/odd-card": (
        "2024-03-05T09:00:00.000Z",
        {
            "license": {"name": "custom", "url": "https://example.org/licence"},
            "datasets": ["acme/../secrets"],
            "base_model": "gamma/odd-card",
        },
        "No paper.",
    ),
    "gamma/loop-a": ("2024-03-05T10:00:00.000Z", {"license": "mit", "base_model": "gamma/loop-b"}, ""),
    "gamma/loop-b": ("2024-03-05T11:00:00.000Z", {"license": "mit", "base_model": "gamma/loop-a"}, ""),
}


# Usage histories (metrics.json) for `make_small_mirror(metrics=True)`: repo id -> dated counts. On
# 2024-03-06 the community-licensed gated model takes most downloads, the two Apache models few and the
# card-only repo none, so download-weighted shares differ from release shares (tests/test_usage_metrics.py).
SMALL_METRICS: dict[str, list[dict]] = {
    "acme/open-7b": [
        {"date": "2024-02-01", "downloads": 50, "downloadsAllTime": 50, "likes": 2, "trendingScore": 1},
        {"date": "2024-03-01", "downloads": 1500, "downloadsAllTime": 1550, "likes": 9, "trendingScore": 4},
    ],
    "acme/gated-13b": [
        {"date": "2024-03-01", "downloads": 8000, "downloadsAllTime": 9000, "likes": 30, "trendingScore": 12},
    ],
    "beta/card-only": [
        {"date": "2024-03-01", "downloads": 0, "downloadsAllTime": 3, "likes": 0, "trendingScore": 0},
    ],
    "beta/open-7b-gguf": [
        {"date": "2024-03-05", "downloads": 500, "downloadsAllTime": 500, "likes": 1, "trendingScore": 2},
    ],
}
# Repos the Hub's inference providers may serve (docs/rubric.md, "Solaiman's gradient"): repo id -> (date,
# files, `inferenceProviderMapping` as the single-model endpoint answers it, `inference`). One without weight
# files but served live, one with weights and served, one without weights and no provider, one without
# weights whose only provider is still staging.
HOSTED_REPOS: dict[str, tuple[str, list[str], dict, str | None]] = {
    "delta/served-api": (
        "2024-03-01T09:00:00.000Z",
        ["README.md", "config.json"],
        {
            "together": {"status": "live", "providerId": "delta/served-api-turbo", "task": "conversational"},
            "nebius": {"status": "staging", "providerId": "delta/served-api", "task": "conversational"},
        },
        "warm",
    ),
    "delta/served-weights": (
        "2024-03-01T10:00:00.000Z",
        ["README.md", "config.json", "model.safetensors"],
        {"hf-inference": {"status": "live", "providerId": "delta/served-weights", "task": "text-generation"}},
        "warm",
    ),
    "delta/no-provider": ("2024-03-01T11:00:00.000Z", ["README.md", "config.json"], {}, None),
    "delta/staging-only": (
        "2024-03-01T12:00:00.000Z",
        ["README.md", "config.json"],
        {"nebius": {"status": "staging", "providerId": "delta/staging-only", "task": "conversational"}},
        None,
    ),
}
# What the small mirror declares it reconstructed (mirror.json `reconstructions`, docs/mirror.md "Provenance"):
# the commit of acme/open-7b's licence change has a made-up id, and beta/card-only's README was rebuilt.
SYNTHETIC_COMMIT = ("acme/open-7b", _sha("acme/open-7b", "2024-02-20T09:30:00.000Z"))
SMALL_RECONSTRUCTIONS = [
    {
        "kind": "synthetic-commit-id",
        "why": "the commit id is not the Hub's: made from the repo id and date",
        "affects": [f"models/{SYNTHETIC_COMMIT[0]}/revisions/{SYNTHETIC_COMMIT[1]}"],
    },
    {
        "kind": "readme-from-card-data",
        "why": "the README is rebuilt from the card data",
        "affects": [
            f"models/beta/card-only/revisions/{_sha('beta/card-only', '2024-02-01T08:00:00.000Z')}/README.md"
        ],
    },
]


def make_small_mirror(
    root: Path,
    *,
    defects: bool = False,
    hosted: bool = False,
    unrecorded: list[str] | None = None,
    papers: bool = False,
    metrics: bool = False,
) -> Path:
    """Write the small mirror to `root` and return it; `defects` adds DEFECT_REPOS and their one paper;
    `hosted` adds HOSTED_REPOS (their provider mapping and inference state in their info);
    `unrecorded` is mirror.json's list of kinds not recorded (default: none, so the dataset the cards
    name, `acme/corpus`, which the mirror does not hold, is missing from the Hub); `papers` makes
    beta/card-only's card cite PAPER_IN_MIRROR (held) and PAPER_NOT_IN_MIRROR (not held); `metrics` adds
    the usage histories of SMALL_METRICS."""
    writer = MirrorWriter(root, title="test mirror", sources=["made by tests/small_mirror.py"])
    if unrecorded is not None:
        writer.extra["unrecorded"] = unrecorded
    cards = {
        repo_id: [(d, meta, files, gated, None) for d, meta, files, gated in history]
        for repo_id, history in SMALL_REPOS.items()
    }
    if defects:
        for repo_id, (date, meta, body) in DEFECT_REPOS.items():
            cards[repo_id] = [(date, meta, ["README.md", "model.safetensors"], False, body)]
    if defects or papers:
        sample = Path(__file__).resolve().parents[1] / "pipelines" / "mirror" / "sample" / "papers" / "arxiv"
        writer.add_paper(PAPER_IN_MIRROR, (sample / f"{PAPER_IN_MIRROR}.xml").read_text(encoding="utf-8"))
    if papers:
        cite = f"Papers: https://arxiv.org/abs/{PAPER_IN_MIRROR} and https://arxiv.org/abs/{PAPER_NOT_IN_MIRROR}."
        cards["beta/card-only"] = [(d, m, f, g, cite) for d, m, f, g, _ in cards["beta/card-only"]]
    served: dict[str, dict] = {}
    if hosted:
        for repo_id, (date, files, mapping, inference) in HOSTED_REPOS.items():
            cards[repo_id] = [(date, {"license": "apache-2.0"}, files, False, None)]
            served[repo_id] = {"inferenceProviderMapping": mapping}
            if inference is not None:
                served[repo_id]["inference"] = inference
    for repo_id, history in cards.items():
        created = history[0][0]
        for date, meta, files, gated, text in history:
            commit = Commit(
                id=_sha(repo_id, date), date=date, title=f"Update card {date[:10]}", authors=["tester"]
            )
            info = {**_info(repo_id, date, created, meta, files, gated), **served.get(repo_id, {})}
            body = (
                f"# {repo_id}\n\nA test model card.\n\n## Training\n\nSee https://github.com/acme/trainer ."
            )
            if text:
                body += "\n\n" + text
            writer.add_revision("models", repo_id, commit, info, files={"README.md": _card(meta, body)})
    if metrics:
        for repo_id, entries in SMALL_METRICS.items():
            writer.add_metrics("models", repo_id, entries)
    writer.extra["reconstructions"] = SMALL_RECONSTRUCTIONS
    writer.finish()
    return root
