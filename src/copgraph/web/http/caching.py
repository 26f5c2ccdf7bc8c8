"""HTTP caching of reads: every answer about one dataset version carries the same validators, decided here.

A dataset version never changes once built, so its answers are cacheable (`COPGRAPH_CACHE_CONTROL`) and validated by
an ETag made of the version and the media type; a write or build makes a new version and with it new ETags.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from flask import Response, request
from werkzeug.http import http_date

from copgraph.web.http.context import config


def conditional(response: Response, version: str, media_type: str, built_at: str) -> Response:
    """A read of one dataset version made cacheable: Cache-Control, an ETag from the version and media type,
    Last-Modified from the build; 304 when If-None-Match or If-Modified-Since shows the client's copy is current."""
    headers = response.headers
    headers["Cache-Control"] = config().cache_control
    headers["ETag"] = f'"{version}-{media_type}"'
    headers["Last-Modified"] = last_modified(built_at)
    if "HTTP_IF_NONE_MATCH" in request.environ or "HTTP_IF_MODIFIED_SINCE" in request.environ:
        return response.make_conditional(request)
    return response


@lru_cache(maxsize=64)
def last_modified(built_at: str) -> str:
    """The HTTP date of a build time (ISO 8601, UTC), remembered: every response of a version carries it."""
    return http_date(datetime.fromisoformat(built_at.replace("Z", "+00:00")))
