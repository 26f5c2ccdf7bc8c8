"""The embedded store as a backend: store generations on disk under COPGRAPH_STORE, served by this process.

Reads come from the worker's own `StoreReader` (one generation at a time); clients' queries go to the worker's
`Executor`, which runs them in a query process it can kill (timeout, memory cap) and answers bounded lookups in the
worker with the same reader; writes go through `LocalWriter`, a checkpoint copy of the served generation swapped in
whole. Each is built once per worker process (web.app.create_app), never shared across a fork.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from copgraph.core.config import Config
from copgraph.query.backend import Backend
from copgraph.query.executor import Executor, QueryOutcome, QueryRequest
from copgraph.store.reader import Dataset, StoreReader
from copgraph.store.writes import LocalWriter, Publish


class EmbeddedBackend(Backend):
    """The embedded Oxigraph store at config.store_dir. `publish` (build.description.publish) refreshes a written
    generation's description and dumps; it is passed in because the build is a layer above this one."""

    def __init__(self, config: Config, publish: Publish):
        self.reader = StoreReader(config.store_dir)
        self.executor = Executor(
            config.store_dir,
            config.query_timeout,
            config.query_memory_mb * 2**20,
            config.max_rows,
            self.reader,
            stack_bytes=config.stack_mb * 2**20,
        )
        self.writer = LocalWriter(config, publish)

    def current(self) -> Dataset:
        return self.reader.current()

    def run(self, request: QueryRequest) -> QueryOutcome:
        return self.executor.run(request)

    def update(self, text: str, base_iri: str | None = None) -> None:
        self.writer.update(text, base_iri)

    def replace_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        return self.writer.replace_graph(name, triples)

    def add_to_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        return self.writer.add_to_graph(name, triples)

    def delete_graph(self, name: str | None) -> bool:
        return self.writer.delete_graph(name)
