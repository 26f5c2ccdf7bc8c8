"""Errors in one shape: a status and a message a person can act on, as JSON or plain text by Accept."""

from __future__ import annotations

import json

from flask import Response, request


def error_response(status: int, message: str) -> Response:
    best = request.accept_mimetypes.best_match(["text/plain", "application/json"], default="text/plain")
    if best == "application/json":
        body = json.dumps({"status": status, "error": message})
        return Response(body, status=status, mimetype="application/json")
    return Response(message + "\n", status=status, mimetype="text/plain")
