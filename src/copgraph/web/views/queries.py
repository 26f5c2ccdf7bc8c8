"""/queries and /openapi.json: the canned queries as an API for partners who do not write SPARQL.

Each file in queries/*.rq is a resource. /queries/{name} runs it with its declared parameters, in every result
format /sparql offers; /queries/{name}.rq is its SPARQL text. Parameter values are typed and validated, written as
one RDF term each and bound by SEP-0007 substitution: they are never spliced into the query text. /openapi.json
describes /sparql, /queries, every canned query and /healthz, generated from the same catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib.metadata import version
from urllib.parse import urlsplit

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, make_response, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from copgraph.core import formats
from copgraph.model.canned import RESERVED_NAMES, CannedQuery, QueryParam, load_canned_queries
from copgraph.query.executor import QueryRequest
from copgraph.web.http.context import config, dataset
from copgraph.web.http.errors import error_response
from copgraph.web.views.sparql import FORM, QUERY_BODY, UPDATE_BODY, ProtocolError, answer, negotiate

blueprint = Blueprint("canned_api", __name__)

# Read by negotiate(), so never a query parameter.
XSD = "http://www.w3.org/2001/XMLSchema#"
IRI_FORBIDDEN = frozenset('<>"{}|^`\\')
EXPECTED = {
    "iri": 'an absolute http:// or https:// IRI without spaces or any of <>"{}|^`\\',
    "string": "text",
    "integer": "a whole number written with digits, such as 42",
    "year": "a year written with four digits, such as 2021",
}
SCHEMAS = {
    "iri": {"type": "string", "format": "iri", "pattern": '^https?://[^\\s<>"{}|^`\\\\]+$'},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "year": {"type": "string", "pattern": "^[0-9]{4}$"},
}
_EXAMPLE = re.compile(r"\be\.g\.\s+(\S+?)[.,;)]?(?:\s|$)")
INTEGER = re.compile(r"[+-]?[0-9]+")
YEAR = re.compile(r"[0-9]{4}")


# --- routes -------------------------------------------------------------------------------------------------------


@blueprint.route("/queries")
def list_queries() -> Response:
    """The catalogue: JSON for machines (the default), an HTML page with a form per query for browsers."""
    listing = describe_catalogue(catalogue().values())
    if _wants_html():
        page = render_template(
            "queries.html", listing=listing, metadata=dataset().metadata, formats=list(formats.RESULT_FORMATS)
        )
        response = make_response(page)
    else:
        response = jsonify(listing)
    response.headers["Vary"] = "Accept"
    return response


@blueprint.route("/queries/<name>", methods=["GET", "POST"])
def run_query(name: str) -> Response:
    """Run one canned query with its parameters (query string or form), answered like /sparql answers."""
    try:
        query = find_query(name)
        _check_body()
        substitutions = bind_parameters(query, request.values)
        select_format, graph_format = negotiate()
    except ProtocolError as error:
        return error_response(error.status, str(error))
    return answer(
        QueryRequest(query.text, select_format=select_format, graph_format=graph_format, substitutions=substitutions)
    )


@blueprint.route("/queries/<name>.rq")
def query_text(name: str) -> Response:
    """The SPARQL text of one canned query, header comments included."""
    try:
        query = find_query(name)
    except ProtocolError as error:
        return error_response(error.status, str(error))
    return Response(query.text, content_type=f"{QUERY_BODY}; charset=utf-8")


@blueprint.route("/openapi.json")
def openapi() -> Response:
    """An OpenAPI 3.1 description of the endpoint and of every canned query, built from the catalogue."""
    return jsonify(openapi_document(catalogue().values()))


# --- the catalogue ------------------------------------------------------------------------------------------------


def catalogue() -> dict[str, CannedQuery]:
    """The canned queries by name, read from the queries folder (about twenty small files)."""
    return {query.name: query for query in load_canned_queries(config().root / "queries")}


def find_query(name: str) -> CannedQuery:
    """The canned query called name; ProtocolError 404 naming the known ones if there is none."""
    queries = catalogue()
    if name not in queries:
        raise ProtocolError(
            404,
            f"There is no canned query {_shown(name)}. The canned queries are: {', '.join(queries)} (see /queries).",
        )
    return queries[name]


def describe_catalogue(queries: Iterable[CannedQuery]) -> dict:
    """The one data dictionary /queries renders as JSON or HTML."""
    return {
        "queries": [
            {
                "name": query.name,
                "title": query.title,
                "description": query.description,
                "parameters": [_describe_param(param) for param in query.params],
                "links": {
                    "self": url_for("canned_api.run_query", name=query.name),
                    "sparql": url_for("canned_api.query_text", name=query.name),
                },
            }
            for query in queries
        ],
        "links": {"openapi": url_for("canned_api.openapi"), "sparql": url_for("sparql.endpoint")},
    }


def _describe_param(param: QueryParam) -> dict:
    described = {"name": param.name, "type": param.type, "required": param.required, "description": param.description}
    example = example_of(param)
    return described | ({"example": example} if example else {})


def example_of(param: QueryParam) -> str | None:
    """The example a parameter's description gives after "e.g.", if any."""
    match = _EXAMPLE.search(param.description)
    return match[1] if match else None


def _wants_html() -> bool:
    accept = request.accept_mimetypes
    return accept.best_match(["application/json", "text/html"]) == "text/html"


# --- parameters ---------------------------------------------------------------------------------------------------


def _check_body() -> None:
    """A POST carries its parameters as a form (or in the query string); any other body is refused, not ignored."""
    if request.method == "POST" and request.content_length and request.mimetype not in (FORM, "multipart/form-data"):
        raise ProtocolError(
            415,
            f"Unsupported request body type {request.mimetype or '(none)'!r}. POST the parameters as {FORM}, "
            "or send them in the query string.",
        )


def bind_parameters(query: CannedQuery, values: MultiDict) -> tuple[tuple[str, str], ...]:
    """Each given parameter as (variable, term in N-Triples syntax); ProtocolError 400 for anything not acceptable.

    An empty value counts as not given, so an HTML form with a blank field runs the query unrestricted.
    """
    declared = {param.name for param in query.params}
    unknown = sorted(set(values) - declared - RESERVED_NAMES)
    if unknown:
        raise ProtocolError(
            400, f"Unknown parameter {', '.join(map(_shown, unknown))} for {query.name}: {_takes(query)}."
        )
    bound = []
    for param in query.params:
        given = [value for value in values.getlist(param.name) if value != ""]
        if len(given) > 1:
            raise ProtocolError(400, f"Parameter {param.name!r} was given {len(given)} times; give it at most once.")
        if given:
            bound.append((param.name, term_for(param, given[0])))
        elif param.required:
            raise ProtocolError(400, f"Parameter {param.name!r} is required: {EXPECTED[param.type]}.")
    return tuple(bound)


def _takes(query: CannedQuery) -> str:
    names = [f"{param.name} ({param.type})" for param in query.params]
    reserved = " or ".join(sorted(RESERVED_NAMES))
    return f"it takes {', '.join(names)}, and {reserved}" if names else f"it takes no parameters other than {reserved}"


def term_for(param: QueryParam, value: str) -> str:
    """value as the RDF term of param's type, in N-Triples syntax; ProtocolError 400 saying what is expected."""
    try:
        return _TERMS[param.type](value)
    except ValueError:
        raise ProtocolError(
            400, f"Parameter {param.name!r} must be {EXPECTED[param.type]} ({param.description}); got {_shown(value)}."
        ) from None


def iri_term(value: str) -> str:
    """<value> if value is an absolute http(s) IRI; ValueError otherwise."""
    if not value.startswith(("http://", "https://")) or not urlsplit(value).netloc:
        raise ValueError(value)
    if any(char in IRI_FORBIDDEN or ord(char) <= 0x20 or 0x7F <= ord(char) <= 0x9F for char in value):
        raise ValueError(value)
    return str(ox.NamedNode(value))  # Oxigraph checks the rest of the IRI grammar


def string_term(value: str) -> str:
    """value as a plain string literal; Oxigraph escapes backslash, quote, newline, carriage return and tab."""
    return str(ox.Literal(value))


def integer_term(value: str) -> str:
    """value as a canonical xsd:integer literal if it is written with ASCII digits; ValueError otherwise."""
    if not INTEGER.fullmatch(value):
        raise ValueError(value)
    return str(ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer")))


def year_term(value: str) -> str:
    """value as an xsd:gYear literal if it is four ASCII digits; ValueError otherwise."""
    if not YEAR.fullmatch(value):
        raise ValueError(value)
    return str(ox.Literal(value, datatype=ox.NamedNode(XSD + "gYear")))


_TERMS = {"iri": iri_term, "string": string_term, "integer": integer_term, "year": year_term}


def _shown(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


# --- OpenAPI ------------------------------------------------------------------------------------------------------


def openapi_document(queries: Iterable[CannedQuery]) -> dict:
    """The whole OpenAPI 3.1 document; one path per canned query, typed from its header."""
    queries = list(queries)
    paths = {
        "/sparql": _sparql_path(),
        "/queries": _catalogue_path(),
        **{f"/queries/{query.name}": _canned_path(query) for query in queries},
        "/queries/{name}.rq": _text_path([query.name for query in queries]),
        "/healthz": _health_path(),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "copgraph",
            "version": version("copgraph"),
            "summary": "Linked open data on UK further-education communities of practice: SPARQL and canned queries.",
            "description": (
                "A SPARQL 1.1 endpoint (the default graph is the union of all named graphs) and canned queries "
                "that answer the Communities of Practice Sector Audits' questions without writing SPARQL. Every "
                "answer carries an ETag; send If-None-Match to get 304 when nothing changed."
            ),
            "license": {"name": "Code MIT; data CC BY-SA 4.0 where reused from the ALT audit report"},
        },
        "tags": [
            {"name": "SPARQL", "description": "The SPARQL 1.1 Protocol."},
            {"name": "Canned queries", "description": "Ready-made questions, each with typed parameters."},
            {"name": "Service", "description": "Health of the service."},
        ],
        "paths": paths,
        "components": _components(),
    }


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


ERRORS = {
    "400": "BadRequest",
    "404": "NotFound",
    "406": "NotAcceptable",
    "413": "TooLarge",
    "415": "UnsupportedMediaType",
    "503": "Unavailable",
}


def _errors(*statuses: str) -> dict:
    return {status: _ref("responses", ERRORS[status]) for status in statuses}


def _sparql_path() -> dict:
    form_fields = {
        "query": {"type": "string", "description": "A SPARQL 1.1 query."},
        "update": {"type": "string", "description": "A SPARQL 1.1 update (maintainers only, with the bearer token)."},
        "default-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}},
        "named-graph-uri": {"type": "array", "items": {"type": "string", "format": "iri"}},
        "format": {"type": "string", "enum": formats.ALL_FORMAT_NAMES},
    }
    return {
        "get": {
            "tags": ["SPARQL"],
            "operationId": "sparqlQueryGet",
            "summary": "Run a SPARQL query given in the URL",
            "description": (
                "Without `query`: the service description (Turtle and other RDF formats) or, for a browser, the "
                "query editor. The result format comes from `format` (or `output`), else from Accept."
            ),
            "parameters": [
                {"name": "query", "in": "query", "schema": {"type": "string"}, "description": "A SPARQL 1.1 query."},
                _ref("parameters", "defaultGraphUri"),
                _ref("parameters", "namedGraphUri"),
                _ref("parameters", "format"),
            ],
            "responses": {"200": _ref("responses", "Results"), "304": _ref("responses", "NotModified")}
            | _errors("400", "406", "503"),
        },
        "post": {
            "tags": ["SPARQL"],
            "operationId": "sparqlPost",
            "summary": "Run a SPARQL query (or, for maintainers, an update) sent in the request body",
            "description": (
                f"A form ({FORM}) with `query` or `update`, or the text itself as {QUERY_BODY} or {UPDATE_BODY} "
                "(dataset parameters then in the URL). Updates need `Authorization: Bearer <maintainer token>`."
            ),
            "security": [{}, {"maintainerToken": []}],
            "parameters": [
                _ref("parameters", "defaultGraphUri"),
                _ref("parameters", "namedGraphUri"),
                _ref("parameters", "format"),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    FORM: {"schema": {"type": "object", "properties": form_fields}},
                    QUERY_BODY: {"schema": {"type": "string"}},
                    UPDATE_BODY: {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "200": _ref("responses", "Results"),
                "204": {"description": "The update was applied."},
                "304": _ref("responses", "NotModified"),
                "401": {"description": "An update without the maintainer's bearer token.", "content": _error_content()},
                "403": {
                    "description": "Updates are turned off, the token is wrong, or the update was refused.",
                    "content": _error_content(),
                },
            }
            | _errors("400", "406", "413", "415", "503"),
        },
    }


def _catalogue_path() -> dict:
    return {
        "get": {
            "tags": ["Canned queries"],
            "operationId": "listCannedQueries",
            "summary": "The canned queries, their parameters and links",
            "responses": {
                "200": {
                    "description": "JSON by default; an HTML page with a form per query when Accept prefers text/html.",
                    "content": {
                        "application/json": {"schema": _ref("schemas", "Catalogue")},
                        "text/html": {"schema": {"type": "string"}},
                    },
                }
            },
        }
    }


def _canned_path(query: CannedQuery) -> dict:
    description = f"{query.description}\n\nThe SPARQL text is at /queries/{query.name}.rq."
    form = {
        "type": "object",
        "properties": {p.name: SCHEMAS[p.type] | {"description": p.description} for p in query.params}
        | {"format": _format_schema()},
        "required": [p.name for p in query.params if p.required],
    }
    responses = {"200": _ref("responses", "SelectResults"), "304": _ref("responses", "NotModified")}
    operation = {
        "tags": ["Canned queries"],
        "summary": query.title,
        "description": description,
        "parameters": [_parameter(param) for param in query.params] + [_ref("parameters", "format")],
        "responses": responses | _errors("400", "406", "503"),
    }
    return {
        "get": operation | {"operationId": f"{query.name}-get"},
        "post": operation
        | {
            "operationId": f"{query.name}-post",
            "parameters": [_ref("parameters", "format")],
            "requestBody": {"content": {FORM: {"schema": form}}},
            "responses": responses | _errors("400", "406", "413", "415", "503"),
        },
    }


def _parameter(param: QueryParam) -> dict:
    described = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": f"{param.description} ({EXPECTED[param.type]}).",
        "schema": SCHEMAS[param.type],
    }
    example = example_of(param)
    if example and param.type == "integer" and INTEGER.fullmatch(example):
        return described | {"example": int(example)}
    return described | ({"example": example} if example else {})


def _text_path(names: list[str]) -> dict:
    return {
        "get": {
            "tags": ["Canned queries"],
            "operationId": "cannedQueryText",
            "summary": "The SPARQL text of a canned query, with its header comments",
            "parameters": [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": names}}
            ],
            "responses": {"200": {"description": "The query.", "content": {QUERY_BODY: {"schema": {"type": "string"}}}}}
            | _errors("404"),
        }
    }


def _health_path() -> dict:
    health = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "version": {"type": "string", "description": "The dataset version served."},
            "built_at": {"type": "string"},
            "triples": {"type": "integer"},
            "error": {"type": "string"},
        },
        "required": ["status"],
    }
    json_health = {"application/json": {"schema": health}}
    return {
        "get": {
            "tags": ["Service"],
            "operationId": "health",
            "summary": "Whether the store is readable, and which dataset version is served",
            "responses": {
                "200": {"description": "Serving.", "content": json_health},
                "503": {"description": "The store cannot be read.", "content": json_health},
            },
        }
    }


def _format_schema() -> dict:
    return {"type": "string", "enum": formats.ALL_FORMAT_NAMES}


def _error_content() -> dict:
    return {
        "text/plain": {"schema": {"type": "string"}},
        "application/json": {"schema": _ref("schemas", "Error")},
    }


def _components() -> dict:
    select_content = {f.media_type: {"schema": _result_schema(f)} for f in formats.RESULT_FORMATS.values()}
    graph_content = {f.media_type: {"schema": {"type": "string"}} for f in formats.GRAPH_FORMATS.values()}
    result_headers = {
        "ETag": {"schema": {"type": "string"}, "description": "Changes when the dataset version changes."},
        "Copgraph-Truncated": {
            "schema": {"type": "string"},
            "description": "Present (as max-rows=N) when the answer was cut to the server's row limit.",
        },
    }
    error_statuses = {
        "BadRequest": "The request is malformed or a parameter is not acceptable; the message says what to change.",
        "NotFound": "There is no such canned query; the message lists the known ones.",
        "NotAcceptable": "None of the media types in Accept can carry this kind of result.",
        "TooLarge": "The request body is larger than the server accepts.",
        "UnsupportedMediaType": "The request body has a media type the endpoint does not read.",
        "Unavailable": "The query ran out of time or memory, or the store is unavailable; retry later.",
    }
    responses = {
        name: {"description": description, "content": _error_content()} for name, description in error_statuses.items()
    }
    responses["Unavailable"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    responses |= {
        "Results": {
            "description": "SELECT/ASK results or a CONSTRUCT/DESCRIBE graph, in the negotiated format.",
            "headers": result_headers,
            "content": select_content | graph_content,
        },
        "SelectResults": {
            "description": "The query's results in the negotiated format.",
            "headers": result_headers,
            "content": select_content,
        },
        "NotModified": {"description": "The answer the client holds (If-None-Match) is still current."},
    }
    return {
        "parameters": {
            "format": {
                "name": "format",
                "in": "query",
                "description": "The result format; overrides Accept (`output` is a synonym).",
                "schema": _format_schema(),
            },
            "defaultGraphUri": {
                "name": "default-graph-uri",
                "in": "query",
                "description": "A graph to use as (part of) the default graph; repeatable.",
                "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
                "explode": True,
            },
            "namedGraphUri": {
                "name": "named-graph-uri",
                "in": "query",
                "description": "A graph GRAPH patterns may reach; repeatable.",
                "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
                "explode": True,
            },
        },
        "responses": responses,
        "schemas": _schemas(),
        "securitySchemes": {"maintainerToken": {"type": "http", "scheme": "bearer"}},
    }


def _result_schema(result_format: formats.Format) -> dict:
    if result_format.name == "json":
        return _ref("schemas", "SparqlResults")
    return {"type": "string"}


def _schemas() -> dict:
    parameter = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "type": {"type": "string", "enum": list(SCHEMAS)},
            "required": {"type": "boolean"},
            "description": {"type": "string"},
            "example": {"type": "string"},
        },
        "required": ["name", "type", "required", "description"],
    }
    query = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "parameters": {"type": "array", "items": parameter},
            "links": {
                "type": "object",
                "properties": {"self": {"type": "string"}, "sparql": {"type": "string"}},
            },
        },
        "required": ["name", "title", "description", "parameters", "links"],
    }
    return {
        "Error": {
            "type": "object",
            "properties": {"status": {"type": "integer"}, "error": {"type": "string"}},
            "required": ["status", "error"],
        },
        "SparqlResults": {
            "description": "SPARQL 1.1 Query Results JSON Format.",
            "type": "object",
            "properties": {
                "head": {"type": "object", "properties": {"vars": {"type": "array", "items": {"type": "string"}}}},
                "results": {
                    "type": "object",
                    "properties": {"bindings": {"type": "array", "items": {"type": "object"}}},
                },
                "boolean": {"type": "boolean"},
            },
            "required": ["head"],
        },
        "Catalogue": {
            "type": "object",
            "properties": {"queries": {"type": "array", "items": query}, "links": {"type": "object"}},
            "required": ["queries"],
        },
    }
