"""Per-worker access to the data: the current dataset, the query executor and the result cache.

Each gunicorn worker builds its own app (no preload), so everything here is per process.
"""

from __future__ import annotations

from collections import OrderedDict

import pyoxigraph as ox
from flask import current_app

from copgraph.build.shacl import StoreContextValidator, Validator, load_shapes
from copgraph.core.config import Config
from copgraph.query.executor import Executor, QueryOutcome
from copgraph.store.reader import Dataset
from copgraph.store.writes import LocalWriter


def config() -> Config:
    return current_app.config["COPGRAPH"]


def dataset() -> Dataset:
    return current_app.extensions["copgraph.reader"].current()


def executor() -> Executor:
    return current_app.extensions["copgraph.executor"]


def result_cache() -> ResultCache:
    return current_app.extensions["copgraph.cache"]


class ResultCache:
    """Serialised answers by request, for one dataset version: a new version (any write or build) empties it."""

    def __init__(self, entries: int):
        self.entries = entries
        self.version: str | None = None
        self._items: OrderedDict[tuple, QueryOutcome] = OrderedDict()

    def get(self, version: str, key: tuple) -> QueryOutcome | None:
        if version != self.version:
            self._items.clear()
            self.version = version
            return None
        outcome = self._items.get(key)
        if outcome is not None:
            self._items.move_to_end(key)
        return outcome

    def put(self, key: tuple, outcome: QueryOutcome) -> None:
        if self.entries <= 0 or outcome.version != self.version:
            return
        self._items[key] = outcome
        self._items.move_to_end(key)
        while len(self._items) > self.entries:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


def writer() -> LocalWriter:
    return current_app.extensions["copgraph.writer"]


def validator() -> Validator | StoreContextValidator:
    """What contributions are validated with, per worker process, renewed when the dataset version changes (a build,
    an approval): on the embedded store, the shapes with the neighbourhood of each input read from the store (cost
    independent of the data's size); with a remote store, the shapes and root's ontology/ and data/ files."""
    cached = current_app.extensions.get("copgraph.validator")
    current = dataset()
    if cached is None or cached[0] != current.version:
        root = config().root
        store = getattr(current, "store", None)
        if isinstance(store, ox.Store):
            cached = (current.version, StoreContextValidator(store, load_shapes(root), root))
        else:
            cached = (current.version, Validator(root))
        current_app.extensions["copgraph.validator"] = cached
    return cached[1]
