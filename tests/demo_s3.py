"""`make demo-s3`: the whole demo with the raw layer in a bucket of an S3-compatible server on loopback.

    .venv/bin/python -m tests.demo_s3 --mirror MIRROR --warehouse WAREHOUSE_S3 [--compare LOCAL_WAREHOUSE]

starts moto's S3 server on 127.0.0.1, creates a bucket, runs `openness demo` with `OPENNESS_RAW_URL` set to
`s3://<bucket>/raw` (the endpoint and keys in the standard AWS variables), checks that every raw capture
went to the bucket and none to the warehouse folder, then stops the server. With `--compare`, the demo's
tables and newest snapshot must equal those of a demo run with a local raw layer in LOCAL_WAREHOUSE (run
there first when it holds none yet): tests.demo_compare, run-time columns excluded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.demo_compare import compare_warehouses
from tests.s3_server import aws_environment, create_bucket, object_keys, s3_server

BUCKET = "openness-raw"
MARK = ".demo-s3"  # written into the S3 demo's warehouse folder: only such a folder is cleared on a rerun


def _demo(mirror: Path, warehouse: Path, env: dict[str, str]) -> None:
    command = [str(Path(sys.executable).with_name("openness")), "demo", "--mirror", str(mirror)]
    proc = subprocess.run([*command, "--warehouse", str(warehouse)], env=env, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise SystemExit(f"openness demo failed (exit {proc.returncode}) for {warehouse}")


def run(mirror: Path, warehouse: Path, compare: Path | None = None) -> list[str]:
    """Run the demo with its raw layer on a loopback S3 server; returns the differences from `compare`."""
    if warehouse.exists() and any(warehouse.iterdir()):
        if not (warehouse / MARK).is_file():
            raise SystemExit(f"{warehouse} is not empty and was not made by demo-s3: give another folder")
        shutil.rmtree(warehouse)  # its raw layer lived in the stopped server: start again
    warehouse.mkdir(parents=True, exist_ok=True)
    (warehouse / MARK).write_text("the demo with its raw layer on a loopback S3 server (make demo-s3)\n")
    if compare is not None and not (compare / "openness.duckdb").is_file():
        print(f"no local demo in {compare} yet: running it first", flush=True)
        _demo(mirror, compare, {k: v for k, v in os.environ.items() if k != "OPENNESS_RAW_URL"})
    with s3_server() as endpoint:
        client = create_bucket(endpoint, BUCKET)
        env = {**os.environ, **aws_environment(endpoint), "OPENNESS_RAW_URL": f"s3://{BUCKET}/raw"}
        print(f"S3 server on {endpoint}; raw layer at s3://{BUCKET}/raw", flush=True)
        _demo(mirror, warehouse, env)
        keys = object_keys(client, BUCKET)
    sources = sorted({k.split("/")[1] for k in keys})
    print(f"{len(keys)} raw objects in the bucket, sources: {', '.join(sources)}")
    problems = []
    # Raw captures, and the crawl-state index derived from them beside them (raw/_index/, docs/crawler.md).
    captures = [k for k in keys if not k.startswith("raw/_index/")]
    if not captures or any(not k.startswith("raw/") or not k.endswith(".parquet") for k in captures):
        problems.append(f"the bucket holds no raw captures or other objects: {captures[:5]}")
    if not any(k.startswith("raw/_index/") for k in keys):
        problems.append("the crawl-state index was not written beside the captures in the bucket")
    if (warehouse / "raw").exists():
        problems.append(f"{warehouse / 'raw'} exists: a capture was written to the local disk")
    if compare is not None:
        lines, diffs = compare_warehouses(compare, warehouse)
        print("\n".join(lines))
        problems += diffs
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line of `make demo-s3`; exit 1 on any difference or misplaced capture."""
    parser = argparse.ArgumentParser(prog="python -m tests.demo_s3", description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, required=True)
    parser.add_argument(
        "--warehouse", type=Path, required=True, help="the S3 demo's (local) warehouse folder"
    )
    parser.add_argument("--compare", type=Path, help="a warehouse of the demo with a local raw layer")
    args = parser.parse_args(argv)
    problems = run(args.mirror, args.warehouse.resolve(), args.compare.resolve() if args.compare else None)
    print("\n".join(problems) if problems else "the demo with its raw layer on S3: no differences")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
