"""`copgraph build` for the embedded store: the repository's files validated, loaded into a new store generation,
described and published, and the generation swapped in whole.

The phases, timed into the generation's meta.json: validate (SHACL over every file; nothing is built if any
fails), load (Oxigraph's bulk loader, one named graph per file), optimize (RocksDB compaction: without it every later
read is about half as fast), dumps and statistics, then the description and the ontology's documentation
(build.description). Until the swap, readers keep the previous generation; a build that fails or is interrupted leaves
it as it was. A build also refuses to replace maintainer writes not yet exported to the files (store.export).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from copgraph.build.description import dumps_and_statistics, publish
from copgraph.build.shacl import Report, Validator
from copgraph.core.config import Config
from copgraph.core.graphs import graph_name, graph_node, source_files
from copgraph.core.rdf_io import FORMATS, RdfInputError
from copgraph.store.export import graphs_differing_from_files
from copgraph.store.generations import (
    Metadata,
    current_generation,
    dataset_quads,
    new_generation,
    remove_old_generations,
    write_lock,
)


class BuildError(Exception):
    """A build refused: the data does not conform, or an input cannot be read. The served store is untouched."""

    def __init__(self, message: str, report: Report | None = None):
        super().__init__(message)
        self.report = report


def dataset_version(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.resolve().relative_to(root.resolve()).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def build(config: Config, *, validate: bool = True, discard_writes: bool = False) -> Metadata:
    """Validate root's files, load them into a new store generation and make it current. Raises BuildError.

    A build replaces the store with the files' contents, so it refuses while the served store holds maintainer writes
    that are not yet in the files (run `copgraph export` first), unless told to discard them.
    """
    store_dir = config.store_dir
    (store_dir / "generations").mkdir(parents=True, exist_ok=True)
    with new_generation(store_dir) as (building, install):
        metadata = _build_into(building, config.root, validate, config.base)
        with write_lock(store_dir):  # for the swap only: reads and writes go on while the new generation is built
            if not discard_writes:
                _refuse_if_unexported(config)
            install(metadata)
    remove_old_generations(store_dir)
    return metadata


def _refuse_if_unexported(config: Config) -> None:
    current = current_generation(config.store_dir)
    if current is None or not Metadata.read(current).written:
        return
    differing = graphs_differing_from_files(config)
    if differing:
        names = ", ".join(sorted(name or "(default graph)" for name in differing))
        raise BuildError(
            f"the served store holds maintainer writes that are not in the files: {names}. "
            "Run `copgraph export` (and commit data/) first, or `copgraph build --discard-writes` to drop them."
        )


def validated_sources(root: Path, validate: bool = True) -> list[Path]:
    """The files a build loads, once SHACL has passed them all (unless told not to validate). Raises BuildError."""
    try:
        files = source_files(root)
        if not files:
            raise BuildError(f"no RDF files under {root}/ontology, shapes or data: is COPGRAPH_ROOT right?")
        if validate:
            report = Validator(root).validate_files([])
            if not report.conforms:
                raise BuildError(f"data does not conform to the shapes ({len(report.results)} problem(s))", report)
    except RdfInputError as error:
        raise BuildError(str(error)) from None
    return files


def _build_into(directory: Path, root: Path, validate: bool, base: str) -> Metadata:
    clock = _PhaseClock()
    files = validated_sources(root, validate)
    clock.lap("validate")
    version = dataset_version(root, files)
    built_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    store = ox.Store(str(directory / "oxigraph"))
    graphs: dict[str, str] = {}
    for path in files:
        name = graph_name(root, path)
        graphs[name] = path.resolve().relative_to(root.resolve()).as_posix()
        try:
            store.bulk_load(path=str(path), format=FORMATS[path.suffix], to_graph=graph_node(name))
        except SyntaxError as error:
            raise BuildError(str(RdfInputError(path, error.msg, error.lineno, error.offset))) from None
    triples = len(store)
    clock.lap("load")
    # The bulk load leaves overlapping files, on which every read (the dumps, the statistics, then the served lookups)
    # is about half as fast. RocksDB compacts them in the background otherwise, alongside the dumps (the same build
    # time at 100k communities, for more CPU), and not to the end if the build closes the store first.
    store.optimize()
    clock.lap("optimize")
    # Before the description is added, every graph is published (the dumps are written straight from the store).
    dumps, statistics = dumps_and_statistics(store, directory, base)
    clock.lap("dumps_and_statistics")
    store.bulk_extend(dataset_quads(version, built_at, triples, graphs))
    publish(store, directory, base, dumps=dumps, statistics=statistics)
    store.flush()
    del store  # releases RocksDB's lock before the directory is renamed
    clock.lap("describe")
    metadata = Metadata(version=version, built_at=built_at, triples=triples, graphs=graphs, timings=clock.laps)
    metadata.write(directory)
    return metadata


class _PhaseClock:
    """Seconds spent in each phase of a build, kept in meta.json (benchmarks/ compare the load with `oxigraph load`)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps[phase] = round(now - self._last, 3)
        self._last = now

