"""Maintainers' writes to the embedded store, each one atomic: a change applied to a checkpoint copy of the served
generation, the copy's description and dumps published again, then the copy swapped in whole.

Publishing belongs to the build (`build.description.publish`); it is passed in (`publish=`) so that this layer never
imports the one above it. `LocalWriter` offers SPARQL Update and Graph Store operations over `write` (the embedded
backend's writes, query.embedded); graph names are IRIs, None meaning the store's default graph.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH
from copgraph.store.generations import (
    Metadata,
    StoreMissing,
    current_generation,
    dataset_quads,
    new_generation,
    remove_old_generations,
    write_lock,
)

# build.description.publish: (the new generation's store, its directory, the base IRI, the previous generation).
Publish = Callable[[ox.Store, Path, str, Path], None]


class WriteRefused(Exception):
    """A write that would change what must only change in the repository (the ontology, the shapes)."""


def write(config: Config, change: Callable[[ox.Store], object], label: str, *, publish: Publish) -> Metadata:
    """Apply a maintainer's change to a copy of the current generation and swap the copy in, all or nothing.

    The copy is a RocksDB checkpoint (hard links), so its cost does not grow with the data. Readers keep the old
    generation until they next ask; a failed change (any exception) leaves the served store untouched.
    """
    store_dir = config.store_dir
    with write_lock(store_dir):
        current = current_generation(store_dir)
        if current is None:
            raise StoreMissing(f"no store at {store_dir}: run `copgraph build` first")
        previous = Metadata.read(current)
        # Abandoned .building-* directories are removed first: e.g. a write whose server was killed part way.
        with new_generation(store_dir) as (building, install):
            ox.Store.read_only(str(current / "oxigraph")).backup(str(building / "oxigraph"))
            store = ox.Store(str(building / "oxigraph"))
            change(store)
            metadata = _describe_write(store, previous, label)
            publish(store, building, config.base, current)
            store.flush()
            del store
            metadata.write(building)
            install(metadata)
    remove_old_generations(store_dir)
    return metadata


def _describe_write(store: ox.Store, previous: Metadata, label: str) -> Metadata:
    """The new generation's metadata, and its /graph/dataset description brought up to date."""
    digest = hashlib.sha256(f"{previous.version}\0{label}\0{time.time_ns()}".encode())
    version = digest.hexdigest()[:16]
    built_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    store.remove_graph(ox.NamedNode(DATASET_GRAPH))
    triples = len(store)
    store.extend(dataset_quads(version, built_at, triples, previous.graphs))
    return replace(previous, version=version, built_at=built_at, triples=triples, written=True)


def _graph(name: str | None) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if name is None else ox.NamedNode(name)


class LocalWriter:
    """Writes to the embedded Oxigraph store at config.store_dir."""

    def __init__(self, config: Config, publish: Publish):
        self.config = config
        self.publish = publish

    def update(self, text: str, base_iri: str | None = None) -> None:
        """Run a SPARQL Update; SyntaxError if it does not parse (nothing is written then)."""
        write(self.config, lambda store: store.update(text, base_iri=base_iri), f"update:{text}", publish=self.publish)

    # Whether a graph existed is read from the store copy being written, under the write lock, not from a separately
    # opened generation (which a concurrent write may have pruned meanwhile).

    def replace_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        """Make the graph hold exactly these triples; True if it did not exist (the default graph: was empty)."""
        found: dict[str, bool] = {}

        def change(store: ox.Store) -> None:
            found["created"] = _absent_or_empty(store, name)
            if name is None:
                store.clear_graph(ox.DefaultGraph())
            elif store.contains_named_graph(ox.NamedNode(name)):
                store.remove_graph(ox.NamedNode(name))
            if name is not None:
                store.add_graph(ox.NamedNode(name))
            store.extend(ox.Quad(t.subject, t.predicate, t.object, _graph(name)) for t in triples)

        write(self.config, change, f"put:{name}", publish=self.publish)
        return found["created"]

    def add_to_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        """Merge triples into the graph; True if it did not exist (or, for the default graph, was empty)."""
        found: dict[str, bool] = {}

        def change(store: ox.Store) -> None:
            found["created"] = _absent_or_empty(store, name)
            if name is not None:
                store.add_graph(ox.NamedNode(name))
            store.extend(ox.Quad(t.subject, t.predicate, t.object, _graph(name)) for t in triples)

        write(self.config, change, f"post:{name}", publish=self.publish)
        return found["created"]

    def delete_graph(self, name: str | None) -> bool:
        """Remove the graph (empty the default graph); False if there was no such graph (nothing is written)."""

        def change(store: ox.Store) -> None:
            if name is None:
                store.clear_graph(ox.DefaultGraph())
            elif store.contains_named_graph(ox.NamedNode(name)):
                store.remove_graph(ox.NamedNode(name))
            else:
                raise _NoSuchGraph

        try:
            write(self.config, change, f"delete:{name}", publish=self.publish)
        except _NoSuchGraph:
            return False
        return True


class _NoSuchGraph(Exception):
    """Raised inside a write to abandon it: the graph to delete does not exist."""


def _absent_or_empty(store: ox.Store, name: str | None) -> bool:
    if name is not None and not store.contains_named_graph(ox.NamedNode(name)):
        return True
    return next(iter(store.quads_for_pattern(None, None, None, _graph(name))), None) is None
