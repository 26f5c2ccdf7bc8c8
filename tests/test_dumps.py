"""The dumps are made from one N-Quads spool of the store, not by serialising the store once per format: they must hold,
byte for byte once decompressed, what serialising each format from the store gives. Real stores in a tmp dir."""

from __future__ import annotations

import gzip
import io
import tarfile
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from copgraph.build.dumps import (
    ARCHIVE,
    PENDING_GRAPHS,
    SPOOL,
    WHOLE_DATASET,
    _Spool,
    graph_file,
    published_graphs,
    published_quads,
    write_dumps,
)
from copgraph.core.graphs import DATASET_GRAPH
from copgraph.core.vocab import DEFAULT_BASE, PREFIXES

EX = "http://example.org/"
GRAPH = DEFAULT_BASE + "graph/"


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def awkward_store(path: Path, unpublished: bool) -> ox.Store:
    """Graphs and terms a conversion could get wrong: the default graph, blank nodes shared within a graph, literals
    with quotes, backslashes, newlines, non-ASCII text, language tags and datatypes, an empty named graph, an IRI
    outside copgraph's graph names; with `unpublished`, the description and a pending graph as well."""
    store = ox.Store(str(path))
    node = ox.BlankNode()
    literals = [
        ox.Literal('say "hi"\\ and\nbye\ttab'),
        ox.Literal("café ☕ 𝄞", language="fr"),
        ox.Literal("42", datatype=n("http://www.w3.org/2001/XMLSchema#integer")),
        ox.Literal("x" * 40, datatype=n(EX + "custom")),
    ]
    quads = [ox.Quad(n(EX + "s"), n(EX + "p"), n(EX + "o"), ox.DefaultGraph())]
    for graph in (GRAPH + "communities/a", GRAPH + "platforms", "urn:x-other:graph"):
        quads += [ox.Quad(n(EX + "s"), n(EX + "p"), node, n(graph)), ox.Quad(node, n(EX + "q"), n(EX + "o"), n(graph))]
        quads += [ox.Quad(n(EX + "s"), n(EX + "label"), literal, n(graph)) for literal in literals]
    if unpublished:
        quads.append(ox.Quad(n(EX + "d"), n(EX + "p"), ox.Literal("description"), n(DATASET_GRAPH)))
        quads.append(ox.Quad(n(EX + "w"), n(EX + "p"), ox.Literal("waiting"), n(PENDING_GRAPHS + "c-1")))
    store.extend(quads)
    store.add_graph(n(GRAPH + "empty"))
    return store


def as_serialised_from_the_store(store: ox.Store, rdf_format: ox.RdfFormat) -> bytes:
    """What the dumps held when each was serialised from the store (before the N-Quads spool)."""
    prefixes = PREFIXES if rdf_format == ox.RdfFormat.TRIG else None
    if all(g.value != DATASET_GRAPH and not g.value.startswith(PENDING_GRAPHS) for g in store.named_graphs()):
        return store.dump(format=rdf_format, prefixes=prefixes)
    return ox.serialize(published_quads(store), format=rdf_format, prefixes=prefixes)


@pytest.mark.parametrize("unpublished", [False, True], ids=["whole store", "with unpublished graphs"])
def test_every_dump_holds_what_serialising_from_the_store_gives(tmp_path: Path, unpublished: bool) -> None:
    store = awkward_store(tmp_path / "store", unpublished)
    folder = tmp_path / "dumps"
    dumps = {dump.name: dump for dump in write_dumps(store, folder)}
    for name, _, rdf_format in WHOLE_DATASET:
        assert gzip.decompress((folder / name).read_bytes()) == as_serialised_from_the_store(store, rdf_format), name
    assert dumps[ARCHIVE[0]].package
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress((folder / ARCHIVE[0]).read_bytes()))) as archive:
        members = archive.getnames()
        for graph in published_graphs(store):
            body = store.dump(format=ox.RdfFormat.TURTLE, from_graph=graph, prefixes=PREFIXES)
            label = "the default graph" if isinstance(graph, ox.DefaultGraph) else f"<{graph.value}>"
            expected = f"# copgraph dataset: graph {label}\n".encode() + body
            assert archive.extractfile(graph_file(graph)).read() == expected, graph
        index = archive.extractfile("index.tsv").read().decode().splitlines()
    assert members == [line.split("\t")[0] for line in index[1:]] + ["index.tsv"]
    assert "communities/a.ttl\t" + GRAPH + "communities/a" in index and "empty.ttl\t" + GRAPH + "empty" in index
    assert not any(name.startswith("pending") or name == "dataset.ttl" for name in members)
    assert sorted(p.name for p in folder.iterdir()) == sorted([*dumps, "manifest.json"]), "the spool is removed"


def test_the_default_graph_is_left_out_of_the_archive_when_empty(tmp_path: Path) -> None:
    store = ox.Store(str(tmp_path / "store"))
    store.add(ox.Quad(n(EX + "s"), n(EX + "p"), n(EX + "o"), n(GRAPH + "platforms")))
    write_dumps(store, tmp_path / "dumps")
    with tarfile.open(tmp_path / "dumps" / ARCHIVE[0]) as archive:
        assert archive.getnames() == ["platforms.ttl", "index.tsv"]


def test_a_spool_reader_follows_the_writer_to_the_end(tmp_path: Path) -> None:
    spool = _Spool(tmp_path / SPOOL)
    chunks = [bytes([i]) * 100_000 for i in range(20)]
    read: list[bytes] = []

    def follow() -> None:
        with spool.reader() as reader:
            read.append(reader.read())

    def write(path: Path) -> None:
        with path.open("ab") as output:
            for chunk in chunks:
                output.write(chunk)
                output.flush()
                time.sleep(0.005)  # the reader catches up and waits at the end of what is written so far

    reader = threading.Thread(target=follow)
    reader.start()
    spool.fill(write)
    reader.join()
    assert read == [b"".join(chunks)]


def test_a_spool_whose_writer_fails_is_an_error_for_its_readers(tmp_path: Path) -> None:
    spool = _Spool(tmp_path / SPOOL)
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            with spool.reader() as reader:
                reader.read()
        except OSError as error:
            errors.append(error)

    def write(path: Path) -> None:
        path.write_bytes(b"<http://a> <http://b> <http://c> .\n")
        raise OSError("No space left on device")

    reader = threading.Thread(target=follow)
    reader.start()
    with pytest.raises(OSError, match="No space left"):
        spool.fill(write)
    reader.join()
    assert len(errors) == 1 and "was not completed" in str(errors[0])
