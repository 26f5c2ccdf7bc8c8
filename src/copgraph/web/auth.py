"""Maintainer authentication for every write route: a bearer token from configuration, compared in constant time."""

from __future__ import annotations

import hmac

from flask import Response, request

from copgraph.web.errors import error_response
from copgraph.web.store_access import config


def require_maintainer() -> Response | None:
    """None if the request carries the maintainer's token; otherwise the error response to send (nothing written)."""
    token = config().maintainer_token
    if not token:
        return error_response(
            403,
            "Writes are turned off on this server. A maintainer enables them by setting COPGRAPH_MAINTAINER_TOKEN "
            "and sending it as `Authorization: Bearer <token>`.",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return error_response(
            401,
            "This is a write: send the maintainer token as `Authorization: Bearer <token>`.",
            {"WWW-Authenticate": 'Bearer realm="copgraph"'},
        )
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return error_response(403, "The maintainer token is not valid for this server.")
    return None
