"""Reading RDF files: one parser (Oxigraph's) for every input, with errors that give the line and column."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

# File suffixes copgraph reads, and the formats they mean.
FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
}


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def untrusted_input_problem(data: bytes, rdf_format: ox.RdfFormat) -> str | None:
    """Why RDF from a client must not be parsed, or None. Oxigraph's RDF/XML parser expands entities declared in a
    DOCTYPE: a few hundred bytes of nested entities (the "billion laughs") grow to gigabytes in the web worker.
    It fetches no external entity, and JSON-LD remote contexts are not loaded, so nothing else is refused here."""
    if rdf_format == ox.RdfFormat.RDF_XML and b"<!ENTITY" in data:
        return "RDF/XML with entity declarations (<!ENTITY ...>) is not accepted: write the values out."
    return None


class RdfInputError(Exception):
    """An input that cannot be read as RDF: names the file and, where the parser knows it, line and column."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, column: int | None = None):
        self.path, self.line, self.column = str(path), line, column
        where = f"{self.path}:{line}:{column}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class RdfFile:
    path: Path
    quads: list[ox.Quad]


def rdf_files(paths: Iterable[Path]) -> list[Path]:
    """The RDF files named by paths: files as given, folders searched recursively, sorted for a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in FORMATS and p.is_file()))
        elif path.is_file():
            if path.suffix not in FORMATS:
                known = ", ".join(sorted(FORMATS))
                raise RdfInputError(path, f"unknown RDF file type {path.suffix!r}; copgraph reads {known}")
            found.append(path)
        else:
            raise RdfInputError(path, "no such file or folder")
    return found


def read_rdf_file(path: Path) -> RdfFile:
    """Parse one file; blank nodes are renamed so that files never share one by accident."""
    try:
        quads = list(ox.parse(path=str(path), format=FORMATS[path.suffix], rename_blank_nodes=True))
    except SyntaxError as error:
        raise RdfInputError(path, error.msg, error.lineno, error.offset) from None
    except (OSError, ValueError) as error:
        raise RdfInputError(path, str(error)) from None
    return RdfFile(path, quads)


def as_bytes(written: bytes | None) -> bytes:
    """What pyoxigraph's `serialize` returns when given no output to write to: the bytes (None only if it wrote)."""
    if written is None:
        raise ValueError("serialize wrote to an output instead of returning the bytes")
    return written


def to_rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> URIRef | BNode | Literal:
    """The same term in rdflib (for pySHACL); ValueError for an RDF 1.2 triple term, which rdflib cannot hold."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Triple):
        raise ValueError(f"triple terms (<<( {term} )>>) are not accepted: state the triple itself")
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:
        return Literal(term.value)  # rdflib's plain literal is RDF 1.1's xsd:string
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def add_to_graph(graph: Graph, quads: Iterable[ox.Quad]) -> Graph:
    """Add the quads' triples to an rdflib graph (graph names are dropped: validation sees one merged graph)."""
    for quad in quads:
        graph.add((to_rdflib_term(quad.subject), to_rdflib_term(quad.predicate), to_rdflib_term(quad.object)))
    return graph
