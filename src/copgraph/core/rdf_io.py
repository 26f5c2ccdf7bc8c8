"""Reading RDF files: one parser (Oxigraph's) for every input, with errors that give the line and column."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
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


MAX_NESTING = 256  # COPGRAPH_MAX_NESTING's default


def untrusted_input_problem(data: bytes, rdf_format: ox.RdfFormat, max_nesting: int = MAX_NESTING) -> str | None:
    """Why RDF from a client must not be parsed, or None: a scan of the bytes, cheap beside parsing them.

    - Oxigraph's RDF/XML parser expands entities declared in a DOCTYPE: a few hundred bytes of nested entities (the
      "billion laughs") grow to gigabytes. (It fetches no external entity, and JSON-LD remote contexts are not
      loaded.)
    - Its parsers recurse once per level of nesting: JSON-LD nested 5,000 deep (75 KB) overflowed a web worker's
      stack. Input nested deeper than max_nesting is refused before any parser sees it.
    """
    if rdf_format == ox.RdfFormat.RDF_XML and b"<!ENTITY" in data:
        return "RDF/XML with entity declarations (<!ENTITY ...>) is not accepted: write the values out."
    if nesting_depth(data, rdf_format, stop_above=max_nesting) > max_nesting:
        unit = "elements" if rdf_format == ox.RdfFormat.RDF_XML else "brackets"
        return (
            f"it nests {unit} more than {max_nesting} deep, the most this service reads. "
            "Flatten it (give the nested nodes IRIs or blank node labels and refer to them)."
        )
    return None


# Strings, IRIs, comments and escaped characters of the Turtle family (Turtle, TriG, N3, N-Triples, N-Quads): brackets
# inside them are not nesting. An escape (`ex:a\#`) is consumed so that it starts no comment.
_TURTLE_OPAQUE = re.compile(
    rb'"""(?:[^"\\]|\\.|"(?!""))*"""'
    rb"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    rb'|"(?:[^"\\\n]|\\.)*"'
    rb"|'(?:[^'\\\n]|\\.)*'"
    rb'|<[^<>"{}|^`\\\s]*>'
    rb"|#[^\n]*"
    rb"|\\.",
    re.DOTALL,
)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_XML_OPAQUE = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>", re.DOTALL)
_XML_TAG = re.compile(rb"""</[^>]*>|<[^\s/>!?][^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
_OPENING = b"([{"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"([{)]}")
_STEP = [1 if b in _OPENING else -1 for b in range(256)]  # by byte, once only brackets are left


def nesting_depth(data: bytes, rdf_format: ox.RdfFormat, stop_above: int | None = None) -> int:
    """How deep the input nests: brackets, parentheses, braces and RDF 1.2 triple terms (`<< >>`) outside strings,
    IRIs and comments; elements in RDF/XML. Counting ends at the first closing bracket that has no opening one (the
    parser stops there too). With stop_above, an input with no more opening brackets than that is not walked."""
    if rdf_format == ox.RdfFormat.RDF_XML:
        tags = _XML_TAG.findall(_XML_OPAQUE.sub(b" ", data))
        return _deepest(-1 if tag.startswith(b"</") else 1 for tag in tags if not tag.endswith(b"/>"))
    if rdf_format == ox.RdfFormat.JSON_LD:
        syntax = _JSON_STRING.sub(b" ", data)
    else:
        syntax = _TURTLE_OPAQUE.sub(b" ", data).replace(b"<<", b"(").replace(b">>", b")")
    brackets = syntax.translate(None, delete=_NOT_BRACKETS)
    if stop_above is not None and sum(brackets.count(opening) for opening in _OPENING) <= stop_above:
        return min(len(brackets), 1)
    return _deepest(map(_STEP.__getitem__, brackets))  # at C speed: about 0.1 s for a megabyte of brackets


def _deepest(steps: Iterable[int]) -> int:
    depths = list(accumulate(steps))
    if -1 in depths:  # a closing bracket with no opening one: the parser stops there
        del depths[depths.index(-1) :]
    return max(depths, default=0)


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
