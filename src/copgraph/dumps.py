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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache, partial
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
    """Every quad of the published graphs, graph by graph in a stable order."""
    for graph in published_graphs(store):
        yield from store.quads_for_pattern(None, None, None, graph)


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
    dumps = []
    for name, title, rdf_format in WHOLE_DATASET:
        dumps.append(_write(folder / name, title, rdf_format.media_type, False, partial(_serialize, store, rdf_format)))
    name, title = ARCHIVE
    dumps.append(_write(folder / name, title, "text/turtle", True, lambda output: _write_graph_archive(store, output)))
    manifest = {"excluded_graphs": [DATASET_GRAPH, PENDING_GRAPHS + "*"], "files": [asdict(d) for d in dumps]}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dumps


def _serialize(store: ox.Store, rdf_format: ox.RdfFormat, output: BinaryIO) -> None:
    # N-Quads has no prefixes; JSON-LD is written expanded (pyoxigraph writes no @context).
    prefixes = PREFIXES if rdf_format == ox.RdfFormat.TRIG else None
    ox.serialize(published_quads(store), output, format=rdf_format, prefixes=prefixes)


def _write(path: Path, title: str, content_type: str, package: bool, write: Callable[[BinaryIO], None]) -> Dump:
    """Write one gzip-compressed dump (replacing any file of that name whole) and describe it."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed:
        write(compressed)
    os.replace(temporary, path)
    return Dump(path.name, title, content_type, package, path.stat().st_size, _sha256(path))


def _write_graph_archive(store: ox.Store, output: BinaryIO) -> None:
    """A tar of one Turtle file per published graph (the default graph only if it holds anything), and index.tsv."""
    index = ["file\tgraph"]
    with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for graph in published_graphs(store):
            triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
            if not triples and isinstance(graph, ox.DefaultGraph):
                continue
            name = graph_file(graph)
            label = "the default graph" if isinstance(graph, ox.DefaultGraph) else f"<{graph.value}>"
            header = f"# copgraph dataset: graph {label}\n".encode()
            _add_member(archive, name, header + ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES))
            index.append(f"{name}\t{'' if isinstance(graph, ox.DefaultGraph) else graph.value}")
        _add_member(archive, "index.tsv", ("\n".join(index) + "\n").encode())


def _add_member(archive: tarfile.TarFile, name: str, body: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(body), 0, 0o644
    archive.addfile(info, io.BytesIO(body))


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
