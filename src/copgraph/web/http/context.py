"""Per-worker access to the data: the backend (the one store served, by its written contract) and its current
dataset, the result cache, the cache of read models, and the input process where clients' RDF is read.

Each server worker builds its own app (no preload), so everything here is per process.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from flask import current_app

from copgraph.build.inputs import Inputs, SandboxedValidator
from copgraph.core.cache import VersionedCache
from copgraph.core.config import Config
from copgraph.query.backend import Backend, DatasetView
from copgraph.query.executor import QueryOutcome


def config() -> Config:
    return current_app.config["COPGRAPH"]


def backend() -> Backend:
    """The store this worker serves, embedded or remote: queries, writes, health (copgraph.query.backend)."""
    return current_app.extensions["copgraph.backend"]


def dataset() -> DatasetView:
    """The dataset as it is now: one store generation, or the remote store's data (its description cached briefly)."""
    return backend().current()


def result_cache() -> ResultCache:
    return current_app.extensions["copgraph.cache"]


class ResultCache:
    """Serialised SPARQL answers by request, for one dataset version (a new version, any write or build, empties it),
    within COPGRAPH_RESULT_CACHE_BYTES per worker. An answer larger than an eighth of that is not kept: one export
    would otherwise push out the many small answers that clients repeat."""

    def __init__(self, max_bytes: int):
        self.answers: VersionedCache[QueryOutcome] = VersionedCache(
            max_bytes, largest=max_bytes // 8, setting="COPGRAPH_RESULT_CACHE_BYTES"
        )

    def get(self, version: str, key: Hashable) -> QueryOutcome | None:
        return self.answers.get(version, key)

    def put(self, key: Hashable, outcome: QueryOutcome) -> None:
        """Keep an answer under the version it was read from (not kept if that is no longer the version served)."""
        self.answers.put(outcome.version, key, outcome)

    def clear(self) -> None:
        self.answers.clear()


def model_cache() -> VersionedCache[Any]:
    """The worker's read models for the version served (site index, network, rendered records, the ontology page of a
    remote store), within COPGRAPH_MODEL_CACHE_BYTES."""
    return current_app.extensions["copgraph.models"]


def inputs() -> Inputs:
    """The worker's input process: where clients' RDF is parsed and validated, under its budget (build.inputs)."""
    return current_app.extensions["copgraph.inputs"]


def validator() -> SandboxedValidator:
    """What contributions and approvals are validated with: SHACL in the context of the published data as this worker
    serves it, run in the input process (on the embedded store, the shapes with the neighbourhood of each input read
    from the store; with a remote store, the shapes and root's ontology/ and data/ files)."""
    return inputs().validator(dataset().version)
