"""The SPARQL text copgraph sends a remote store: parameters bound by VALUES, updates composed from triples, and the
check every maintainer's update passes first.

A remote store takes only text, so what the embedded store does through pyoxigraph's API is written out here. And the
embedded store checks a write by comparing the protected graphs before and after it; a remote store cannot be asked
to do that, so an update is checked by reading its text (`refuse_unsafe_update`), from which it refuses whatever
could reach those graphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pyoxigraph as ox

from copgraph.core.graphs import DATASET_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH
from copgraph.core.rdf_io import as_bytes
from copgraph.core.vocab import COP, DCT, XSD
from copgraph.query.guards import PREFIX_DECLARATION, mask
from copgraph.store.writes import WriteRefused

# Graphs a write to the remote store may not change. The embedded store lets a write change the ontology and the shapes
# because `copgraph build` and `export` then notice; a remote store has no such check, and the dataset description
# carries the version that ETags and caches depend on.
PROTECTED_GRAPHS = (ONTOLOGY_GRAPH, SHAPES_GRAPH, DATASET_GRAPH)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_CLEARS_EVERYTHING = re.compile(r"(?i)\b(?:CLEAR|DROP)\s+(?:SILENT\s+)?(?:ALL|NAMED)\b")


_TEMPLATE = re.compile(r"(?i)\b(?:DELETE|INSERT)\s*(?:WHERE\s*)?\{")  # not DELETE/INSERT DATA: no variables there


_VARIABLE_GRAPH = re.compile(r"(?i)\bGRAPH\s*[?$]")


_IRI = re.compile(r"<([^<>\s]*)>")


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


_PREFIXED = re.compile(r"(?<![\w?$:-])([A-Za-z][\w.-]*)?:([\w.%-]*)")


def with_values(query: str, bindings: Sequence[tuple[str, ox.NamedNode | ox.Literal]]) -> str:
    """The query with a trailing VALUES clause binding each variable to one term: the remote stand-in for SEP-0007
    substitution (every canned query gives the same answer either way). Only IRIs and literals are written."""
    if not bindings:
        return query
    for name, term in bindings:
        if not _NAME.fullmatch(name) or not isinstance(term, ox.NamedNode | ox.Literal):
            raise ValueError(f"cannot bind ?{name} to {term!r}: only IRIs and literals bind by VALUES")
    names = " ".join(f"?{name}" for name, _ in bindings)
    terms = " ".join(str(term) for _, term in bindings)
    return f"{query}\nVALUES ({names}) {{ ({terms}) }}\n"


def with_base(update: str, base_iri: str | None) -> str:
    """The update with a BASE declaration if it has relative IRIs to resolve; only then, because the declaration
    moves the remote's line numbers in error messages."""
    if base_iri and any(not _ABSOLUTE.match(iri) for iri in _IRI.findall(mask(update))):
        return f"BASE <{base_iri}>\n{update}"
    return update


def version_update(version: str, modified: str) -> str:
    """An update giving the dataset description a new version and modification time (nothing if it has none)."""
    old = f"?dataset <{COP}datasetVersion> ?version ; <{DCT}modified> ?modified"
    new = f'?dataset <{COP}datasetVersion> "{version}" ; <{DCT}modified> "{modified}"^^<{XSD}dateTime>'
    graph = f"GRAPH <{DATASET_GRAPH}>"
    return f"DELETE {{ {graph} {{ {old} }} }}\nINSERT {{ {graph} {{ {new} }} }}\nWHERE {{ {graph} {{ {old} }} }}"


def in_one_request(first: str, second: str) -> str:
    """Two update texts as one request. The second follows on the first's last line, so that the remote's line and
    column numbers in an error (even one at the very end, such as a missing brace) point into the first; a newline
    comes first only if that line ends in a comment, and no ';' if the first already ends with one."""
    masked = mask(first).rstrip()
    if not masked:
        return second
    ends_in_comment = len(masked) < len(first.rstrip())  # masking blanks comments and keeps every other character
    separator = ("\n" if ends_in_comment else " ") + ("" if masked.endswith(";") else ";") + "\n"
    return first.rstrip() + separator + second


def replacing(name: str | None, triples: Iterable[ox.Triple]) -> str:
    """An update that makes a graph (None: the default graph) hold exactly these triples."""
    if name is None:
        return in_one_request("CLEAR SILENT DEFAULT", inserting(None, triples))
    return in_one_request(f"DROP SILENT GRAPH <{name}>", inserting(name, triples))


def inserting(name: str | None, triples: Iterable[ox.Triple]) -> str:
    """An update that adds triples to a graph (None: the default graph), creating the named graph if need be."""
    lines = as_bytes(ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)).decode("utf-8")
    if name is None:
        return f"INSERT DATA {{\n{lines}}}"
    return f"CREATE SILENT GRAPH <{name}> ;\nINSERT DATA {{ GRAPH <{name}> {{\n{lines}}} }}"


def refuse_protected(name: str | None) -> None:
    """WriteRefused if the graph is one that only changes in the repository."""
    if name in PROTECTED_GRAPHS:
        raise WriteRefused(
            f"this write would change {name}, which only changes in the repository (edit ontology/ or shapes/ "
            "and rebuild). Nothing was written."
        )


def refuse_unsafe_update(text: str) -> None:
    """WriteRefused for an update that names a protected graph, clears or drops everything (CLEAR/DROP ALL or
    NAMED), or has a DELETE/INSERT template with a variable graph: on a remote store copgraph cannot compare the
    protected graphs before and after a write, so it refuses, from the text, whatever could reach them."""
    masked = mask(text)
    if _CLEARS_EVERYTHING.search(masked):
        raise WriteRefused(
            "CLEAR/DROP ALL and CLEAR/DROP NAMED would remove the ontology, the shapes and the dataset description, "
            "which only change in the repository: clear or drop the graphs by name instead. Nothing was written."
        )
    for template in _TEMPLATE.finditer(masked):
        if _VARIABLE_GRAPH.search(_block(masked, template.end() - 1)):
            raise WriteRefused(
                "a DELETE or INSERT template with GRAPH ?variable could change the ontology, the shapes or the "
                "dataset description, which copgraph cannot check on a remote store: name the graphs instead. "
                "Nothing was written."
            )
    for graph in _graphs_named(masked):
        refuse_protected(graph)


def _block(text: str, start: int) -> str:
    """The text of the brace-delimited block opening at text[start] (to the end if it is not closed)."""
    depth = 0
    for position in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[start : position + 1]
    return text[start:]


def _graphs_named(masked: str) -> set[str]:
    """Every IRI the (masked) update names, written in full or as a prefixed name."""
    prefixes = {(name or ""): iri[1:-1] for name, iri in PREFIX_DECLARATION.findall(masked)}
    named = set(_IRI.findall(masked))
    for prefix, local in _PREFIXED.findall(_IRI.sub(" ", masked)):
        if prefix in prefixes:
            named.add(prefixes[prefix] + local.rstrip("."))
    return named
