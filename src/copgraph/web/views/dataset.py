"""The ontology (/def/cop, and its version IRI /def/cop/<version>), the shapes (/def/shapes), the dataset description
(/dataset and /.well-known/void), every named graph at its own IRI (/graph/...) and the dumps (/dumps/<file>).

Each document is one graph of the store (/graph/ontology, /graph/shapes, /graph/dataset, /graph/communities/...),
written by Oxigraph in the format that `Accept` prefers or that the URL's extension names (`Vary: Accept` when
negotiated). A client that states no preference gets Turtle; a browser gets HTML: for the ontology and the shapes, the
documentation page `copgraph build` generated with pyLODE; for the dataset, a page rendered from the same description
graph; for a data graph, a page listing the records it holds. Everything read here was computed when the store
generation was made (copgraph.build.description.publish).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, send_file

from copgraph.build.description import DATASET_IRI, DESCRIPTION_PREFIXES
from copgraph.build.dumps import PENDING_GRAPHS, read_manifest
from copgraph.build.ontology_docs import documentation_path, render
from copgraph.build.shape_docs import prefixed
from copgraph.core.graphs import DATASET_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH
from copgraph.core.vocab import GRAPH, ONTOLOGY_IRI
from copgraph.web.http.caching import conditional
from copgraph.web.http.context import config, dataset, model_cache
from copgraph.web.http.errors import RequestError
from copgraph.web.http.links import local_href
from copgraph.web.http.negotiation import DOCUMENT_OFFERS, HTML, by_extension, negotiate, vary

blueprint = Blueprint("dataset", __name__)


@dataclass(frozen=True)
class Document:
    path: str  # this server's path of the document (and of its IRI, under the configured base)
    graph: str  # the store graph it serves


ONTOLOGY = Document("/def/cop", ONTOLOGY_GRAPH)
SHAPES = Document("/def/shapes", SHAPES_GRAPH)
DESCRIPTION = Document("/dataset", DATASET_GRAPH)
# The graph a /graph/... path names: copgraph's graph names are paths of data files (store.export writes no others).
GRAPH_PATH = re.compile(r"[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*)*")
GRAPH_PAGE_ROWS = 1000  # a graph page lists at most this many records (a data graph is one file: a few dozen)
OWL_VERSION_INFO = "http://www.w3.org/2002/07/owl#versionInfo"
LABELS = "<http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel>"


@blueprint.route("/def/cop")
@blueprint.route("/def/cop.<extension>")
def ontology(extension: str | None = None) -> Response:
    return serve(ONTOLOGY, extension)


@blueprint.route("/def/cop/<version>")
def ontology_version(version: str) -> Response:
    """The ontology's owl:versionIRI (<base>def/cop/<version>): the ontology itself while that is its current
    version; earlier versions are not kept (the repository's history has them)."""
    query = f"SELECT ?v WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ <{ONTOLOGY_IRI}> <{OWL_VERSION_INFO}> ?v }} }}"
    versions = [row["v"].value for row in dataset().query(query)]
    if version not in versions:
        served = ", ".join(f"/def/cop/{v}" for v in versions) or "none"
        raise RequestError(404, f"Version {version} of the ontology is not served; the current one is: {served}.")
    return serve(ONTOLOGY, None)


@blueprint.route("/def/shapes")
@blueprint.route("/def/shapes.<extension>")
def shapes(extension: str | None = None) -> Response:
    return serve(SHAPES, extension)


@blueprint.route("/dataset")
@blueprint.route("/dataset.<extension>")
@blueprint.route("/.well-known/void")
def description(extension: str | None = None) -> Response:
    return serve(DESCRIPTION, extension)


@blueprint.route("/graph/<path:name>")
def named_graph(name: str) -> Response:
    """A named graph at its own IRI, as the dataset lists them (void:subset): its statements in the format Accept
    prefers or the extension names (/graph/platforms.ttl), or for a browser a page listing the records it holds.
    The ontology, shapes and description graphs are their documents; graphs of contributions awaiting review are not
    published, so they are 404 like any graph the store does not hold."""
    path, extension = name, None
    if "." in name.rsplit("/", 1)[-1]:
        path, _, extension = name.rpartition(".")
    iri = str(GRAPH) + path
    missing = f"There is no published graph {iri}: the dataset lists its graphs at /dataset (void:subset)."
    if not GRAPH_PATH.fullmatch(path) or (iri + "/").startswith(PENDING_GRAPHS):
        raise RequestError(404, missing)
    special = {ONTOLOGY_GRAPH: ONTOLOGY, SHAPES_GRAPH: SHAPES, DATASET_GRAPH: DESCRIPTION}
    document = special.get(iri) or Document("/graph/" + path, iri)
    if iri not in special and not dataset().query(f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"):
        raise RequestError(404, missing)
    return serve(document, extension)


def serve(document: Document, extension: str | None) -> Response:
    """The document in the format its extension names (404 for an unknown one), else the one Accept prefers (406 if
    none), with Link headers to its other formats and the caching headers of the dataset version."""
    negotiated = extension is None
    chosen = negotiate(DOCUMENT_OFFERS) if negotiated else by_extension(DOCUMENT_OFFERS, extension)
    if chosen is None:
        if not negotiated:
            raise RequestError(404, f"Not found: {document.path} has no .{extension} format. {_formats(document)}")
        raise RequestError(406, f"None of the requested media types can answer. {_formats(document)}")
    current = dataset()
    if chosen is HTML:
        response = Response(page(document, current), mimetype="text/html")
    else:
        body = ox.serialize(graph_triples(current, document.graph), format=chosen.writer, prefixes=DESCRIPTION_PREFIXES)
        response = Response(body, mimetype=chosen.media_type)
    response.headers["Link"] = ", ".join(
        f'<{document.path}.{offer.extension}>; rel="alternate"; type="{offer.media_type}"' for offer in DOCUMENT_OFFERS
    )
    if negotiated:
        vary(response)
    return conditional(response, current.version, chosen.media_type, current.metadata.built_at)


def _formats(document: Document) -> str:
    listed = ", ".join(f"{o.media_type} ({document.path}.{o.extension})" for o in DOCUMENT_OFFERS)
    return f"Offered: {listed}."


def page(document: Document, current: object) -> bytes | str:
    """The HTML of a document: the ontology's documentation, the dataset page, or a data graph's list of records."""
    if document is DESCRIPTION:
        return description_page(current)
    if document.graph in (ONTOLOGY_GRAPH, SHAPES_GRAPH):
        return ontology_page(current)
    return graph_page(current, document)


def graph_page(current: object, document: Document) -> str:
    """A data graph for a person: where it comes from, how many statements it holds, and the records in it."""
    graph = f"<{document.graph}>"
    total = next(iter(current.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")))
    rows = current.query(
        f"""SELECT ?s (SAMPLE(?label) AS ?name) WHERE {{
              GRAPH {graph} {{ ?s ?p ?o }} OPTIONAL {{ ?s {LABELS} ?label }}
            }} GROUP BY ?s ORDER BY ?s LIMIT {GRAPH_PAGE_ROWS + 1}"""
    )
    things = [
        {"iri": row["s"].value, "href": local_href(row["s"].value), "name": row["name"].value if row["name"] else ""}
        for row in rows
        if isinstance(row["s"], ox.NamedNode)
    ]
    view = {
        "iri": document.graph,
        "path": document.path,
        "file": current.metadata.graphs.get(document.graph, ""),
        "statements": int(total["n"].value),
        "things": things[:GRAPH_PAGE_ROWS],
        "more": len(things) > GRAPH_PAGE_ROWS,
    }
    return render_template("graph.html", page=view, metadata=current.metadata, offers=DOCUMENT_OFFERS)


def graph_triples(current: object, graph: str) -> list[ox.Triple]:
    """The triples of one of the store's graphs."""
    return list(current.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))


def ontology_page(current: object) -> bytes | str:
    """The ontology's documentation page, as generated with its store generation. When the generation holds none (a
    remote store, or a generation built before documentation was generated) it is made once per version and kept
    among the worker's read models, never made per request."""
    generation: Path | None = getattr(current, "generation", None)
    if generation is not None and documentation_path(generation).is_file():
        return documentation_path(generation).read_bytes()
    return model_cache().get_or_make(
        current.version,
        "ontology page",
        lambda: render(graph_triples(current, ONTOLOGY_GRAPH), graph_triples(current, SHAPES_GRAPH)),
    )


@blueprint.route("/dumps/<name>")
def dump(name: str) -> Response:
    """A dump listed in the current generation's manifest, byte for byte, with its SHA-256 as ETag; any other name is
    404, so no path outside the dumps folder can be reached."""
    current = dataset()
    generation: Path | None = getattr(current, "generation", None)
    if generation is None:
        raise RequestError(
            404, "This server reads a remote store: dumps are made by `copgraph build` only for the embedded store."
        )
    entry = read_manifest(generation / "dumps").get(name)
    if entry is None:
        raise RequestError(404, f"There is no dump named {name!r}: the dumps are listed at /dataset.")
    response = send_file(
        generation / "dumps" / entry.name,
        mimetype=entry.media_type,
        as_attachment=True,
        download_name=entry.name,
        etag=entry.sha256,
        last_modified=datetime.fromisoformat(current.metadata.built_at.replace("Z", "+00:00")),
        conditional=True,
    )
    response.headers["Cache-Control"] = config().cache_control
    # RFC 9530: lets a client check what it downloaded without reading the description.
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(entry.sha256)).decode()}:"
    return response


# --- The dataset description as a page -----------------------------------------------------------------------------

VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
SPDX = "http://spdx.org/rdf/terms#"
PROV = "http://www.w3.org/ns/prov#"
COP_VERSION = "https://w3id.org/copgraph/def/cop#datasetVersion"


Node = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal


class Described:
    """The description graph indexed by subject, to read values of one node at a time."""

    def __init__(self, triples: list[ox.Triple]):
        self.index: dict[Node, dict[str, list[Term]]] = {}
        for triple in triples:
            self.index.setdefault(triple.subject, {}).setdefault(triple.predicate.value, []).append(triple.object)

    def all(self, node: Term, predicate: str) -> list[Term]:
        return self.index.get(node, {}).get(predicate, [])

    def one(self, node: Term, predicate: str) -> Term | None:
        values = self.all(node, predicate)
        return values[0] if values else None

    def text(self, node: Term, predicate: str) -> str:
        value = self.one(node, predicate)
        return value.value if value is not None else ""

    def number(self, node: Term, predicate: str) -> int | None:
        value = self.one(node, predicate)
        return int(value.value) if value is not None else None


def description_page(current: object) -> str:
    """The description graph rendered for a person (the same graph the machine formats serialise)."""
    graph = Described(graph_triples(current, DATASET_GRAPH))
    return render_template("dataset.html", page=dataset_view(graph), metadata=current.metadata, offers=DOCUMENT_OFFERS)


def dataset_view(graph: Described) -> dict:
    """What the dataset page shows, read from the description graph."""
    node = ox.NamedNode(DATASET_IRI)
    publisher = graph.one(node, DCT + "publisher")
    endpoint = graph.one(node, VOID + "sparqlEndpoint")
    return {
        "iri": DATASET_IRI,
        "title": graph.text(node, DCT + "title") or "copgraph",
        "description": graph.text(node, DCT + "description"),
        "licence": graph.text(node, DCT + "license"),
        "rights": graph.text(node, DCT + "rights"),
        "publisher": graph.text(publisher, FOAF + "name") if publisher is not None else "",
        "version": graph.text(node, COP_VERSION),
        "modified": graph.text(node, DCT + "modified"),
        "endpoint": {"iri": endpoint.value, "href": local_href(endpoint.value)} if endpoint is not None else None,
        "uri_space": graph.text(node, VOID + "uriSpace"),
        "counts": [
            (label, graph.number(node, VOID + name))
            for label, name in (
                ("Triples", "triples"),
                ("Entities (things with an IRI in the URI space)", "entities"),
                ("Distinct subjects", "distinctSubjects"),
                ("Distinct objects", "distinctObjects"),
                ("Classes", "classes"),
                ("Properties", "properties"),
            )
            if graph.number(node, VOID + name) is not None
        ],
        "classes": _partitions(graph, node, "classPartition", "class", "entities"),
        "properties": _partitions(graph, node, "propertyPartition", "property", "triples"),
        "distributions": sorted(
            (_distribution(graph, d) for d in graph.all(node, DCAT + "distribution")), key=lambda d: d["name"]
        ),
        "linksets": _linksets(graph, node),
        "examples": [{"iri": e.value, "href": local_href(e.value)} for e in graph.all(node, VOID + "exampleResource")],
        "vocabularies": sorted(v.value for v in graph.all(node, VOID + "vocabulary")),
        "sources": [_link(s) for s in sorted(s.value for s in graph.all(node, PROV + "wasDerivedFrom"))],
        "graphs": sorted(
            (
                {"iri": s.value, "href": local_href(s.value)}
                for s in graph.all(node, VOID + "subset")
                if "/graph/" in s.value
            ),
            key=lambda g: g["iri"],
        ),
        "issued": graph.text(node, DCT + "issued"),
    }


def _link(iri: str) -> dict[str, str | None]:
    """An IRI from the data to show: a link only if it is http(s), so no `javascript:` IRI becomes a link."""
    return {"text": iri, "href": iri if iri.startswith(("http://", "https://")) else None}


def _partitions(graph: Described, node: Term, partition: str, key: str, count: str) -> list[dict]:
    rows = []
    for part in graph.all(node, VOID + partition):
        term = graph.one(part, VOID + key)
        if term is not None:
            rows.append({"iri": term.value, "name": prefixed(term.value), "count": graph.number(part, VOID + count)})
    return sorted(rows, key=lambda row: (-(row["count"] or 0), row["name"]))


def _distribution(graph: Described, node: Term) -> dict:
    checksum = graph.one(node, SPDX + "checksum")
    url = graph.text(node, DCAT + "downloadURL")
    media_type = graph.text(node, DCAT + "mediaType").rsplit("/media-types/", 1)[-1]
    return {
        "title": graph.text(node, DCT + "title"),
        "name": url.rsplit("/", 1)[-1],
        "href": local_href(url),
        "media_type": media_type,
        "packaged": graph.one(node, DCAT + "packageFormat") is not None,
        "byte_size": graph.number(node, DCAT + "byteSize"),
        "sha256": graph.text(checksum, SPDX + "checksumValue") if checksum is not None else "",
    }


def _linksets(graph: Described, node: Term) -> list[dict]:
    linksets = []
    for subset in graph.all(node, VOID + "subset"):
        predicate = graph.one(subset, VOID + "linkPredicate")
        if predicate is not None:
            target = graph.one(subset, VOID + "objectsTarget")
            linksets.append(
                {
                    "predicate": prefixed(predicate.value),
                    "target": graph.text(target, DCT + "title") if target is not None else "",
                    "triples": graph.number(subset, VOID + "triples"),
                    "description": graph.text(subset, DCT + "description"),
                }
            )
    return sorted(linksets, key=lambda linkset: linkset["predicate"])
