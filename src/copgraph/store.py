"""The on-disk Oxigraph store: building it from the repository's files, swapping it in whole, opening it to read.

Layout of the store directory::

    <store>/current                  symlink to the generation being served (replaced atomically)
    <store>/generations/<name>/      one complete, immutable build: oxigraph/ (the RocksDB store) + meta.json
    <store>/generations/.building-*  a build in progress; never served, removed by the next build

A build writes a new generation and only then points ``current`` at it, so an interrupted or failed build leaves
the previous store exactly as it was. Readers open ``current`` read-only and reopen when it changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from copgraph.config import Config
from copgraph.rdf import FORMATS, RdfInputError, rdf_files
from copgraph.validate import Report, Validator
from copgraph.vocab import COP, GRAPH, ONTOLOGY_IRI

DCT = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
DATASET_GRAPH = str(GRAPH) + "dataset"
SHAPES_GRAPH = str(GRAPH) + "shapes"
ONTOLOGY_GRAPH = str(GRAPH) + "ontology"
# How many superseded generations to keep: readers that opened one just before a swap may still be using it.
KEEP_PREVIOUS = 1


class BuildError(Exception):
    """A build refused: the data does not conform, or an input cannot be read. The served store is untouched."""

    def __init__(self, message: str, report: Report | None = None):
        super().__init__(message)
        self.report = report


class StoreMissing(Exception):
    """There is no built store at the configured location."""


@dataclass(frozen=True)
class Metadata:
    version: str  # content hash of every input file: changes exactly when the data does
    built_at: str  # ISO 8601, UTC
    triples: int
    graphs: dict[str, str]  # named graph IRI -> source file, relative to the root

    @classmethod
    def read(cls, generation: Path) -> Metadata:
        return cls(**json.loads((generation / "meta.json").read_text(encoding="utf-8")))


def source_files(root: Path) -> list[Path]:
    """Every file a build reads: the ontology, the shapes and all the data, in a stable order."""
    return rdf_files([root / "ontology", root / "shapes", root / "data"])


def graph_name(root: Path, path: Path) -> str:
    """The named graph of a source file: /graph/ontology, /graph/shapes, or /graph/<path under data/>."""
    relative = path.resolve().relative_to(root.resolve())
    if relative.parts[0] == "ontology":
        return ONTOLOGY_GRAPH
    if relative.parts[0] == "shapes":
        return SHAPES_GRAPH
    return str(GRAPH) + relative.relative_to("data").with_suffix("").as_posix()


def dataset_version(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.resolve().relative_to(root.resolve()).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def build(config: Config, *, validate: bool = True) -> Metadata:
    """Validate root's files, load them into a new store generation and make it current. Raises BuildError."""
    root, store_dir = config.root, config.store_dir
    generations = store_dir / "generations"
    generations.mkdir(parents=True, exist_ok=True)
    remove_abandoned_builds(generations)
    building = generations / f".building-{os.getpid()}-{time.time_ns()}"
    building.mkdir()
    try:
        metadata = _build_into(building, root, validate)
        final = generations / f"{metadata.built_at.replace(':', '').replace('-', '')}-{metadata.version}"
        building.rename(final)
        _point_current(store_dir, final)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    remove_old_generations(store_dir)
    return metadata


def _build_into(directory: Path, root: Path, validate: bool) -> Metadata:
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
    version = dataset_version(root, files)
    built_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    store = ox.Store(str(directory / "oxigraph"))
    graphs: dict[str, str] = {}
    for path in files:
        name = graph_name(root, path)
        graphs[name] = path.resolve().relative_to(root.resolve()).as_posix()
        try:
            store.bulk_load(path=str(path), format=FORMATS[path.suffix], to_graph=ox.NamedNode(name))
        except SyntaxError as error:
            raise BuildError(str(RdfInputError(path, error.msg, error.lineno, error.offset))) from None
    triples = len(store)
    store.bulk_extend(_dataset_quads(version, built_at, triples, graphs))
    store.flush()
    del store  # releases RocksDB's lock before the directory is renamed
    metadata = Metadata(version=version, built_at=built_at, triples=triples, graphs=graphs)
    (directory / "meta.json").write_text(json.dumps(metadata.__dict__, indent=2), encoding="utf-8")
    return metadata


def _dataset_quads(version: str, built_at: str, triples: int, graphs: dict[str, str]) -> list[ox.Quad]:
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
    return True


def remove_old_generations(store_dir: Path) -> None:
    current = current_generation(store_dir)
    generations = sorted(p for p in (store_dir / "generations").iterdir() if not p.name.startswith("."))
    older = [p for p in generations if p != current]
    for stale in older[: max(0, len(older) - KEEP_PREVIOUS)]:
        shutil.rmtree(stale, ignore_errors=True)


def current_generation(store_dir: Path) -> Path | None:
    link = store_dir / "current"
    try:
        return (store_dir / os.readlink(link)).resolve()
    except FileNotFoundError:
        return None


class Dataset:
    """One store generation opened read-only: the data as of one build, never a mix of two."""

    def __init__(self, generation: Path):
        self.generation = generation
        self.metadata = Metadata.read(generation)
        self.store = ox.Store.read_only(str(generation / "oxigraph"))

    @property
    def version(self) -> str:
        return self.metadata.version

    def query(self, sparql: str, **options: object) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Evaluate a query; unless told otherwise the default graph is the union of all named graphs."""
        options.setdefault("use_default_graph_as_union", True)
        return self.store.query(sparql, **options)


class StoreReader:
    """Hands out the current Dataset, reopening it when a build has swapped in a new generation."""

    def __init__(self, store_dir: Path):
        self.store_dir = store_dir
        self._link = store_dir / "current"
        self._target: str | None = None
        self._dataset: Dataset | None = None

    def current(self) -> Dataset:
        try:
            target = os.readlink(self._link)
        except FileNotFoundError:
            raise StoreMissing(f"no store at {self.store_dir}: run `copgraph build` first") from None
        if target != self._target or self._dataset is None:
            self._dataset = Dataset((self.store_dir / target).resolve())
            self._target = target
        return self._dataset


def open_dataset(config: Config) -> Dataset:
    """The current generation of the configured store, read-only."""
    return StoreReader(config.store_dir).current()
