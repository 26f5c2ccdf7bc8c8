"""/store: the SPARQL 1.1 Graph Store HTTP Protocol.

Indirect identification (`/store?default`, `/store?graph=IRI`, a relative IRI resolved against the request) and
direct identification (`/store/some/path`: the graph whose IRI is that URL). GET and HEAD are open to everyone;
PUT, POST and DELETE need the maintainer's token and are atomic. A body is checked for its shape here (its nesting)
and parsed in the worker's input process (build.inputs), under its budget.

Reads use the worker's own reader of the store (as pages and queries do), which keeps the generation it opened open
until the dataset changes: an open generation stays readable even after a later write prunes its directory. Only
the opening of a newer generation can lose a race with pruning (two writes in between); then the read is retried on
the generation served by then.
"""

from __future__ import annotations

import uuid
from urllib.parse import urljoin

import pyoxigraph as ox
from flask import Blueprint, Response, request
from werkzeug.datastructures import FileStorage

from copgraph.core.rdf_io import untrusted_input_problem
from copgraph.core.vocab import GRAPH
from copgraph.query import results
from copgraph.web.http.auth import require_maintainer
from copgraph.web.http.context import backend, config, dataset, inputs
from copgraph.web.http.errors import RequestError
from copgraph.web.http.negotiation import GRAPH_OFFERS, negotiate, offered, vary
from copgraph.web.http.writes import perform

blueprint = Blueprint("graph_store", __name__)

# Request body types a graph may be sent as.
INPUT_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "text/n3": ox.RdfFormat.N3,
}
# Attempts at opening the served generation for a read: each failed one lost a race with pruning (see above).
EXTENSIONS = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".rdf": "application/rdf+xml",
    ".owl": "application/rdf+xml",
    ".jsonld": "application/ld+json",
    ".n3": "text/n3",
}


@blueprint.route("/store", methods=["GET", "PUT", "POST", "DELETE"])
@blueprint.route("/store/<path:subpath>", methods=["GET", "PUT", "POST", "DELETE"])
def graph_store(subpath: str | None = None) -> Response:
    target = _checked_iri(_without_extension(request.base_url), request.path) if subpath else _target()
    if request.method in ("GET", "HEAD"):
        return _read(target)
    denied = require_maintainer()
    if denied is not None:
        return denied
    if request.method == "DELETE":
        return perform(lambda: _deleted(target))
    triples = _body_triples(base_iri=target or request.base_url)
    if request.method == "PUT":
        return perform(lambda: _stored(backend().replace_graph(target, triples), target))
    if target == "" or (target is None and "default" not in request.args):
        return perform(lambda: _created_new_graph(triples))
    return perform(lambda: _stored(backend().add_to_graph(target, triples), target))


def _target() -> str | None:
    """None for the default graph, the IRI for ?graph=, "" for the store itself (POST creates a new graph)."""
    has_default, graph = "default" in request.args, request.args.getlist("graph")
    if has_default and graph:
        raise RequestError(400, "Give either ?default or ?graph=IRI, not both.")
    if len(graph) > 1:
        raise RequestError(400, "Give one ?graph=IRI, not several.")
    if graph:
        iri = urljoin(request.url, graph[0])  # a relative graph IRI names a graph beside this service
        return _without_extension(_checked_iri(iri, f"?graph={graph[0]}"))
    if has_default:
        return None
    if request.method == "POST":
        return ""
    raise RequestError(400, "Name the graph: ?default for the default graph or ?graph=IRI for a named graph.")


def _checked_iri(iri: str, given: str) -> str:
    """The IRI if it can name a graph; RequestError 400 if not (spaces, control characters, backslashes, quotes:
    such text would otherwise reach the store, or a header, as it is)."""
    if ":" not in iri or any(c in iri for c in ' <>"{}|^`\\') or any(ord(c) < 0x20 or ord(c) == 0x7F for c in iri):
        raise RequestError(400, f"{given!r} does not name a graph: it is not a valid IRI.")
    return iri


def _without_extension(iri: str) -> str:
    """Beside this service, `/store/x.ttl` and `/store/x` are one graph: the extension names a format, not a graph."""
    store_path = request.host_url + "store/"
    if iri.startswith(store_path):
        stem, dot, suffix = iri.rpartition(".")
        if dot and "." + suffix in EXTENSIONS and "/" not in suffix:
            return stem
    return iri


def _read(target: str | None) -> Response:
    triples = dataset().graph(target)
    if triples is None:
        raise RequestError(404, f"There is no graph {target} in this store.")
    requested = request.args.get("format")
    chosen = negotiate(GRAPH_OFFERS)
    name = requested or (chosen.name if chosen else None)
    if name is None:
        raise RequestError(406, f"None of the requested media types is offered. Offered: {offered(GRAPH_OFFERS)}")
    try:
        body, media_type = results.serialize_triples(triples, name)
    except ValueError as error:
        raise RequestError(400, str(error)) from None
    return vary(Response(body, mimetype=media_type))


def _body_triples(base_iri: str) -> list[ox.Triple]:
    if request.mimetype == "multipart/form-data":
        triples: list[ox.Triple] = []
        for part in request.files.values():
            triples += _parse(part.read(), _part_type(part), base_iri, part.filename or "part")
        return triples
    return _parse(request.get_data(), request.mimetype, base_iri, "request body")


def _part_type(part: FileStorage) -> str:
    if part.mimetype and part.mimetype in INPUT_TYPES:
        return part.mimetype
    suffix = "." + (part.filename or "").rsplit(".", 1)[-1].lower()
    return EXTENSIONS.get(suffix, part.mimetype or "")


def _parse(data: bytes, media_type: str, base_iri: str, what: str) -> list[ox.Triple]:
    rdf_format = INPUT_TYPES.get(media_type)
    if rdf_format is None:
        offered = ", ".join(INPUT_TYPES)
        raise RequestError(415, f"Cannot read {what} of type {media_type or '(none)'!r}. Send one of: {offered}.")
    problem = untrusted_input_problem(data, rdf_format, config().max_nesting)
    if problem:
        raise RequestError(400, f"Cannot read {what}: {problem}")
    try:
        return inputs().parse_graph(data, rdf_format, base_iri)
    except SyntaxError as error:
        if rdf_format == ox.RdfFormat.TURTLE and not data.rstrip().endswith(b"."):
            try:  # a last statement without its final "." is a common slip (the W3C tests send such bodies)
                return inputs().parse_graph(data + b"\n.", rdf_format, base_iri)
            except SyntaxError:
                pass
        raise RequestError(
            400, f"Cannot parse {what}: {error.msg} (line {error.lineno}, column {error.offset})."
        ) from None
    except ValueError as error:
        raise RequestError(400, f"Cannot parse {what}: {error}") from None


def _stored(created: bool, target: str | None) -> Response:
    """201 for a new graph; otherwise 204 for PUT and 200 for POST and DELETE, as the Protocol's tests expect."""
    if created:
        return Response(status=201)
    return Response(status=204 if request.method == "PUT" else 200)


def _deleted(target: str | None) -> Response:
    if not backend().delete_graph(target):
        raise RequestError(404, f"There is no graph {target} in this store.")
    return _stored(False, target)


def _created_new_graph(triples: list[ox.Triple]) -> Response:
    """POST to the store itself: a new graph with a fresh IRI, announced in Location."""
    iri = f"{GRAPH}uploads/{uuid.uuid4()}"
    backend().add_to_graph(iri, triples)
    response = Response(status=201)
    response.headers["Location"] = f"{request.base_url}?graph={iri}"
    return response
