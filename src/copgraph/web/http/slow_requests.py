"""A bound on the requests that may hold a worker's thread long, so that the others always find one.

Under granian a worker serves COPGRAPH_THREADS requests at once, one a thread (web.server). Most of a request's costly
work waits on a child process with the GIL released, but its thread waits too: 24 concurrent 4.5 s queries once took
every thread there was and left /healthz unanswered for 48 s. So the requests that may wait (`may_wait`) take at most
COPGRAPH_SLOW_REQUESTS threads; one more is answered 503 with Retry-After at once, in the one error shape, and the
threads left over are kept for /healthz, pages, records and bounded lookups, which a worker answers from memory or the
store in micro- to milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from threading import BoundedSemaphore
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.wsgi import ClosingIterator

from copgraph.query.lookups import is_bounded_lookup
from copgraph.web.http import metrics
from copgraph.web.http.errors import error_response

# Reads that may hold their thread long: queries and canned queries wait for the query process; a whole graph or a
# dump is streamed to a client that may read it slowly.
WAITING_READS = ("/sparql", "/queries/", "/store", "/dumps/")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY = (
    "The server is already answering as many slow requests (queries, uploads, validations, downloads) as it takes at "
    "once. Try again in a moment."
)


def may_wait(environ: dict) -> bool:
    """Whether a request may hold its thread long: one with a body or a write (uploads, validations, contributions,
    maintainers' writes; a slow client holds the thread while it sends), or a read of WAITING_READS. Not a bounded
    lookup (answered in the worker in microseconds), a page, a record or /healthz."""
    if environ.get("REQUEST_METHOD") not in READ_METHODS:
        return True
    path = environ.get("PATH_INFO", "")
    if not path.startswith(WAITING_READS):
        return False
    if path.rstrip("/") == "/sparql":
        query = parse_qs(environ.get("QUERY_STRING", "")).get("query", [])
        return not (len(query) == 1 and is_bounded_lookup(query[0]))
    return True


class SlowRequests:
    """WSGI layer: at most `limit` requests that may wait in progress at once in this worker; the next is answered 503
    without its body being read. A request keeps its place until its answer has been handed over whole (a streamed
    one: until the client has read it)."""

    def __init__(self, app: Flask, limit: int):
        self.app = app
        self.places = BoundedSemaphore(limit)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not may_wait(environ):
            return self.app(environ, start_response)
        if not self.places.acquire(blocking=False):
            return self._busy(environ, start_response)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self.places.release()
            raise
        return ClosingIterator(body, self.places.release)

    def _busy(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        metrics.REQUESTS.labels(metrics.method_label(environ.get("REQUEST_METHOD", "")), "busy", "503").inc()
        with self.app.request_context(environ):
            response = error_response(503, BUSY, {"Retry-After": "1"})
        return response(environ, start_response)
