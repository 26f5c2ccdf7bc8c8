"""/sparql: SPARQL 1.1 Protocol queries (GET, POST form, POST sparql-query), results by Accept or ?format=."""

from __future__ import annotations

from flask import Blueprint, Response, request

from copgraph import sparql
from copgraph.web.errors import error_response
from copgraph.web.store_access import dataset

blueprint = Blueprint("sparql", __name__)

# Media types a client may ask for, and the format that answers each (the first is the default).
SELECT_TYPES = {f.media_type: f.name for f in sparql.RESULT_FORMATS.values()}
GRAPH_TYPES = {f.media_type: f.name for f in sparql.GRAPH_FORMATS.values()}


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    query, problem = _query_text()
    if problem:
        return error_response(400, problem)
    if query is None:
        return error_response(400, "Missing the `query` parameter: send ?query=... or POST a query.")
    try:
        result = dataset().query(query)
    except SyntaxError as error:
        return error_response(400, f"Malformed query: {error}")
    format_name = _chosen_format(sparql.is_graph_result(result))
    if format_name is None:
        offered = ", ".join(GRAPH_TYPES if sparql.is_graph_result(result) else SELECT_TYPES)
        return error_response(406, f"None of the requested media types can be produced. Offered: {offered}")
    try:
        body, media_type = sparql.serialize(result, format_name)
    except ValueError as error:
        return error_response(400, str(error))
    return Response(body, mimetype=media_type)


def _query_text() -> tuple[str | None, str | None]:
    if request.method == "GET":
        queries = request.args.getlist("query")
    elif request.mimetype == "application/sparql-query":
        queries = [request.get_data(as_text=True)]
    elif request.mimetype == "application/x-www-form-urlencoded":
        queries = request.form.getlist("query")
    else:
        return None, (
            f"Unsupported request body type {request.mimetype!r}: POST application/sparql-query "
            "or application/x-www-form-urlencoded."
        )
    if len(queries) > 1:
        return None, "Send exactly one `query` parameter, not several."
    return (queries[0] if queries else None), None


def _chosen_format(graph_result: bool) -> str | None:
    requested = request.values.get("format")
    if requested:
        return requested
    offered = GRAPH_TYPES if graph_result else SELECT_TYPES
    if not request.accept_mimetypes or request.accept_mimetypes.provided is False:
        return next(iter(offered.values()))
    best = request.accept_mimetypes.best_match(list(offered))
    return offered.get(best) if best else None
