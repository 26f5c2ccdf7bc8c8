"""Downloadable dumps of the whole published dataset, written by `copgraph build` (and by every maintainer write) into
the store generation they describe: ``<generation>/dumps/``.

What a dump holds: every graph of the store except the dataset description (/graph/dataset, which lists the dumps'
own sizes and checksums, so it cannot be inside them; it is served at /dataset) and pending graphs (named under
/graph/pending/: contributions not yet approved are never published). The default graph is included.

Every dump is gzip-compressed, so the bytes a client downloads are exactly the file whose size and SHA-256 the
manifest (``dumps/manifest.json``) and the DCAT description list; the server never re-encodes them. The files are
reproducible: the same data gives byte-for-byte the same dumps (no timestamps in the gzip or tar headers).

How they are written: most of the cost of serialising from the store is Oxigraph decoding every term from RocksDB, so
the store is read once, into an uncompressed N-Quads spool beside the dumps, and every dump is made from that spool
(parsing N-Quads back is several times cheaper than reading the store again) while it is being written, on the other
core. The quads come back in the store's order, so each file holds exactly what serialising it from the store gave.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache, partial
from itertools import chain, groupby
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from copgraph.core.graphs import DATASET_GRAPH
from copgraph.core.vocab import GRAPH, PREFIXES

PENDING_GRAPHS = str(GRAPH) + "pending/"  # graphs of contributions awaiting approval: never published
MANIFEST = "manifest.json"
GZIP = "application/gzip"  # the media type every dump is served with
GraphName = ox.NamedNode | ox.DefaultGraph
SPOOL = ".copgraph.nq.spool"  # the N-Quads the dumps are converted from, removed once they are written
BLOCK = 1 << 20


@dataclass(frozen=True)
class Dump:
    """One downloadable file: its name under dumps/ (and /dumps/), what it holds, its size and checksum."""

    name: str
    title: str
    content_type: str  # media type of the RDF inside the gzip (and inside the tar, for a package)
    package: bool  # a tar archive of several files, rather than one RDF file
    byte_size: int
    sha256: str

    media_type = GZIP


def is_published(graph: GraphName) -> bool:
    """True for a graph that dumps and statistics include: not the description, not a pending contribution."""
    if isinstance(graph, ox.DefaultGraph):
        return True
    return graph.value != DATASET_GRAPH and not graph.value.startswith(PENDING_GRAPHS)


def published_graphs(store: ox.Store) -> list[GraphName]:
    """The default graph and every published named graph, in a stable order."""
    named = sorted((g for g in store.named_graphs() if is_published(g)), key=lambda g: g.value)
    return [ox.DefaultGraph(), *named]


def published_quads(store: ox.Store) -> Iterator[ox.Quad]:
    """Every quad of the published graphs, graph by graph in a stable order. (Chained in C: a Python generator
    yielding each quad took most of a large build's time.)"""
    return chain.from_iterable(store.quads_for_pattern(None, None, None, graph) for graph in published_graphs(store))


def graph_file(graph: GraphName) -> str:
    """The Turtle file of a graph inside the per-graph archive, mirroring data/: /graph/communities/x →
    communities/x.ttl, /graph/ontology → ontology.ttl, the default graph → default.ttl, any other IRI →
    external/<hash>.ttl."""
    if isinstance(graph, ox.DefaultGraph):
        return "default.ttl"
    prefix = str(GRAPH)
    relative = graph.value[len(prefix) :] if graph.value.startswith(prefix) else ""
    if re.fullmatch(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*", relative):
        return f"{relative}.ttl"
    return f"external/{hashlib.sha256(graph.value.encode()).hexdigest()[:16]}.ttl"


# The whole dataset in each format: file name, title, format.
WHOLE_DATASET = (
    ("copgraph.nq.gz", "The whole dataset as N-Quads", ox.RdfFormat.N_QUADS),
    ("copgraph.trig.gz", "The whole dataset as TriG", ox.RdfFormat.TRIG),
    ("copgraph.jsonld.gz", "The whole dataset as JSON-LD", ox.RdfFormat.JSON_LD),
)
ARCHIVE = ("copgraph-graphs.ttl.tar.gz", "One Turtle file per named graph (index.tsv maps files to graph IRIs)")


def write_dumps(store: ox.Store, folder: Path) -> list[Dump]:
    """Write every dump of the store's published graphs and their manifest into folder; returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    graphs = published_graphs(store)
    spool = _Spool(folder / SPOOL)
    try:
        jobs = [
            partial(_write, folder / name, title, rdf_format.media_type, False, partial(_convert, spool, rdf_format))
            for name, title, rdf_format in WHOLE_DATASET
        ]
        name, title = ARCHIVE
        jobs.append(partial(_write, folder / name, title, "text/turtle", True, partial(_archive, spool, graphs)))
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            written = [pool.submit(job) for job in jobs]
            # Here, while the jobs read what is written so far: at 100k communities, 5 s sooner than starting them
            # once the spool is complete.
            spool.fill(partial(_dump_nquads, store))
            dumps = [future.result() for future in written]
    finally:
        spool.path.unlink(missing_ok=True)
    manifest = {"excluded_graphs": [DATASET_GRAPH, PENDING_GRAPHS + "*"], "files": [asdict(d) for d in dumps]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dumps


def _dump_nquads(store: ox.Store, path: Path) -> None:
    """The published quads as N-Quads, uncompressed, in the store's order (graph by graph)."""
    if all(is_published(graph) for graph in store.named_graphs()):
        # The whole store is published (a build writes its dumps before adding the description): Oxigraph writes the
        # file itself, without a Python object per quad and without holding the GIL.
        store.dump(str(path), format=ox.RdfFormat.N_QUADS)
    else:
        ox.serialize(published_quads(store), str(path), format=ox.RdfFormat.N_QUADS)


class _Spool:
    """A file that readers follow while one writer fills it (like `tail -f`): a reader waits at the end of what is
    written so far, and sees the end of the file only once the writer has finished (an error if it failed)."""

    POLL = 0.01  # seconds a reader waits for more before looking again; the writer's end wakes it at once

    def __init__(self, path: Path):
        self.path = path
        path.write_bytes(b"")  # readers may open it before the writer starts
        self.finished = threading.Event()
        self.failed = False

    def fill(self, write: Callable[[Path], None]) -> None:
        try:
            write(self.path)
        except BaseException:
            self.failed = True
            raise
        finally:
            self.finished.set()

    def reader(self) -> io.BufferedReader:
        return io.BufferedReader(_SpoolReader(self), BLOCK)


class _SpoolReader(io.RawIOBase):
    def __init__(self, spool: _Spool):
        self._spool = spool
        self._file = spool.path.open("rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while True:
            finished = self._spool.finished.is_set()  # looked at first: an end of file seen after it is the end
            count = self._file.readinto(buffer)
            if count:
                return count
            if finished:
                if self._spool.failed:
                    raise OSError(f"{self._spool.path} was not completed")
                return 0
            self._spool.finished.wait(self._spool.POLL)

    def close(self) -> None:
        self._file.close()
        super().close()


def _parsed(source: BinaryIO) -> Iterator[ox.Quad]:
    # Lenient: the spool is Oxigraph's own output, so validating its IRIs again would only cost time.
    return ox.parse(source, format=ox.RdfFormat.N_QUADS, lenient=True)


def _convert(spool: _Spool, rdf_format: ox.RdfFormat, output: BinaryIO) -> None:
    with spool.reader() as source:
        if rdf_format == ox.RdfFormat.N_QUADS:
            shutil.copyfileobj(source, output, BLOCK)
        else:
            # JSON-LD is written expanded (pyoxigraph writes no @context).
            prefixes = PREFIXES if rdf_format == ox.RdfFormat.TRIG else None
            ox.serialize(_parsed(source), output, format=rdf_format, prefixes=prefixes)


def _write(path: Path, title: str, content_type: str, package: bool, write: Callable[[BinaryIO], None]) -> Dump:
    """Write one gzip-compressed dump (replacing any file of that name whole) and describe it."""
    temporary = path.with_name(f".{path.name}.tmp")
    # Level 6 (zlib's default) rather than gzip's 9: a third of the time for about 2% more bytes. Level 1 saved 5 s
    # of a 75 s build at 100k communities, for 51% more bytes to download. The buffer hands zlib 1 MiB blocks rather
    # than Oxigraph's 8 KiB writes: it holds the GIL less often (three conversions side by side, 15% faster).
    with (
        temporary.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed,
        io.BufferedWriter(compressed, BLOCK) as buffered,  # type: ignore[arg-type]
    ):
        write(buffered)
    os.replace(temporary, path)
    return Dump(path.name, title, content_type, package, path.stat().st_size, _sha256(path))


def _archive(spool: _Spool, graphs: list[GraphName], output: BinaryIO) -> None:
    with spool.reader() as source:
        _write_graph_archive(source, graphs, output, scratch=spool.path.parent)


def _write_graph_archive(nquads: BinaryIO, graphs: list[GraphName], output: BinaryIO, scratch: Path) -> None:
    """A tar of one Turtle file per published graph (the default graph only if it holds anything), and index.tsv.

    The N-Quads hold each graph's quads together, in the store's order of graphs; the tar lists them in `graphs`' order,
    so each graph's Turtle goes to a file in the scratch folder first (a graph can be too large to hold in memory)."""
    spans: dict[GraphName, tuple[int, int]] = {}
    with tempfile.TemporaryFile(dir=scratch) as bodies:
        for graph, quads in groupby(_parsed(nquads), key=attrgetter("graph_name")):
            if graph in spans:  # cannot happen: both the store and published_quads give a graph's quads together
                raise RuntimeError(f"the N-Quads spool holds {graph} in more than one run")
            start = bodies.tell()
            bodies.write(_graph_header(graph))
            ox.serialize(map(attrgetter("triple"), quads), bodies, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
            spans[graph] = (start, bodies.tell() - start)
        index = ["file\tgraph"]
        with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for graph in graphs:
                if graph in spans:
                    start, size = spans[graph]
                    bodies.seek(start)
                    _add_member(archive, graph_file(graph), bodies, size)
                elif isinstance(graph, ox.NamedNode):  # a graph that exists but is empty: the header alone
                    header = _graph_header(graph)
                    _add_member(archive, graph_file(graph), io.BytesIO(header), len(header))
                else:
                    continue
                index.append(f"{graph_file(graph)}\t{'' if isinstance(graph, ox.DefaultGraph) else graph.value}")
            index_body = ("\n".join(index) + "\n").encode()
            _add_member(archive, "index.tsv", io.BytesIO(index_body), len(index_body))


def _graph_header(graph: GraphName) -> bytes:
    label = "the default graph" if isinstance(graph, ox.DefaultGraph) else f"<{graph.value}>"
    return f"# copgraph dataset: graph {label}\n".encode()


def _add_member(archive: tarfile.TarFile, name: str, body: BinaryIO, size: int) -> None:
    """Add the next `size` bytes of body as a file."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 0, 0o644
    archive.addfile(info, body)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def read_manifest(folder: Path) -> dict[str, Dump]:
    """The dumps listed in a generation's manifest, by file name ({} if it has none). Generations never change, so the
    answer is kept per folder."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {entry["name"]: Dump(**entry) for entry in manifest["files"]}
