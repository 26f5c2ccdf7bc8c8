"""The Flask application: one factory, one blueprint per area of the site."""

from __future__ import annotations

from flask import Flask

from copgraph.config import Config
from copgraph.store import StoreReader


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["COPGRAPH"] = config
    app.extensions["copgraph.reader"] = StoreReader(config.store_dir)

    from copgraph.web import pages, sparql_endpoint

    app.register_blueprint(pages.blueprint)
    app.register_blueprint(sparql_endpoint.blueprint)
    return app
