"""Per-worker access to the data: the backend (the one store served, by its written contract) and its current
dataset, the result cache and the cache of read models.

Each server worker builds its own app (no preload), so everything here is per process.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from flask import current_app

from copgraph.build.shacl import StoreContextValidator, Validator, load_shapes
from copgraph.core.cache import VersionedCache
from copgraph.core.config import Config
from copgraph.query.backend import Backend, DatasetView
from copgraph.query.executor import QueryOutcome
from copgraph.store.reader import Dataset


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


def validator() -> Validator | StoreContextValidator:
    """What contributions are validated with, per worker process, renewed when the dataset version changes (a build,
    an approval): on the embedded store, the shapes with the neighbourhood of each input read from the store (cost
    independent of the data's size); with a remote store, the shapes and root's ontology/ and data/ files."""
    cached = current_app.extensions.get("copgraph.validator")
    current = dataset()
    if cached is None or cached[0] != current.version:
        root = config().root
        if isinstance(current, Dataset):
            cached = (current.version, StoreContextValidator(current.store, load_shapes(root), root))
        else:
            cached = (current.version, Validator(root))
        current_app.extensions["copgraph.validator"] = cached
    return cached[1]
