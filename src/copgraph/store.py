"""The on-disk Oxigraph store: building it from the repository's files, swapping it in whole, opening it to read.

Layout of the store directory::

    <store>/current                  symlink to the generation being served (replaced atomically)
    <store>/generations/<name>/      one complete, immutable build: oxigraph/ (the RocksDB store) + meta.json
    <store>/generations/.building-*  a build in progress; never served, removed by the next build

A build writes a new generation and only then points ``current`` at it, so an interrupted or failed build leaves
the previous store exactly as it was. Readers open ``current`` read-only and reopen when it changes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
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
DEFAULT_GRAPH_FILE = "data/default.ttl"  # the store's default graph, when a maintainer has written to it
SHAPES_GRAPH = str(GRAPH) + "shapes"
ONTOLOGY_GRAPH = str(GRAPH) + "ontology"
# How many superseded generations to keep: readers that opened one just before a swap may still be using it.
KEEP_PREVIOUS = 1


class BuildError(Exception):
    """A build refused: the data does not conform, or an input cannot be read. The served store is untouched."""

    def __init__(self, message: str, report: Report | None = None):
        super().__init__(message)
        self.report = report


class WriteRefused(Exception):
    """A write that would change what must only change in the repository (the ontology, the shapes)."""


class ExportRefused(Exception):
    """Some graphs could not be written back to their files; `written` lists the files that were."""

    def __init__(self, message: str, written: list[Path]):
        super().__init__(message)
        self.written = written


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
    if relative.as_posix() == DEFAULT_GRAPH_FILE:
        return ""
    return str(GRAPH) + relative.relative_to("data").with_suffix("").as_posix()


def _graph_node(name: str) -> ox.NamedNode | ox.DefaultGraph:
    return ox.NamedNode(name) if name else ox.DefaultGraph()


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
    with _new_generation(store_dir) as (building, install):
        metadata = _build_into(building, config.root, validate, config.base)
        with _write_lock(store_dir):  # for the swap only: reads and writes go on while the new generation is built
            if not discard_writes:
                _refuse_if_unexported(config)
            install(metadata)
    remove_old_generations(store_dir)
    return metadata


@contextmanager
def _new_generation(store_dir: Path) -> Iterator[tuple[Path, Callable[[Metadata], None]]]:
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
def _write_lock(store_dir: Path) -> Iterator[None]:
    """One writer at a time (builds and maintainer writes), across processes."""
    with (store_dir / "write.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
            store.bulk_load(path=str(path), format=FORMATS[path.suffix], to_graph=_graph_node(name))
        except SyntaxError as error:
            raise BuildError(str(RdfInputError(path, error.msg, error.lineno, error.offset))) from None
    triples = len(store)
    clock.lap("load")
    # The bulk load leaves overlapping files, on which every read (the dumps, the statistics, then the served lookups)
    # is about half as fast. RocksDB compacts them in the background otherwise, alongside the dumps (the same build
    # time at 100k communities, for more CPU), and not to the end if the build closes the store first.
    store.optimize()
    clock.lap("optimize")
    from copgraph.dataset_description import dumps_and_statistics, publish  # they read this module's graph names

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


OPEN_ATTEMPTS = 3  # a generation pruned while being opened is retried with the newer one


class StoreReader:
    """Hands out the current Dataset, reopening it when a build has swapped in a new generation."""

    def __init__(self, store_dir: Path):
        self.store_dir = store_dir
        self._link = store_dir / "current"
        self._target: str | None = None
        self._dataset: Dataset | None = None

    def current(self) -> Dataset:
        """The generation `current` points at. If opening it fails because a write pruned it meanwhile (the link has
        moved on), the newer one is opened instead; a failure while the link stays put is a damaged store."""
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            target = self._link_target()
            if target == self._target and self._dataset is not None:
                return self._dataset
            try:
                self._dataset = Dataset((self.store_dir / target).resolve())
                self._target = target
                return self._dataset
            except (OSError, RuntimeError, ValueError, TypeError) as error:  # RuntimeError: RocksDB's corruption
                if attempt < OPEN_ATTEMPTS and self._link_target() != target:
                    continue  # pruned while being opened: read the newer generation
                # The detail names paths on the server: it goes to the log, not to whoever made the request.
                logging.getLogger(__name__).error("cannot open the store generation %s: %s", target, error)
                raise StoreUnreadable("the store cannot be opened; the server's log says why") from None
        raise AssertionError("unreachable")

    def _link_target(self) -> str:
        try:
            return os.readlink(self._link)
        except FileNotFoundError:
            raise StoreMissing(f"no store at {self.store_dir}: run `copgraph build` first") from None


def open_dataset(config: Config) -> Dataset:
    """The current generation of the configured store, read-only."""
    return StoreReader(config.store_dir).current()


# Graphs whose source is several files of the repository: writes may change them in the store, but only an edit of
# those files (and a rebuild) can make such a change last, so `export` cannot write them back.
REPOSITORY_GRAPHS = {ONTOLOGY_GRAPH: "ontology", SHAPES_GRAPH: "shapes"}


def write(config: Config, change: Callable[[ox.Store], object], label: str) -> Metadata:
    """Apply a maintainer's change to a copy of the current generation and swap the copy in, all or nothing.

    The copy is a RocksDB checkpoint (hard links), so its cost does not grow with the data. Readers keep the old
    generation until they next ask; a failed change (any exception) leaves the served store untouched.
    """
    store_dir = config.store_dir
    with _write_lock(store_dir):
        current = current_generation(store_dir)
        if current is None:
            raise StoreMissing(f"no store at {store_dir}: run `copgraph build` first")
        previous = Metadata.read(current)
        # Abandoned .building-* directories are removed first: e.g. a write whose server was killed part way.
        with _new_generation(store_dir) as (building, install):
            ox.Store.read_only(str(current / "oxigraph")).backup(str(building / "oxigraph"))
            store = ox.Store(str(building / "oxigraph"))
            change(store)
            metadata = _describe_write(store, previous, label)
            from copgraph.dataset_description import publish  # it reads this module's graph names

            publish(store, building, config.base, current)
            store.flush()
            del store
            metadata.write(building)
            install(metadata)
    remove_old_generations(store_dir)
    return metadata


@contextmanager
def served_generation(store_dir: Path) -> Iterator[Path]:
    """The current generation, held under the write lock: no write or build replaces or removes it meanwhile."""
    with _write_lock(store_dir):
        current = current_generation(store_dir)
        if current is None:
            raise StoreMissing(f"no store at {store_dir}: run `copgraph build` first")
        yield current


def install_generation(store_dir: Path, fill: Callable[[Path], Metadata]) -> Metadata:
    """Fill a new generation (`fill` writes oxigraph/ and meta.json into the directory it is given and returns the
    metadata) and make it current, all or nothing: on any failure the served store is as it was."""
    (store_dir / "generations").mkdir(parents=True, exist_ok=True)
    with _write_lock(store_dir), _new_generation(store_dir) as (building, install):
        metadata = fill(building)
        install(metadata)
    remove_old_generations(store_dir)
    return metadata


def _describe_write(store: ox.Store, previous: Metadata, label: str) -> Metadata:
    """The new generation's metadata, and its /graph/dataset description brought up to date."""
    digest = hashlib.sha256(f"{previous.version}\0{label}\0{time.time_ns()}".encode())
    version = digest.hexdigest()[:16]
    built_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    store.remove_graph(ox.NamedNode(DATASET_GRAPH))
    triples = len(store)
    store.extend(dataset_quads(version, built_at, triples, previous.graphs))
    return replace(previous, version=version, built_at=built_at, triples=triples, written=True)


def _canonical(quads: list[ox.Quad]) -> ox.Dataset:
    """The triples as the store holds them, canonicalised: Oxigraph normalises some literals as it stores them
    (e.g. xsd:nonNegativeInteger comes back as xsd:integer), and blank node labels differ between parses."""
    stored = ox.Store()
    stored.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    dataset = ox.Dataset(stored)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def _file_graphs(config: Config) -> dict[str, tuple[Path, list[ox.Quad]]]:
    """The source files' contents by graph name ("" for the default graph); for the ontology and shapes graphs, the
    path is their folder."""
    files: dict[str, tuple[Path, list[ox.Quad]]] = {}
    for name, folder in REPOSITORY_GRAPHS.items():
        quads = [q for path in rdf_files([config.root / folder]) for q in ox.parse(path=str(path))]
        files[name] = (config.root / folder, quads)
    for path in rdf_files([config.root / "data"]):
        own = graph_name(config.root, path)
        for quad in ox.parse(path=str(path), format=FORMATS[path.suffix]):
            name = own if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            files.setdefault(name, (path, []))[1].append(quad)
    return files


def _store_graphs(store: ox.Store) -> dict[str, list[ox.Quad]]:
    graphs: dict[str, list[ox.Quad]] = {}
    for quad in store:
        name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        if name != DATASET_GRAPH:  # rewritten by every build and write
            graphs.setdefault(name, []).append(quad)
    return graphs


def graphs_differing_from_files(config: Config) -> dict[str, list[ox.Quad]]:
    """Graphs of the served store whose triples differ from their file under data/ (missing ones: empty list)."""
    store = ox.Store.read_only(str(current_generation(config.store_dir) / "oxigraph"))
    in_store, in_files = _store_graphs(store), _file_graphs(config)
    differing = {}
    for name in set(in_store) | set(in_files):
        stored = in_store.get(name, [])
        filed = in_files[name][1] if name in in_files else []
        if len(stored) != len(filed) or _canonical(stored) != _canonical(filed):
            differing[name] = stored
    return differing


def export_path(config: Config, name: str) -> Path:
    """Where a graph is written back to: its own file, or one named after the graph."""
    if not name:
        return config.root / DEFAULT_GRAPH_FILE
    prefix = str(GRAPH)
    if name.startswith(prefix) and re.fullmatch(r"[a-z0-9][a-z0-9/_-]*", name[len(prefix) :]):
        return config.root / "data" / f"{name[len(prefix) :]}.ttl"
    return config.root / "data" / "external" / f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.trig"


def export(config: Config) -> list[Path]:
    """Write every data graph that differs from its file back under data/ (so git records it); returns the files.

    Raises ExportRefused, after writing the data graphs, if the ontology or shapes graphs differ: those change only
    by editing their files (then `copgraph build --discard-writes` reloads them).
    """
    from copgraph.vocab import PREFIXES

    written = []
    files = _file_graphs(config)
    differing = graphs_differing_from_files(config)
    for name, quads in sorted(differing.items()):
        if name in REPOSITORY_GRAPHS:
            continue
        path = files[name][0] if name in files else export_path(config, name)
        if not quads:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".trig":
                body = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
            else:
                body = ox.serialize([q.triple for q in quads], format=FORMATS[path.suffix], prefixes=PREFIXES)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_bytes(body)
            os.replace(temporary, path)
        written.append(path)
    unexportable = sorted(REPOSITORY_GRAPHS[name] + "/" for name in differing if name in REPOSITORY_GRAPHS)
    if unexportable:
        raise ExportRefused(
            f"writes changed the graphs loaded from {' and '.join(unexportable)}, which cannot be written back: edit "
            "those files instead, then run `copgraph build --discard-writes`.",
            written,
        )
    return written
