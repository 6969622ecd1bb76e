"""Card parsing benchmark (issue 10): cards per second on one core, ours against huggingface_hub's ModelCard.

Cards: every real model card of the reference material (`reference/cards/*.md`, 29 cards, and the dated README
versions of `reference/history/*/`, 140 more; see reference/NOTICE.md) and as many synthetic cards from the mirror
generator (`benchmarks.synthetic`, the cards of its first repos), alternated and cycled to n.

Both parsers run in this one process and thread, on the same bytes, in alternating rounds (so that a change of
load on the machine hits both alike), timed by the process's CPU time (cards per CPU second = per core):

- ours: `pipelines.hub.cards.parse_card(raw)`: from the bytes, the SHA-256, UTF-8 decoding, the front matter
  (LibYAML, behind safety limits on the event stream, copied into JSON-safe values), licence, datasets, base
  models, model-index results, arXiv ids and code links from the whole text, and the section headings.
- theirs: `huggingface_hub.ModelCard(raw.decode("utf-8"))`: the same front-matter regex, `yaml.safe_load`
  (PyYAML's pure-Python loader), and `ModelCardData` (model-index parsed into eval results). A card it refuses
  (an exception) counts as parsed all the same: it did the work.

Before timing, each distinct card is parsed by both and the metadata compared (`cross_check`).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
SEED = 20260820
ROUNDS = 10
# Values compared between the two parsers on top of the keys (where both parsers keep the YAML value as is).
COMPARED_VALUES = (
    "license",
    "license_name",
    "license_link",
    "library_name",
    "pipeline_tag",
    "base_model",
    "datasets",
    "language",
)


def reference_cards(root: Path = REFERENCE) -> list[tuple[str, bytes]]:
    """(name, bytes) of every real model card in the reference material, in a fixed order."""
    paths = sorted((root / "cards").glob("*.md")) + sorted((root / "history").glob("*/*README*.md"))
    return [(str(p.relative_to(root)), p.read_bytes()) for p in paths]


def synthetic_cards(count: int, seed: int = SEED) -> list[tuple[str, bytes]]:
    """(name, bytes) of the cards the mirror generator writes for its first `count` repos (first version)."""
    from benchmarks import synthetic as s

    draw = s._Draw(seed, date(2026, 8, 20))
    out = []
    for i in range(count):
        repo_id, rng = s._repo_id(seed, i), random.Random(f"{seed}/repo/{i}")
        profile = s._profile(rng, repo_id)
        out.append(
            (f"synthetic/{repo_id}", s._card(rng, draw, repo_id, profile, "Revision 0 of 2026-08-20."))
        )
    return out


def bench_cards(n: int) -> tuple[list[tuple[str, bytes]], int, int]:
    """(the n cards: real and synthetic alternated, cycled; distinct real; distinct synthetic)."""
    real = reference_cards()
    fake = synthetic_cards(len(real))
    mixed = [card for pair in zip(real, fake, strict=True) for card in pair]
    return [mixed[i % len(mixed)] for i in range(n)], len(real), len(fake)


def _theirs(raw: bytes) -> Any:
    from huggingface_hub import ModelCard

    return ModelCard(raw.decode("utf-8"))


def compare_metadata(name: str, meta: dict[str, Any], theirs: dict[str, Any]) -> list[dict[str, Any]]:
    """The differences between our metadata and ModelCard's `data.to_dict()` of one card (see cross_check)."""
    expected = {k for k, v in meta.items() if v is not None and (k != "model-index" or v)}
    if expected != set(theirs):
        return [
            {
                "card": name,
                "only_ours": sorted(expected - set(theirs)),
                "only_theirs": sorted(set(theirs) - expected),
            }
        ]
    return [
        {"card": name, "key": key, "ours": meta[key], "theirs": theirs[key]}
        for key in COMPARED_VALUES
        if key in theirs and theirs[key] != meta[key]
    ]


def cross_check(cards: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Compare our metadata with ModelCard's `data.to_dict()` on each distinct card where both succeed.

    Expected differences, by design, left out of the comparison: ModelCardData drops keys whose value is null
    (ours keeps them: a declared-but-empty `license:` is a fact), and keeps `model-index` only when it is
    non-empty (it rebuilds it from the parsed eval results). Every other key must be the same, and the values
    of COMPARED_VALUES equal (ours copies them to JSON-safe types, which leaves strings and lists as they are).
    """
    from pipelines.hub.cards import parse_card

    compared, theirs_failed, mismatches = 0, 0, []
    for name, raw in dict(cards).items():
        ours = parse_card(raw)
        try:
            theirs = _theirs(raw).data.to_dict()
        except Exception:  # noqa: BLE001 - a card ModelCard refuses is not compared
            theirs_failed += 1
            continue
        if ours.readme_status != "ok":
            continue
        compared += 1
        mismatches += compare_metadata(name, ours.metadata, theirs)
    return {"compared": compared, "theirs_failed": theirs_failed, "mismatches": mismatches}


def run_cards_bench(n: int) -> dict[str, Any]:
    """Parse n cards with ours and with ModelCard, alternating rounds; cards per CPU second of each."""
    import huggingface_hub
    import yaml
    from huggingface_hub.utils import logging as hub_logging

    from pipelines.hub.cards import parse_card

    verbosity = hub_logging.get_verbosity()
    hub_logging.set_verbosity_error()  # no "metadata block was not found" warning per card on stderr
    try:
        cards, distinct_real, distinct_synthetic = bench_cards(n)
        check = cross_check(cards)
        real = [name.startswith(("cards/", "history/")) for name, _ in cards]
        raws = [raw for _, raw in cards]
        cpu = {(who, kind): 0.0 for who in ("ours", "theirs") for kind in ("real", "synthetic")}
        counts = {"ours": 0, "theirs": 0}
        wall = {"ours": 0.0, "theirs": 0.0}
        not_ok = theirs_errors = 0
        clock = time.process_time
        bounds = [n * r // ROUNDS for r in range(ROUNDS + 1)]
        for a, b in zip(bounds, bounds[1:], strict=False):
            started = time.perf_counter()
            for i in range(a, b):
                t0 = clock()
                facts = parse_card(raws[i])
                cpu["ours", "real" if real[i] else "synthetic"] += clock() - t0
                not_ok += facts.readme_status != "ok"
                counts["ours"] += 1
            wall["ours"] += time.perf_counter() - started
            started = time.perf_counter()
            for i in range(a, b):
                t0 = clock()
                try:
                    _theirs(raws[i])
                except Exception:  # noqa: BLE001 - counted: ModelCard raises on metadata it refuses
                    theirs_errors += 1
                cpu["theirs", "real" if real[i] else "synthetic"] += clock() - t0
                counts["theirs"] += 1
            wall["theirs"] += time.perf_counter() - started
    finally:
        hub_logging.set_verbosity(verbosity)
    n_real = sum(real)

    def rate(who: str, kind: str | None = None) -> float:
        kinds = [kind] if kind else ["real", "synthetic"]
        seconds = sum(cpu[who, k] for k in kinds)
        cards_of = {"real": n_real, "synthetic": n - n_real, None: n}[kind]
        return round(cards_of / seconds, 1) if seconds else 0.0

    ours, theirs = rate("ours"), rate("theirs")
    return {
        "cards": n,
        "distinct_real": distinct_real,
        "distinct_synthetic": distinct_synthetic,
        "real_cards": n_real,
        "mean_card_bytes": round(sum(map(len, raws)) / max(1, n)),
        "ours_parsed": counts["ours"],
        "theirs_parsed": counts["theirs"],
        "ours_not_ok": not_ok,
        "theirs_errors": theirs_errors,
        "ours_cards_per_cpu_second": ours,
        "theirs_cards_per_cpu_second": theirs,
        "ratio_ours_to_theirs": round(ours / theirs, 3) if theirs else None,
        "ours_real_per_cpu_second": rate("ours", "real"),
        "theirs_real_per_cpu_second": rate("theirs", "real"),
        "ours_synthetic_per_cpu_second": rate("ours", "synthetic"),
        "theirs_synthetic_per_cpu_second": rate("theirs", "synthetic"),
        "ours_cpu_seconds": round(sum(v for (w, _), v in cpu.items() if w == "ours"), 3),
        "theirs_cpu_seconds": round(sum(v for (w, _), v in cpu.items() if w == "theirs"), 3),
        "ours_wall_seconds": round(wall["ours"], 3),
        "theirs_wall_seconds": round(wall["theirs"], 3),
        "cross_check_compared": check["compared"],
        "cross_check_theirs_failed": check["theirs_failed"],
        "cross_check_mismatches": check["mismatches"],
        "huggingface_hub": huggingface_hub.__version__,
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(figure, value, target, met?) rows for docs/benchmarks.md."""
    r = result
    mismatches = len(r["cross_check_mismatches"])
    return [
        (
            "cards parsed by each (distinct: real + synthetic)",
            f"{r['ours_parsed']} / {r['theirs_parsed']} ({r['distinct_real']} + {r['distinct_synthetic']}, "
            f"mean {r['mean_card_bytes']} bytes)",
            "",
            "",
        ),
        ("ours (`parse_card`): cards per CPU second", r["ours_cards_per_cpu_second"], "", ""),
        (
            f"huggingface_hub {r['huggingface_hub']} `ModelCard`: cards per CPU second",
            r["theirs_cards_per_cpu_second"],
            "",
            "",
        ),
        ("ratio ours / ModelCard", r["ratio_ours_to_theirs"], "reported", ""),
        (
            "real cards: ours / ModelCard, cards per CPU second",
            f"{r['ours_real_per_cpu_second']} / {r['theirs_real_per_cpu_second']}",
            "",
            "",
        ),
        (
            "synthetic cards: ours / ModelCard, cards per CPU second",
            f"{r['ours_synthetic_per_cpu_second']} / {r['theirs_synthetic_per_cpu_second']}",
            "",
            "",
        ),
        (
            "CPU seconds ours / ModelCard (wall seconds, other load included)",
            f"{r['ours_cpu_seconds']} / {r['theirs_cpu_seconds']} ({r['ours_wall_seconds']} / "
            f"{r['theirs_wall_seconds']})",
            "",
            "",
        ),
        ("ours not `ok` / ModelCard exceptions", f"{r['ours_not_ok']} / {r['theirs_errors']}", "", ""),
        (
            "metadata cross-check: cards compared / mismatches",
            f"{r['cross_check_compared']} / {mismatches}",
            "0 mismatches",
            "yes" if mismatches == 0 else "**no**",
        ),
    ]


if __name__ == "__main__":
    import json

    print(json.dumps(run_cards_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000), indent=1))
