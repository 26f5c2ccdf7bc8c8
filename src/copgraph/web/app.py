"""The Flask application: one factory, one blueprint per area of the site."""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress
from flask_cors import CORS

from copgraph.build.description import publish
from copgraph.build.inputs import Inputs
from copgraph.core.cache import VersionedCache
from copgraph.core.config import Config
from copgraph.query.backend import Backend
from copgraph.query.embedded import EmbeddedBackend
from copgraph.query.remote import RemoteBackend
from copgraph.web.http import errors, metrics, security
from copgraph.web.http.context import ResultCache
from copgraph.web.http.fast_lookups import FastLookups


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["COPGRAPH"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.config["COMPRESS_MIMETYPES"] = COMPRESSED_TYPES
    app.config["COMPRESS_MIN_SIZE"] = 1024
    # The one store this worker serves; everything above it sees only the contract (copgraph.query.backend).
    backend: Backend = RemoteBackend(config) if config.remote_query_url else EmbeddedBackend(config, publish)
    app.extensions["copgraph.backend"] = backend
    # Clients' RDF is parsed and validated in a process of its own, never here (build.inputs).
    app.extensions["copgraph.inputs"] = Inputs(config, embedded=isinstance(backend, EmbeddedBackend))
    app.extensions["copgraph.cache"] = ResultCache(config.result_cache_bytes)
    app.extensions["copgraph.models"] = VersionedCache(config.model_cache_bytes, setting="COPGRAPH_MODEL_CACHE_BYTES")

    # Reads are open to any origin; writes need a bearer token (not a cookie), so CORS cannot lend them authority.
    CORS(app, expose_headers=CORS_EXPOSED_HEADERS, max_age=86400)
    Compress(app)
    errors.register(app)
    app.wsgi_app = FastLookups(app, app.wsgi_app, CORS_EXPOSED_HEADERS)
    security.register(app)

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
        openapi,
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
    app.register_blueprint(openapi.blueprint)
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
