"""Backups of the embedded store: `copgraph backup DIR` and `copgraph restore DIR`.

A backup is one generation (see copgraph.store.generations) copied out whole::

    DIR/oxigraph/    Oxigraph's online backup of the served store (a RocksDB checkpoint: consistent while serving)
    DIR/meta.json    the generation's metadata (version, build time, graphs)
    DIR/dumps/ ...   everything else the generation holds (dumps, ontology documentation)

A backup is written beside DIR and renamed into place, so a backup that was interrupted never looks like one.
A restore copies DIR into a new generation and swaps it in atomically; DIR itself is left as it was.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pyoxigraph as ox

from copgraph.core.graphs import DATASET_GRAPH
from copgraph.core.vocab import COP
from copgraph.store.generations import Metadata, install_generation, served_generation

STORE = "oxigraph"
META = "meta.json"


class BackupError(Exception):
    """A backup or restore refused; nothing was changed (neither the store nor DIR)."""


def backup(store_dir: Path, target: Path) -> Metadata:
    """Copy the served generation into `target`, which must not exist or be an empty directory. Raises BackupError,
    or store.StoreMissing when there is nothing to back up."""
    target = target.resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty directory: choose a new one (a backup never overwrites)")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}-{time.time_ns()}")
    try:
        with served_generation(store_dir) as generation:
            _copy_generation(generation, partial)
        metadata = Metadata.read(partial)
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return metadata


def restore(store_dir: Path, source: Path) -> Metadata:
    """Make the backup in `source` the served generation of the store at `store_dir` (created if missing).

    Raises BackupError, with nothing changed, when `source` is not a complete copgraph backup.
    """
    source = source.resolve()
    metadata = check_backup(source)
    install_generation(store_dir, lambda building: _copy_generation(source, building))
    return metadata


def check_backup(source: Path) -> Metadata:
    """The metadata of a complete backup in `source`; BackupError saying what is wrong otherwise."""
    if not source.is_dir():
        raise BackupError(f"{source} is not a directory holding a copgraph backup")
    try:
        metadata = Metadata.read(source)
    except FileNotFoundError:
        raise BackupError(f"{source} is not a copgraph backup: it has no {META}") from None
    except (ValueError, TypeError) as error:
        raise BackupError(f"{source}/{META} is not a copgraph backup's metadata: {error}") from None
    if not (source / STORE).is_dir():
        raise BackupError(f"{source} is not a copgraph backup: it has no {STORE}/ store")
    try:
        stored = _stored_version(ox.Store.read_only(str(source / STORE)))
    except (OSError, RuntimeError) as error:  # RuntimeError: RocksDB reports corruption
        raise BackupError(f"{source}/{STORE} cannot be opened as an Oxigraph store: {error}") from None
    if stored != metadata.version:
        raise BackupError(
            f"{source} is inconsistent: {META} says version {metadata.version}, the store says {stored or 'none'}"
        )
    return metadata


def _stored_version(store: ox.Store) -> str | None:
    """The version the store's own /graph/dataset description records (every build and write sets it)."""
    pattern = (None, ox.NamedNode(str(COP) + "datasetVersion"), None, ox.NamedNode(DATASET_GRAPH))
    values = (q.object.value for q in store.quads_for_pattern(*pattern) if isinstance(q.object, ox.Literal))
    return next(values, None)


def _copy_generation(generation: Path, target: Path) -> Metadata:
    """Copy a generation (or a backup, which has the same layout): the store by Oxigraph's backup, the rest as files."""
    target.mkdir(parents=True, exist_ok=True)
    ox.Store.read_only(str(generation / STORE)).backup(str(target / STORE))
    for entry in generation.iterdir():
        if entry.name == STORE:
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name)
        else:
            shutil.copy2(entry, target / entry.name)
    _sync(target)
    return Metadata.read(target)


def _sync(directory: Path) -> None:
    """Flush the copied files and the directory entries to disk before the copy is renamed into use."""
    for path in directory.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for folder in [directory, *(p for p in directory.rglob("*") if p.is_dir())]:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
