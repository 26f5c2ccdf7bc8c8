"""/sparql: the SPARQL 1.1 Protocol (query and update), the service description and the query editor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import Blueprint, Response, request
from werkzeug.datastructures import CombinedMultiDict, MIMEAccept
from werkzeug.http import http_date, parse_accept_header
from werkzeug.utils import get_content_type

from copgraph.core import formats
from copgraph.query.executor import QueryError, QueryOutcome, QueryRequest
from copgraph.query.guards import check_nesting, check_services
from copgraph.web.http import metrics
from copgraph.web.http.auth import require_maintainer
from copgraph.web.http.context import config, dataset, executor, result_cache
from copgraph.web.http.errors import error_response

blueprint = Blueprint("sparql", __name__)

# Media types a client may ask for, and the format that answers each. The canonical type of each format comes
# first; the others are aliases that common clients send.
SELECT_TYPES = {f.media_type: f.name for f in formats.RESULT_FORMATS.values()} | {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
}
GRAPH_TYPES = {f.media_type: f.name for f in formats.GRAPH_FORMATS.values()} | {
    "application/x-turtle": "turtle",
    "application/turtle": "turtle",
    "text/plain": "ntriples",
    "application/json": "jsonld",
    "application/xml": "rdfxml",
    "text/xml": "rdfxml",
}
FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"


class ProtocolError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Operation:
    kind: str  # "query", "update" or "none"
    text: str = ""
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()


@blueprint.route("/sparql", methods=["GET", "POST"])
@blueprint.route("/sparql/", methods=["GET", "POST"])
def endpoint() -> Response:
    try:
        operation = read_operation()
    except ProtocolError as error:
        return error_response(error.status, str(error))
    if operation.kind == "none":
        return describe_service()
    if operation.kind == "update":
        denied = require_maintainer()
        if denied is not None:
            return denied
        from copgraph.web.http.writes import run_update

        return run_update(operation.text, operation.default_graph_uris, operation.named_graph_uris)
    try:
        select_format, graph_format = negotiate()
    except ProtocolError as error:
        return error_response(error.status, str(error))
    request_ = QueryRequest(
        operation.text,
        select_format=select_format,
        graph_format=graph_format,
        default_graph_uris=operation.default_graph_uris,
        named_graph_uris=operation.named_graph_uris,
        base_iri=service_address(),
    )
    return answer(request_)


def service_address() -> str:
    return address_of(request.environ)


def address_of(environ: dict) -> str:
    """The requested address without its query, the base of relative IRIs in a query: from the WSGI environment
    directly, because werkzeug's request.base_url (IRI decoding and re-encoding) costs more than a lookup query."""
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    return f"{environ['wsgi.url_scheme']}://{host}{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"


def answer(query: QueryRequest) -> Response:
    """Run a query (or take it from the cache) and answer it with caching headers; used by /sparql and /queries."""
    settings = config()
    try:
        check_nesting(query.query)
        check_services(query.query, settings.allowed_services)
    except QueryError as error:
        return error_response(error.status, str(error))
    current = dataset()
    key = (query,)
    cache = result_cache()
    outcome = cache.get(current.version, key)
    metrics.count_cache(hit=outcome is not None)
    if outcome is None:
        try:
            outcome = executor().run(query)
        except QueryError as error:
            metrics.count_query_error(error)
            headers = {"Retry-After": "5"} if error.status == 503 else {}
            return error_response(error.status, str(error), headers)
        cache.put(key, outcome)
    if not outcome.acceptable:
        offered = ", ".join(GRAPH_TYPES if outcome.kind == "graph" else SELECT_TYPES)
        return error_response(406, f"None of the requested media types can answer this query. Offered: {offered}")
    return respond(outcome, current.metadata.built_at)


def respond(outcome: QueryOutcome, built_at: str) -> Response:
    response = Response(outcome.body, content_type=content_type_of(outcome.media_type))
    response.headers["Vary"] = "Accept"
    if outcome.truncated:
        response.headers["Copgraph-Truncated"] = f"max-rows={config().max_rows}"
        response.headers["X-SPARQL-MaxRows"] = str(config().max_rows)
        response.headers["Warning"] = f'199 copgraph "result truncated to {config().max_rows} rows"'
    return conditional(response, outcome.version, outcome.media_type, built_at)


@lru_cache(maxsize=64)
def content_type_of(media_type: str) -> str:
    """The Content-Type of an answer: werkzeug's (a charset for text/* and XML) and UTF-8 named for the SPARQL
    results formats too, whose specifications fix it."""
    content_type = get_content_type(media_type, "utf-8")
    if "charset" not in content_type and media_type.startswith(("text/", "application/sparql")):
        content_type = f"{media_type}; charset=utf-8"
    return content_type


def conditional(response: Response, version: str, media_type: str, built_at: str) -> Response:
    """A read of one dataset version made cacheable: Cache-Control, an ETag from the version and media type,
    Last-Modified from the build; 304 when If-None-Match or If-Modified-Since shows the client's copy is current."""
    headers = response.headers
    headers["Cache-Control"] = config().cache_control
    headers["ETag"] = f'"{version}-{media_type}"'
    headers["Last-Modified"] = _http_date(built_at)
    if "HTTP_IF_NONE_MATCH" in request.environ or "HTTP_IF_MODIFIED_SINCE" in request.environ:
        return response.make_conditional(request)
    return response


@lru_cache(maxsize=64)
def _http_date(built_at: str) -> str:
    return http_date(datetime.fromisoformat(built_at.replace("Z", "+00:00")))


def read_operation() -> Operation:
    """The query or update in a Protocol request, with its dataset parameters; ProtocolError if malformed."""
    if request.method in ("GET", "HEAD"):  # HEAD: GET's headers without the body
        source, graph_source = request.args, request.args
        if "update" in request.args:
            raise ProtocolError(400, "SPARQL Update must be sent with POST, not GET.")
        queries, updates = source.getlist("query"), []
    elif request.mimetype == FORM:
        # Dataset parameters belong in the body, but clients also put them in the URL: both are honoured.
        source, graph_source = request.form, CombinedMultiDict([request.form, request.args])
        queries, updates = source.getlist("query"), source.getlist("update")
    elif request.mimetype in (QUERY_BODY, UPDATE_BODY):
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"SPARQL text must be sent as UTF-8, not {charset}.")
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(400, "The request body is not valid UTF-8.") from None
        graph_source = request.args
        queries, updates = ([text], []) if request.mimetype == QUERY_BODY else ([], [text])
    else:
        raise ProtocolError(
            415,
            f"Unsupported request body type {request.mimetype or '(none)'!r}. POST {QUERY_BODY}, {UPDATE_BODY} "
            f"or {FORM} with a `query` or `update` parameter.",
        )
    if len(queries) > 1 or len(updates) > 1:
        raise ProtocolError(400, "Send exactly one `query` (or one `update`) parameter, not several.")
    if queries and updates:
        raise ProtocolError(400, "Send either a `query` or an `update`, not both in one request.")
    if not queries and not updates:
        if request.method == "POST":
            raise ProtocolError(400, "Missing the `query` or `update` parameter.")
        return Operation("none")
    if updates:
        graphs = (tuple(graph_source.getlist("using-graph-uri")), tuple(graph_source.getlist("using-named-graph-uri")))
        return Operation("update", updates[0], *_checked(graphs))
    graphs = (tuple(graph_source.getlist("default-graph-uri")), tuple(graph_source.getlist("named-graph-uri")))
    return Operation("query", queries[0], *_checked(graphs))


def _checked(graphs: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    for iri in graphs[0] + graphs[1]:
        if ":" not in iri or any(c in iri for c in ' <>"{}|^`\\'):
            raise ProtocolError(400, f"Graph parameter {iri!r} is not an absolute IRI.")
    return graphs


def negotiate() -> tuple[str | None, str | None]:
    """The format for SELECT/ASK and the one for CONSTRUCT/DESCRIBE: from ?format=, else from Accept."""
    requested = request.values.get("format") or request.values.get("output")
    if requested:
        name = SELECT_TYPES.get(requested) or GRAPH_TYPES.get(requested) or requested
        if name not in formats.ALL_FORMAT_NAMES:
            raise ProtocolError(
                400, f"Unknown format {requested!r}. Choose one of {', '.join(formats.ALL_FORMAT_NAMES)}."
            )
        return name, name
    return _formats_for(request.headers.get("Accept", ""))


@lru_cache(maxsize=256)
def _formats_for(accept_header: str) -> tuple[str | None, str | None]:
    """Accept header → (SELECT/ASK format, CONSTRUCT/DESCRIBE format); clients send few distinct headers, and
    matching one against every offered type costs more than a lookup query, so the answer is remembered."""
    accept = parse_accept_header(accept_header, MIMEAccept)
    if not accept:
        return "json", "turtle"
    select = accept.best_match(list(SELECT_TYPES))
    graph = accept.best_match(list(GRAPH_TYPES))
    return (SELECT_TYPES[select] if select else None), (GRAPH_TYPES[graph] if graph else None)


def describe_service() -> Response:
    """GET /sparql without a query: the query editor for a person, the service description for a machine."""
    html_quality = request.accept_mimetypes["text/html"]
    best = request.accept_mimetypes.best_match(["text/html", *GRAPH_TYPES])
    if html_quality and best == "text/html":
        from copgraph.web.views.editor import editor_page

        return editor_page()
    from copgraph.web.views.service_description import service_description

    format_name = GRAPH_TYPES.get(best or "", "turtle")
    body, media_type = service_description(request.url_root, format_name)
    response = Response(body, mimetype=media_type)
    response.headers["Vary"] = "Accept"
    return response
