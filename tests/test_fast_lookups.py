"""GET /sparql lookups answered in front of Flask (web/fast_lookups.py) answer exactly as /sparql does, and every
request the fast path does not fully handle reaches Flask.

Each request is sent through the whole application and, separately, straight to Flask behind the same security
headers; status, every header and the body must match. A recorder around Flask tells which path answered.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import quote

import pytest
from flask import Flask

from copgraph.core.config import Config
from copgraph.web.app import create_app
from copgraph.web.http.fast_lookups import FastLookups
from copgraph.web.http.security import SecurityHeaders

UKFECHAT = "https://w3id.org/copgraph/id/community/ukfechat"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
JSON = "application/sparql-results+json"


class Recorder:
    """Flask's WSGI application, counting the requests that reach it."""

    def __init__(self, application: Callable):
        self.application = application
        self.calls = 0

    def __call__(self, environ: dict, start_response: Callable) -> object:
        self.calls += 1
        return self.application(environ, start_response)


@pytest.fixture(scope="module", params=[2**20, 0], ids=["cache", "no-cache"])
def app(request: pytest.FixtureRequest, built_config: Config) -> Flask:
    app = create_app(replace(built_config, result_cache_bytes=request.param))
    fast = app.wsgi_app.application
    assert isinstance(fast, FastLookups)
    fast.application = Recorder(fast.application)
    return app


def call(application: Callable, query: str | None, headers: dict[str, str], method: str = "GET") -> tuple:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/sparql",
        "QUERY_STRING": "" if query is None else "query=" + quote(query, safe=""),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "HTTP_HOST": "127.0.0.1:8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    answer: dict = {}

    def start_response(status: str, response_headers: list, exc_info: object = None) -> None:
        answer["status"], answer["headers"] = status, response_headers

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


def both(app: Flask, query: str | None, headers: dict[str, str], method: str = "GET") -> tuple[tuple, tuple, bool]:
    """(answer through the whole app, answer from Flask alone, whether the fast path answered the first)."""
    recorder = app.wsgi_app.application.application
    before = recorder.calls
    whole = call(app.wsgi_app, query, headers, method)
    answered_fast = recorder.calls == before
    flask_only = call(SecurityHeaders(recorder), query, headers, method)
    return whole, flask_only, answered_fast


ANSWERED_FAST = [
    (f"SELECT ?l WHERE {{ <{UKFECHAT}> <{LABEL}> ?l }}", {"Accept": JSON}),
    (f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}", {}),  # no Accept: JSON
    (f"SELECT * {{ <{UKFECHAT}> ?p ?o }} LIMIT 3", {"Accept": "text/csv"}),
    (f"SELECT ?p ?o {{ <{UKFECHAT}> ?p ?o }}", {"Accept": "application/sparql-results+xml"}),
    (f"SELECT ?o {{ <{UKFECHAT}> a ?o }}", {"Accept": "text/tab-separated-values"}),
    (f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?l {{ <{UKFECHAT}> rdfs:label ?l }}", {}),
    (f"ASK {{ <{UKFECHAT}> <{LABEL}> ?l }}", {"Accept": JSON}),
    (f"DESCRIBE <{UKFECHAT}>", {"Accept": "text/turtle"}),
    (f"DESCRIBE <{UKFECHAT}>", {"Accept": "application/n-triples"}),
    (f"DESCRIBE <{UKFECHAT}>", {"Accept": "application/rdf+xml"}),
    (f"DESCRIBE <{UKFECHAT}>", {"Accept": "application/ld+json"}),
    (f"DESCRIBE <{UKFECHAT}>", {"Accept": "text/turtle", "Accept-Encoding": "identity"}),
    (f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}", {"Accept-Encoding": "gzip"}),  # small: never compressed
    (f"SELECT ?l {{ <https://example.org/nothing> <{LABEL}> ?l }}", {"Accept": JSON}),  # no rows
]

HANDED_TO_FLASK = [
    (f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}", {"Origin": "https://example.org"}),  # CORS echoes the origin
    (f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}", {"If-None-Match": '"whatever"'}),
    (f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}", {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}),
    (f"DESCRIBE <{UKFECHAT}>", {"Accept": "text/turtle", "Accept-Encoding": "gzip"}),  # large: compressed
    (f"SELECT ?l {{ <{UKFECHAT}> rdfs:label ?l }}", {}),  # undeclared prefix: a syntax error
    (f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}", {"Accept": "image/png"}),  # 406
    (f"DESCRIBE <{UKFECHAT}>", {"Accept": JSON}),  # a graph, and no graph format accepted: 406
    ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", {}),  # not a bounded lookup
    (f'SELECT ?l {{ <{UKFECHAT}> <{LABEL}> "x" }}', {}),  # a string: outside the lookup grammar
    ("", {}),
    (None, {"Accept": "text/html"}),  # no query: the query editor
]


@pytest.mark.parametrize(("query", "headers"), ANSWERED_FAST)
def test_a_plain_lookup_is_answered_in_front_of_flask_exactly_as_flask_answers_it(
    app: Flask, query: str, headers: dict[str, str]
) -> None:
    whole, flask_only, answered_fast = both(app, query, headers)
    assert answered_fast
    assert whole == flask_only
    assert whole[0] == "200 OK"


@pytest.mark.parametrize(("query", "headers"), HANDED_TO_FLASK)
def test_anything_else_is_answered_by_flask(app: Flask, query: str | None, headers: dict[str, str]) -> None:
    whole, flask_only, answered_fast = both(app, query, headers)
    assert not answered_fast
    assert whole == flask_only


def test_other_methods_paths_and_parameters_go_to_flask(app: Flask) -> None:
    query = f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}"
    whole, _, answered_fast = both(app, query, {}, method="HEAD")
    assert not answered_fast and whole[0] == "200 OK"
    recorder = app.wsgi_app.application.application
    before = recorder.calls
    for query_string in (f"query={quote(query)}&format=xml", f"format=xml&query={quote(query)}"):
        status, _, _ = call_raw(app, "/sparql", query_string)
        assert status == "200 OK"
    status, _, _ = call_raw(app, "/sparql/", f"query={quote(query)}")
    assert status == "200 OK"
    assert recorder.calls == before + 3


def call_raw(app: Flask, path: str, query_string: str) -> tuple:
    environ_app = app.wsgi_app

    def with_path(environ: dict, start_response: Callable) -> object:
        environ["PATH_INFO"], environ["QUERY_STRING"] = path, query_string
        return environ_app(environ, start_response)

    return call(with_path, None, {})


def test_metrics_count_the_lookups_answered_in_front_of_flask(app: Flask) -> None:
    def requests_counted() -> float:
        _, _, body = call_raw(app, "/metrics", "")
        lines = body.decode().splitlines()
        counted = [line for line in lines if line.startswith("copgraph_requests_total") and 'route="/sparql"' in line]
        return sum(float(line.rsplit(" ", 1)[1]) for line in counted if 'status="200"' in line)

    before = requests_counted()
    whole, _, answered_fast = both(app, f"SELECT ?l {{ <{UKFECHAT}> <{LABEL}> ?l }}", {})
    assert answered_fast
    assert requests_counted() == before + 2  # once in front of Flask, once by Flask for the comparison
