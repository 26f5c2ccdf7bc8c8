"""A record: the bounded description of one thing, which every format of its document renders.

The graph holds the thing's own statements, the labels of every IRI it links to, and the own statements of its
parts — the presences a community links to (cop:hasPresence), the identifiers of an organisation or a platform
(adms:identifier), the observations and figures that point at it (cop:observedCommunity, cop:figureOf) — with the
labels of what those link to; a presence or an identifier also gets the statement of the thing that has it. So a
client can show a community, its platforms and its audit history from one answer, and the graph never grows beyond
the thing's neighbourhood. Last come three statements about the record itself, the document `/doc/{type}/{slug}`:
its topic (foaf:primaryTopic), its licence (dct:license) and the dataset it belongs to (void:inDataset).

Machine formats are written from that one graph: Turtle, N-Triples and RDF/XML by Oxigraph, JSON-LD by `core.jsonld`
against the published context (`core/context.jsonld`, read from disk, never fetched).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from functools import cache

import pyoxigraph as ox

from copgraph.build.description import DATASET_IRI, LICENCE, LICENCE_LABEL, TITLE
from copgraph.core.formats import GRAPH_FORMATS
from copgraph.core.jsonld import CONTEXT_FILE, ContextWriter
from copgraph.core.vocab import ADMS, COP, PREFIXES, RDF_TYPE, VOID
from copgraph.store.reader import Dataset

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
LABELS = f"<{RDFS_LABEL}>, <http://www.w3.org/2004/02/skos/core#prefLabel>"
FOAF = "http://xmlns.com/foaf/0.1/"
DCT_LICENSE = "http://purl.org/dc/terms/license"

# One query: the thing's statements (and the one that makes a presence part of a community), its parts' statements,
# and the labels of what all of those link to.
# `?this` is replaced by the thing's IRI before evaluation. (FILTER IN, not VALUES: Oxigraph joins a VALUES block with
# `?s ?p ?o` over the whole store before the links narrow it, ten times slower.)
RECORD_QUERY = f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ BIND(?this AS ?s) ?s ?p ?o }}
  UNION {{ ?s ?p ?this FILTER(?p IN (<{COP}hasPresence>, <{ADMS}identifier>)) BIND(?this AS ?o) }}
  UNION {{
    {{ ?this <{COP}hasPresence> ?s }} UNION {{ ?this <{ADMS}identifier> ?s }}
    UNION {{ ?s <{COP}observedCommunity> ?this }} UNION {{ ?s <{COP}figureOf> ?this }}
    ?s ?p ?o
  }}
  UNION {{
    {{ ?this ?link ?s }}
    UNION {{ ?s <{COP}hasPresence> ?this }}
    UNION {{ ?s <{ADMS}identifier> ?this }}
    UNION {{ ?this <{COP}hasPresence> ?part . ?part ?link ?s }}
    UNION {{ ?this <{ADMS}identifier> ?part . ?part ?link ?s }}
    UNION {{ ?part <{COP}observedCommunity> ?this . ?part ?link ?s }}
    UNION {{ ?part <{COP}figureOf> ?this . ?part ?link ?s }}
    ?s ?p ?o
    FILTER(?p IN ({LABELS}))
  }}
}}"""
EXISTS_QUERY = "ASK { ?this ?p ?o }"


def record_graph(dataset: Dataset, iri: str) -> list[ox.Triple]:
    """The record of `iri`: its bounded description, the thing's own statements first, in a stable order without
    duplicates, then the statements about the record itself (`document_triples`); [] if nothing states anything
    about it (a thing that is only ever an object has no record)."""
    this = ox.NamedNode(iri)
    triples = dict.fromkeys(dataset.query(_with_this(RECORD_QUERY, this)))
    if not any(triple.subject == this for triple in triples):
        return []
    return sorted(triples, key=_own_statements_first(this)) + document_triples(iri)


def document_iri(iri: str) -> str:
    """The IRI of the document about a thing: `<base>doc/{type}/{slug}` for `<base>id/{type}/{slug}` (the thing's IRI
    answers 303 to it)."""
    base, _, path = iri.rpartition("/id/")
    return f"{base}/doc/{path}"


def document_triples(iri: str) -> list[ox.Triple]:
    """What the record says about itself: the document is about the thing, published under the dataset's licence,
    part of the dataset (void:inDataset, whose domain is a document, not the thing: a community has no licence),
    with the labels of both, as for everything else a record links to."""
    document, licence, dataset = ox.NamedNode(document_iri(iri)), ox.NamedNode(LICENCE), ox.NamedNode(DATASET_IRI)
    label = ox.NamedNode(RDFS_LABEL)
    return [
        ox.Triple(document, ox.NamedNode(RDF_TYPE), ox.NamedNode(FOAF + "Document")),
        ox.Triple(document, ox.NamedNode(FOAF + "primaryTopic"), ox.NamedNode(iri)),
        ox.Triple(document, ox.NamedNode(DCT_LICENSE), licence),
        ox.Triple(document, ox.NamedNode(VOID + "inDataset"), dataset),
        ox.Triple(licence, label, ox.Literal(LICENCE_LABEL)),
        ox.Triple(dataset, label, ox.Literal(TITLE)),
    ]


def record_exists(dataset: Dataset, iri: str) -> bool:
    """Whether `iri` has a record, as record_graph decides: whether any statement has it as its subject."""
    return bool(dataset.query(_with_this(EXISTS_QUERY, ox.NamedNode(iri))))


def _with_this(query: str, this: ox.NamedNode) -> str:
    # Written into the text rather than passed as a substitution: a remote store receives substitutions as a trailing
    # VALUES clause, which it may join only after evaluating each branch over the whole store. NamedNode has checked
    # the IRI, so it cannot break out of its angle brackets.
    return query.replace("?this", str(this))


def _own_statements_first(this: ox.NamedNode) -> Callable[[ox.Triple], tuple[bool, str, str, str]]:
    def key(triple: ox.Triple) -> tuple[bool, str, str, str]:
        return (triple.subject != this, str(triple.subject), str(triple.predicate), str(triple.object))

    return key


def serialize_record(triples: Sequence[ox.Triple], iri: str, format_name: str, context_url: str) -> bytes:
    """A record in one machine format (a name of sparql.GRAPH_FORMATS): Turtle and RDF/XML with the project's
    prefixes (those the record uses), JSON-LD compacted against the published context, named by `context_url`."""
    if format_name == "jsonld":
        # Compact, not indented: json's C encoder only writes unindented JSON (half the time); the HTML is for reading.
        document = record_jsonld(triples, iri, context_url)
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return ox.serialize(triples, format=GRAPH_FORMATS[format_name].writer, prefixes=used_prefixes(triples))


def used_prefixes(triples: Sequence[ox.Triple]) -> dict[str, str]:
    """The project's prefixes that some IRI in the triples starts with, so a record declares only what it uses."""
    # Searched for in the N-Triples text, where every IRI (datatypes too) is written `<iri>`: Oxigraph writes it in
    # microseconds, where reading each term's IRI into Python took a tenth of a millisecond a record.
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return {prefix: ns for prefix, ns in PREFIXES.items() if f"<{ns}" in text}


@cache
def published_context() -> dict:
    """The JSON-LD context published at /context.jsonld (its "@context" member), read from the package."""
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


@cache
def context_writer() -> ContextWriter:
    return ContextWriter(published_context())


def record_jsonld(triples: Sequence[ox.Triple], iri: str, context_url: str) -> dict:
    """A record as JSON-LD that reads as plain JSON: the thing at the top, what it links to embedded where it is
    first mentioned, observations and figures nested under it (reverse properties), anything else in `@included`.

    `core.jsonld` writes the flat node objects against the context; nesting only moves whole node objects into the
    places that refer to them, so the document still expands to exactly the record's triples.
    """
    context = published_context()
    nodes = context_writer().node_objects(triples)
    top = nodes.pop(iri)
    _nest_referrers(top, iri, nodes, context)
    _embed_references(top, nodes, context)
    document = {"@context": context_url, **top}
    if nodes:
        document["@included"] = list(nodes.values())
    return _ordered(document)


def _nest_referrers(top: dict, iri: str, nodes: dict[str, dict], context: dict) -> None:
    """Move each node that points at the thing through a property with a reverse term (an observation's
    `community`) under that reverse term of the thing (`observations`)."""
    for reverse_term, forward_term in _reverse_terms(context).items():
        for node_id, node in list(nodes.items()):
            if node.get(forward_term) in (iri, [iri]):
                del node[forward_term]
                top.setdefault(reverse_term, []).append(nodes.pop(node_id))


def _embed_references(top: dict, nodes: dict[str, dict], context: dict) -> None:
    """Replace each reference to a node of the record by the node itself, breadth first from the thing, once."""
    references = {term for term, definition in context.items() if _is_reference(definition)}
    nested = set(_reverse_terms(context))  # already node objects, which may refer to more nodes
    queue = deque([top])
    while queue:
        node = queue.popleft()
        for key, value in node.items():
            if key in references:
                node[key] = _embedded(value, nodes, queue)
            elif key in nested:
                queue.extend(value)


def _embedded(value: object, nodes: dict[str, dict], queue: deque) -> object:
    if isinstance(value, list):
        return [_embedded(item, nodes, queue) for item in value]
    if isinstance(value, str) and value in nodes:
        node = nodes.pop(value)
        queue.append(node)
        return node
    return value


def _is_reference(definition: object) -> bool:
    return isinstance(definition, dict) and definition.get("@type") == "@id"


def _reverse_terms(context: dict) -> dict[str, str]:
    """Reverse term → the forward term of the same property (`observations` → `community`)."""
    forward = {d["@id"]: term for term, d in context.items() if _is_reference(d)}
    return {
        term: forward[d["@reverse"]]
        for term, d in context.items()
        if isinstance(d, dict) and d.get("@reverse") in forward
    }


def _ordered(value: object) -> object:
    """Every node with its identity and name first, the way a person reads it, then its keys in alphabetical order."""
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    if not isinstance(value, dict):
        return value
    first = [key for key in ("@context", "id", "type", "name", "prefLabel") if key in value]
    rest = sorted(key for key in value if key not in first and key != "@included")
    last = ["@included"] if "@included" in value else []
    return {key: _ordered(value[key]) for key in [*first, *rest, *last]}
