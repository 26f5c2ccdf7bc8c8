"""/healthz: is the store readable, and which dataset version is served."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from copgraph.store.generations import StoreMissing
from copgraph.web.http.context import backend

blueprint = Blueprint("health", __name__)


@blueprint.route("/healthz")
def healthz() -> Response:
    try:
        current = backend().check()
    except (StoreMissing, OSError) as error:
        response = jsonify({"status": "unavailable", "error": str(error)})
        response.status_code = 503
        return response
    return jsonify(
        {
            "status": "ok",
            "version": current.version,
            "built_at": current.metadata.built_at,
            "triples": current.metadata.triples,
        }
    )
