"""Reading the embedded store: the served generation opened read-only, reopened when a build or a write swaps in a
new one.

Each web worker (and each query process) keeps one `StoreReader`; asking it for the current `Dataset` costs one
readlink while the generation is unchanged, so every request reads one generation whole, never a mix of two. A
`Dataset` is the embedded store's side of the backend contract's `DatasetView` (copgraph.query.backend).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from copgraph.core.config import Config
from copgraph.store.generations import Metadata, StoreMissing, StoreUnreadable


class Dataset:
    """One store generation opened read-only: the data as of one build, never a mix of two."""

    def __init__(self, generation: Path):
        self.generation = generation
        self.metadata = Metadata.read(generation)
        self.store = ox.Store.read_only(str(generation / "oxigraph"))

    @property
    def version(self) -> str:
        return self.metadata.version

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[ox.Variable, ox.NamedNode | ox.Literal] | None = None,
        default_graph: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base_iri: str | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Evaluate a query. The default graph is the union of all named graphs unless default_graph names its graphs
        (IRIs); named_graphs limits GRAPH ?g to those; substitutions bind variables before evaluation (SEP-0007)."""
        bound: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = dict(substitutions or {})
        return self.store.query(
            sparql,
            base_iri=base_iri,
            use_default_graph_as_union=not default_graph,
            default_graph=[ox.NamedNode(iri) for iri in default_graph] or None,
            named_graphs=[ox.NamedNode(iri) for iri in named_graphs] or None,
            substitutions=bound or None,
        )

    def graph(self, name: str | None) -> list[ox.Triple] | None:
        """The triples of a named graph (None: the default graph), or None if there is no such named graph."""
        if name is not None and not self.store.contains_named_graph(ox.NamedNode(name)):
            return None
        graph = ox.DefaultGraph() if name is None else ox.NamedNode(name)
        return [quad.triple for quad in self.store.quads_for_pattern(None, None, None, graph)]


OPEN_ATTEMPTS = 3  # a generation pruned while being opened is retried with the newer one


class StoreReader:
    """Hands out the current Dataset, reopening it when a build has swapped in a new generation."""

    def __init__(self, store_dir: Path):
        self.store_dir = store_dir
        self._link = store_dir / "current"
        # The link target and the Dataset opened from it, replaced as one: a worker's threads share this reader.
        self._opened: tuple[str, Dataset] | None = None

    def current(self) -> Dataset:
        """The generation `current` points at. If opening it fails because a write pruned it meanwhile (the link has
        moved on), the newer one is opened instead; a failure while the link stays put is a damaged store."""
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            target = self._link_target()
            opened = self._opened
            if opened is not None and opened[0] == target:
                return opened[1]
            try:
                dataset = Dataset((self.store_dir / target).resolve())
                self._opened = (target, dataset)
                return dataset
            except (OSError, RuntimeError, ValueError, TypeError) as error:  # RuntimeError: RocksDB's corruption
                if attempt < OPEN_ATTEMPTS and self._link_target() != target:
                    continue  # pruned while being opened: read the newer generation
                # The detail names paths on the server: it goes to the log, not to whoever made the request.
                logging.getLogger(__name__).error("cannot open the store generation %s: %s", target, error)
                raise StoreUnreadable("the store cannot be opened; the server's log says why") from None
        raise AssertionError("unreachable")

    def _link_target(self) -> str:
        try:
            return os.readlink(self._link)
        except FileNotFoundError:
            raise StoreMissing(f"no store at {self.store_dir}: run `copgraph build` first") from None


def open_dataset(config: Config) -> Dataset:
    """The current generation of the configured store, read-only."""
    return StoreReader(config.store_dir).current()
