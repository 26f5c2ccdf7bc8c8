"""Content negotiation for every route: which format answers a request, decided here and nowhere else.

Each kind of resource offers an ordered tuple of formats (below). One rule for every route: **a client that states no
preference — no `Accept` header, or `*/*` — gets the first format offered**, and quality values decide otherwise
(aliases such as `application/json` for JSON-LD count after the canonical types, so they never win a tie).

- a thing's record (`/id`, `/doc`): HTML, Turtle, JSON-LD, N-Triples, RDF/XML — people follow links to things;
- vocabulary and dataset documents (`/def/*`, `/dataset`, `/.well-known/void`): Turtle, HTML, JSON-LD, N-Triples,
  RDF/XML — harvesters and reasoners read them (VoID's own recommendation is Turtle);
- SELECT / ASK answers: SPARQL JSON, SPARQL XML, CSV, TSV; CONSTRUCT / DESCRIBE answers and graphs (`/store`):
  Turtle, N-Triples, JSON-LD, RDF/XML, N-Quads, TriG;
- pages with a JSON twin (lists, search, contributions): HTML, JSON;
- APIs with an HTML twin: the canned-query catalogue (`/queries`): JSON, HTML; validation reports (`/validate`):
  JSON, Turtle (`sh:ValidationReport`), HTML;
- errors: plain text, JSON, HTML — a browser ranks HTML first and gets the page in the site's frame.

`format=` (a short name, its alias, or a media type) overrides `Accept` where a route takes it. Every negotiated
response says `Vary: Accept` (`vary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from flask import Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.utils import get_content_type

from copgraph.core.formats import GRAPH_FORMATS, NAME_ALIASES, RESULT_FORMATS, Format

HTML = Format("html", "text/html", None, "html", "HTML", ("application/xhtml+xml",))
JSON = Format("json", "application/json", None, "json", "JSON")
TEXT = Format("text", "text/plain", None, "txt", "Plain text")

_DOCUMENT_RDF = tuple(GRAPH_FORMATS[name] for name in ("turtle", "jsonld", "ntriples", "rdfxml"))
RECORD_OFFERS = (HTML, *_DOCUMENT_RDF)
DOCUMENT_OFFERS = (_DOCUMENT_RDF[0], HTML, *_DOCUMENT_RDF[1:])
SELECT_OFFERS = tuple(RESULT_FORMATS.values())
GRAPH_OFFERS = tuple(GRAPH_FORMATS.values())
PAGE_OFFERS = (HTML, JSON)
CATALOGUE_OFFERS = (JSON, HTML)
REPORT_OFFERS = (JSON, GRAPH_FORMATS["turtle"], HTML)
ERROR_OFFERS = (TEXT, JSON, HTML)


def negotiate(offers: Sequence[Format]) -> Format | None:
    """The offered format the request's `Accept` prefers; the first offered when it states no preference; None when
    it accepts none of them (the caller answers 406 with `offered(offers)`)."""
    return negotiate_header(tuple(offers), request.headers.get("Accept", ""))


@lru_cache(maxsize=512)
def negotiate_header(offers: tuple[Format, ...], accept_header: str) -> Format | None:
    """`negotiate` for a given header. Clients send few distinct headers, and matching one against every offered type
    costs more than a lookup query, so answers are remembered (the key is a small tuple and the header)."""
    accept = parse_accept_header(accept_header, MIMEAccept)
    if not accept:
        return offers[0]
    by_type = {f.media_type: f for f in offers} | {
        alias: f for f in offers for alias in f.aliases if alias not in {o.media_type for o in offers}
    }
    best = accept.best_match(list(by_type))
    return by_type[best] if best else None


def by_name(offers: Sequence[Format], requested: str) -> Format | None:
    """The offered format a `format=` value names: its short name, an alias of the name, or a media type."""
    name = NAME_ALIASES.get(requested, requested)
    for f in offers:
        if name == f.name or requested == f.media_type or requested in f.aliases:
            return f
    return None


def by_extension(offers: Sequence[Format], extension: str) -> Format | None:
    return next((f for f in offers if f.extension == extension), None)


def offered(offers: Sequence[Format]) -> str:
    """The offered media types, for a 406 message."""
    return ", ".join(f.media_type for f in offers)


def prefers_html() -> bool:
    """Whether the client ranks HTML above plain text and JSON: a browser does; curl (`*/*`) and scripts do not."""
    return negotiate(ERROR_OFFERS) is HTML


def vary(response: Response) -> Response:
    """Mark a negotiated response: caches must key it by `Accept`."""
    response.vary.add("Accept")
    return response


@lru_cache(maxsize=64)
def content_type_of(media_type: str) -> str:
    """The Content-Type of an answer: werkzeug's (a charset for text/* and XML) and UTF-8 named for the SPARQL
    results formats too, whose specifications fix it."""
    content_type = get_content_type(media_type, "utf-8")
    if "charset" not in content_type and media_type.startswith(("text/", "application/sparql")):
        content_type = f"{media_type}; charset=utf-8"
    return content_type
