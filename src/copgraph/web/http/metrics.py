"""Prometheus metrics at /metrics: requests, latency, result-cache hits, query timeouts and other query errors.

Each server worker (granian or gunicorn) is a process, so the server sets PROMETHEUS_MULTIPROC_DIR and /metrics adds
up every worker's figures (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from copgraph.query.executor import QueryError

REQUESTS = Counter("copgraph_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "copgraph_request_seconds",
    "Time to answer a request",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CACHE = Counter("copgraph_result_cache_total", "Result-cache lookups", ["result"])
QUERY_ERRORS = Counter("copgraph_query_errors_total", "Queries that failed, by kind", ["kind"])
# Label values come from this fixed set only: a client may send any method string, and every distinct label value is a
# new time series kept for the life of the process (2,000 random methods made 2,005 series).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def count_cache(hit: bool) -> None:
    CACHE.labels("hit" if hit else "miss").inc()


def count_query_error(error: QueryError) -> None:
    QUERY_ERRORS.labels(type(error).__name__).inc()


def register(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(method_label(request.method), route, str(response.status_code)).inc()
        if "started" in g:
            LATENCY.labels(route).observe(time.perf_counter() - g.started)
        return response

    @app.route("/metrics")
    def metrics() -> Response:
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
