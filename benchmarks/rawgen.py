"""Synthetic raw layers at Hub scale: the Parquet files the crawler would have written, without a crawl.

`generate_raw(raw, n, seed=...)` writes, through `RawStore.append` and with the crawler's schemas, what a
first full crawl plus the one-off history backfill of `n` models leave on day D0; `generate_day(raw, n,
day, ...)` writes what one later daily crawl (listing to the watermark, READMEs of the new heads, the
history walk of the repos whose head moved) leaves. The daily-cycle benchmark (`benchmarks/cycle.py`)
builds the warehouse from these files; the synthetic *mirror* (`benchmarks/synthetic.py`) is what the
crawl-cost benchmark crawls over HTTP, which costs hours at this scale.

Distributions. Every per-model trait is drawn from `benchmarks.synthetic.DISTRIBUTIONS` (each number
there cites its source in /work/shared/reference): licence and `license_name` (with the tail of other Hub
licence ids), gating, base model share, README presence, weight formats, pipeline tag and library, the
number of `dataset:*` and `arxiv:*` tags and which ones, the Hub-computed tags, the card size (times its
`card_scale`) and the headings of the card, the number of README versions per repo, the share of repos whose
first commit is the Hub's "initial commit" without README, the share of change days with two commits, what
a change touches (card, files, both), the spread of a repo's later commits after its creation (exponential,
mean 30 days) and the Hub's exponential growth (creation dates). Three assumptions are added here, as
there is no reference data for them: half of the base models named by a card are other generated repos
(the 1,000 oldest, so that derivatives of changed bases exist; the other half are the six reference bases,
not in the warehouse), card bodies are drawn from a seeded pool of 2,048 bodies built like the synthetic
mirror's cards (each card still differs: its title, YAML and revision line are its own), and 0.01% of the
repos disappear on a change day (a failed presence check).

Shapes of the raw files, as the crawler writes them: listing pages of 1,000 items, newest change first,
each item the JSON the Hub's listing answers with the crawler's `expand` fields (`json.dumps(...,
sort_keys=True)`); README outcomes in batches of 100 (`README_BATCH`); the history backfill's revision
infos and READMEs in files of 100 repos (the crawler's backfill writes batches of 500 repos); one
`crawl_run` row per day.
Not written: `hub_commits` (the build does not read it), datasets and papers captures. The README's
git `blob_id` is left null (as in captures made before 2026-11-23).

Determinism: every draw is a counter-based hash (SplitMix64) of (seed, model index, field), so any subset
of models can be generated on its own, in any order or process, and a seed always gives the same files.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks.synthetic import _WORDS, DISTRIBUTIONS, FAMILIES
from pipelines.hub.crawl import README_BATCH
from pipelines.hub.raw import PRESENCE_RAW_SCHEMA, README_RAW_SCHEMA
from pipelines.storage.raw import CRAWL_RUN_SCHEMA, RawStore

SEED = 20260820
D0 = "2026-08-20"
PAGE = 1000  # listing page size (the crawler asks for 1,000)
HISTORY_BATCH = 100  # repos per history file
BODY_POOL = 2048
CHUNK = 20_000  # models per generation task (listing order)
SIZES = ["7b", "1b", "base", "it", "ft", "lora"]
ORG_KINDS = ["lab", "team", "user", "org"]
FMT_TAG = {"safetensors": "safetensors", "bin": "pytorch", "gguf": "gguf", "other": "onnx", "none": ""}
WEIGHTS = [w for w, _ in DISTRIBUTIONS["weights"]]
DELETE_RATE = 0.0001
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


# ---- counter-based draws ---------------------------------------------------------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser over uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _bits(seed: int, key: str, counter: np.ndarray) -> np.ndarray:
    """64 random bits per counter value, for one (seed, field) stream."""
    salt = int.from_bytes(hashlib.sha256(f"{seed}/{key}".encode()).digest()[:8], "big")
    with np.errstate(over="ignore"):
        return _mix(counter.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt))


def _u(seed: int, key: str, counter: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) per counter value."""
    return (_bits(seed, key, counter) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _choice(u: np.ndarray, weights: list[float]) -> np.ndarray:
    """Index of the weighted option each uniform falls in."""
    cum = np.cumsum(np.asarray(weights, dtype=float))
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(weights) - 1)


def _hex(seed: int, key: str, counter: np.ndarray, chars: int) -> pl.Series:
    """`chars` hex digits per counter value (commit ids: 40, `_id`: 24)."""
    words = math.ceil(chars / 16)
    cols = np.stack([_bits(seed, f"{key}/{w}", counter) for w in range(words)], axis=1).astype(">u8")
    text = cols.tobytes().hex().encode()
    arr = np.frombuffer(text, dtype=f"S{16 * words}")
    return pl.Series(arr).cast(pl.String).str.slice(0, chars)


def _epoch(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def _stamp(seconds: pl.Expr) -> pl.Expr:
    """Epoch seconds as the Hub writes dates: 2024-09-25T17:00:57.000Z."""
    return pl.from_epoch(seconds, "s").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _json_list(col: pl.Expr) -> pl.Expr:
    """A list of plain strings as JSON text (json.dumps separators)."""
    return (
        pl.when(col.list.len() > 0)
        .then(pl.concat_str([pl.lit('["'), col.list.join('", "'), pl.lit('"]')]))
        .otherwise(pl.lit("[]"))
    )


# ---- the models ------------------------------------------------------------------------------------
def profiles(seed: int, idx: np.ndarray, d0: str = D0) -> pl.DataFrame:
    """The stable traits of models `idx` (any subset, any order): names, licence, card metadata, tags,
    files, README presence, popularity, and their history up to D0 (creation, versions, spread)."""
    d = DISTRIBUTIONS
    idx = np.asarray(idx, dtype=np.int64)
    n = len(idx)

    def u(key: str) -> np.ndarray:
        return _u(seed, key, idx)

    def pick(options: list, i: np.ndarray) -> pl.Series:
        return pl.Series(options, dtype=pl.String).gather(i)

    def uniform_pick(options: list, key: str, counter: np.ndarray = idx) -> pl.Series:
        return pick(
            options, np.minimum((_u(seed, key, counter) * len(options)).astype(np.int64), len(options) - 1)
        )

    lic_rows = d["licences"]
    lic_i = _choice(u("licence"), [r[2] for r in lic_rows])
    lic = pick([r[0] for r in lic_rows], lic_i)
    lic = pl.select(
        pl.when(lic == "*").then(uniform_pick(d["licence_tail"], "tail")).otherwise(lic)
    ).to_series()
    lic_name = pick([r[1] for r in lic_rows], lic_i)
    family = uniform_pick(FAMILIES, "family")
    pipes, libs = d["pipelines"], d["libraries"]
    pipeline = pick([x for x, _ in pipes], _choice(u("pipeline"), [w for _, w in pipes]))
    library = pick([x for x, _ in libs], _choice(u("library"), [w for _, w in libs]))
    weights = pick(WEIGHTS, _choice(u("weights"), [w for _, w in d["weights"]]))
    shards = np.array([1, 1, 1, 2, 4])[np.minimum((u("shards") * 5).astype(int), 4)]
    # Which datasets and papers: k of the pool, k drawn from the reference bodies' tag counts.
    pools = []
    for name, counts in (("datasets", d["dataset_tags"]), ("arxiv", d["arxiv_tags"])):
        pool = d[name]
        k = np.minimum(
            np.array(counts)[np.minimum((u(f"n_{name}") * len(counts)).astype(int), len(counts) - 1)],
            len(pool),
        )
        keys = np.stack([_u(seed, f"{name}/{j}", idx) for j in range(len(pool))], axis=1)
        order = np.argsort(keys, axis=1).astype(np.int64)
        flat = pl.Series(pool, dtype=pl.String).gather(order.reshape(-1))
        lists = flat.reshape((n, len(pool))).arr.to_list()
        pools.append(
            pl.DataFrame({"l": lists, "k": k}).select(pl.col("l").list.head(pl.col("k"))).to_series()
        )
    has_base = u("has_base") < d["base_model"]
    internal = u("base_internal") < 0.5
    ext = uniform_pick(d["base_models"], "base_ext")
    base_idx = np.minimum((u("base_int") * 1000).astype(np.int64), 999)
    gated = u("gated") < d["gated"]
    shares = {t: u(f"tag/{t}") < s for t, s in d["tag_shares"].items()}
    readme = u("readme") >= d["no_readme"]
    downloads = np.floor(np.minimum((1 - u("downloads")) ** (-1 / 0.8) - 1, 1e12)).astype(np.int64)
    likes = np.floor(np.minimum((1 - u("likes")) ** (-1 / 1.5) - 1, 1e12)).astype(np.int64)
    # History up to D0 (synthetic.py `_Draw.created` and `_history`).
    rate = math.log(d["hub_growth_per_year"]) / 365.0
    span = d["history_years"] * 365.0
    end_d0 = _epoch(d0) + 86_399
    cu = u("created") * (1 - math.exp(-rate * span))
    created = end_d0 - 600 - np.floor(-np.log(1 - cu) / rate * 86400).astype(np.int64)
    room = np.maximum(0, end_d0 - created - 600)
    spread = np.minimum(room, np.floor(-np.log(1 - u("spread")) * d["history_days_mean"] * 86400)).astype(
        np.int64
    )
    versions = np.array(d["readme_versions"])[
        np.minimum((u("versions") * len(d["readme_versions"])).astype(int), len(d["readme_versions"]) - 1)
    ]
    has_init = u("init") < d["initial_commit"]
    frame = pl.DataFrame(
        {
            "idx": idx,
            "org_kind": uniform_pick(ORG_KINDS, "org"),
            "org_num": np.floor(u("org_num") * (idx // 4 + 1)).astype(np.int64),
            "size": uniform_pick(SIZES, "size"),
            "family": family,
            "license": lic,
            "license_name": lic_name,
            "pipeline": pipeline,
            "library": library,
            "weights": weights,
            "shards": shards,
            "datasets": pools[0],
            "arxiv": pools[1],
            "has_base": has_base,
            "base_internal": internal,
            "base_ext": ext,
            "base_idx": base_idx,
            "gated": gated,
            **{f"tag_{t}": v for t, v in shares.items()},
            "readme": readme,
            "downloads": downloads,
            "likes": likes,
            "created": created,
            "spread": spread,
            "versions": versions,
            "has_init": has_init,
        }
    )
    frame = frame.with_columns(
        repo_id=_repo_id(
            pl.col("idx"), pl.col("org_kind"), pl.col("org_num"), pl.col("family"), pl.col("size")
        ),
        uid=_hex(seed, "uid", idx, 24),
    )
    # Internal bases: the name of model `base_idx` (drawn the same way as every model's name).
    bidx = frame.get_column("base_idx").to_numpy()
    bases = pl.DataFrame(
        {
            "idx": bidx,
            "org_kind": uniform_pick(ORG_KINDS, "org", bidx),
            "org_num": np.floor(_u(seed, "org_num", bidx) * (bidx // 4 + 1)).astype(np.int64),
            "family": uniform_pick(FAMILIES, "family", bidx),
            "size": uniform_pick(SIZES, "size", bidx),
        }
    )
    internal_name = bases.select(
        _repo_id(pl.col("idx"), pl.col("org_kind"), pl.col("org_num"), pl.col("family"), pl.col("size"))
    ).to_series()
    frame = frame.with_columns(
        base=pl.when(~pl.col("has_base"))
        .then(None)
        .when(pl.col("base_internal") & (pl.col("idx") != pl.col("base_idx")))
        .then(internal_name)
        .otherwise(pl.col("base_ext"))
    )
    return frame.drop("org_kind", "org_num", "base_internal", "base_ext", "base_idx", "has_base")


def _repo_id(idx: pl.Expr, kind: pl.Expr, num: pl.Expr, family: pl.Expr, size: pl.Expr) -> pl.Expr:
    """`lab-00042/qwen2-7b-000171`: like synthetic.py's names, drawn without a per-model Random."""
    return pl.concat_str(
        [
            kind,
            pl.lit("-"),
            num.cast(pl.String).str.zfill(5),
            pl.lit("/"),
            family,
            pl.lit("-"),
            size,
            pl.lit("-"),
            idx.cast(pl.String).str.zfill(6),
        ]
    )


def model_card_parts(p: pl.DataFrame) -> pl.DataFrame:
    """Per model: the card's YAML front matter, the `cardData` JSON and the tags (as synthetic._profile)."""

    def yaml_list(col: str) -> pl.Expr:
        return pl.when(pl.col(col).list.len() > 0).then(
            pl.concat_str([pl.lit(f"{col}:\n- "), pl.col(col).list.join("\n- ")])
        )

    yaml = (
        pl.concat_list(
            [
                pl.when(pl.col("license").is_not_null()).then(
                    pl.concat_str([pl.lit("license: "), pl.col("license")])
                ),
                pl.when(pl.col("license_name").is_not_null()).then(
                    pl.concat_str(
                        [pl.lit("license_name: "), pl.col("license_name"), pl.lit("\nlicense_link: LICENSE")]
                    )
                ),
                yaml_list("datasets"),
                pl.when(pl.col("base").is_not_null()).then(
                    pl.concat_str([pl.lit("base_model: "), pl.col("base")])
                ),
                pl.when(pl.col("gated")).then(
                    pl.lit(
                        "extra_gated_prompt: You agree to the licence terms.\n"
                        "extra_gated_fields:\n  Affiliation: text"
                    )
                ),
                pl.concat_str([pl.lit("tags:\n- "), pl.col("family")]),
                pl.concat_str([pl.lit("pipeline_tag: "), pl.col("pipeline")]),
                pl.concat_str([pl.lit("library_name: "), pl.col("library")]),
            ]
        )
        .list.drop_nulls()
        .list.join("\n")
    )

    def js(key: str, value: pl.Expr) -> pl.Expr:
        return pl.concat_str([pl.lit(f'"{key}": "'), value, pl.lit('"')])

    card_data = (
        pl.concat_list(
            [  # json.dumps(sort_keys=True): keys in order
                pl.when(pl.col("base").is_not_null()).then(js("base_model", pl.col("base"))),
                pl.when(pl.col("datasets").list.len() > 0).then(
                    pl.concat_str([pl.lit('"datasets": '), _json_list(pl.col("datasets"))])
                ),
                pl.when(pl.col("gated")).then(
                    pl.lit(
                        '"extra_gated_fields": {"Affiliation": "text"}, '
                        '"extra_gated_prompt": "You agree to the licence terms."'
                    )
                ),
                js("library_name", pl.col("library")),
                pl.when(pl.col("license").is_not_null()).then(js("license", pl.col("license"))),
                pl.when(pl.col("license_name").is_not_null()).then(
                    pl.concat_str(
                        [pl.lit('"license_link": "LICENSE", '), js("license_name", pl.col("license_name"))]
                    )
                ),
                js("pipeline_tag", pl.col("pipeline")),
                pl.concat_str([pl.lit('"tags": ["'), pl.col("family"), pl.lit('"]')]),
            ]
        )
        .list.drop_nulls()
        .list.join(", ")
    )
    fmt = pl.col("weights").replace_strict(FMT_TAG, return_dtype=pl.String)
    tags = pl.concat_list(
        [
            pl.concat_list([pl.col("library"), fmt, pl.col("family"), pl.col("pipeline")]).list.eval(
                pl.element().filter(pl.element() != "")
            ),
            pl.when(pl.col("base").is_not_null())
            .then(
                pl.concat_list(
                    [pl.lit("base_model:") + pl.col("base"), pl.lit("base_model:finetune:") + pl.col("base")]
                )
            )
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            *[
                pl.when(pl.col(f"tag_{t}")).then(pl.lit([t])).otherwise(pl.lit([], dtype=pl.List(pl.String)))
                for t in DISTRIBUTIONS["tag_shares"]
            ],
            pl.col("datasets").list.eval(pl.lit("dataset:") + pl.element()),
            pl.col("arxiv").list.eval(pl.lit("arxiv:") + pl.element()),
            pl.when(pl.col("license").is_not_null())
            .then(pl.concat_list([pl.lit("license:") + pl.col("license")]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            pl.lit(["region:us"]),
        ]
    )
    weight_files = (
        pl.when(pl.col("weights") == "safetensors")
        .then(
            pl.int_ranges(1, pl.col("shards") + 1).list.eval(
                pl.concat_str(
                    [
                        pl.lit("model-"),
                        pl.element().cast(pl.String).str.zfill(5),
                        pl.lit("-of-"),
                        pl.element().max().cast(pl.String).str.zfill(5),
                        pl.lit(".safetensors"),
                    ]
                )
            )
        )
        .when(pl.col("weights") == "bin")
        .then(pl.lit(["pytorch_model.bin"]))
        .when(pl.col("weights") == "gguf")
        .then(pl.concat_list([pl.col("repo_id").str.split("/").list.last() + pl.lit(".Q4_K_M.gguf")]))
        .when(pl.col("weights") == "other")
        .then(pl.lit(["model.onnx"]))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
    )
    base_files = pl.concat_list(
        [
            pl.lit([".gitattributes", "config.json"]),
            weight_files,
            pl.when(pl.col("readme"))
            .then(pl.lit(["README.md"]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
        ]
    )
    return p.with_columns(
        yaml=yaml,
        card_data=pl.concat_str([pl.lit("{"), card_data, pl.lit("}")]),
        tags=tags,
        base_files=base_files,
    )


def body_pool(seed: int) -> list[str]:
    """Card bodies (headings and paragraphs) with the reference cards' sizes and heading counts."""
    d = DISTRIBUTIONS
    rng = random.Random(f"{seed}/bodies")
    paragraphs = [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(25, 70))).capitalize() + "."
        for _ in range(256)
    ]
    bodies = []
    for _ in range(BODY_POOL):
        heads = rng.sample(d["headings"], min(rng.choice(d["card_sections"]), len(d["headings"])))
        target = int(rng.choice(d["card_bytes"]) * d["card_scale"]) - 250  # about the front matter's size
        sections = [[f"## {h}\n"] for h in heads] or [[]]
        size, i = 0, 0
        while size < target:
            para = rng.choice(paragraphs) + "\n"
            sections[i % len(sections)].append(para)
            size, i = size + len(para) + 1, i + 1
        bodies.append("\n".join("\n".join(s) for s in sections))
    return bodies


# ---- commits ---------------------------------------------------------------------------------------
def d0_commits(seed: int, p: pl.DataFrame) -> pl.DataFrame:
    """Every commit up to D0 of models `p`: (idx, k, at, kind), oldest first (synthetic._history)."""
    idx = p.get_column("idx").to_numpy()
    created = p.get_column("created").to_numpy()
    spread = p.get_column("spread").to_numpy()
    later = p.get_column("versions").to_numpy() - 1
    init = p.get_column("has_init").to_numpy()
    n_commits = later + 1 + init
    rows_idx = np.repeat(idx, n_commits)
    k = np.arange(len(rows_idx)) - np.repeat(np.cumsum(n_commits) - n_commits, n_commits)
    # Later card commits: uniform offsets in [600, 600 + spread), sorted within the repo.
    first_later = np.repeat(1 + init, n_commits)
    j = k - first_later  # >= 0 for the card commits
    offs = 600 + np.floor(_u(seed, "offset", rows_idx * 64 + np.maximum(j, 0)) * np.repeat(spread, n_commits))
    offs = np.where(j >= 0, offs, 0).astype(np.int64)
    at = np.repeat(created, n_commits) + np.where(
        j >= 0, offs, np.where((k == 1) & (first_later == 2), 60, 0)
    )
    kind = np.where(j >= 0, "card", np.where((k == 0) & (first_later == 2), "init", "first"))
    frame = pl.DataFrame({"idx": rows_idx, "at": at, "kind": kind, "j": j})
    # Sort the card commits by time within each repo (k follows the order), as _history sorts them.
    frame = frame.sort("idx", "j", "at").with_columns(pl.col("at").sort().over("idx").alias("at"))
    frame = frame.with_columns(pl.int_range(pl.len()).over("idx").alias("k"))
    # At least one second between two commits of a repo (git dates are seconds; the Hub orders by them).
    frame = frame.with_columns(((pl.col("at") - pl.col("k")).cum_max().over("idx") + pl.col("k")).alias("at"))
    return frame.with_columns(pl.col("at").min().over("idx").alias("created")).drop("j")


def _readme_text(seed: int, commits: pl.DataFrame, bodies: pl.Series) -> pl.Expr:
    """The README bytes of each commit (front matter, title, a revision line, a pool body)."""
    pick = _u(
        seed,
        "body",
        commits.get_column("idx").to_numpy() * 64 + commits.get_column("card_k").fill_null(0).to_numpy(),
    )
    body = bodies.gather(np.minimum((pick * BODY_POOL).astype(np.int64), BODY_POOL - 1))
    return pl.concat_str(
        [
            pl.lit("---\n"),
            pl.col("yaml"),
            pl.lit("\n---\n\n# "),
            pl.col("repo_id").str.split("/").list.last(),
            pl.lit("\n\nRevision "),
            pl.col("card_k").cast(pl.String),
            pl.lit(" of "),
            _stamp(pl.col("card_at")).str.slice(0, 10),
            pl.lit(".\n\n"),
            pl.lit(body),
        ]
    )


def _item_json(files: pl.Expr, sha: pl.Expr, at: pl.Expr) -> pl.Expr:
    """The listing item of one revision: `_id`, `id` and the crawler's expand fields, keys sorted."""

    def q(v: pl.Expr) -> pl.Expr:
        return pl.concat_str([pl.lit('"'), v, pl.lit('"')])

    siblings = pl.concat_str(
        [pl.lit('[{"rfilename": "'), files.list.join('"}, {"rfilename": "'), pl.lit('"}]')]
    )
    return pl.concat_str(
        [
            pl.lit('{"_id": '),
            q(pl.col("uid")),
            pl.lit(', "author": '),
            q(pl.col("repo_id").str.split("/").list.first()),
            pl.lit(', "cardData": '),
            pl.col("card_data"),
            pl.lit(', "createdAt": '),
            q(_stamp(pl.col("created"))),
            pl.lit(', "disabled": false, "downloads": '),
            pl.col("downloads").cast(pl.String),
            pl.lit(', "gated": '),
            pl.when(pl.col("gated")).then(pl.lit('"manual"')).otherwise(pl.lit("false")),
            pl.lit(', "id": '),
            q(pl.col("repo_id")),
            pl.lit(', "lastModified": '),
            q(_stamp(at)),
            pl.lit(', "library_name": '),
            q(pl.col("library")),
            pl.lit(', "likes": '),
            pl.col("likes").cast(pl.String),
            pl.lit(', "pipeline_tag": '),
            q(pl.col("pipeline")),
            pl.lit(', "private": false, "sha": '),
            q(sha),
            pl.lit(', "siblings": '),
            siblings,
            pl.lit(', "tags": '),
            _json_list(pl.col("tags")),
            pl.lit("}"),
        ]
    )


def _materialise(seed: int, commits: pl.DataFrame, models: pl.DataFrame, bodies: pl.Series) -> pl.DataFrame:
    """Commit rows -> sha, files, item JSON and README bytes (null without README), per commit."""
    c = commits.join(models.drop("created"), on="idx", how="left")
    c = c.with_columns(
        sha=_hex(seed, "sha", c.get_column("idx").to_numpy() * 64 + c.get_column("k").to_numpy(), 40)
    )
    readme_text = _readme_text(seed, c, bodies)
    files = (
        pl.when(pl.col("kind") == "init")
        .then(pl.lit([".gitattributes"]))
        .otherwise(pl.concat_list([pl.col("base_files"), pl.col("extra_files")]))
        .list.sort()
    )
    c = c.with_columns(files=files)
    c = c.with_columns(
        item=_item_json(pl.col("files"), pl.col("sha"), pl.col("at")),
        readme=pl.when(pl.col("files").list.contains("README.md")).then(readme_text).cast(pl.Binary),
    )
    return c


def _write_readmes(
    raw: RawStore,
    day: str,
    rows: pl.DataFrame,
    now: datetime,
    detail_missing: str,
    batch: int,
    group: str | None = None,
) -> int:
    """README outcomes (ok with bytes, or missing) in files of `batch` rows (or of `batch` repos)."""
    contents = rows.get_column("readme").to_list()
    out = rows.select(
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("fetched_at"),
        "repo_id",
        pl.col("sha").alias("revision"),
        pl.when(pl.col("readme").is_null()).then(pl.lit("missing")).otherwise(pl.lit("ok")).alias("status"),
        pl.when(pl.col("readme").is_null())
        .then(pl.lit(detail_missing))
        .otherwise(pl.lit(None))
        .alias("detail"),
        pl.Series(
            "sha256",
            [hashlib.sha256(c).hexdigest() if c is not None else None for c in contents],
            dtype=pl.String,
        ),
        pl.col("readme").bin.size().cast(pl.Int64).alias("size"),
        pl.col("readme").alias("content"),
        pl.lit(None, pl.String).alias("blob_id"),
        # Generated cards are far below the read cap: every one is kept whole.
        pl.when(pl.col("readme").is_null()).then(pl.lit(None)).otherwise(pl.lit(False)).alias("truncated"),
        pl.lit(None, pl.String).alias("reconstructed"),  # a live Hub's answers carry no mirror mark
    )
    return _append_batches(
        raw,
        "hub_readme",
        day,
        out.select(list(README_RAW_SCHEMA)),
        ["repo_id", "revision", "status", "content"],
        batch,
        group_keys=rows.get_column(group) if group else None,
    )


def _append_batches(
    raw: RawStore,
    source: str,
    day: str,
    frame: pl.DataFrame,
    payload: list[str],
    batch: int,
    group_keys: pl.Series | None = None,
) -> int:
    """Append `frame` in files of `batch` rows, or of `batch` consecutive groups when `group_keys` is given."""
    if frame.height == 0:
        return 0
    if group_keys is None:
        bounds = list(range(0, frame.height, batch)) + [frame.height]
    else:
        starts = np.flatnonzero(np.r_[True, group_keys.to_numpy()[1:] != group_keys.to_numpy()[:-1]])
        bounds = list(starts[::batch]) + [frame.height]
    for a, b in zip(bounds, bounds[1:], strict=False):
        raw.append(source, day, frame.slice(int(a), int(b - a)), payload=payload)
    return len(bounds) - 1


def _now(day: str) -> datetime:
    """When the synthetic crawl of a day ran: one hour after the day's end (as the crawl-cost bench)."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=1, hours=1)


def _write_chunk(root: str, seed: int, day: str, order: np.ndarray, first_page: int) -> dict[str, int]:
    """One task of `generate_raw`: models `order` (consecutive in the D0 listing order) with their history."""
    raw, now = RawStore(Path(root)), _now(day)
    bodies = pl.Series(body_pool(seed), dtype=pl.String)
    p = model_card_parts(profiles(seed, order, day))
    commits = d0_commits(seed, p).with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("extra_files"))
    # The card a commit carries was written by its own commit (D0 history: each later commit changes it).
    commits = commits.with_columns(card_k=pl.col("k"), card_at=pl.col("at"))
    c = _materialise(seed, commits, p, bodies)
    heads = c.group_by("idx", maintain_order=True).last()
    heads = pl.DataFrame({"idx": order}).join(heads, on="idx", how="left", maintain_order="left")
    # Listing pages (this task's models are consecutive pages of the newest-first listing).
    listing = heads.select(
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("fetched_at"),
        pl.lit("https://huggingface.co/api/models?sort=lastModified&direction=-1&limit=1000").alias(
            "page_url"
        ),
        (pl.int_range(pl.len()) // PAGE + first_page).cast(pl.Int32).alias("page_index"),
        (pl.int_range(pl.len()) % PAGE).cast(pl.Int32).alias("item_index"),
        "repo_id",
        "sha",
        _stamp(pl.col("at")).alias("last_modified"),
        "item",
    )
    files = 0
    for _, frame in listing.group_by("page_index", maintain_order=True):
        raw.append("hub_listing", day, frame, payload=["item"])
        files += 1
    files += _write_readmes(raw, day, heads, now, "no README.md in the file list", README_BATCH)
    # The history backfill: every older commit's info, and its README outcome.
    older = c.join(heads.select("idx", pl.col("k").alias("head_k")), on="idx").filter(
        pl.col("k") < pl.col("head_k")
    )
    older = older.sort("repo_id", "k")
    infos = older.select(
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("fetched_at"),
        "repo_id",
        pl.col("sha").alias("revision"),
        _stamp(pl.col("at")).alias("commit_date"),
        pl.lit("ok").alias("status"),
        pl.col("item").alias("info"),
    )
    files += _append_batches(
        raw,
        "hub_revision",
        day,
        infos,
        ["repo_id", "revision", "info"],
        HISTORY_BATCH,
        group_keys=older.get_column("repo_id"),
    )
    files += _write_readmes(
        raw, day, older, now, "no README.md at this commit", HISTORY_BATCH, group="repo_id"
    )
    return {
        "models": len(order),
        "commits": c.height,
        "files": files,
        "readme_bytes": int(c.get_column("readme").bin.size().sum() or 0),
    }


def d0_order(seed: int, n_models: int, d0: str = D0) -> np.ndarray:
    """Model indices in the D0 listing order: newest head commit first (ties by index)."""
    heads = np.empty(n_models, dtype=np.int64)
    for a in range(0, n_models, 500_000):
        p = profiles(seed, np.arange(a, min(n_models, a + 500_000)), d0)
        heads[a : a + p.height] = (
            d0_commits(seed, p)
            .group_by("idx", maintain_order=True)
            .agg(pl.col("at").max())
            .get_column("at")
            .to_numpy()
        )
    return np.lexsort((np.arange(n_models), -heads))


def generate_raw(
    raw: RawStore, n_models: int, *, seed: int = SEED, d0: str = D0, workers: int = 1
) -> dict[str, Any]:
    """The raw layer of a first crawl plus history backfill of `n_models` models on `d0`."""
    started = time.perf_counter()
    order = d0_order(seed, n_models, d0)
    chunk = CHUNK - CHUNK % PAGE
    jobs = [(str(raw.root), seed, d0, order[a : a + chunk], a // PAGE) for a in range(0, n_models, chunk)]
    if workers <= 1 or len(jobs) == 1:
        parts = [_write_chunk(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(_write_chunk, *zip(*jobs, strict=True)))
    _crawl_run(
        raw,
        d0,
        pages=math.ceil(n_models / PAGE),
        listed=n_models,
        new=n_models,
        changed=0,
        deleted=0,
        readmes=n_models,
    )
    totals = {k: sum(p[k] for p in parts) for k in ("models", "commits", "files", "readme_bytes")}
    return {**totals, "seed": seed, "d0": d0, "seconds": round(time.perf_counter() - started, 2)}


def _crawl_run(raw: RawStore, day: str, **counts: int) -> None:
    now = _now(day)
    row = {
        "run_key": f"listing:{day}@synthetic",
        "crawl_date": day,
        "started_at": now - timedelta(minutes=30),
        "finished_at": now,
        "endpoint": "https://huggingface.co",
        "scope": "listing:hub",
        "status": "complete",
        "pages": counts["pages"],
        "models_listed": counts["listed"],
        "models_new": counts["new"],
        "models_changed": counts["changed"],
        "models_deleted": counts["deleted"],
        "readmes_fetched": counts["readmes"],
        "requests_api": counts["pages"],
        "requests_resolvers": counts["readmes"],
        "bytes_total": 0,
        "retries": 0,
        "status_429": 0,
        "status_5xx": 0,
        "seconds": 1800.0,
        "watermark": None,
        "reached_watermark": day != D0,
        "detail": '{"generator": "benchmarks.rawgen"}',
    }
    raw.append("crawl_run", day, pl.DataFrame([row], schema=CRAWL_RUN_SCHEMA), payload=["run_key"])


# ---- change days ------------------------------------------------------------------------------------
def day_plan(seed: int, n_models: int, days: list[str], change_rate: float, new_rate: float) -> list[dict]:
    """Per change day: the changed models, the new models, the deleted ones (deterministic)."""
    plans, existing = [], n_models
    for day in days:
        rng = np.random.default_rng(
            int.from_bytes(hashlib.sha256(f"{seed}/day/{day}".encode()).digest()[:8], "big")
        )
        changed = np.sort(rng.choice(existing, round(change_rate * existing), replace=False))
        rest = np.setdiff1d(np.arange(existing), changed)
        deleted = (
            np.sort(rng.choice(rest, round(DELETE_RATE * existing), replace=False)) if len(rest) else rest
        )
        new = np.arange(existing, existing + round(new_rate * n_models))
        plans.append({"day": day, "changed": changed, "new": new, "deleted": deleted})
        existing += len(new)
    return plans


def _day_commits(seed: int, day: str, changed: np.ndarray, new: np.ndarray) -> pl.DataFrame:
    """The commits of one change day (synthetic._day_commits): one or two per changed model, the first
    commits of each new model; columns idx, at, kind, n (the commit's ordinal within the day)."""
    d = DISTRIBUTIONS
    start = _epoch(day)
    salt = int.from_bytes(hashlib.sha256(day.encode()).digest()[:4], "big")
    ctr = changed.astype(np.int64) * 1024 + salt % 1024
    two = _u(seed, "two", ctr) < d["same_day_commits"]
    t1 = np.floor(_u(seed, "t1", ctr) * 86_340).astype(np.int64)
    t2 = np.floor(_u(seed, "t2", ctr) * 86_340).astype(np.int64)
    kinds = [k for k, _ in d["change_kinds"]]
    w = [x for _, x in d["change_kinds"]]
    k1 = np.array(kinds, dtype=object)[_choice(_u(seed, "kind1", ctr), w)]
    k2 = np.array(kinds, dtype=object)[_choice(_u(seed, "kind2", ctr), w)]
    a, b = np.minimum(t1, t2), np.maximum(t1, t2)
    single = pl.DataFrame({"idx": changed, "at": start + t1, "kind": k1, "n": 0})
    first = pl.DataFrame({"idx": changed[two], "at": start + a[two], "kind": k1[two], "n": 0})
    second = pl.DataFrame(
        {"idx": changed[two], "at": start + np.maximum(b[two], a[two] + 1), "kind": k2[two], "n": 1}
    )
    parts = [single.filter(~pl.Series(two)), first, second]
    nctr = new.astype(np.int64)
    t0 = start + np.floor(_u(seed, "new_t", nctr) * 86_280).astype(np.int64)
    init = _u(seed, "init", nctr) < d["initial_commit"]
    parts += [
        pl.DataFrame({"idx": new[init], "at": t0[init], "kind": "init", "n": 0}),
        pl.DataFrame(
            {"idx": new, "at": t0 + np.where(init, 60, 0), "kind": "first", "n": np.where(init, 1, 0)}
        ),
    ]
    schema = {"idx": pl.Int64, "at": pl.Int64, "kind": pl.String, "n": pl.Int64}
    return pl.concat([f.cast(schema) for f in parts]).sort("idx", "n")


def generate_day(
    raw: RawStore,
    n_models: int,
    day: str,
    *,
    seed: int = SEED,
    d0: str = D0,
    earlier: list[str] | None = None,
    change_rate: float = 0.005,
    new_rate: float = 0.001,
) -> dict[str, Any]:
    """The raw files of one daily crawl on `day` after D0 (and after the change days `earlier`, if any)."""
    started = time.perf_counter()
    days = [*(earlier or []), day]
    plans = day_plan(seed, n_models, days, change_rate, new_rate)
    plan = plans[-1]
    now = _now(day)
    touched = np.union1d(plan["changed"], plan["new"])
    bodies = pl.Series(body_pool(seed), dtype=pl.String)
    p = model_card_parts(profiles(seed, touched, d0))
    allc = _history_until(seed, p, plans, n_models)
    c = _materialise(seed, allc.filter(pl.col("day_no") == len(plans) - 1), p, bodies)
    heads = c.group_by("idx", maintain_order=True).last().sort("at", "idx", descending=[True, False])
    # Listing: the day's heads newest first, the last page filled up with the newest unchanged models.
    n_pages = max(1, math.ceil(heads.height / PAGE))
    fill = n_pages * PAGE - heads.height
    unchanged = _newest_unchanged(seed, n_models, d0, plans, fill)
    filler = pl.DataFrame()
    if fill and len(unchanged):
        fp = model_card_parts(profiles(seed, unchanged, d0))
        fc = _materialise(seed, _history_until(seed, fp, plans[:-1], n_models), fp, bodies)
        filler = fc.group_by("idx", maintain_order=True).last()
        filler = pl.DataFrame({"idx": unchanged}).join(filler, on="idx", how="left", maintain_order="left")
    listed = pl.concat(
        [
            heads.select("repo_id", "sha", "at", "item"),
            *([filler.select("repo_id", "sha", "at", "item")] if filler.height else []),
        ]
    )
    listing = listed.select(
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("fetched_at"),
        pl.lit("https://huggingface.co/api/models?sort=lastModified&direction=-1&limit=1000").alias(
            "page_url"
        ),
        (pl.int_range(pl.len()) // PAGE).cast(pl.Int32).alias("page_index"),
        (pl.int_range(pl.len()) % PAGE).cast(pl.Int32).alias("item_index"),
        "repo_id",
        "sha",
        _stamp(pl.col("at")).alias("last_modified"),
        "item",
    )
    files = 0
    for _, frame in listing.group_by("page_index", maintain_order=True):
        raw.append("hub_listing", day, frame, payload=["item"])
        files += 1
    files += _write_readmes(
        raw, day, heads.sort("repo_id"), now, "no README.md in the file list", README_BATCH
    )
    # History walk of the repos whose head moved: the day's commits before the head.
    older = c.join(heads.select("idx", pl.col("k").alias("head_k")), on="idx").filter(
        pl.col("k") < pl.col("head_k")
    )
    older = older.sort("repo_id", "k")
    infos = older.select(
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("fetched_at"),
        "repo_id",
        pl.col("sha").alias("revision"),
        _stamp(pl.col("at")).alias("commit_date"),
        pl.lit("ok").alias("status"),
        pl.col("item").alias("info"),
    )
    files += _append_batches(
        raw,
        "hub_revision",
        day,
        infos,
        ["repo_id", "revision", "info"],
        HISTORY_BATCH,
        group_keys=older.get_column("repo_id"),
    )
    files += _write_readmes(
        raw, day, older, now, "no README.md at this commit", HISTORY_BATCH, group="repo_id"
    )
    gone = pl.DataFrame({"idx": plan["deleted"]}).join(
        model_card_parts(profiles(seed, plan["deleted"], d0)).select("idx", "repo_id"), on="idx", how="left"
    )
    if gone.height:
        raw.append(
            "hub_presence",
            day,
            gone.select(
                pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("checked_at"),
                "repo_id",
                pl.lit(False).alias("present"),
                pl.lit("sweep_404").alias("how"),
            ).cast(PRESENCE_RAW_SCHEMA),
            payload=["repo_id", "present", "how"],
        )
        files += 1
    _crawl_run(
        raw,
        day,
        pages=n_pages,
        listed=listing.height,
        new=len(plan["new"]),
        changed=len(plan["changed"]),
        deleted=gone.height,
        readmes=heads.height,
    )
    return {
        "day": day,
        "changed": len(plan["changed"]),
        "new": len(plan["new"]),
        "deleted": gone.height,
        "commits": c.height,
        "listed": listing.height,
        "files": files + 1,
        "changed_ids": heads.filter(pl.col("idx") < n_models).get_column("repo_id").to_list(),
        "new_ids": heads.filter(pl.col("idx") >= n_models).get_column("repo_id").to_list(),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _cumulative_files(c: pl.DataFrame) -> pl.DataFrame:
    """Each commit's extra files: every checkpoint added by it and the commits before it in its repo."""
    flat = c.select("idx", "k", pl.col("extra_files").alias("f")).explode("f").drop_nulls("f")
    if flat.height == 0:
        return c
    pairs = (
        c.select("idx", "k")
        .join(flat.rename({"k": "k_add"}), on="idx")
        .filter(pl.col("k_add") <= pl.col("k"))
    )
    acc = pairs.group_by("idx", "k").agg(pl.col("f").sort_by("k_add").alias("_acc"))
    return (
        c.join(acc, on=["idx", "k"], how="left")
        .with_columns(extra_files=pl.col("_acc").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .drop("_acc")
    )


def _history_until(seed: int, p: pl.DataFrame, plans: list[dict], n_models: int) -> pl.DataFrame:
    """Commits of models `p` up to (not including) the day after `plans`: D0 history and those days."""
    old = d0_commits(seed, p.filter(pl.col("idx") < n_models)).select("idx", "at", "kind")
    parts = [old.with_columns(pl.lit(-1, pl.Int64).alias("day_no"), pl.lit(0, pl.Int64).alias("n"))]
    ids = p.get_column("idx").to_numpy()
    for no, plan in enumerate(plans):
        commits = _day_commits(
            seed, plan["day"], np.intersect1d(plan["changed"], ids), np.intersect1d(plan["new"], ids)
        )
        parts.append(commits.with_columns(pl.lit(no, pl.Int64).alias("day_no")))
    allc = pl.concat([h.select("idx", "at", "kind", "day_no", "n") for h in parts]).sort("idx", "day_no", "n")
    allc = allc.with_columns(k=pl.int_range(pl.len()).over("idx"), created=pl.col("at").min().over("idx"))
    adds = pl.when(pl.col("kind").is_in(["files", "both"])).then(
        pl.concat_list(
            [pl.lit("checkpoint-") + pl.col("k").cast(pl.String) + pl.lit("/adapter_model.safetensors")]
        )
    )
    allc = _cumulative_files(
        allc.with_columns(extra_files=adds.otherwise(pl.lit([], dtype=pl.List(pl.String))))
    )
    writes_card = pl.col("kind").is_in(["first", "card", "both"])
    return allc.with_columns(
        card_k=pl.when(writes_card).then(pl.col("k")).forward_fill().over("idx"),
        card_at=pl.when(writes_card).then(pl.col("at")).forward_fill().over("idx"),
    )


def _newest_unchanged(seed: int, n_models: int, d0: str, plans: list[dict], count: int) -> np.ndarray:
    """The `count` most recently changed models not touched on the last day (they fill its last page)."""
    if count <= 0:
        return np.array([], dtype=np.int64)
    last = plans[-1]
    skip = np.union1d(np.union1d(last["changed"], last["new"]), last["deleted"])
    earlier = [i for plan in plans[:-1] for i in (*plan["changed"], *plan["new"])]
    # Earlier change days are newer than D0: their models first (newest day first), then the D0 order.
    candidates = [int(i) for plan in reversed(plans[:-1]) for i in (*plan["new"], *plan["changed"])]
    candidates += [int(i) for i in d0_order(seed, n_models, d0)[: count + len(skip) + len(earlier)]]
    out = [i for i in dict.fromkeys(candidates) if i not in set(skip.tolist())]
    return np.array(out[:count], dtype=np.int64)


def generate_extras(raw: RawStore, day: str = D0) -> dict[str, Any]:
    """The datasets and papers the generated cards name, captured on `day` by the crawler's own clients from
    the bundled sample mirror (which does not hold them: they are recorded as missing / not found, so the
    build and its checks have a row for every name, as after a real crawl)."""
    from pipelines.hub.datasets import fetch_datasets
    from pipelines.hub.settings import HubSettings
    from pipelines.hub.step import client_for
    from pipelines.mirror.server import MirrorServer
    from pipelines.papers.client import ArxivClient, HubPapersClient
    from pipelines.papers.parse import arxiv_captures, hf_captures

    sample = Path(__file__).resolve().parents[1] / "pipelines" / "mirror" / "sample"
    names, ids = sorted(DISTRIBUTIONS["datasets"]), sorted(DISTRIBUTIONS["arxiv"])
    with MirrorServer(sample) as srv:
        settings = HubSettings(endpoint=srv.url, rate_limit=False, base_wait=0.05, timeout=5.0)
        datasets = fetch_datasets(client_for(settings, day), raw, day, names, now=_now(day))
        arxiv = ArxivClient(base_url=srv.arxiv_url, min_interval=0.0)
        hub = HubPapersClient(endpoint=srv.url, min_interval=0.0)
        try:
            answers = arxiv_captures(arxiv.fetch(ids).responses)
            if answers.height:
                raw.append("arxiv", day, answers, payload=["url", "status_code", "body"])
            hub_answers = hf_captures(hub.fetch_many(ids))
            if hub_answers.height:
                raw.append("hf_paper", day, hub_answers, payload=["arxiv_id", "status", "body"])
        finally:
            arxiv.close()
            hub.close()
    return {"datasets": datasets, "papers": len(ids)}
