"""Mapping between canonical IRIs (under the configured base, e.g. https://w3id.org/copgraph/) and this server's
own paths, so that records and pages work on 127.0.0.1 and on a deployed host alike."""

from __future__ import annotations

from copgraph.web.http.context import config


def local_href(iri: str) -> str:
    """This server's path for a canonical IRI (`/id/community/ukfechat`), or the IRI itself if it is not ours."""
    base = config().base
    return "/" + iri[len(base) :] if iri.startswith(base) else iri


def canonical_iri(path: str) -> str:
    """The canonical IRI of one of this server's paths: `/id/community/ukfechat` → `<base>id/community/ukfechat`."""
    return config().base + path.lstrip("/")
