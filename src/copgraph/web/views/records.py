"""Records: `/id/{type}/{slug}` answers 303 to `/doc/{type}/{slug}`, the document about the thing, which renders one
graph (`model.record_graph.record_graph`) as HTML, Turtle, JSON-LD, N-Triples or RDF/XML, by Accept or by extension.

The server maps its own paths onto the configured canonical base, so `/doc/community/ukfechat` on any host is the
record of `<base>id/community/ukfechat`.
"""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, redirect, render_template, send_file

from copgraph.core.formats import Format
from copgraph.core.jsonld import CONTEXT_FILE
from copgraph.model.hubs import HUB_FACETS, hub
from copgraph.model.record_graph import record_exists, record_graph, serialize_record
from copgraph.web.http.caching import conditional
from copgraph.web.http.context import config, dataset, model_cache
from copgraph.web.http.errors import RequestError
from copgraph.web.http.links import canonical_iri
from copgraph.web.http.negotiation import HTML, RECORD_OFFERS, by_extension, negotiate, offered, vary
from copgraph.web.views.browse import site_index
from copgraph.web.views.record_page import record_page

blueprint = Blueprint("records", __name__)

# The types of thing the URI scheme names (docs/MODEL.md); a path with any other type is not a record.
TYPES = frozenset(
    {
        *("community", "platform", "presence", "hashtag", "theme", "organisation", "audit", "figure", "observation"),
        *("status", "governance", "platform-kind", "organisation-type", "measure", "activity", "scheme"),
        *("identifier", "identifier-scheme"),
    }
)
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A hashtag's slug is its normalised tag (shapes/hashtag.ttl), which may hold underscores (#AdvanceHE_chat).
HASHTAG_SLUG = re.compile(r"[a-z0-9_]+")
DATASET_PATH = "/dataset"


# --- Routes ------------------------------------------------------------------------------------------------------


@blueprint.route("/id/<kind>/<slug>")
def thing(kind: str, slug: str) -> Response:
    """The thing itself is not a document: 303 to the document about it (without the query string)."""
    iri = thing_iri(kind, slug)
    if iri is None or not record_exists(dataset(), iri):
        return not_found(negotiate(RECORD_OFFERS) or HTML, kind, slug, negotiated=True)
    return redirect(f"/doc/{kind}/{slug}", code=303)


@blueprint.route("/doc/<kind>/<name>")
def document(kind: str, name: str) -> Response:
    """The record in the format its extension names, or else the one Accept prefers (`Vary: Accept`)."""
    slug, dot, extension = name.partition(".")  # slugs hold no dots
    negotiated = not dot
    chosen = negotiate(RECORD_OFFERS) if negotiated else by_extension(RECORD_OFFERS, extension)
    if negotiated and chosen is None:
        offers = offered(RECORD_OFFERS)
        raise RequestError(406, f"None of the requested media types can answer. Offered: {offers}")
    iri = thing_iri(kind, slug)
    current = dataset()
    # A rendered record (body, Content-Type, Link) is kept among the worker's read models for the version served.
    key = ("record", kind, slug, chosen.name if chosen else "")
    cached = model_cache().get(current.version, key)
    if cached is not None:
        body, content_type, link = cached
        response = Response(body, content_type=content_type)
        response.headers["Link"] = link
    else:
        triples = record_graph(current, iri) if iri is not None and chosen is not None else []
        if not triples:
            return not_found(chosen or negotiate(RECORD_OFFERS) or HTML, kind, slug, negotiated=negotiated)
        response = render(triples, iri, kind, slug, chosen)
        rendered = (response.get_data(), response.content_type, response.headers["Link"])
        model_cache().put(current.version, key, rendered)
    if negotiated:
        vary(response)
    return conditional(response, current.version, chosen.media_type, current.metadata.built_at)


@blueprint.route("/hub/<kind>/<slug>")
def hub_json(kind: str, slug: str) -> Response:
    """The JSON twin of a hub page: a theme's, platform's, hashtag's, organisation's, audit's or status's
    communities and its connections (the record itself is at /doc/{kind}/{slug})."""
    iri = thing_iri(kind, slug)
    found = hub(site_index(), kind, iri) if iri is not None and kind in HUB_FACETS else None
    if found is None:
        raise RequestError(
            404,
            f"There is no hub for /{kind}/{slug}: hubs are made for the themes, platforms, hashtags, organisations, "
            "audits and statuses the data holds.",
        )
    current = dataset()
    response = jsonify(found.as_json() | {"iri": iri, "record": f"/doc/{kind}/{slug}"})
    return conditional(response, current.version, "application/json", current.metadata.built_at)


@blueprint.route("/context.jsonld")
def context() -> Response:
    """The JSON-LD context that records are compacted against (served from the package, as records use it)."""
    response = send_file(CONTEXT_FILE, mimetype="application/ld+json", conditional=True)
    response.headers["Cache-Control"] = config().cache_control
    return response


def thing_iri(kind: str, slug: str) -> str | None:
    """The canonical IRI for a type and slug, or None when either is not one a record can have."""
    pattern = HASHTAG_SLUG if kind == "hashtag" else SLUG
    if kind not in TYPES or not pattern.fullmatch(slug):
        return None
    return canonical_iri(f"id/{kind}/{slug}")


def render(triples: list[ox.Triple], iri: str, kind: str, slug: str, chosen: Format) -> Response:
    """The one graph in the chosen format, with Link headers to every format and to the dataset."""
    links = alternates(kind, slug)
    if chosen is HTML:
        page = record_page(triples, iri)
        thing_hub = hub(site_index(), kind, iri)  # the thing's communities and connections, for its kinds
        body = render_template("record.html", page=page, hub=thing_hub, alternates=links, metadata=dataset().metadata)
        response = Response(body, mimetype=HTML.media_type)
    else:
        # The canonical context IRI (resolved through the base's redirect to /context.jsonld), never one built from
        # the request's Host: the body is cached and carries an ETag, so it must be the same whoever asks.
        context_url = config().base + "context.jsonld"
        response = Response(serialize_record(triples, iri, chosen.name, context_url), mimetype=chosen.media_type)
    link_values = [f'<{link["href"]}>; rel="alternate"; type="{link["media_type"]}"' for link in links]
    response.headers["Link"] = ", ".join([*link_values, f'<{DATASET_PATH}>; rel="describedby"'])
    return response


def alternates(kind: str, slug: str) -> list[dict[str, str]]:
    """The record's document in every format, by extension URL."""
    return [
        {"href": f"/doc/{kind}/{slug}.{f.extension}", "media_type": f.media_type, "label": f.label}
        for f in RECORD_OFFERS
    ]


def not_found(chosen: Format, kind: str, slug: str, negotiated: bool) -> Response:
    """404 in the requested format: an HTML page for people, JSON for JSON-LD clients, plain text otherwise."""
    message = f"There is no copgraph record for /{kind}/{slug}: check the type and the slug (lower case)."
    if chosen is HTML:
        body = render_template("record_missing.html", message=message, metadata=dataset().metadata)
        response = Response(body, status=404, mimetype=HTML.media_type)
    elif chosen.name == "jsonld":
        response = Response(json.dumps({"status": 404, "error": message}), status=404, mimetype="application/json")
    else:  # the document asked for is RDF: its 404 is plain text, whatever else Accept would take
        response = Response(message + "\n", status=404, mimetype="text/plain")
    return vary(response) if negotiated else response
