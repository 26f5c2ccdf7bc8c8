"""GET /sparql lookups answered in front of Flask.

A bounded lookup (copgraph.query.lookups: one triple pattern about a named resource, or `DESCRIBE <iri>`) costs Oxigraph
about 50 µs; Flask's request context, routing, response object, CORS and compression hooks cost about 250 µs more
around it (profiled: docs/benchmarks.md). For the plainest form of such a request — GET /sparql with the query as
its only parameter, no conditional headers, no CORS Origin, an answer that needs no compression — this WSGI layer
answers with the body and headers /sparql itself gives (tests/test_fast_lookups.py compares the two on every
difference it could have), and hands every other request to Flask untouched. Anything unusual on the way — a
syntax error, a format the client does not accept, a truncated answer — also goes to Flask, which answers it as it
answers any query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from urllib.parse import unquote_plus

from flask import Flask

from copgraph.query.executor import QueryError, QueryRequest
from copgraph.query.guards import described_count
from copgraph.query.lookups import is_bounded_lookup
from copgraph.web.http import metrics
from copgraph.web.http.caching import last_modified
from copgraph.web.http.negotiation import content_type_of
from copgraph.web.http.protocol import address_of, formats_for

ROUTE = "/sparql"
FALLBACK_HEADERS = ("HTTP_ORIGIN", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")


class FastLookups:
    def __init__(self, app: Flask, application: Callable, cors_exposed_headers: Iterable[str]):
        self.app = app
        self.application = application  # Flask's WSGI application: everything not answered here
        self.settings = app.config["COPGRAPH"]
        self.compress_min_size = app.config["COMPRESS_MIN_SIZE"]
        # What flask-cors sends on a request without Origin: any origin may read, these headers too (sorted, as there).
        exposed = ", ".join(sorted(cors_exposed_headers))
        self.cors_headers = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", exposed)]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        answered = self._answer(environ) if self._eligible(environ) else None
        if answered is None:
            return self.application(environ, start_response)
        headers, body = answered
        start_response("200 OK", headers)
        metrics.REQUESTS.labels("GET", ROUTE, "200").inc()
        metrics.LATENCY.labels(ROUTE).observe(time.perf_counter() - started)
        return [body]

    @staticmethod
    def _eligible(environ: dict) -> bool:
        query_string = environ.get("QUERY_STRING", "")
        return (
            environ.get("PATH_INFO") == ROUTE
            and environ.get("REQUEST_METHOD") == "GET"
            and query_string.startswith("query=")
            and "&" not in query_string
            and not any(name in environ for name in FALLBACK_HEADERS)
        )

    def _answer(self, environ: dict) -> tuple[list[tuple[str, str]], bytes] | None:
        try:
            query = unquote_plus(environ["QUERY_STRING"][6:], errors="strict")
        except UnicodeDecodeError:
            return None  # Flask's answer says what is wrong
        if not is_bounded_lookup(query) or described_count(query) > self.settings.max_described:
            return None  # the second: refused by Flask, as /sparql refuses it
        select_format, graph_format = formats_for(environ.get("HTTP_ACCEPT", ""))
        if select_format is None and graph_format is None:
            return None
        request = QueryRequest(query, select_format, graph_format, base_iri=address_of(environ))
        extensions = self.app.extensions
        current = extensions["copgraph.backend"].current()
        cache = extensions["copgraph.cache"]
        key = (request,)
        outcome = cache.get(current.version, key)
        metrics.count_cache(hit=outcome is not None)
        if outcome is None:
            try:
                outcome = extensions["copgraph.backend"].run(request)
            except QueryError:
                return None
            cache.put(key, outcome)
        if not outcome.acceptable or outcome.truncated:
            return None
        body = outcome.body
        if len(body) >= self.compress_min_size and "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return None  # Flask compresses it (from the result cache, when that is on)
        media_type = outcome.media_type
        headers = [
            ("Content-Type", content_type_of(media_type)),
            ("Content-Length", str(len(body))),
            ("Vary", "Accept, Accept-Encoding"),
            ("Cache-Control", self.settings.cache_control),
            ("ETag", f'"{outcome.version}-{media_type}"'),
            ("Last-Modified", last_modified(current.metadata.built_at)),
            *self.cors_headers,
        ]
        return headers, body
