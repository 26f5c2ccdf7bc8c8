"""Maintainer sessions: a signed cookie that lives no longer than the token it was made from, and ends on logout.

A maintainer logs in with the shared secret or a minted, expiring token (`auth`). The cookie is signed with a key
derived from the secret (changing the secret ends every session), says when it expires — the minted token's expiry,
or `SESSION_SECONDS` for the secret itself — and names a session id kept on the server (`Config.sessions_dir`, one
empty file per session, shared by the workers of one machine). A session is valid only while it has not expired and
its file exists: logout removes the file, so a copied cookie is dead once its owner logs out.

The cookie is `HttpOnly`, `SameSite=Strict` and, when the request reached copgraph over HTTPS (directly, or through a
proxy named in `COPGRAPH_TRUSTED_PROXY` that says so in `X-Forwarded-Proto`), `Secure`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

from copgraph.web.http.auth import token_expiry
from copgraph.web.http.context import config
from copgraph.web.http.ratelimit import trusted_proxies

SESSION_SECONDS = 8 * 3600  # a session made from the shared secret (which never expires) lasts a working day


class MaintainerSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure per request (Flask's own setting is one value for every request)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return served_over_https()


def served_over_https() -> bool:
    if request.scheme == "https":
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
    return forwarded == "https" and (request.remote_addr or "") in trusted_proxies()


def register(app: Flask) -> None:
    """Sign sessions with a key derived from the maintainer token, and use the interface above."""
    token = app.config["COPGRAPH"].maintainer_token
    if token and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = hmac.new(token.encode(), b"copgraph-session", hashlib.sha256).hexdigest()
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=SESSION_SECONDS)
    app.session_interface = MaintainerSessionInterface()


def start(given_token: str) -> None:
    """Log in: a new session (any previous one in this cookie is ended) that expires with the token it was made from."""
    end()
    expires = min(token_expiry(given_token) or float("inf"), time.time() + SESSION_SECONDS)
    sid = secrets.token_urlsafe(24)
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    (folder / sid).write_text(str(int(expires)), encoding="ascii")
    session.permanent = True
    session["maintainer"] = True
    session["sid"] = sid
    session["expires"] = int(expires)
    session["csrf"] = secrets.token_urlsafe(24)


def valid() -> bool:
    """Whether the request carries a live maintainer session: not expired, not logged out."""
    sid, expires = session.get("sid"), session.get("expires")
    if not session.get("maintainer") or not isinstance(sid, str) or not isinstance(expires, int):
        return False
    if time.time() >= expires or not _safe(sid) or not (_folder() / sid).is_file():
        session.clear()
        return False
    return True


def end() -> None:
    """Log out: the session's server-side record is removed, so the cookie is refused even if someone kept a copy."""
    sid = session.get("sid")
    if isinstance(sid, str) and _safe(sid):
        (_folder() / sid).unlink(missing_ok=True)
    session.clear()


def _folder() -> Path:
    return config().sessions_dir


def _safe(sid: str) -> bool:
    return sid.replace("-", "").replace("_", "").isalnum() and len(sid) <= 64


def _prune(folder: Path) -> None:
    """Remove the records of sessions that have expired (each file holds its expiry)."""
    now = time.time()
    for record in folder.iterdir():
        try:
            if int(record.read_text(encoding="ascii") or 0) <= now:
                record.unlink(missing_ok=True)
        except (OSError, ValueError):
            record.unlink(missing_ok=True)
