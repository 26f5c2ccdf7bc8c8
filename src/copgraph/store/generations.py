"""Store generations on disk: their layout and metadata, the write lock, and the atomic swap that every build, write
and restore goes through.

Layout of the store directory::

    <store>/current                  symlink to the generation being served (replaced atomically)
    <store>/generations/<name>/      one complete, immutable build: oxigraph/ (the RocksDB store) + meta.json
    <store>/generations/.building-*  a build in progress; never served, removed by the next build

A build writes a new generation and only then points ``current`` at it, so an interrupted or failed build leaves
the previous store exactly as it was. Readers open ``current`` read-only and reopen when it changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

from copgraph.core.graphs import DATASET_GRAPH
from copgraph.core.vocab import COP, DCT, GRAPH, ONTOLOGY_IRI, RDF_TYPE, VOID, XSD

# How many superseded generations to keep: readers that opened one just before a swap may still be using it.
KEEP_PREVIOUS = 1


class StoreMissing(Exception):
    """There is no built store at the configured location."""


class StoreUnreadable(StoreMissing):
    """The current generation is there but cannot be opened (damaged, unreadable): as unavailable as a missing one."""


@dataclass(frozen=True)
class Metadata:
    version: str  # content hash of every input file: changes exactly when the data does
    built_at: str  # ISO 8601, UTC
    triples: int
    graphs: dict[str, str]  # named graph IRI -> source file, relative to the root
    written: bool = False  # True once a maintainer's write has changed this generation's data
    # Seconds per build phase, one after the other: validate, load, optimize (RocksDB compaction), dumps_and_statistics
    # (the dumps are written while the statistics are counted), describe (the description and documentation).
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def read(cls, generation: Path) -> Metadata:
        return cls(**json.loads((generation / "meta.json").read_text(encoding="utf-8")))

    def write(self, generation: Path) -> None:
        (generation / "meta.json").write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


@contextmanager
def new_generation(store_dir: Path) -> Iterator[tuple[Path, Callable[[Metadata], None]]]:
    """A new `.building-*` directory to fill (abandoned ones of killed builders are removed first), and the function
    that installs it: renames it to its final name and points `current` at it. Any failure inside the block, even an
    interrupt, removes the directory, so the served store stays as it was. The caller holds the write lock at least
    around the install (build, write and install_generation differ only in how long they hold it)."""
    generations = store_dir / "generations"
    remove_abandoned_builds(generations)
    building = generations / f".building-{os.getpid()}-{time.time_ns()}"
    building.mkdir()

    def install(metadata: Metadata) -> None:
        final = generations / f"{metadata.built_at.replace(':', '').replace('-', '')}-{metadata.version}"
        if final.exists():  # the same generation installed again (a restore of the served one)
            final = final.with_name(f"{final.name}-{time.time_ns()}")
        building.rename(final)
        _point_current(store_dir, final)

    try:
        yield building, install
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


@contextmanager
def write_lock(store_dir: Path) -> Iterator[None]:
    """One writer at a time (builds and maintainer writes), across processes."""
    with (store_dir / "write.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dataset_quads(version: str, built_at: str, triples: int, graphs: dict[str, str]) -> list[ox.Quad]:
    """A small description of this build, in its own graph, so version and build time are queryable."""
    g = ox.NamedNode(DATASET_GRAPH)
    dataset = ox.NamedNode(str(GRAPH).removesuffix("graph/") + "dataset")
    quads = [
        ox.Quad(dataset, ox.NamedNode(RDF_TYPE), ox.NamedNode(VOID + "Dataset"), g),
        ox.Quad(dataset, ox.NamedNode(str(COP) + "datasetVersion"), ox.Literal(version), g),
        ox.Quad(
            dataset, ox.NamedNode(DCT + "modified"), ox.Literal(built_at, datatype=ox.NamedNode(XSD + "dateTime")), g
        ),
        ox.Quad(
            dataset, ox.NamedNode(VOID + "triples"), ox.Literal(str(triples), datatype=ox.NamedNode(XSD + "integer")), g
        ),
        ox.Quad(dataset, ox.NamedNode(VOID + "vocabulary"), ox.NamedNode(ONTOLOGY_IRI), g),
    ]
    for name in graphs:
        if name:
            quads.append(ox.Quad(dataset, ox.NamedNode(VOID + "subset"), ox.NamedNode(name), g))
    return quads


def _point_current(store_dir: Path, generation: Path) -> None:
    """Atomically repoint <store>/current: a new symlink is made beside it and renamed over it."""
    link = store_dir / "current"
    temporary = store_dir / f".current-{os.getpid()}-{time.time_ns()}"
    temporary.symlink_to(Path("generations") / generation.name)
    os.replace(temporary, link)
    directory = os.open(store_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def remove_abandoned_builds(generations: Path) -> None:
    """Remove .building-* directories whose builder is no longer running (a killed or crashed build)."""
    for leftover in generations.glob(".building-*"):
        pid = int(leftover.name.split("-")[1])
        if not _process_alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process that nobody has reaped yet (os.kill still finds it): it writes nothing more. Linux only."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def remove_old_generations(store_dir: Path) -> None:
    current = current_generation(store_dir)
    # Oldest first by when each was completed: names carry the time to the second only, so two writes within one
    # second would sort by their version hashes, and the one just replaced could be removed under its readers.
    generations = sorted(
        (p for p in (store_dir / "generations").iterdir() if not p.name.startswith(".")), key=_completed_at
    )
    older = [p for p in generations if p != current]
    for stale in older[: max(0, len(older) - KEEP_PREVIOUS)]:
        shutil.rmtree(stale, ignore_errors=True)


def _completed_at(generation: Path) -> tuple[int, str]:
    try:
        return (generation.joinpath("meta.json").stat().st_mtime_ns, generation.name)
    except FileNotFoundError:
        return (0, generation.name)


def current_generation(store_dir: Path) -> Path | None:
    link = store_dir / "current"
    try:
        return (store_dir / os.readlink(link)).resolve()
    except FileNotFoundError:
        return None


@contextmanager
def served_generation(store_dir: Path) -> Iterator[Path]:
    """The current generation, held under the write lock: no write or build replaces or removes it meanwhile."""
    with write_lock(store_dir):
        current = current_generation(store_dir)
        if current is None:
            raise StoreMissing(f"no store at {store_dir}: run `copgraph build` first")
        yield current


def install_generation(store_dir: Path, fill: Callable[[Path], Metadata]) -> Metadata:
    """Fill a new generation (`fill` writes oxigraph/ and meta.json into the directory it is given and returns the
    metadata) and make it current, all or nothing: on any failure the served store is as it was."""
    (store_dir / "generations").mkdir(parents=True, exist_ok=True)
    with write_lock(store_dir), new_generation(store_dir) as (building, install):
        metadata = fill(building)
        install(metadata)
    remove_old_generations(store_dir)
    return metadata

