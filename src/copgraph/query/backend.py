"""The backend contract: everything the web layer asks of a store, written down once.

copgraph serves either its embedded Oxigraph store (`query.embedded.EmbeddedBackend`: store generations on disk, a
killable query process per worker) or an external SPARQL 1.1 store (`query.remote.RemoteBackend`). The web layer
builds one of the two (`web.app.create_app`) and from then on sees only this contract, so a page, a query or a write
runs the same code in either mode; what a mode cannot do (dumps, for a remote store) shows here as a None.

A backend answers four kinds of request:

- describe: `current()`, the dataset as it is now (`DatasetView`: version, metadata, queries for the read models);
- query: `run()`, one untrusted query within the timeout, memory and row caps, serialised in the negotiated format;
- write: `update()` and the Graph Store operations, each atomic on the embedded store;
- health: `check()`, the dataset once it has answered a query.

Failures are the same in both: QueryError (a 400, 500 or 503 by its `status`) from `run`; store.generations.StoreMissing
when there is no store; store.writes.WriteRefused and SyntaxError from writes; OSError from a store that does not
answer (a remote store's errors are both a QueryError and an OSError).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from copgraph.query.executor import QueryOutcome, QueryRequest
from copgraph.query.results import QueryResult
from copgraph.store.generations import Metadata


class DatasetView(Protocol):
    """One version of the data, read as a whole: what pages, read models and /healthz read.

    Implemented by store.reader.Dataset (one store generation) and query.remote.RemoteDataset.
    """

    @property
    def version(self) -> str:
        """Changes exactly when the data does (any build or write): the key of every cache and ETag."""
        ...

    @property
    def metadata(self) -> Metadata:
        """Version, build or write time, triple count and named graphs."""
        ...

    @property
    def generation(self) -> Path | None:
        """The store generation's directory (dumps, ontology documentation); None for a remote store, which has none."""
        ...

    def query(
        self, sparql: str, *, substitutions: Mapping[ox.Variable, ox.NamedNode | ox.Literal] | None = None
    ) -> QueryResult:
        """Evaluate a trusted (internal) query, the default graph being the union of the named graphs, variables
        bound by `substitutions`. Not for clients' queries: those go through Backend.run, with its caps."""
        ...

    def graph(self, name: str | None) -> list[ox.Triple] | None:
        """The triples of a named graph (None: the default graph), or None if there is no such named graph."""
        ...


class Backend(ABC):
    """A store copgraph serves: the embedded one or a remote one. Graph names are IRIs; None is the default graph."""

    @abstractmethod
    def current(self) -> DatasetView:
        """The dataset as it is now. StoreMissing if there is none; a remote store's errors if it does not answer."""

    @abstractmethod
    def run(self, request: QueryRequest) -> QueryOutcome:
        """Answer a client's query, serialised in the negotiated format and capped at the row limit; QueryError if it
        is malformed, runs out of time or memory, or the store cannot answer."""

    @abstractmethod
    def update(self, text: str, base_iri: str | None = None) -> None:
        """Apply a maintainer's SPARQL Update (relative IRIs resolved against base_iri), all or nothing. SyntaxError
        if it is malformed, WriteRefused if it may not be applied; nothing is written then."""

    @abstractmethod
    def replace_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        """Make the graph hold exactly these triples; True if it held none before."""

    @abstractmethod
    def add_to_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        """Merge triples into the graph; True if it held none before."""

    @abstractmethod
    def delete_graph(self, name: str | None) -> bool:
        """Remove the graph (empty the default graph); False if there was no such graph (nothing is written)."""

    def check(self) -> DatasetView:
        """The current dataset, once it has answered a query: what /healthz reports. StoreMissing or OSError if the
        store is missing, cannot be opened or does not answer."""
        current = self.current()
        bool(current.query("ASK { ?s ?p ?o }"))
        return current
