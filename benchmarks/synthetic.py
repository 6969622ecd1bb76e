"""Synthetic hub-mirror/1 folders at Hub scale, for the crawl-cost benchmark (`benchmarks/crawl_cost.py`).

`generate_mirror` writes n model repos drawn from the distribution table below, so that day D0 (the first
full crawl) has every repo with >= 1 commit on or before it, and each later day is a change day on which
exactly `change_rate` of the repos existing the day before get a new commit and `new_rate` new repos
appear. Everything is drawn from `random.Random` seeded per repo, so a seed always gives the same bytes.
Files are written directly (compact JSON; an unchanged README is hard-linked from the commit before),
not through `MirrorWriter`, whose indented JSON and in-memory commit lists cost minutes at 100,000 repos.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.mirror.layout import FORMAT
from pipelines.mirror.names import hub_date

# ---- the distribution table ----------------------------------------------------------------------
# Derived from /work/shared/reference (not shipped; numbers copied here). "Sample" = the 35 distinct models
# with a full info body in reference/hub-api/*.json (4 unreadable bodies skipped) plus the 29 cards of
# reference/cards/PROVENANCE.csv; HuggingFaceH4/zephyr-7b-beta is in both: 63 repos. It is a sample of
# popular models, so licences and cards are better documented than the Hub's long tail.
DISTRIBUTIONS: dict[str, Any] = {
    # (cardData.license, license_name, count of the 63): license:* tags of the bodies, card_license of the cards.
    "licences": [
        ("apache-2.0", None, 26),
        ("mit", None, 6),
        (None, None, 11),  # none: 3 bodies + 8 cards without one
        ("llama2", None, 2),
        ("llama3", None, 2),
        ("llama3.1", None, 1),
        ("creativeml-openrail-m", None, 2),
        ("openrail++", None, 1),
        ("gemma", None, 1),
        ("cc-by-nc-4.0", None, 1),
        ("other", "ai2-impact-license-low-risk", 1),
        ("other", "deepseek", 1),
        ("other", "gemma-terms-of-use", 1),
        ("other", None, 3),
        ("*", None, 4),  # another Hub id (bsd-3-clause, cc-by-4.0 x2, cc-by-sa-4.0): drawn from licence_tail
    ],
    # Ids of reference/hub_licenses.csv (the Hub's licence list) not named above, for the "*" rows.
    "licence_tail": [
        "bsd-3-clause",
        "cc-by-4.0",
        "cc-by-sa-4.0",
        "afl-3.0",
        "bsd-2-clause",
        "cc0-1.0",
        "gpl-3.0",
        "agpl-3.0",
        "mpl-2.0",
        "odc-by",
        "bigscience-openrail-m",
        "cc-by-nc-sa-4.0",
        "unknown",
    ],
    "gated": 10
    / 63,  # 3 bodies with gated "manual" + 7 cards with extra_gated_fields (all shown as "manual")
    "base_model": 9 / 63,  # 6 bodies with cardData.base_model + 3 more cards with base_model in the YAML
    "base_models": [
        "mistralai/Mistral-7B-v0.1",
        "meta-llama/Meta-Llama-3-70B",
        "meta-llama/Meta-Llama-3.1-8B",
        "facebook/wav2vec2-xls-r-300m",
        "mistral-community/Mixtral-8x22B-v0.1",
        "FacebookAI/roberta-base",
    ],
    "no_readme": 1 / 35,  # dbmdz/bert-large-cased-finetuned-conll03-english has no README.md
    # Weight files of the 35 bodies: 26 safetensors, 7 .bin only, 2 other (.pth, .ckpt). No gguf-only or
    # weightless repo is in this popular sample: 2 pseudo-counts each (an assumption) exercise those paths.
    "weights": [("safetensors", 26), ("bin", 7), ("other", 2), ("gguf", 2), ("none", 2)],
    # pipeline_tag and library_name counts of the 35 bodies (24 pipeline tags; the single ones pooled).
    "pipelines": [
        ("text-generation", 8),
        ("text-to-image", 2),
        ("translation", 2),
        ("text2text-generation", 2),
        ("sentence-similarity", 2),
        ("image-classification", 1),
        ("automatic-speech-recognition", 1),
        ("text-classification", 1),
        ("fill-mask", 1),
        ("question-answering", 1),
        ("summarization", 1),
        ("feature-extraction", 1),
        ("token-classification", 1),
        ("object-detection", 1),
    ],
    "libraries": [
        ("transformers", 29),
        ("diffusers", 2),
        ("sentence-transformers", 2),
        ("espnet", 1),
        ("speechbrain", 1),
    ],
    # Per-body counts of dataset:* and arxiv:* tags, and shares of the common Hub-computed tags (of 35).
    "dataset_tags": [
        0,
        2,
        1,
        0,
        1,
        0,
        0,
        1,
        2,
        1,
        0,
        1,
        1,
        1,
        0,
        2,
        1,
        10,
        10,
        1,
        2,
        0,
        2,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        21,
        13,
        0,
        2,
        0,
    ],
    "arxiv_tags": [
        5,
        4,
        2,
        1,
        0,
        1,
        0,
        0,
        1,
        1,
        1,
        2,
        1,
        1,
        1,
        1,
        8,
        2,
        2,
        3,
        2,
        0,
        0,
        1,
        0,
        0,
        1,
        1,
        0,
        2,
        5,
        1,
        2,
        0,
        3,
    ],
    "tag_shares": {
        "endpoints_compatible": 33 / 35,
        "autotrain_compatible": 22 / 35,
        "en": 20 / 35,
        "text-generation-inference": 11 / 35,
    },
    "datasets": [
        "multi_nli",
        "coco",
        "gsm8k",
        "lambada",
        "ms_marco",
        "s2orc",
        "esnli",
        "deepmind/code_contests",
    ],
    "arxiv": [
        "1910.09700",
        "2112.10752",
        "2103.00020",
        "1910.13461",
        "2210.11416",
        "2305.18290",
        "2310.16944",
    ],
    # Card bytes of the 30 reference cards (median 7.0 KB), scaled by card_scale to keep a 100k mirror modest.
    "card_bytes": [
        3722,
        24759,
        12514,
        6503,
        18511,
        20062,
        3136,
        5999,
        6425,
        14107,
        7933,
        7007,
        3574,
        4527,
        22297,
        1293,
        1965,
        10405,
        9989,
        10442,
        3901,
        3916,
        1392,
        13077,
        14462,
        5307,
        10834,
        10439,
        4847,
        1300,
    ],
    "card_scale": 1 / 3,
    # Level-1/2 headings per card body (median 9) and the headings found in >= 3 of the 30 cards.
    "card_sections": [
        2,
        18,
        10,
        10,
        35,
        27,
        11,
        17,
        17,
        8,
        11,
        8,
        1,
        12,
        12,
        1,
        7,
        9,
        9,
        9,
        6,
        6,
        5,
        12,
        9,
        6,
        9,
        13,
        4,
    ],
    "headings": [
        "Model Details",
        "Evaluation Results",
        "Citation",
        "Ethical Considerations and Limitations",
        "License",
        "Model Description",
        "Limitations",
        "Training Hyperparameters",
        "Intended Use",
        "Training Data",
        "Model Sources",
        "Performance",
        "Bias, Risks, and Limitations",
        "Usage",
        "Uses",
        "Hardware and Software",
        "Troubleshooting",
        "Model Architecture",
        "Intended Uses & Limitations",
        "Training Dataset",
        "Reporting Issues",
        "Training",
        "Evaluation",
    ],
    # README versions per repo in reference/history/*/INDEX*.csv (28 repos; bloom's GitHub draft left out).
    "readme_versions": [
        1,
        3,
        2,
        2,
        14,
        7,
        2,
        1,
        3,
        2,
        3,
        2,
        2,
        2,
        1,
        1,
        1,
        2,
        2,
        3,
        2,
        15,
        3,
        10,
        1,
        2,
        4,
        3,
    ],
    "initial_commit": 4
    / 7,  # repos of the 7 transitions.csv whose first commit has no README (Hub "initial commit")
    "same_day_commits": 9
    / 23,  # days with >= 2 README commits, of 23 active days of the 6 full-history repos
    # Assumptions (no reference data): what a change-day commit touches; history spread; growth of the Hub.
    "change_kinds": [("card", 0.5), ("files", 0.3), ("both", 0.2)],
    "history_days_mean": 30.0,  # later commits follow the first within ~a month (exponential)
    "hub_growth_per_year": 2.3,  # 450k (2023-12) -> 1.0M (2024-09) -> 2.26M (2025-12): hub-api.md section 4.1
    "history_years": 3.0,
}
FAMILIES = [
    "llama",
    "mistral",
    "qwen2",
    "gemma",
    "phi3",
    "bert",
    "t5",
    "whisper",
    "sdxl",
    "olmo",
    "falcon",
    "gpt2",
]
_WORDS = (
    "model data training evaluation license weights tokens benchmark dataset fine-tuned base parameters "
    "context instruction safety bias results accuracy inference hardware limitations release research "
    "open use commercial card version precision quantized adapter merge language english code"
).split()


def _pick(rng: random.Random, pairs: list) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[-1] for p in pairs])[0]


class _Draw:
    """What is drawn once per mirror: the paragraph pool of the cards and the time frame of D0."""

    def __init__(self, seed: int, d0: date) -> None:
        rng = random.Random(f"{seed}/paragraphs")
        self.paragraphs = [
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(25, 70))).capitalize() + "."
            for _ in range(256)
        ]
        self.end_d0 = datetime.combine(d0, datetime.max.time(), tzinfo=UTC).replace(microsecond=0)
        self.rate = math.log(DISTRIBUTIONS["hub_growth_per_year"]) / 365.0
        self.span = DISTRIBUTIONS["history_years"] * 365.0

    def created(self, rng: random.Random) -> datetime:
        """A creation time before the end of D0, denser near D0 like the Hub's exponential growth."""
        u = rng.random() * (1 - math.exp(-self.rate * self.span))
        # At least 10 minutes before the end of D0, so that a repo's first commits all fall on or before D0.
        return self.end_d0 - timedelta(seconds=600 + int(-math.log(1 - u) / self.rate * 86400))


def _sha(seed: int, repo_id: str, k: int) -> str:
    return hashlib.sha1(f"{seed}/{repo_id}/{k}".encode()).hexdigest()


def _profile(rng: random.Random, repo_id: str) -> dict[str, Any]:
    """The stable traits of one repo: licence, card metadata, tags, weights, whether it has a README."""
    d = DISTRIBUTIONS
    lic, name = _pick(rng, [(row[:2], row[2]) for row in d["licences"]])
    if lic == "*":
        lic = rng.choice(d["licence_tail"])
    family, pipeline, library = rng.choice(FAMILIES), _pick(rng, d["pipelines"]), _pick(rng, d["libraries"])
    weights = _pick(rng, d["weights"])
    meta: dict[str, Any] = {}
    if lic:
        meta["license"] = lic
    if name:
        meta.update(license_name=name, license_link="LICENSE")
    tags = [
        library,
        {"safetensors": "safetensors", "bin": "pytorch", "gguf": "gguf", "other": "onnx"}.get(weights, ""),
        family,
        pipeline,
    ]
    datasets = rng.sample(d["datasets"], min(rng.choice(d["dataset_tags"]), len(d["datasets"])))
    arxiv = rng.sample(d["arxiv"], min(rng.choice(d["arxiv_tags"]), len(d["arxiv"])))
    if datasets:
        meta["datasets"] = datasets
    if rng.random() < d["base_model"]:
        meta["base_model"] = base = rng.choice(d["base_models"])
        tags += [f"base_model:{base}", f"base_model:finetune:{base}"]
    gated = "manual" if rng.random() < d["gated"] else False
    if gated:
        meta.update(
            extra_gated_prompt="You agree to the licence terms.", extra_gated_fields={"Affiliation": "text"}
        )
    tags += [t for t, share in d["tag_shares"].items() if rng.random() < share]
    tags += [f"dataset:{x}" for x in datasets] + [f"arxiv:{x}" for x in arxiv]
    tags += [f"license:{lic}"] if lic else []
    meta.update(tags=[family], pipeline_tag=pipeline, library_name=library)
    files = [".gitattributes", "config.json"] + {
        "safetensors": [
            f"model-{i:05d}-of-{n:05d}.safetensors"
            for n in [rng.choice([1, 1, 1, 2, 4])]
            for i in range(1, n + 1)
        ],
        "bin": ["pytorch_model.bin"],
        "gguf": [f"{repo_id.split('/')[1]}.Q4_K_M.gguf"],
        "other": ["model.onnx"],
        "none": [],
    }[weights]
    return {
        "meta": meta,
        "tags": [t for t in tags if t] + ["region:us"],
        "gated": gated,
        "files": files,
        "readme": rng.random() >= d["no_readme"],
        "pipeline": pipeline,
        "library": library,
        "downloads": int(rng.paretovariate(0.8)) - 1,
        "likes": int(rng.paretovariate(1.5)) - 1,
        "sections": rng.sample(d["headings"], min(rng.choice(d["card_sections"]), len(d["headings"]))),
        "card_bytes": int(rng.choice(d["card_bytes"]) * d["card_scale"]),
    }


def _yaml(meta: dict[str, Any]) -> str:
    """Card front matter for the flat, plain-string metadata drawn here (no quoting needed)."""
    lines = []
    for key, value in meta.items():
        if isinstance(value, list):
            lines += [f"{key}:"] + [f"- {v}" for v in value]
        elif isinstance(value, dict):
            lines += [f"{key}:"] + [f"  {k}: {v}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def _card(rng: random.Random, draw: _Draw, repo_id: str, prof: dict[str, Any], note: str) -> bytes:
    """A model card: the YAML of `cardData`, a title, the drawn sections filled up to the drawn size."""
    head = f"---\n{_yaml(prof['meta'])}\n---\n\n# {repo_id.split('/')[1]}\n\n{note}\n\n"
    sections = [[f"## {h}\n"] for h in prof["sections"]] or [[]]
    size, i = len(head), 0
    while size < prof["card_bytes"]:
        para = rng.choice(draw.paragraphs) + "\n"
        sections[i % len(sections)].append(para)
        size, i = size + len(para) + 1, i + 1
    return (head + "\n".join("\n".join(s) for s in sections)).encode()


def _history(rng: random.Random, draw: _Draw) -> list[tuple[datetime, str]]:
    """(date, kind) of the commits up to D0, oldest first: optional Hub initial commit, then README versions."""
    d = DISTRIBUTIONS
    created = draw.created(rng)
    room = max(0.0, (draw.end_d0 - created).total_seconds() - 600)
    spread = min(room, rng.expovariate(1 / (d["history_days_mean"] * 86400)))
    later = sorted(rng.uniform(600, 600 + spread) for _ in range(rng.choice(d["readme_versions"]) - 1))
    commits = [(created, "init")] if rng.random() < d["initial_commit"] else []
    commits.append((created + timedelta(seconds=60 if commits else 0), "first"))
    commits += [(created + timedelta(seconds=int(s)), "card") for s in later]
    return commits


def _day_commits(rng: random.Random, day: date, new: bool) -> list[tuple[datetime, str]]:
    """The commits of one change day: a new repo's first commits, or one or two changes of an existing repo."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    times = sorted(
        rng.randrange(86_340) for _ in range(1 + (rng.random() < DISTRIBUTIONS["same_day_commits"]))
    )
    if new:
        kinds = ["init", "first"] if rng.random() < DISTRIBUTIONS["initial_commit"] else ["first"]
    else:
        kinds = [_pick(rng, DISTRIBUTIONS["change_kinds"]) for _ in times]
    times = [times[0] + 60 * k for k in range(len(kinds))] if new else times
    return [(start + timedelta(seconds=t), k) for t, k in zip(times, kinds, strict=True)]


_TITLES = {
    "init": "initial commit",
    "first": "Upload folder using huggingface_hub",
    "card": "Update README.md",
    "files": "Upload model files",
    "both": "Update model card and weights",
}


def _write_repo(
    root: str,
    seed: int,
    draw: _Draw,
    repo_id: str,
    rng: random.Random,
    prof: dict[str, Any],
    commits: list[tuple[datetime, str]],
) -> tuple[int, int]:
    """Write one repo's revision folders and commits.json; returns (files, bytes) written."""
    base = os.path.join(root, "models", repo_id)  # str paths: pathlib costs seconds at 100,000 repos
    os.makedirs(os.path.join(base, "revisions"))
    files, readme_path, n_files, n_bytes = prof["files"], "", 0, 0
    org, created = repo_id.split("/")[0], hub_date(commits[0][0])
    listed = []
    for k, (when, kind) in enumerate(commits):
        sha, stamp = _sha(seed, repo_id, k), hub_date(when)
        rev = os.path.join(base, "revisions", sha)
        os.mkdir(rev)
        if kind == "init":
            present = [".gitattributes"]
        else:
            if kind in ("files", "both"):
                files = files + [f"checkpoint-{k}/adapter_model.safetensors"]
            present = files + (["README.md"] if prof["readme"] else [])
        info = {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
            "id": repo_id,
            "modelId": repo_id,
            "author": org,
            "sha": sha,
            "lastModified": stamp,
            "createdAt": created,
            "private": False,
            "disabled": False,
            "gated": prof["gated"],
            "downloads": prof["downloads"],
            "likes": prof["likes"],
            "tags": prof["tags"],
            "pipeline_tag": prof["pipeline"],
            "library_name": prof["library"],
            "cardData": prof["meta"],
            "siblings": [{"rfilename": f} for f in sorted(present)],
        }
        n_bytes += _write(os.path.join(rev, "info.json"), json.dumps(info, separators=(",", ":")).encode())
        if "README.md" in present:
            path = os.path.join(rev, "README.md")
            if not readme_path or kind in ("first", "card", "both"):
                n_bytes += _write(path, _card(rng, draw, repo_id, prof, f"Revision {k} of {stamp[:10]}."))
            else:  # same bytes as the commit before: a hard link costs no data blocks
                os.link(readme_path, path)
            readme_path, n_files = path, n_files + 1
        n_files += 1
        listed.append(
            {"id": sha, "date": stamp, "title": _TITLES[kind], "message": "", "authors": [{"user": org}]}
        )
    # commits.json newest first
    n_bytes += _write(
        os.path.join(base, "commits.json"), json.dumps(listed[::-1], separators=(",", ":")).encode()
    )
    return n_files + 1, n_bytes


def _write(path: str, data: bytes) -> int:
    with open(path, "xb") as fh:
        fh.write(data)
    return len(data)


def _write_range(
    root: str,
    seed: int,
    d0: date,
    n_models: int,
    start: int,
    stop: int,
    per_repo: dict[int, list[tuple[date, bool]]],
) -> tuple[int, int, int]:
    """Write repos start..stop-1 (one worker's share); returns (files, bytes, commits)."""
    draw = _Draw(seed, d0)
    files = n_bytes = n_commits = 0
    for i in range(start, stop):
        repo_id, rng = _repo_id(seed, i), random.Random(f"{seed}/repo/{i}")
        prof = _profile(rng, repo_id)
        commits = _history(rng, draw) if i < n_models else []
        for day, is_new in per_repo.get(i, []):
            commits += _day_commits(rng, day, is_new)
        f, b = _write_repo(root, seed, draw, repo_id, rng, prof, commits)
        files, n_bytes, n_commits = files + f, n_bytes + b, n_commits + len(commits)
    return files, n_bytes, n_commits


def _repo_id(seed: int, i: int) -> str:
    rng = random.Random(f"{seed}/name/{i}")
    org = f"{rng.choice(['lab', 'team', 'user', 'org'])}-{rng.randrange(max(1, i // 4) + 1):05d}"
    return f"{org}/{rng.choice(FAMILIES)}-{rng.choice(['7b', '1b', 'base', 'it', 'ft', 'lora'])}-{i:06d}"


def generate_mirror(
    root: Path,
    n_models: int,
    *,
    seed: int,
    days: list[str] | None = None,
    change_rate: float = 0.01,
    new_rate: float = 0.001,
    title: str | None = None,
    workers: int | None = None,
) -> dict:
    """Write a seeded hub-mirror/1 folder of n models: D0 = days[0], then one change day per later date."""
    days = days or ["2026-08-20", "2026-08-21"]
    dates = [date.fromisoformat(d) for d in days]
    if any(b <= a for a, b in zip(dates, dates[1:], strict=False)) or not 0 <= change_rate <= 1:
        raise ValueError("days must be increasing and change_rate within [0, 1]")
    root = Path(root)
    if (root / "mirror.json").exists() or (root / "models").exists():
        raise FileExistsError(f"{root} already holds a mirror")
    started = time.perf_counter()
    # Which repos change and which appear on each change day, decided up front so each repo is written once.
    per_repo: dict[int, list[tuple[date, bool]]] = {}
    changed: dict[str, list[int]] = {}
    new: dict[str, list[int]] = {}
    existing = n_models
    for day in dates[1:]:
        rng = random.Random(f"{seed}/day/{day}")
        changed[str(day)] = sorted(rng.sample(range(existing), round(change_rate * existing)))
        new[str(day)] = list(range(existing, existing + round(new_rate * n_models)))
        for i in changed[str(day)]:
            per_repo.setdefault(i, []).append((day, False))
        for i in new[str(day)]:
            per_repo.setdefault(i, []).append((day, True))
        existing += len(new[str(day)])
    # Repos are independent: split them over processes (the writing is bound by mkdir/open system calls).
    workers = max(1, min(workers or os.cpu_count() or 1, existing // 2000))
    bounds = [existing * w // workers for w in range(workers + 1)]
    jobs = [
        (str(root), seed, dates[0], n_models, a, b, per_repo)
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    if workers == 1:
        parts = [_write_range(*jobs[0])]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_write_range, *zip(*jobs, strict=True)))
    files, n_bytes, commits_total = (sum(p[j] for p in parts) for j in range(3))
    names = {i: _repo_id(seed, i) for ids in [*changed.values(), *new.values()] for i in ids}
    params = {
        "generator": "benchmarks.synthetic",
        "n_models": n_models,
        "seed": seed,
        "days": days,
        "change_rate": change_rate,
        "new_rate": new_rate,
    }
    manifest = {
        "format": FORMAT,
        "title": title or f"synthetic Hub, {n_models} models, seed {seed}",
        "sources": "generated from the distribution table in benchmarks/synthetic.py",
        "synthetic": params,
    }
    (root / "mirror.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    result = {
        **params,
        "repos": existing,
        "commits": commits_total,
        "files": files + 1,
        "bytes": n_bytes,
        "changed": {d: [names[i] for i in ids] for d, ids in changed.items()},
        "new": {d: [names[i] for i in ids] for d, ids in new.items()},
    }
    # An optional extra file (MIRROR_FORMAT.md allows them): lets a benchmark reuse the folder and its answers.
    (root / "synthetic.json").write_text(json.dumps(result, separators=(",", ":")), encoding="utf-8")
    return {**result, "root": str(root), "seconds": round(time.perf_counter() - started, 3)}
