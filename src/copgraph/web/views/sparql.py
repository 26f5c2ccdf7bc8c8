"""/sparql: the SPARQL 1.1 Protocol (query and update), the service description and the query editor."""

from __future__ import annotations

from flask import Blueprint, Response, request

from copgraph.query.executor import QueryRequest
from copgraph.web.http.answers import answer
from copgraph.web.http.auth import require_maintainer
from copgraph.web.http.negotiation import GRAPH_OFFERS, HTML, negotiate, vary
from copgraph.web.http.protocol import address_of, read_operation, result_formats
from copgraph.web.http.writes import run_update
from copgraph.web.views.editor import editor_page
from copgraph.web.views.service_description import service_description

blueprint = Blueprint("sparql", __name__)


@blueprint.route("/sparql", methods=["GET", "POST"])
@blueprint.route("/sparql/", methods=["GET", "POST"])
def endpoint() -> Response:
    operation = read_operation()
    if operation.kind == "none":
        return describe_service()
    if operation.kind == "update":
        denied = require_maintainer()
        if denied is not None:
            return denied
        return run_update(operation.text, operation.default_graph_uris, operation.named_graph_uris)
    select_format, graph_format = result_formats()
    query = QueryRequest(
        operation.text,
        select_format=select_format,
        graph_format=graph_format,
        default_graph_uris=operation.default_graph_uris,
        named_graph_uris=operation.named_graph_uris,
        base_iri=address_of(request.environ),
    )
    return answer(query)


def describe_service() -> Response:
    """GET /sparql without a query: the query editor for a person, the service description for a machine."""
    chosen = negotiate((HTML, *GRAPH_OFFERS))
    if chosen is HTML and request.accept_mimetypes["text/html"]:  # asked for by name, not only by */* or no Accept
        return editor_page()
    format_name = chosen.name if chosen is not None and chosen is not HTML else "turtle"
    body, media_type = service_description(request.url_root, format_name)
    response = vary(Response(body, mimetype=media_type))
    response.vary.add("Host")  # sd:endpoint is this server's own address, as the client reached it
    return response
