"""Answering a SPARQL query over HTTP, the same way for `/sparql` and `/queries/...`: the query-text guards, the
worker's result cache, the query process (or the remote store), a 406 for a format the query cannot be answered in,
and the truncation and caching headers."""

from __future__ import annotations

from flask import Response

from copgraph.query.executor import QueryError, QueryOutcome, QueryRequest
from copgraph.query.guards import check_described, check_nesting, check_services
from copgraph.web.http import metrics
from copgraph.web.http.caching import conditional
from copgraph.web.http.context import backend, config, dataset, result_cache
from copgraph.web.http.errors import RequestError
from copgraph.web.http.negotiation import GRAPH_OFFERS, SELECT_OFFERS, content_type_of, offered


def answer(query: QueryRequest) -> Response:
    """Run a query (or take it from the cache) and answer it with caching headers; RequestError on any failure."""
    settings = config()
    check_nesting(query.query)
    check_described(query.query, settings.max_described)
    check_services(query.query, settings.allowed_services)
    current = dataset()
    key = (query,)
    cache = result_cache()
    outcome = cache.get(current.version, key)
    metrics.count_cache(hit=outcome is not None)
    if outcome is None:
        try:
            outcome = backend().run(query)
        except QueryError as error:
            metrics.count_query_error(error)
            raise
        cache.put(key, outcome)
    if not outcome.acceptable:
        offers = offered(GRAPH_OFFERS if outcome.kind == "graph" else SELECT_OFFERS)
        raise RequestError(406, f"None of the requested media types can answer this query. Offered: {offers}")
    return respond(outcome, current.metadata.built_at)


def respond(outcome: QueryOutcome, built_at: str) -> Response:
    response = Response(outcome.body, content_type=content_type_of(outcome.media_type))
    response.headers["Vary"] = "Accept"
    if outcome.truncated:
        response.headers["Copgraph-Truncated"] = f"max-rows={config().max_rows}"
        response.headers["X-SPARQL-MaxRows"] = str(config().max_rows)
        response.headers["Warning"] = f'199 copgraph "result truncated to {config().max_rows} rows"'
    return conditional(response, outcome.version, outcome.media_type, built_at)
