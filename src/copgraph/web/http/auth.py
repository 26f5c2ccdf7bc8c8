"""Maintainer authentication for every write route: a bearer token compared in constant time.

Two kinds of token are accepted: the shared secret itself (COPGRAPH_MAINTAINER_TOKEN), and an expiring token minted
from it by `copgraph token --expires-in SECONDS`: `copgraph1.<expiry>.<HMAC-SHA256(secret, expiry)>`. A minted token
can be handed out for a while without handing out the secret; changing the secret revokes every minted token.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import Response, request

from copgraph.web.http.context import config
from copgraph.web.http.errors import error_response

PREFIX = "copgraph1"


def mint_token(secret: str, expires_in: float, now: float | None = None) -> str:
    """A bearer token that require_maintainer accepts until `expires_in` seconds from now (Unix time, whole seconds)."""
    if not secret:
        raise ValueError("set COPGRAPH_MAINTAINER_TOKEN (the shared secret) before minting a token")
    if expires_in <= 0:
        raise ValueError("--expires-in must be a positive number of seconds")
    expiry = int((time.time() if now is None else now) + expires_in)
    return f"{PREFIX}.{expiry}.{_signature(secret, expiry)}"


def _signature(secret: str, expiry: int) -> str:
    return hmac.new(secret.encode(), f"{PREFIX}.{expiry}".encode(), hashlib.sha256).hexdigest()


def check_token(given: str, secret: str, now: float | None = None) -> str | None:
    """None if `given` is the secret or a minted token that has not expired; otherwise why it is refused."""
    if hmac.compare_digest(given.encode(), secret.encode()):
        return None
    prefix, _, rest = given.partition(".")
    expiry_text, _, signature = rest.partition(".")
    if prefix != PREFIX or not expiry_text.isascii() or not expiry_text.isdigit():
        return "The maintainer token is not valid for this server."
    expiry = int(expiry_text)
    # The signature is checked before the expiry, so a forged token never learns whether its date would pass.
    if not hmac.compare_digest(signature.encode(), _signature(secret, expiry).encode()):
        return "The maintainer token is not valid for this server."
    if (time.time() if now is None else now) >= expiry:
        return "The maintainer token has expired: mint a new one with `copgraph token --expires-in SECONDS`."
    return None


def token_expiry(given: str) -> int | None:
    """When a minted token (already checked) expires, in Unix seconds; None for the shared secret, which does not."""
    prefix, _, rest = given.partition(".")
    expiry_text = rest.partition(".")[0]
    return int(expiry_text) if prefix == PREFIX and expiry_text.isascii() and expiry_text.isdigit() else None


def require_maintainer() -> Response | None:
    """None if the request carries a valid maintainer token; otherwise the error response to send (nothing written)."""
    secret = config().maintainer_token
    if not secret:
        return error_response(
            403,
            "Writes are turned off on this server. A maintainer enables them by setting COPGRAPH_MAINTAINER_TOKEN "
            "and sending it as `Authorization: Bearer <token>`.",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _unauthorized("This is a write: send the maintainer token as `Authorization: Bearer <token>`.")
    refusal = check_token(given.strip(), secret)
    if refusal is None:
        return None
    if "expired" in refusal:
        return _unauthorized(refusal, 'error="invalid_token", error_description="expired"')
    return error_response(403, refusal)


def _unauthorized(message: str, detail: str = "") -> Response:
    challenge = 'Bearer realm="copgraph"' + (f", {detail}" if detail else "")
    return error_response(401, message, {"WWW-Authenticate": challenge})
