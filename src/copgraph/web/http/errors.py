"""Errors in one shape, rendered in one place.

A view that refuses a request raises `RequestError(status, message)`; the handler registered here (with those for
HTTP errors, store failures and anything unexpected) renders it by the request (`negotiation.ERROR_OFFERS`): an HTML
page in the site's frame for a browser, JSON `{"status": 404, "error": "..."}` for a client that prefers JSON, plain
text otherwise. Messages say what went wrong and what to do; no stack trace ever reaches a client.
"""

from __future__ import annotations

import json

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from copgraph.build.inputs import InputError
from copgraph.query.executor import QueryError
from copgraph.store.generations import StoreMissing
from copgraph.web.http.context import dataset
from copgraph.web.http.negotiation import ERROR_OFFERS, HTML, JSON, negotiate_header, vary


class RequestError(Exception):
    """A request copgraph refuses or cannot answer: its status, a message a person can act on, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The one rendering of an error: HTML for browsers, JSON for JSON clients, plain text otherwise."""
    chosen = None
    if request:  # `format=json` asks a page for its JSON twin, and so for its errors in JSON too
        wants = JSON if request.args.get("format") == "json" else None
        chosen = wants or negotiate_header(ERROR_OFFERS, request.headers.get("Accept", ""))
    response = None
    if chosen is HTML:
        response = _page(status, message)
    if response is None and chosen is JSON:
        response = Response(json.dumps({"status": status, "error": message}), status=status, mimetype=JSON.media_type)
    if response is None:
        response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers or {})
    return vary(response)


def _page(status: int, message: str) -> Response | None:
    """The error inside the site's frame; None if even that cannot be made (e.g. the store is gone), so the caller
    falls back to plain text rather than failing twice."""
    try:
        metadata = dataset().metadata
    except Exception:  # the store may be what failed: that only drops the footer's version
        metadata = None
    try:
        page = render_template("site_error.html", status=status, message=message, metadata=metadata)
    except Exception:  # a broken template must not hide the original error
        return None
    return Response(page, status=status, mimetype="text/html")


MESSAGES = {
    404: "Not found: there is nothing at {path}.",
    405: "Method {method} is not allowed on {path}.",
    413: "The request body is larger than this endpoint accepts ({limit} bytes). Send a smaller request.",
}


def register(app: Flask) -> None:
    """Answer every refusal, HTTP error, store failure and unexpected exception in the one shape."""

    @app.errorhandler(RequestError)
    def refused(error: RequestError) -> Response:
        return error_response(error.status, str(error), error.headers)

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

    @app.errorhandler(QueryError)
    def store_failed(error: QueryError) -> Response:
        """A store that stops answering part way through any page (the remote one can) is its 503, not a 500."""
        return error_response(error.status, str(error), {"Retry-After": "5"} if error.status == 503 else {})

    @app.errorhandler(InputError)
    def input_failed(error: InputError) -> Response:
        """Clients' RDF too large to check, or out of its budget in the input process (build.inputs)."""
        return error_response(error.status, str(error), {"Retry-After": "5"} if error.status == 503 else {})

    @app.errorhandler(StoreMissing)
    def store_missing(error: StoreMissing) -> Response:
        """No store, or one that cannot be opened (missing, damaged): unavailable, not an internal error."""
        return error_response(503, f"Service unavailable: {error}", {"Retry-After": "30"})

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "Internal error: the request could not be completed; it has been logged.")
