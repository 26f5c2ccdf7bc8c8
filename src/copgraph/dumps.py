"""Downloadable dumps of the whole published dataset, written by `copgraph build` (and by every maintainer write) into
the store generation they describe: ``<generation>/dumps/``.

What a dump holds: every graph of the store except the dataset description (/graph/dataset, which lists the dumps'
own sizes and checksums, so it cannot be inside them; it is served at /dataset) and pending graphs (named under
/graph/pending/: contributions not yet approved are never published). The default graph is included.

Every dump is gzip-compressed, so the bytes a client downloads are exactly the file whose size and SHA-256 the
manifest (``dumps/manifest.json``) and the DCAT description list; the server never re-encodes them. The files are
reproducible: the same data gives byte-for-byte the same dumps (no timestamps in the gzip or tar headers).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache, partial
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from copgraph.store import DATASET_GRAPH
from copgraph.vocab import GRAPH, PREFIXES

PENDING_GRAPHS = str(GRAPH) + "pending/"  # graphs of contributions awaiting approval: never published
MANIFEST = "manifest.json"
GZIP = "application/gzip"  # the media type every dump is served with
GraphName = ox.NamedNode | ox.DefaultGraph


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
    jobs = [
        partial(_write, folder / name, title, rdf_format.media_type, False, partial(_serialize, store, rdf_format))
        for name, title, rdf_format in WHOLE_DATASET
    ]
    name, title = ARCHIVE
    jobs.append(partial(_write, folder / name, title, "text/turtle", True, partial(_write_graph_archive, store)))
    # Oxigraph releases the GIL while it serialises, so the files are written side by side (one per core).
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        dumps = list(pool.map(lambda job: job(), jobs))
    manifest = {"excluded_graphs": [DATASET_GRAPH, PENDING_GRAPHS + "*"], "files": [asdict(d) for d in dumps]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dumps


def _serialize(store: ox.Store, rdf_format: ox.RdfFormat, output: BinaryIO) -> None:
    # N-Quads has no prefixes; JSON-LD is written expanded (pyoxigraph writes no @context).
    prefixes = PREFIXES if rdf_format == ox.RdfFormat.TRIG else None
    if all(is_published(graph) for graph in store.named_graphs()):
        # The whole store is published (a build writes its dumps before adding the description): Oxigraph writes it
        # without a Python object per quad, three times faster.
        store.dump(output, format=rdf_format, prefixes=prefixes)
    else:
        ox.serialize(published_quads(store), output, format=rdf_format, prefixes=prefixes)


def _write(path: Path, title: str, content_type: str, package: bool, write: Callable[[BinaryIO], None]) -> Dump:
    """Write one gzip-compressed dump (replacing any file of that name whole) and describe it."""
    temporary = path.with_name(f".{path.name}.tmp")
    # Level 6 (zlib's default) rather than gzip's 9: a third of the time for about 2% more bytes.
    with (
        temporary.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed,
    ):
        write(compressed)
    os.replace(temporary, path)
    return Dump(path.name, title, content_type, package, path.stat().st_size, _sha256(path))


def _write_graph_archive(store: ox.Store, output: BinaryIO) -> None:
    """A tar of one Turtle file per published graph (the default graph only if it holds anything), and index.tsv."""
    index = ["file\tgraph"]
    with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for graph in published_graphs(store):
            if (
                isinstance(graph, ox.DefaultGraph)
                and next(iter(store.quads_for_pattern(None, None, None, graph)), None) is None
            ):
                continue
            name = graph_file(graph)
            label = "the default graph" if isinstance(graph, ox.DefaultGraph) else f"<{graph.value}>"
            # Through a temporary file: a graph can be larger than memory should hold at once.
            with tempfile.TemporaryFile() as body:
                body.write(f"# copgraph dataset: graph {label}\n".encode())
                store.dump(body, format=ox.RdfFormat.TURTLE, from_graph=graph, prefixes=PREFIXES)
                _add_member(archive, name, body)
            index.append(f"{name}\t{'' if isinstance(graph, ox.DefaultGraph) else graph.value}")
        _add_member(archive, "index.tsv", io.BytesIO(("\n".join(index) + "\n").encode()))


def _add_member(archive: tarfile.TarFile, name: str, body: BinaryIO) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = body.seek(0, os.SEEK_END), 0, 0o644
    body.seek(0)
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
