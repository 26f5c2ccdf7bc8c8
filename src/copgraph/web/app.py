"""The Flask application: one factory, one blueprint per area of the site."""

from __future__ import annotations

from flask import Flask, Response
from flask_compress import Compress
from flask_cors import CORS

from copgraph.build.description import publish
from copgraph.core.config import Config
from copgraph.query.executor import Executor, QueryError
from copgraph.store.generations import StoreMissing
from copgraph.store.reader import StoreReader
from copgraph.store.writes import LocalWriter
from copgraph.web.http import errors, metrics, security
from copgraph.web.http.context import ResultCache
from copgraph.web.http.errors import error_response
from copgraph.web.views.sparql_fast import FastLookups


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["COPGRAPH"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.config["COMPRESS_MIMETYPES"] = COMPRESSED_TYPES
    app.config["COMPRESS_MIN_SIZE"] = 1024
    if config.remote_query_url:
        from copgraph.query.remote import connect

        reader, executor, writer = connect(config)
    else:
        reader = StoreReader(config.store_dir)
        executor = Executor(
            config.store_dir, config.query_timeout, config.query_memory_mb * 2**20, config.max_rows, reader
        )
        writer = LocalWriter(config, publish)
    app.extensions["copgraph.reader"] = reader
    app.extensions["copgraph.executor"] = executor
    app.extensions["copgraph.cache"] = ResultCache(config.result_cache_entries)
    app.extensions["copgraph.writer"] = writer

    # Reads are open to any origin; writes need a bearer token (not a cookie), so CORS cannot lend them authority.
    CORS(app, expose_headers=CORS_EXPOSED_HEADERS, max_age=86400)
    Compress(app)
    errors.register(app)
    app.wsgi_app = FastLookups(app, app.wsgi_app, CORS_EXPOSED_HEADERS)
    security.register(app)

    @app.errorhandler(QueryError)
    def store_failed(error: QueryError) -> Response:
        """A store that stops answering part way through any page (the remote one can) is its 503, not a 500."""
        return error_response(error.status, str(error), {"Retry-After": "5"} if error.status == 503 else {})

    @app.errorhandler(StoreMissing)
    def store_missing(error: StoreMissing) -> Response:
        """No store, or one that cannot be opened (missing, damaged): unavailable, not an internal error."""
        return error_response(503, f"Service unavailable: {error}", {"Retry-After": "30"})

    metrics.register(app)

    from copgraph.web.views import (
        browse,
        changes,
        contribute,
        dataset,
        editor,
        graph_store,
        health,
        home,
        network,
        queries,
        records,
        sparql,
        validate,
    )

    app.register_blueprint(home.blueprint)
    app.register_blueprint(browse.blueprint)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(graph_store.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(editor.blueprint)
    app.register_blueprint(queries.blueprint)
    app.register_blueprint(network.blueprint)
    app.register_blueprint(records.blueprint)
    app.register_blueprint(dataset.blueprint)
    app.register_blueprint(changes.blueprint)
    app.register_blueprint(validate.blueprint)
    app.register_blueprint(contribute.blueprint)
    return app


CORS_EXPOSED_HEADERS = ["ETag", "Copgraph-Truncated", "X-SPARQL-MaxRows", "Link", "Location"]
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/javascript",
    "application/json",
    "application/ld+json",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/rdf+xml",
    "application/sparql-results+json",
    "application/sparql-results+xml",
]
