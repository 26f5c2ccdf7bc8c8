"""Maintainers' writes to the embedded store: SPARQL Update and Graph Store operations, each one atomic.

Every operation goes through `store.write`: applied to a checkpoint copy of the served generation, then swapped in
whole. Graph names are IRIs; None means the store's default graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from copgraph.config import Config
from copgraph.store import write


def _graph(name: str | None) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if name is None else ox.NamedNode(name)


class LocalWriter:
    """Writes to the embedded Oxigraph store at config.store_dir."""

    def __init__(self, config: Config):
        self.config = config

    def update(self, text: str, base_iri: str | None = None) -> None:
        """Run a SPARQL Update; SyntaxError if it does not parse (nothing is written then)."""
        write(self.config, lambda store: store.update(text, base_iri=base_iri), f"update:{text}")

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

        write(self.config, change, f"put:{name}")
        return found["created"]

    def add_to_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        """Merge triples into the graph; True if it did not exist (or, for the default graph, was empty)."""
        found: dict[str, bool] = {}

        def change(store: ox.Store) -> None:
            found["created"] = _absent_or_empty(store, name)
            if name is not None:
                store.add_graph(ox.NamedNode(name))
            store.extend(ox.Quad(t.subject, t.predicate, t.object, _graph(name)) for t in triples)

        write(self.config, change, f"post:{name}")
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
            write(self.config, change, f"delete:{name}")
        except _NoSuchGraph:
            return False
        return True


class _NoSuchGraph(Exception):
    """Raised inside a write to abandon it: the graph to delete does not exist."""


def _absent_or_empty(store: ox.Store, name: str | None) -> bool:
    if name is not None and not store.contains_named_graph(ox.NamedNode(name)):
        return True
    return next(iter(store.quads_for_pattern(None, None, None, _graph(name))), None) is None
