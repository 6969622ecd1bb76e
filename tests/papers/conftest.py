"""Fixtures for the papers tests: a small hub mirror with real arXiv entries, and servers over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.mirror.layout import MirrorWriter
from pipelines.mirror.server import FaultConfig, MirrorServer
from tests.papers.recorded import HF_PAPERS, MIRROR_IDS, sample_entry


@pytest.fixture(scope="module")
def papers_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub-mirror/1 folder with MIRROR_IDS as arXiv entries and HF_PAPERS as Hub paper pages."""
    root = tmp_path_factory.mktemp("papers-mirror")
    writer = MirrorWriter(root, "papers tests", sources=["pipelines/mirror/sample/papers/arxiv"])
    for arxiv_id in MIRROR_IDS:
        writer.add_paper(arxiv_id, entry_xml=sample_entry(arxiv_id), hf_json=HF_PAPERS.get(arxiv_id))
    writer.finish()
    return root


@pytest.fixture()
def server(papers_mirror: Path) -> Iterator[MirrorServer]:
    """A fresh MirrorServer (empty request log) over the papers mirror."""
    with MirrorServer(papers_mirror) as srv:
        yield srv


@pytest.fixture()
def make_server(papers_mirror: Path) -> Iterator:
    """Start MirrorServers with a given fault config; all are stopped at the end of the test."""
    started: list[MirrorServer] = []

    def start(faults: FaultConfig | None = None) -> MirrorServer:
        srv = MirrorServer(papers_mirror, faults=faults).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
