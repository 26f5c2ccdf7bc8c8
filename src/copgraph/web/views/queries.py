"""/queries: the canned queries as an API for partners who do not write SPARQL.

Each file in queries/*.rq is a resource. /queries/{name} runs it with its declared parameters, in every result
format /sparql offers; /queries/{name}.rq is its SPARQL text. Parameter values are typed and validated, written as
one RDF term each and bound by SEP-0007 substitution: they are never spliced into the query text. /openapi.json
(views/openapi.py) describes them from the same catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, make_response, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from copgraph.core import formats
from copgraph.model.canned import RESERVED_NAMES, CannedQuery, QueryParam, load_canned_queries
from copgraph.query.executor import QueryRequest
from copgraph.web.http.answers import answer
from copgraph.web.http.context import config, dataset
from copgraph.web.http.errors import RequestError
from copgraph.web.http.negotiation import CATALOGUE_OFFERS, HTML, negotiate, vary
from copgraph.web.http.protocol import FORM, QUERY_BODY, result_formats

blueprint = Blueprint("canned_api", __name__)

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
    if negotiate(CATALOGUE_OFFERS) is HTML:
        page = render_template(
            "queries.html", listing=listing, metadata=dataset().metadata, formats=list(formats.RESULT_FORMATS)
        )
        response = make_response(page)
    else:
        response = jsonify(listing)
    return vary(response)


@blueprint.route("/queries/<name>", methods=["GET", "POST"])
def run_query(name: str) -> Response:
    """Run one canned query with its parameters (query string or form), answered like /sparql answers."""
    query = find_query(name)
    _check_body()
    substitutions = bind_parameters(query, request.values)
    select_format, graph_format = result_formats()
    return answer(
        QueryRequest(query.text, select_format=select_format, graph_format=graph_format, substitutions=substitutions)
    )


@blueprint.route("/queries/<name>.rq")
def query_text(name: str) -> Response:
    """The SPARQL text of one canned query, header comments included."""
    query = find_query(name)
    return Response(query.text, content_type=f"{QUERY_BODY}; charset=utf-8")


# --- the catalogue ------------------------------------------------------------------------------------------------


def catalogue() -> dict[str, CannedQuery]:
    """The canned queries by name, read from the queries folder (about twenty small files)."""
    return {query.name: query for query in load_canned_queries(config().root / "queries")}


def find_query(name: str) -> CannedQuery:
    """The canned query called name; RequestError 404 naming the known ones if there is none."""
    queries = catalogue()
    if name not in queries:
        raise RequestError(
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
        "links": {"openapi": url_for("openapi.openapi"), "sparql": url_for("sparql.endpoint")},
    }


def _describe_param(param: QueryParam) -> dict:
    described = {"name": param.name, "type": param.type, "required": param.required, "description": param.description}
    example = example_of(param)
    return described | ({"example": example} if example else {})


def example_of(param: QueryParam) -> str | None:
    """The example a parameter's description gives after "e.g.", if any."""
    match = _EXAMPLE.search(param.description)
    return match[1] if match else None


# --- parameters ---------------------------------------------------------------------------------------------------


def _check_body() -> None:
    """A POST carries its parameters as a form (or in the query string); any other body is refused, not ignored."""
    if request.method == "POST" and request.content_length and request.mimetype not in (FORM, "multipart/form-data"):
        raise RequestError(
            415,
            f"Unsupported request body type {request.mimetype or '(none)'!r}. POST the parameters as {FORM}, "
            "or send them in the query string.",
        )


def bind_parameters(query: CannedQuery, values: MultiDict) -> tuple[tuple[str, str], ...]:
    """Each given parameter as (variable, term in N-Triples syntax); RequestError 400 for anything not acceptable.

    An empty value counts as not given, so an HTML form with a blank field runs the query unrestricted.
    """
    declared = {param.name for param in query.params}
    unknown = sorted(set(values) - declared - RESERVED_NAMES)
    if unknown:
        raise RequestError(
            400, f"Unknown parameter {', '.join(map(_shown, unknown))} for {query.name}: {_takes(query)}."
        )
    bound = []
    for param in query.params:
        given = [value for value in values.getlist(param.name) if value != ""]
        if len(given) > 1:
            raise RequestError(400, f"Parameter {param.name!r} was given {len(given)} times; give it at most once.")
        if given:
            bound.append((param.name, term_for(param, given[0])))
        elif param.required:
            raise RequestError(400, f"Parameter {param.name!r} is required: {EXPECTED[param.type]}.")
    return tuple(bound)


def _takes(query: CannedQuery) -> str:
    names = [f"{param.name} ({param.type})" for param in query.params]
    reserved = " or ".join(sorted(RESERVED_NAMES))
    return f"it takes {', '.join(names)}, and {reserved}" if names else f"it takes no parameters other than {reserved}"


def term_for(param: QueryParam, value: str) -> str:
    """value as the RDF term of param's type, in N-Triples syntax; RequestError 400 saying what is expected."""
    try:
        return _TERMS[param.type](value)
    except ValueError:
        raise RequestError(
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
