"""Graph Store Protocol reads while maintainers write: a read never fails because a write pruned its generation.

A write keeps the served generation and one previous one (store.KEEP_PREVIOUS); two more writes prune the older. A
worker's reader keeps the generation it has open readable (its files stay open), but it opens a newer generation
only when a request asks for data after a swap: if two writes land between finding the generation (`current`) and
opening it, the directory is gone. The test below makes exactly that interleaving happen, in-process (the only way
to place writes between those two steps every time), and expects the read to answer from the generation served by
then.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from copgraph.build.description import published_write
from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.store.reader import Dataset
from copgraph.web.app import create_app
from tests.conftest import REPO

COMMUNITY = "https://w3id.org/copgraph/id/community/ukfechat"
COMMUNITY_GRAPH = "https://w3id.org/copgraph/graph/communities/ukfechat"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
READ = f"/store?graph={COMMUNITY_GRAPH}"
NTRIPLES = {"Accept": "application/n-triples"}


def relabel(config: Config, label: str) -> None:
    """One maintainer write (a new generation): the community's label becomes `label`."""

    def change(store: ox.Store) -> None:
        store.update(
            f"DELETE {{ GRAPH <{COMMUNITY_GRAPH}> {{ <{COMMUNITY}> <{LABEL}> ?old }} }} "
            f'INSERT {{ GRAPH <{COMMUNITY_GRAPH}> {{ <{COMMUNITY}> <{LABEL}> "{label}" }} }} '
            f"WHERE {{ GRAPH <{COMMUNITY_GRAPH}> {{ <{COMMUNITY}> <{LABEL}> ?old }} }}"
        )

    published_write(config, change, f"relabel:{label}")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    config = Config.from_env(environ={}, root=tmp_path, store=tmp_path / "store")
    build(config, validate=False)  # the repository's own files, validated by tests/test_shapes.py
    return config


def test_a_graph_store_read_is_answered_when_its_generation_is_pruned_as_it_opens(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = create_app(config).test_client()
    assert client.get(READ, headers=NTRIPLES).status_code == 200  # the worker has the built generation open
    relabel(config, "first write")  # a newer generation is served: the next read opens it

    opened = Dataset.__init__
    pruned: list[Path] = []

    def writes_land_first(self: Dataset, generation: Path) -> None:
        # Writes until the generation being opened is pruned: two, or fewer when writes share a second (pruning
        # orders generations by their names, whose time has one-second resolution).
        while not pruned and generation.exists():
            relabel(config, "write that pruned it")
            assert len(list(generation.parent.iterdir())) < 10
        pruned.append(generation)
        opened(self, generation)

    monkeypatch.setattr(Dataset, "__init__", writes_land_first)
    response = client.get(READ, headers=NTRIPLES)

    assert pruned, "the read opened a generation"
    assert response.status_code == 200, response.get_data(as_text=True)
    assert f'<{COMMUNITY}> <{LABEL}> "write that pruned it"' in response.get_data(as_text=True)


def test_a_generation_the_reader_has_open_stays_readable_when_its_directory_is_removed(config: Config) -> None:
    """What the reads rely on: pruning a generation a worker still has open does not break reads from it (RocksDB
    keeps every file of a read-only store open)."""
    relabel(config, "first write")
    held = Dataset((config.store_dir / "current").resolve())
    for count in range(2, 10):  # two writes prune it, or fewer (see above)
        relabel(config, f"write {count}")
        if not held.generation.exists():
            break
    assert not held.generation.exists()
    labels = held.store.quads_for_pattern(ox.NamedNode(COMMUNITY), ox.NamedNode(LABEL), None)
    assert [q.object.value for q in labels] == ["first write"]


def test_a_damaged_store_is_still_503_and_not_retried_forever(config: Config) -> None:
    """Retries are only for a generation that was replaced meanwhile: one that cannot be opened stays unavailable."""
    client = create_app(config).test_client()
    relabel(config, "first write")
    generation = (config.store_dir / "current").resolve()
    (generation / "oxigraph" / "CURRENT").write_text("not a manifest name\n")
    response = client.get(READ, headers=NTRIPLES)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
