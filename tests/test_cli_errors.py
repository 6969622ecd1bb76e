"""What a careless user meets: each wrong input is one line on stderr, a non-zero exit and no traceback.

Every case runs the real `openness` command line in a subprocess, as a user types it.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from assets.cli import build_parser, main
from tests.conftest import ROOT

MOF_HINT = "give the path of a Model Openness Tool record (YAML with a `release` section)"
MIRROR_HINT = "give a hub-mirror/1 folder (MIRROR_FORMAT.md), e.g. the bundled pipelines/mirror/sample"


def openness(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `openness ARGS...` as a user would; its output, status and errors."""
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(proc: subprocess.CompletedProcess, status: int = 2) -> str:
    """The single stderr line of a failed command, after checking its exit status and that nothing else printed."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.endswith("\n"), proc.stderr
    return proc.stderr.rstrip("\n")


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("missing.yml", None, "does not exist"),
        (
            "broken.yml",
            "release: [name, x\n",
            "is not valid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>'",
        ),
        ("prose.yml", "just a sentence\n", "holds a YAML str, not a mapping"),
        ("empty.yml", "", "is empty"),
        ("binary.yml", b"\x00\x01\xff", "is not a UTF-8 text file"),
        ("other.yml", "name: x\nversion: 1\n", "has neither a `release` section nor `components`"),
    ],
)
def test_mof_on_a_missing_or_non_yaml_file(tmp_path: Path, name: str, content, says: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    proc = openness("mof", str(path))
    assert one_line(proc) == f"openness mof: error: {path} {says}; {MOF_HINT}"
    assert proc.stdout == ""


def test_mof_on_a_folder(tmp_path: Path) -> None:
    assert (
        one_line(openness("mof", str(tmp_path))) == f"openness mof: error: {tmp_path} is a folder; {MOF_HINT}"
    )


def test_demo_with_a_file_as_warehouse_starts_nothing(tmp_path: Path) -> None:
    afile = tmp_path / "warehouse.duckdb"
    afile.write_text("not a folder")
    proc = openness("demo", "--warehouse", str(afile))
    assert one_line(proc) == (
        f"openness demo: error: --warehouse {afile} is a file; give a folder (it is created if missing)"
    )
    assert proc.stdout == ""  # refused before the replay starts
    inside = tmp_path / "warehouse.duckdb" / "sub"
    assert one_line(openness("demo", "--warehouse", str(inside))) == (
        f"openness demo: error: --warehouse {inside} cannot be created (Not a directory); "
        "give a folder you can write to"
    )


def test_demo_with_a_folder_that_is_not_a_mirror(tmp_path: Path) -> None:
    proc = openness("demo", "--mirror", str(tmp_path / "nowhere"), "--warehouse", str(tmp_path / "wh"))
    assert one_line(proc) == f"openness demo: error: {tmp_path / 'nowhere'} does not exist; {MIRROR_HINT}"
    assert not (tmp_path / "wh").exists()


def test_download_from_an_unreachable_hf_source(tmp_path: Path) -> None:
    # The Hub's filesystem (hf://) pointed at a loopback port nothing listens on: no network needed.
    endpoint = f"http://127.0.0.1:{free_port()}"
    proc = openness(
        "download",
        "hf://datasets/openness/none",
        "--to",
        str(tmp_path / "got"),
        env={"HF_ENDPOINT": endpoint},
    )
    line = one_line(proc, status=1)
    assert line.startswith("download failed: hf://datasets/openness/none cannot be read (ConnectError: "), (
        line
    )
    assert line.endswith("); check the URL, the network and the credentials (OPENNESS_STORAGE_OPTIONS)"), line


def test_download_from_an_unknown_scheme(tmp_path: Path) -> None:
    proc = openness("download", "nosuch://bucket/snapshots", "--to", str(tmp_path / "got"))
    assert one_line(proc, status=1) == (
        "download failed: nosuch://bucket/snapshots: nosuch:// is not a known source; give a snapshots folder, "
        "an http(s) base URL or an fsspec URL (s3://, gs://, hf://, ...)"
    )


def test_download_from_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    proc = openness("download", str(tmp_path / "nowhere"), "--to", str(tmp_path / "got"))
    assert one_line(proc, status=1) == (
        f"download failed: {tmp_path / 'nowhere'} is not a folder; give a snapshots folder (the one holding "
        "LATEST), an http(s) base URL or an fsspec URL"
    )


def test_mirror_serve_of_a_missing_folder_refuses(tmp_path: Path) -> None:
    proc = openness("mirror", "serve", str(tmp_path / "nowhere"), "--port", "0")
    assert (
        one_line(proc)
        == f"openness mirror serve: error: {tmp_path / 'nowhere'} does not exist; {MIRROR_HINT}"
    )
    proc = openness("mirror", "serve", str(tmp_path), "--port", "0")
    assert one_line(proc) == (
        f"openness mirror serve: error: {tmp_path} is not a hub mirror: it has no mirror.json; {MIRROR_HINT}"
    )


def test_mirror_serve_on_a_port_in_use(tmp_path: Path) -> None:
    (tmp_path / "mirror.json").write_text('{"format": "hub-mirror/1", "title": "empty"}')
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = openness("mirror", "serve", str(tmp_path), "--port", str(port))
    assert one_line(proc) == (
        f"openness mirror serve: error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another --port or --host"
    )


def test_mirror_build_sample_from_a_missing_or_wrong_reference(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = openness("mirror", "build-sample", "--reference", str(tmp_path / "nowhere"), "--out", str(out))
    assert one_line(proc) == (
        f"openness mirror build-sample: error: --reference {tmp_path / 'nowhere'} is not a folder; "
        "give the folder of recorded Hub answers (shared/reference)"
    )
    (tmp_path / "ref").mkdir()
    proc = openness("mirror", "build-sample", "--reference", str(tmp_path / "ref"), "--out", str(out))
    assert one_line(proc) == (
        f"openness mirror build-sample: error: --reference {tmp_path / 'ref'} is not a folder of recorded Hub "
        f"answers: {tmp_path / 'ref' / 'cards' / 'PROVENANCE.csv'} does not exist"
    )
    assert not out.exists()


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every (command path, parser) of the command line, subcommands of subcommands included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_every_argument_of_every_subcommand_is_explained_by_its_help(capsys) -> None:
    walked = []
    for path, parser in _commands(build_parser()):
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0
        shown = "".join(capsys.readouterr().out.split())  # no whitespace: --help wraps lines where it likes
        command = " ".join(("openness", *path))
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):  # each subcommand needs a line of its own
                listed = {a.dest: a.help for a in action._choices_actions}
                assert set(listed) == set(action.choices), command
                assert all(listed.values()), f"{command}: a subcommand has no help: {listed}"
                continue
            name = "/".join(action.option_strings) or action.dest
            assert action.help and action.help != argparse.SUPPRESS, f"{command}: {name} has no help"
            assert "".join(action.help.split()) in shown, f"{command} --help does not explain {name}"
        walked.append(" ".join(path))
    assert {"demo", "mirror serve", "mirror build-sample", "mof", "license", "download", "code", "ui"} <= set(
        walked
    )
