"""Errors in one shape: a status and a message a person can act on, as plain text or JSON by Accept."""

from __future__ import annotations

import json

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

PLAIN, JSON = "text/plain", "application/json"


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    wants_json = request.accept_mimetypes.best_match([PLAIN, JSON], default=PLAIN) == JSON
    if wants_json and request.accept_mimetypes[JSON] > request.accept_mimetypes[PLAIN]:
        response = Response(json.dumps({"status": status, "error": message}), status=status, mimetype=JSON)
    else:
        response = Response(message + "\n", status=status, mimetype=PLAIN)
    response.headers.update(headers or {})
    return response


MESSAGES = {
    404: "Not found: there is nothing at {path}.",
    405: "Method {method} is not allowed on {path}.",
    413: "The request body is larger than this endpoint accepts ({limit} bytes). Send a smaller request.",
}


def register(app: Flask) -> None:
    """Answer every HTTP error (and any unexpected exception) in the one shape, never as an HTML stack trace."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        template = MESSAGES.get(error.code or 500)
        limit = app.config.get("MAX_CONTENT_LENGTH")
        message = (
            template.format(path=request.path, method=request.method, limit=limit)
            if template
            else (error.description or error.name)
        )
        headers = {}
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
            message += f" Allowed: {headers['Allow']}."
        return error_response(error.code or 500, message, headers)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "Internal error: the request could not be completed; it has been logged.")
