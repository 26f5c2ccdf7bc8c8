"""Per-request access to the current dataset (one reader per worker process, reopened after a rebuild)."""

from __future__ import annotations

from flask import current_app

from copgraph.config import Config
from copgraph.store import Dataset


def dataset() -> Dataset:
    return current_app.extensions["copgraph.reader"].current()


def config() -> Config:
    return current_app.config["COPGRAPH"]
