"""`openness`: the one command line for users and operators.

Subcommands that run the pipeline go through the Dagster instance (so their runs show in the UI);
the others (`mirror`, `mof`, `license`, `download`, `code`, `show`, `depth`) are plain calls into `pipelines` and never import Dagster.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from assets.environment import PROJECT_ROOT, TELEMETRY_OFF, prepare_dagster_home

SAMPLE_MIRROR = PROJECT_ROOT / "pipelines" / "mirror" / "sample"


def _fail(command: str, message: str, status: int = 2) -> int:
    """Print `openness COMMAND: error: MESSAGE` (one line) on stderr and return the exit status."""
    print(f"openness {command}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


def _warehouse_problem(warehouse: Path) -> str | None:
    """Why `warehouse` cannot be the demo's warehouse folder (it is created when missing), or None."""
    if warehouse.exists() and not warehouse.is_dir():
        return f"--warehouse {warehouse} is a file; give a folder (it is created if missing)"
    try:
        warehouse.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"--warehouse {warehouse} cannot be created ({exc.strerror or exc}); give a folder you can write to"
    if not os.access(warehouse, os.W_OK | os.X_OK):
        return f"--warehouse {warehouse} is not writable; give a folder you can write to"
    return None


def _cmd_demo(args: argparse.Namespace) -> int:
    mirror, warehouse = Path(args.mirror).resolve(), Path(args.warehouse).resolve()
    # Checked before Dagster is imported or any run starts, so a wrong path costs nothing.
    from pipelines.mirror.layout import mirror_problem

    if args.max_dates < 1:
        return _fail("demo", f"--max-dates must be at least 1, got {args.max_dates}")
    problem = mirror_problem(mirror) or _warehouse_problem(warehouse)
    if problem:
        return _fail("demo", problem)

    from assets.demo import run_demo
    from pipelines.publish.snapshot import verify_snapshot

    print(f"Replaying {mirror} into {warehouse} (offline, hub mirror on 127.0.0.1)")
    summary = run_demo(mirror, warehouse, max_dates=args.max_dates)
    latest = (warehouse / "snapshots" / "LATEST").read_text().strip()
    manifest = verify_snapshot(warehouse / "snapshots" / latest)
    print(f"\nDone in {summary['seconds']} s. Crawl dates: {', '.join(summary['dates'])}")
    print(f"Serving database (open read-only): {warehouse / 'openness.duckdb'}")
    print(f"Snapshot {latest} (checksums verified): {warehouse / 'snapshots' / latest}")
    for name, entry in sorted(manifest["tables"].items()):
        print(f"  {name:<15} {entry['rows']:>8} rows")
    default = warehouse == (PROJECT_ROOT / "warehouse").resolve()
    ui = "`make ui`" if default else f"`make ui WAREHOUSE={warehouse}` (openness ui --warehouse {warehouse})"
    print(f"Open the Dagster UI with {ui} to see the runs.")
    return 0


def _sweep_dead_runs() -> None:
    """Fail the runs of the instance whose process is gone and free their concurrency slots (assets/runs.py)."""
    import dagster as dg

    from assets.runs import sweep_dead_runs

    with dg.DagsterInstance.get() as instance:
        sweep_dead_runs(instance, log=lambda line: print(line, flush=True))


def _cmd_mirror_serve(args: argparse.Namespace) -> int:
    from pipelines.mirror.layout import mirror_problem
    from pipelines.mirror.server import FaultConfig, Quota, serve_forever

    problem = mirror_problem(Path(args.dir))
    if problem:
        return _fail("mirror serve", problem)
    faults = FaultConfig.parse(args.faults) if args.faults else None
    quota = Quota(args.github_token_limit, args.github_anonymous_limit)
    print(f"Serving {args.dir} on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    try:
        serve_forever(
            Path(args.dir),
            host=args.host,
            port=args.port,
            faults=faults,
            page_size=args.page_size,
            quota=quota,
        )
    except OSError as exc:  # the listening socket: a port in use, a host that is not this machine's
        return _fail(
            "mirror serve",
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); choose another --port or --host",
        )
    return 0


def _cmd_mirror_build_sample(args: argparse.Namespace) -> int:
    from pipelines.mirror.build_sample import build_sample

    reference = Path(args.reference)
    if not reference.is_dir():
        return _fail(
            "mirror build-sample",
            f"--reference {reference} is not a folder; give the folder of recorded Hub answers (shared/reference)",
        )
    try:
        summary = build_sample(reference, Path(args.out))
    except FileNotFoundError as exc:  # a reference folder without the recordings the sample is built from
        return _fail(
            "mirror build-sample",
            f"--reference {reference} is not a folder of recorded Hub answers: {exc.filename} does not exist",
        )
    except FileExistsError as exc:  # an --out that is not a previous mirror is never wiped
        return _fail("mirror build-sample", str(exc))
    print(json.dumps(summary, indent=1, default=str))
    return 0


def _cmd_mof(args: argparse.Namespace) -> int:
    from pipelines.openness.mof import MotRecordError, mof_report

    try:
        report = mof_report(Path(args.file))
    except MotRecordError as exc:
        return _fail("mof", str(exc))
    print(json.dumps(report, indent=1, sort_keys=True))
    return 0


def _cmd_license(args: argparse.Namespace) -> int:
    from pipelines.openness.license_files import run_license_command

    return run_license_command(args.files, sys.stdout, sys.stderr)


def _cmd_download(args: argparse.Namespace) -> int:
    from pipelines.publish.download import run_download

    return run_download(args.source, Path(args.to), args.version)


def _cmd_show(args: argparse.Namespace) -> int:
    from pipelines.publish.show_text import run_show

    snapshot = Path(args.snapshot) if args.snapshot else None
    warehouse = Path(args.warehouse) if args.warehouse else PROJECT_ROOT / "warehouse"
    return run_show(args.repo_ids, as_json=args.json, warehouse=warehouse, snapshot=snapshot)


def _cmd_depth(args: argparse.Namespace) -> int:
    from pipelines.depth import HUB_MODELS, format_plans, hub_daily_budget, plan_tiers
    from pipelines.hub.backfill import backfill_outlook
    from pipelines.storage.warehouse import Warehouse
    from pipelines.transport import HUB_ENDPOINT

    budget = args.budget
    if budget is None:
        text = os.environ.get("OPENNESS_HUB_HISTORY_BUDGET", "").strip()
        if text and not text.isdigit():
            return _fail("depth", f"OPENNESS_HUB_HISTORY_BUDGET must be a whole number, got {text!r}")
        budget = int(text) if text else hub_daily_budget(None, HUB_ENDPOINT, bool(os.environ.get("HF_TOKEN")))
    if budget <= 0:
        return _fail("depth", f"--budget must be a positive number of API calls a day, got {budget}")
    if args.api_per_model <= 0:
        return _fail("depth", f"--api-per-model must be positive, got {args.api_per_model}")
    if args.hub:
        plans = plan_tiers([True] * HUB_MODELS, budget, args.api_per_model)
        source = f"the Hub's ~{HUB_MODELS:,} public models (DESIGN.md, August 2026), none walked yet"
    else:
        root = (
            Path(args.warehouse)
            if args.warehouse
            else Path(os.environ.get("OPENNESS_WAREHOUSE") or "warehouse")
        )
        if not (root / "raw").is_dir():
            return _fail(
                "depth", f"{root} holds no raw layer (warehouse/raw); crawl first or give --warehouse"
            )
        plans = backfill_outlook(Warehouse(root).raw, budget, args.api_per_model)
        source = f"the repos tracked in {root}, most-downloaded first (latest listed 30-day downloads)"
    print(f"From {source}.")
    print(format_plans(plans, budget, args.api_per_model))
    return 0


def _cmd_code(args: argparse.Namespace) -> int:
    from pipelines.code.links import BadRepoUrl, repo_key
    from pipelines.code.report import describe_repos
    from pipelines.code.settings import CodeSettings

    bad = []
    for url in args.urls:
        try:
            repo_key(url)
        except BadRepoUrl as exc:
            bad.append(str(exc))
    try:
        settings = CodeSettings.from_environment(endpoint=args.endpoint, max_retries=args.retries)
    except ValueError as exc:
        bad.append(str(exc))
    for message in bad:
        print(f"openness code: error: {message}", file=sys.stderr)
    if bad:
        return 2
    status = 0
    for described in describe_repos(args.urls, settings):
        print(json.dumps(described, ensure_ascii=False), flush=True)
        status = 1 if "error" in described else status
    return status


# How long `openness ui` waits, once asked to stop, for the webserver and the daemon to shut down cleanly
# before it kills what is left of them.
UI_STOP_TIMEOUT = 20.0
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


def run_process_group(
    cmd: list[str], *, cwd: Path, env: dict[str, str], stop_timeout: float = UI_STOP_TIMEOUT
) -> int:
    """Run `cmd` in a process group of its own until it exits; return its exit status.

    SIGINT, SIGTERM or SIGHUP to this process asks the command to stop (SIGINT, which `dagster dev` answers by
    shutting down its webserver and daemon); whatever of the group still runs `stop_timeout` seconds later,
    or once the command has exited, is killed, so no child keeps the port.
    """
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, start_new_session=True)
    asked: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        asked.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        deadline = None
        while proc.poll() is None:
            if asked and deadline is None:
                deadline = time.monotonic() + stop_timeout
            if deadline is not None and time.monotonic() > deadline:
                _kill_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.2)
    finally:
        try:
            _end_group(proc, stop_timeout)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    code = proc.returncode
    return 128 - code if code < 0 else code


def _kill_group(pgid: int, sig: int) -> bool:
    """Send `sig` to a process group; False when the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _group_running(pgid: int) -> bool:
    """Whether a process of the group still runs (on Linux, zombies waiting for their parent do not count)."""
    proc_root = Path("/proc")
    if not proc_root.is_dir():
        return _kill_group(pgid, 0)
    for stat in proc_root.glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _end_group(proc: subprocess.Popen, timeout: float) -> None:
    """Terminate, then kill, what is left of the process group `proc` leads; reap `proc`."""
    _kill_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _group_running(proc.pid) and time.monotonic() < deadline:
        proc.poll()
        time.sleep(0.1)
    _kill_group(proc.pid, signal.SIGKILL)
    proc.wait()


def read_env_file(path: Path) -> dict[str, str]:
    """The settings of a `.env` file (KEY=VALUE lines; blank lines, comments and `export ` ignored, one pair
    of surrounding quotes removed); empty when the file does not exist."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def ui_environment(
    warehouse: str | None, environ: dict[str, str], dotenv: Path
) -> tuple[Path, dict[str, str], list[str]]:
    """The warehouse the UI's runs write and the environment of its webserver and daemon (and so of the runs
    they launch); also the names of the settings read from `dotenv`.

    As `dagster dev` does with the `.env` of the folder it starts from, the project's `.env` overrides the
    shell (`openness ui` starts `dagster dev` in $DAGSTER_HOME, so it reads the project's file itself);
    `warehouse` (--warehouse) overrides both. The warehouse: --warehouse (from the current folder), else
    OPENNESS_WAREHOUSE (a relative one in `.env` from the project folder), else ./warehouse.
    """
    settings = read_env_file(dotenv)
    if warehouse:
        chosen = Path(warehouse)
    elif settings.get("OPENNESS_WAREHOUSE"):
        chosen = dotenv.parent / settings["OPENNESS_WAREHOUSE"]
    else:
        chosen = Path(environ.get("OPENNESS_WAREHOUSE") or PROJECT_ROOT / "warehouse")
    chosen = chosen.resolve()
    env = {**environ, **TELEMETRY_OFF, **settings, "OPENNESS_WAREHOUSE": str(chosen)}
    return chosen, env, sorted(settings)


def _other_warehouses(warehouse: Path, limit: int = 1000) -> list[str]:
    """The other warehouses that the instance's newest runs wrote (their run config names them)."""
    import dagster as dg

    others: set[str] = set()
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs(limit=limit):
            root = (((run.run_config or {}).get("resources") or {}).get("warehouse") or {}).get("config", {})
            root = root.get("root") if isinstance(root, dict) else None
            if root and Path(root).resolve() != warehouse:
                others.add(str(Path(root).resolve()))
    return sorted(others)


def _cmd_ui(args: argparse.Namespace) -> int:
    warehouse, env, from_dotenv = ui_environment(args.warehouse, dict(os.environ), PROJECT_ROOT / ".env")
    mirror = Path(args.mirror).resolve() if args.mirror is not None else None
    from pipelines.mirror.layout import mirror_problem

    problem = _warehouse_problem(warehouse)
    if problem is None and mirror is not None and (bad := mirror_problem(mirror)):
        problem = f"--mirror {bad}"
    if problem:
        return _fail("ui", problem)
    home = prepare_dagster_home()
    _sweep_dead_runs()
    cmd = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "assets.definitions",
        "-d",
        str(PROJECT_ROOT),
        "-h",
        args.host,
        "-p",
        str(args.port),
    ]
    # The runs the UI launches write this warehouse (the resources read $OPENNESS_WAREHOUSE at run time).
    if from_dotenv:
        print(f"Settings from {PROJECT_ROOT / '.env'}: {', '.join(from_dotenv)}", flush=True)
    print(f"Dagster instance {home}: runs launched from the UI write the warehouse {warehouse}", flush=True)
    others = _other_warehouses(warehouse)
    if others:
        print(
            f"note: this instance also holds runs that wrote {', '.join(others)}; give each warehouse its own "
            "DAGSTER_HOME to keep their runs apart (docs/operations.md)",
            flush=True,
        )
    # Started in $DAGSTER_HOME, which holds the project's dagster.yaml (prepare_dagster_home): from the
    # project folder `dagster dev` would warn that the dagster.yaml there "will not be used".
    if mirror is None:
        return run_process_group(cmd, cwd=home, env=env)

    from assets.demo import mirror_environment
    from pipelines.mirror.github_quota import TOKEN_LIMIT, Quota
    from pipelines.mirror.server import MirrorServer

    # Offline: the mirror is served on loopback for as long as the UI runs, and the runs it launches (their
    # settings come from the environment) crawl it as the demo does, with a token's GitHub quota.
    with MirrorServer(mirror, quota=Quota(TOKEN_LIMIT, TOKEN_LIMIT)) as srv:
        env.update(mirror_environment(srv.url, srv.arxiv_url, srv.github_url, mirror))
        print(f"Crawls launched from the UI read the hub mirror {mirror} on {srv.url} (offline)", flush=True)
        return run_process_group(cmd, cwd=home, env=env)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `openness`."""
    parser = argparse.ArgumentParser(
        prog="openness",
        description="Openness Tracker: crawl, rate and publish "
        "how open AI model releases on the Hugging Face Hub are.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="replay a hub mirror (default: the bundled sample) through the pipeline"
    )
    demo.add_argument(
        "--mirror", default=str(SAMPLE_MIRROR), help="a hub-mirror/1 folder (default: the bundled sample)"
    )
    demo.add_argument(
        "--warehouse",
        default=str(PROJECT_ROOT / "warehouse"),
        help="the warehouse folder, created if missing (default: ./warehouse)",
    )
    demo.add_argument(
        "--max-dates", type=int, default=12, help="how many crawl dates to replay, at least 1 (default: 12)"
    )
    demo.set_defaults(func=_cmd_demo)

    mirror = sub.add_parser("mirror", help="the offline hub mirror").add_subparsers(
        dest="mirror_cmd", required=True
    )
    serve = mirror.add_parser(
        "serve", help="serve a hub-mirror/1 folder over HTTP like the Hub, arXiv and GitHub"
    )
    serve.add_argument("dir", help="the hub-mirror/1 folder to serve (e.g. pipelines/mirror/sample)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8080, help="the port to listen on (default: 8080; 0: any free port)"
    )
    serve.add_argument(
        "--page-size", type=int, default=1000, help="models per page of the Hub's listing (default: 1000)"
    )
    serve.add_argument(
        "--faults",
        default="",
        help="answer a share of requests with errors, for testing a crawler, "
        'e.g. "seed=1,429=0.1,5xx=0.1,primary=0.05,secondary=0.05" (default: none)',
    )
    serve.add_argument("--github-token-limit", type=int, default=5000, help="GitHub requests/hour per token")
    serve.add_argument(
        "--github-anonymous-limit", type=int, default=60, help="anonymous GitHub requests/hour"
    )
    serve.set_defaults(func=_cmd_mirror_serve)
    build = mirror.add_parser("build-sample", help="rebuild the bundled sample corpus from shared/reference")
    build.add_argument(
        "--reference",
        default=str(PROJECT_ROOT.parent / "shared" / "reference"),
        help="the folder of recorded Hub answers to build from (default: ../shared/reference)",
    )
    build.add_argument(
        "--out",
        default=str(SAMPLE_MIRROR),
        help="the mirror folder to write (default: pipelines/mirror/sample)",
    )
    build.set_defaults(func=_cmd_mirror_build_sample)

    mof = sub.add_parser(
        "mof", help="evaluate a Model Openness Tool record (YAML) and print the result as JSON"
    )
    mof.add_argument("file", help="a Model Openness Tool record: a YAML file with a `release` section")
    mof.set_defaults(func=_cmd_mof)

    lic = sub.add_parser(
        "license",
        help="identify licence files (ScanCode) and print one JSON object per file: "
        "path, license_id, license_family, score, matches",
    )
    lic.add_argument(
        "files", nargs="+", metavar="FILE", help="licence files to identify (LICENSE, COPYING, ...)"
    )
    lic.set_defaults(func=_cmd_license)

    download = sub.add_parser("download", help="fetch a snapshot version and verify every checksum")
    download.add_argument(
        "source", help="a snapshots folder, an http(s) base URL or an fsspec URL (s3://...)"
    )
    download.add_argument("--version", default=None, help="a version (default: LATEST)")
    download.add_argument("--to", required=True, help="the folder to download into")
    download.set_defaults(func=_cmd_download)

    show = sub.add_parser(
        "show",
        help="look up releases: their current verdicts with the evidence, and their timeline of transitions",
        description="For each release: spectrum level, licence (effective, declared, licence files), MOF class, "
        "OSAID verdict, European Open Source AI Index score and release level, with the evidence links, then "
        "its timeline of transitions. Exit status: 0, 1 when a repository id names no release (nothing is "
        "printed but the error), 2 when the warehouse or snapshot cannot be read.",
    )
    show.add_argument(
        "repo_ids",
        nargs="+",
        metavar="REPO_ID",
        help="Hub model repository ids, org/name (a former id of a renamed repository finds it)",
    )
    show.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per release and line (keys: docs/snapshots.md)",
    )
    where = show.add_mutually_exclusive_group()
    where.add_argument(
        "--warehouse",
        default=None,
        metavar="DIR",
        help="a warehouse folder: its serving database openness.duckdb is opened read-only (default: ./warehouse)",
    )
    where.add_argument(
        "--snapshot",
        default=None,
        metavar="DIR",
        help="a snapshot version folder (with manifest.json, e.g. one `openness download` made) or a snapshots "
        "folder (the version its LATEST names)",
    )
    show.set_defaults(func=_cmd_show)

    code = sub.add_parser(
        "code",
        help="crawl GitHub repositories now and print, one JSON object per line, their licence and "
        "whether they hold training, preprocessing, evaluation and inference code",
    )
    code.add_argument("urls", nargs="+", metavar="URL", help="https://github.com/OWNER/REPO or OWNER/REPO")
    code.add_argument(
        "--endpoint",
        default=None,
        metavar="API_BASE",
        help="GitHub API base (default: $OPENNESS_GITHUB_ENDPOINT or https://api.github.com; "
        "a mirror: http://127.0.0.1:PORT/api/v3); the token is read from $GITHUB_TOKEN",
    )
    code.add_argument(
        "--retries",
        type=int,
        default=None,
        metavar="N",
        help="retries of a request that fails (5xx, transport error, malformed body), with a backoff of "
        "1, 2, 4 ... s (default 4; 0: report the failure at once)",
    )
    code.set_defaults(func=_cmd_code)

    depth = sub.add_parser(
        "depth",
        help="how many days of the daily history budget the top 100,000 / 1,000,000 / all models need "
        "(most-downloaded first; docs/crawler.md, 'Depth by usage')",
    )
    depth.add_argument(
        "--warehouse",
        default=None,
        help="the warehouse folder (default: $OPENNESS_WAREHOUSE, else ./warehouse)",
    )
    depth.add_argument(
        "--hub",
        action="store_true",
        help="the whole Hub (~3,000,000 models, none walked) instead of a warehouse",
    )
    depth.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="N",
        help="API calls a day (default: $OPENNESS_HUB_HISTORY_BUDGET, else half a token's daily quota: "
        "144,000 with $HF_TOKEN set, 72,000 without)",
    )
    depth.add_argument(
        "--api-per-model",
        type=float,
        default=4.00845,
        metavar="X",
        help="API calls a model's first backfill costs (default: 4.00845, measured; docs/benchmarks.md)",
    )
    depth.set_defaults(func=_cmd_depth)

    ui = sub.add_parser("ui", help="start the Dagster UI (webserver and daemon) on loopback")
    ui.add_argument("--host", default="127.0.0.1", help="the address the UI listens on (default: 127.0.0.1)")
    ui.add_argument("--port", type=int, default=3000, help="the port the UI listens on (default: 3000)")
    ui.add_argument(
        "--warehouse",
        default=None,
        help="the warehouse folder the runs launched from the UI write, created if missing "
        "(default: $OPENNESS_WAREHOUSE, else ./warehouse)",
    )
    ui.add_argument(
        "--mirror",
        nargs="?",
        const=str(SAMPLE_MIRROR),
        default=None,
        metavar="DIR",
        help="offline: serve this hub-mirror/1 folder on loopback while the UI runs and point the crawls "
        "launched from the UI at it (no DIR: the bundled sample)",
    )
    ui.set_defaults(func=_cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `openness` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
