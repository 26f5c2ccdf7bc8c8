"""Reading SPARQL 1.1 Protocol requests: the query or update, its dataset parameters and the result formats asked
for. Shared by `/sparql`, `/queries/...` and the lookup fast path, so that they read a request the same way."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from werkzeug.datastructures import CombinedMultiDict

from copgraph.core.formats import ALL_FORMAT_NAMES, NAME_ALIASES
from copgraph.web.http.errors import RequestError
from copgraph.web.http.negotiation import GRAPH_OFFERS, SELECT_OFFERS, by_name, negotiate_header

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"


@dataclass(frozen=True)
class Operation:
    kind: str  # "query", "update" or "none"
    text: str = ""
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()


def read_operation() -> Operation:
    """The query or update in a Protocol request, with its dataset parameters; RequestError if malformed."""
    if request.method in ("GET", "HEAD"):  # HEAD: GET's headers without the body
        source, graph_source = request.args, request.args
        if "update" in request.args:
            raise RequestError(400, "SPARQL Update must be sent with POST, not GET.")
        queries, updates = source.getlist("query"), []
    elif request.mimetype == FORM:
        # Dataset parameters belong in the body, but clients also put them in the URL: both are honoured.
        source, graph_source = request.form, CombinedMultiDict([request.form, request.args])
        queries, updates = source.getlist("query"), source.getlist("update")
    elif request.mimetype in (QUERY_BODY, UPDATE_BODY):
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise RequestError(415, f"SPARQL text must be sent as UTF-8, not {charset}.")
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(400, "The request body is not valid UTF-8.") from None
        graph_source = request.args
        queries, updates = ([text], []) if request.mimetype == QUERY_BODY else ([], [text])
    else:
        raise RequestError(
            415,
            f"Unsupported request body type {request.mimetype or '(none)'!r}. POST {QUERY_BODY}, {UPDATE_BODY} "
            f"or {FORM} with a `query` or `update` parameter.",
        )
    if len(queries) > 1 or len(updates) > 1:
        raise RequestError(400, "Send exactly one `query` (or one `update`) parameter, not several.")
    if queries and updates:
        raise RequestError(400, "Send either a `query` or an `update`, not both in one request.")
    if not queries and not updates:
        if request.method == "POST":
            raise RequestError(400, "Missing the `query` or `update` parameter.")
        return Operation("none")
    if updates:
        graphs = (tuple(graph_source.getlist("using-graph-uri")), tuple(graph_source.getlist("using-named-graph-uri")))
        return Operation("update", updates[0], *_checked(graphs))
    graphs = (tuple(graph_source.getlist("default-graph-uri")), tuple(graph_source.getlist("named-graph-uri")))
    return Operation("query", queries[0], *_checked(graphs))


def _checked(graphs: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    for iri in graphs[0] + graphs[1]:
        if ":" not in iri or any(c in iri for c in ' <>"{}|^`\\'):
            raise RequestError(400, f"Graph parameter {iri!r} is not an absolute IRI.")
    return graphs


def result_formats() -> tuple[str | None, str | None]:
    """The format for SELECT/ASK and the one for CONSTRUCT/DESCRIBE: from `format=` (or `output=`), else `Accept`.
    None for a kind of result the client accepts in no offered format (answered 406 if the query is of that kind)."""
    requested = request.values.get("format") or request.values.get("output")
    if requested:
        chosen = by_name(SELECT_OFFERS, requested) or by_name(GRAPH_OFFERS, requested)
        name = chosen.name if chosen else NAME_ALIASES.get(requested, requested)
        if name not in ALL_FORMAT_NAMES:
            raise RequestError(400, f"Unknown format {requested!r}. Choose one of {', '.join(ALL_FORMAT_NAMES)}.")
        return name, name
    return formats_for(request.headers.get("Accept", ""))


def formats_for(accept_header: str) -> tuple[str | None, str | None]:
    """`Accept` → (SELECT/ASK format name, CONSTRUCT/DESCRIBE format name)."""
    select = negotiate_header(SELECT_OFFERS, accept_header)
    graph = negotiate_header(GRAPH_OFFERS, accept_header)
    return (select.name if select else None), (graph.name if graph else None)


def address_of(environ: dict[str, str]) -> str:
    """The requested address without its query, the base of relative IRIs in a query: from the WSGI environment
    directly, because werkzeug's request.base_url (IRI decoding and re-encoding) costs more than a lookup query."""
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    return f"{environ['wsgi.url_scheme']}://{host}{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
