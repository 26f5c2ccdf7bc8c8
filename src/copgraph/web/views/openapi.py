"""/openapi.json: an OpenAPI 3.1 description of /sparql, /queries, every canned query and /healthz, generated from
the canned-query catalogue, so that the description, the API and the tests read the same files."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import version

from flask import Blueprint, Response, jsonify

from copgraph.core import formats
from copgraph.model.canned import CannedQuery, QueryParam
from copgraph.web.http.protocol import FORM, QUERY_BODY, UPDATE_BODY
from copgraph.web.views.queries import EXPECTED, INTEGER, SCHEMAS, catalogue, example_of

blueprint = Blueprint("openapi", __name__)


@blueprint.route("/openapi.json")
def openapi() -> Response:
    """An OpenAPI 3.1 description of the endpoint and of every canned query, built from the catalogue."""
    return jsonify(openapi_document(catalogue().values()))


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
