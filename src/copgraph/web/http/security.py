"""Security headers on every response: what a browser may load, frame, sniff and send on from a copgraph page.

The policy allows no inline script and no inline style but one (by its hash): the site's pages, the map
(Cytoscape.js) and the query editor (YASGUI) load their scripts and style sheets from this server only, which
tests/test_security.py checks in a real browser under this very policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask

YASR_COLUMN_STYLE = "sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk="
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        # YASR (the editor's results table) injects one fixed <style> element for resizable columns: its hash lets
        # that exact text in, and no other inline style.
        f"style-src 'self' '{YASR_COLUMN_STYLE}'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    # The site uses none of these powerful features; no page (or anything injected into one) may ask for them.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def register(app: Flask) -> None:
    """Add the security headers to every response, errors included, unless a view set its own value.

    Done around the WSGI application, on the plain list of headers, rather than in an after_request hook: five
    lookups in werkzeug's Headers cost about as much as answering a lookup query."""
    app.wsgi_app = SecurityHeaders(app.wsgi_app)


class SecurityHeaders:
    def __init__(self, application: Callable):
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        def start_with_headers(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable:
            present = {name.lower() for name, _ in headers}
            headers.extend(item for item in _HEADER_ITEMS if item[0].lower() not in present)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.application(environ, start_with_headers)


_HEADER_ITEMS = tuple(HEADERS.items())
