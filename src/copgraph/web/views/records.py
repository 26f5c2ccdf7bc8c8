"""Records: `/id/{type}/{slug}` answers 303 to `/doc/{type}/{slug}`, the document about the thing, which renders one
graph (copgraph.model.record_graph.record_graph) as HTML, Turtle, JSON-LD, N-Triples or RDF/XML, by Accept or by extension.

The server maps its own paths onto the configured canonical base, so `/doc/community/ukfechat` on any host is the
record of `<base>id/community/ukfechat`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import pyoxigraph as ox
from flask import Blueprint, Response, redirect, render_template, request, send_file
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS

from copgraph.core.jsonld import CONTEXT_FILE
from copgraph.core.vocab import COP, PREFIXES, SCHEMA
from copgraph.model.record_graph import record_exists, record_graph, serialize_record
from copgraph.query.executor import QueryOutcome
from copgraph.web.http.context import config, dataset, result_cache
from copgraph.web.http.errors import error_response
from copgraph.web.http.links import canonical_iri, local_href
from copgraph.web.views.sparql import conditional

blueprint = Blueprint("records", __name__)

# The types of thing the URI scheme names (docs/MODEL.md); a path with any other type is not a record.
TYPES = frozenset(
    {
        *("community", "platform", "presence", "hashtag", "theme", "organisation", "audit", "figure", "observation"),
        *("status", "governance", "platform-kind", "organisation-type", "measure", "activity", "scheme"),
    }
)
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A hashtag's slug is its normalised tag (shapes/hashtag.ttl), which may hold underscores (#AdvanceHE_chat).
HASHTAG_SLUG = re.compile(r"[a-z0-9_]+")
DATASET_PATH = "/dataset"


@dataclass(frozen=True)
class DocFormat:
    name: str  # "html", or a name in copgraph.core.formats.GRAPH_FORMATS
    extension: str
    media_type: str
    label: str
    aliases: tuple[str, ...] = ()  # other media types that clients send for it


FORMATS = (
    DocFormat("html", "html", "text/html", "HTML", ("application/xhtml+xml",)),
    DocFormat("turtle", "ttl", "text/turtle", "Turtle", ("application/x-turtle", "application/turtle")),
    DocFormat("jsonld", "jsonld", "application/ld+json", "JSON-LD", ("application/json",)),
    DocFormat("ntriples", "nt", "application/n-triples", "N-Triples", ("text/plain",)),
    DocFormat("rdfxml", "rdf", "application/rdf+xml", "RDF/XML", ("application/xml", "text/xml")),
)
HTML = FORMATS[0]
BY_EXTENSION = {f.extension: f for f in FORMATS}
# Canonical types first: on equal quality (`*/*`, `text/*`) the first listed wins, so a browser or curl gets HTML.
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS} | {alias: f for f in FORMATS for alias in f.aliases}


# --- Routes ------------------------------------------------------------------------------------------------------


@blueprint.route("/id/<kind>/<slug>")
def thing(kind: str, slug: str) -> Response:
    """The thing itself is not a document: 303 to the document about it (without the query string)."""
    iri = thing_iri(kind, slug)
    if iri is None or not record_exists(dataset(), iri):
        return not_found(negotiate() or HTML, kind, slug, vary=True)
    return redirect(f"/doc/{kind}/{slug}", code=303)


@blueprint.route("/doc/<kind>/<name>")
def document(kind: str, name: str) -> Response:
    """The record in the format its extension names, or else the one Accept prefers (`Vary: Accept`)."""
    slug, dot, extension = name.partition(".")  # slugs hold no dots
    negotiated = not dot
    chosen = negotiate() if negotiated else BY_EXTENSION.get(extension)
    if negotiated and chosen is None:
        offered = ", ".join(BY_MEDIA_TYPE)
        return _vary(error_response(406, f"None of the requested media types can answer. Offered: {offered}"))
    iri = thing_iri(kind, slug)
    current = dataset()
    # Rendered records are kept in the worker's result cache with query answers, emptied by any new version.
    key = ("record", kind, slug, chosen.name if chosen else "", request.host_url)
    cached = result_cache().get(current.version, key)
    if cached is not None:
        response = Response(cached.body, content_type=cached.media_type)
        response.headers["Link"] = cached.extra["link"]
    else:
        triples = record_graph(current, iri) if iri is not None and chosen is not None else []
        if not triples:
            return not_found(chosen or negotiate() or HTML, kind, slug, vary=negotiated)
        response = render(triples, iri, kind, slug, chosen)
        result_cache().put(
            key,
            QueryOutcome(
                "record",
                current.version,
                response.get_data(),
                response.content_type,
                extra={"link": response.headers["Link"]},
            ),
        )
    if negotiated:
        _vary(response)
    return conditional(response, current.version, chosen.media_type, current.metadata.built_at)


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


def negotiate() -> DocFormat | None:
    """The format Accept prefers (quality values honoured); HTML when the client states no preference."""
    if not request.accept_mimetypes:
        return HTML
    best = request.accept_mimetypes.best_match(list(BY_MEDIA_TYPE))
    return BY_MEDIA_TYPE[best] if best else None


def render(triples: list[ox.Triple], iri: str, kind: str, slug: str, chosen: DocFormat) -> Response:
    """The one graph in the chosen format, with Link headers to every format and to the dataset."""
    links = alternates(kind, slug)
    if chosen is HTML:
        page = record_page(triples, iri)
        body = render_template("record.html", page=page, alternates=links, metadata=dataset().metadata)
        response = Response(body, mimetype=HTML.media_type)
    else:
        context_url = request.host_url + "context.jsonld"
        response = Response(serialize_record(triples, iri, chosen.name, context_url), mimetype=chosen.media_type)
    link_values = [f'<{link["href"]}>; rel="alternate"; type="{link["media_type"]}"' for link in links]
    response.headers["Link"] = ", ".join([*link_values, f'<{DATASET_PATH}>; rel="describedby"'])
    return response


def alternates(kind: str, slug: str) -> list[dict[str, str]]:
    """The record's document in every format, by extension URL."""
    return [
        {"href": f"/doc/{kind}/{slug}.{f.extension}", "media_type": f.media_type, "label": f.label} for f in FORMATS
    ]


def not_found(chosen: DocFormat, kind: str, slug: str, vary: bool) -> Response:
    """404 in the requested format: an HTML page for people, JSON for JSON-LD clients, plain text otherwise."""
    message = f"There is no copgraph record for /{kind}/{slug}: check the type and the slug (lower case)."
    if chosen is HTML:
        body = render_template("record_missing.html", message=message, metadata=dataset().metadata)
        response = Response(body, status=404, mimetype=HTML.media_type)
    elif chosen.name == "jsonld":
        response = Response(json.dumps({"status": 404, "error": message}), status=404, mimetype="application/json")
    else:
        response = error_response(404, message)
    return _vary(response) if vary else response


def _vary(response: Response) -> Response:
    response.headers["Vary"] = "Accept"
    return response


# --- The HTML page: the same graph, arranged for a person ----------------------------------------------------------

RDF_TYPE, LABEL, PREF_LABEL, SOURCE = str(RDF.type), str(RDFS.label), str(SKOS.prefLabel), str(DCTERMS.source)
NAME_PROPERTIES = (PREF_LABEL, LABEL)
# Display names of properties, in the order a record lists them.
PROPERTY_LABELS = {
    str(p): label
    for p, label in (
        (SKOS.altLabel, "Alternate names"),
        (DCTERMS.description, "Description"),
        (SKOS.definition, "Definition"),
        (FOAF.homepage, "Homepage"),
        (SCHEMA.foundingDate, "Founded"),
        (COP.status, "Status"),
        (COP.statusNote, "Status note"),
        (COP.governance, "Governance"),
        (COP.hasPresence, "Presences"),
        (COP.onPlatform, "Platform"),
        (COP.handle, "Handle"),
        (SCHEMA.url, "Address"),
        (COP.hashtag, "Hashtags"),
        (COP.normalisedTag, "Normalised tag"),
        (COP.usedOn, "Used on"),
        (DCTERMS.subject, "Themes"),
        (COP.hostedBy, "Hosted by"),
        (COP.sponsoredBy, "Sponsored by"),
        (COP.fundedBy, "Funded by"),
        (COP.deliveredBy, "Delivered by"),
        (COP.partneredWith, "Partnered with"),
        (COP.supportedBy, "Supported by (role not stated)"),
        (COP.supportNote, "Support note"),
        (DCTERMS.isPartOf, "Part of"),
        (COP.platformKind, "Platform kind"),
        (COP.organisationType, "Organisation type"),
        (COP.auditYear, "Audit year"),
        (DCTERMS.publisher, "Publisher"),
        (SCHEMA.funder, "Funder"),
        (DCTERMS.issued, "Issued"),
        (DCTERMS.license, "Licence"),
        (COP.observedCommunity, "Community"),
        (COP.figureOf, "Figure of"),
        (COP.year, "Year"),
        (DCTERMS.date, "Date"),
        (COP.inAudit, "Audit"),
        (COP.measure, "Measure"),
        (COP.value, "Value"),
        (COP.unit, "Unit"),
        (COP.activityLevel, "Activity level"),
        (COP.memberCount, "Member count"),
        (COP.reportedFigure, "Reported figures"),
        (COP.observedName, "Name in the audit"),
        (COP.observedPlatform, "Platforms seen"),
        (RDFS.comment, "Comment"),
        (SKOS.prefLabel, "Preferred label"),
        (LABEL, "Name"),
        (SKOS.inScheme, "In scheme"),
        (SKOS.topConceptOf, "Top concept of"),
        (SKOS.hasTopConcept, "Top concepts"),
        (OWL.sameAs, "Same as"),
        (DCTERMS.source, "Sources"),
    )
}
DISPLAY_ORDER = {predicate: position for position, predicate in enumerate(PROPERTY_LABELS)}
# Statements about the thing made by another thing in its record, named from the thing's side.
INVERSE_LABELS = {str(COP.hasPresence): "Presence of"}
# Web addresses a page may link to; any other scheme in the data (javascript:, data:) is shown as text.
LINKABLE_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True)
class SectionSpec:
    heading: str
    properties: tuple[str, ...] = ()
    parts: str = ""  # "presences", "observations" or "figures": the record's parts, shown as a table


def _iris(*terms: object) -> tuple[str, ...]:
    return tuple(map(str, terms))


COMMUNITY_SECTIONS = (
    SectionSpec(
        "About", _iris(SKOS.altLabel, DCTERMS.description, FOAF.homepage, SCHEMA.foundingDate, DCTERMS.isPartOf)
    ),
    SectionSpec("Status", _iris(COP.status, COP.statusNote, COP.governance)),
    SectionSpec("Platforms and handles", _iris(COP.hasPresence), parts="presences"),
    SectionSpec("Hashtags", _iris(COP.hashtag)),
    SectionSpec("Themes", _iris(DCTERMS.subject)),
    SectionSpec(
        "Hosts, sponsors and funders",
        _iris(COP.hostedBy, COP.sponsoredBy, COP.fundedBy, COP.deliveredBy, COP.partneredWith, COP.supportedBy)
        + _iris(COP.supportNote),
    ),
    SectionSpec("Audit history and observations", parts="observations"),
    SectionSpec("Published figures", parts="figures"),
)
# Columns of the parts tables, in order; other properties the parts have follow.
PART_COLUMNS = {
    "presences": _iris(COP.onPlatform, COP.handle, SCHEMA.url),
    "observations": _iris(
        COP.year, DCTERMS.date, COP.inAudit, COP.observedName, COP.observedPlatform, COP.status, COP.activityLevel
    ),
    "figures": _iris(COP.year, COP.inAudit, COP.measure, COP.value, COP.unit),
}
PART_LABELS = {"presences": "Presence", "observations": "Observation", "figures": "Figure"}
# How a part is found from the record: a property of the record (forward) or of the part (pointing back).
PART_LINKS = {
    "presences": (str(COP.hasPresence), False),
    "observations": (str(COP.observedCommunity), True),
    "figures": (str(COP.figureOf), True),
}


@dataclass(frozen=True)
class Value:
    text: str
    href: str = ""  # this server's path for our IRIs, the address itself for other web pages; empty: plain text
    external: bool = False
    short: str = ""  # a shorter text for tables: a web page's host


@dataclass
class Entry:
    """One property of a thing and its values."""

    label: str
    values: list[Value]


@dataclass
class Part:
    """A presence, observation or figure shown as a row: its name and record, and its values by column."""

    name: str
    href: str
    cells: dict[str, list[Value]]


@dataclass
class Section:
    heading: str
    anchor: str
    entries: list[Entry] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (property, label) of a parts table
    parts: list[Part] = field(default_factory=list)
    part_label: str = ""  # the heading of the parts table's first column
    items: list[Value] = field(default_factory=list)  # a plain list (the sources)


@dataclass
class Page:
    iri: str
    name: str
    types: list[Value]
    sections: list[Section]


class Statements:
    """The record's graph by subject and property, with the label of every IRI it names."""

    def __init__(self, triples: list[ox.Triple]):
        self.by_subject: dict[str, dict[str, list[ox.NamedNode | ox.Literal]]] = defaultdict(lambda: defaultdict(list))
        for triple in triples:
            self.by_subject[triple.subject.value][triple.predicate.value].append(triple.object)

    def name(self, iri: str) -> str:
        """The label of an IRI (an English skos:prefLabel before rdfs:label), or "" if the record has none."""
        properties = self.by_subject.get(iri, {})
        for predicate in NAME_PROPERTIES:
            for value in properties.get(predicate, []):
                if isinstance(value, ox.Literal) and value.language in (None, "en"):
                    return value.value
        return ""

    def value(self, term: ox.NamedNode | ox.Literal) -> Value:
        if isinstance(term, ox.Literal):
            return Value(term.value)
        href = local_href(term.value)
        external = href == term.value
        name = self.name(term.value)
        if external and urlsplit(term.value).scheme not in LINKABLE_SCHEMES:
            return Value(name or term.value)
        text = name or curie(term.value) or (term.value if external else href)
        return Value(text, href, external, name or urlsplit(term.value).netloc or text)

    def values(self, subject: str, predicate: str) -> list[Value]:
        values = [self.value(term) for term in self.by_subject.get(subject, {}).get(predicate, [])]
        return sorted(values, key=lambda v: (v.text.casefold(), v.href))

    def referrers(self, iri: str, predicate: str) -> list[str]:
        """The subjects that state `predicate` with `iri` as its value."""
        target = ox.NamedNode(iri)
        return [s for s, properties in self.by_subject.items() if target in properties.get(predicate, [])]

    def parts(self, iri: str, kind: str) -> list[str]:
        link, pointing_back = PART_LINKS[kind]
        if pointing_back:
            return self.referrers(iri, link)
        return [term.value for term in self.by_subject.get(iri, {}).get(link, []) if isinstance(term, ox.NamedNode)]


def property_label(predicate: str) -> str:
    return PROPERTY_LABELS.get(predicate) or curie(predicate) or predicate


def curie(iri: str) -> str:
    """A vocabulary term as prefix:name (`org:Organization`), or "" if it is in none of the project's namespaces."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and iri != namespace:
            return f"{prefix}:{iri[len(namespace) :]}"
    return ""


def _display_order(predicate: str) -> tuple[int, str]:
    return (DISPLAY_ORDER.get(predicate, len(DISPLAY_ORDER)), property_label(predicate))


def record_page(triples: list[ox.Triple], iri: str) -> Page:
    """The record arranged for a person: a community in the sections people look for, anything else as one list
    of its statements; every statement of the thing appears once, and its sources last."""
    statements = Statements(triples)
    name = statements.name(iri) or iri
    own = statements.by_subject[iri]
    remaining = [p for p in sorted(own, key=_display_order) if p != RDF_TYPE and p != SOURCE]
    # A name already in the heading is not repeated below it.
    remaining = [p for p in remaining if not (p in NAME_PROPERTIES and [t.value for t in own[p]] == [name])]
    is_community = str(COP.CommunityOfPractice) in {t.value for t in own.get(RDF_TYPE, [])}
    sections = []
    for spec in COMMUNITY_SECTIONS if is_community else ():
        section = Section(spec.heading, _anchor(spec.heading))
        if spec.parts:
            section.columns, section.parts = _parts_table(statements, iri, spec.parts)
            section.part_label = PART_LABELS[spec.parts]
        else:
            section.entries = [Entry(property_label(p), statements.values(iri, p)) for p in spec.properties if p in own]
        remaining = [p for p in remaining if p not in spec.properties]
        if section.entries or section.parts:
            sections.append(section)
    leftover = [
        Entry(label, sorted((statements.value(ox.NamedNode(s)) for s in referrers), key=lambda v: v.text))
        for predicate, label in INVERSE_LABELS.items()
        if (referrers := statements.referrers(iri, predicate))
    ]
    leftover += [Entry(property_label(p), statements.values(iri, p)) for p in remaining]
    if leftover:
        heading = "Other statements" if is_community else "Details"
        sections.append(Section(heading, _anchor(heading), entries=leftover))
    if SOURCE in own:
        sections.append(Section("Sources", "sources", items=statements.values(iri, SOURCE)))
    types = sorted((_kind(statements, term) for term in own.get(RDF_TYPE, [])), key=lambda v: v.text)
    return Page(iri, name, types, sections)


def _kind(statements: Statements, term: ox.NamedNode) -> Value:
    """A class of the thing, for the subtitle: its label, lower case in the ontology ("community of practice"),
    begins with a capital."""
    value, name = statements.value(term), statements.name(term.value)
    return replace(value, text=name[:1].upper() + name[1:]) if name else value


def _anchor(heading: str) -> str:
    return re.sub(r"[^a-z]+", "-", heading.lower()).strip("-")


def _parts_table(statements: Statements, iri: str, kind: str) -> tuple[list[tuple[str, str]], list[Part]]:
    """The columns and rows of a parts table: preferred columns that some part fills, then the parts' other
    properties, sources last; rows by their first column (platform or year), then name."""
    parts = statements.parts(iri, kind)
    link_back = PART_LINKS[kind][0] if PART_LINKS[kind][1] else ""
    hidden = {RDF_TYPE, LABEL, link_back}
    present = {p for part in parts for p in statements.by_subject.get(part, {}) if p not in hidden}
    columns = [p for p in PART_COLUMNS[kind] if p in present]
    columns += sorted(present - set(columns) - {SOURCE}, key=_display_order)
    columns += [SOURCE] if SOURCE in present else []
    own_sources = statements.values(iri, SOURCE)
    rows = [
        Part(statements.name(part) or part, local_href(part), {p: statements.values(part, p) for p in columns})
        for part in parts
    ]
    for row in rows:  # the same list again in every row would hide what differs
        if own_sources and row.cells.get(SOURCE) == own_sources:
            row.cells[SOURCE] = [Value("The same as this record's", "#sources")]
    first = columns[0] if columns else ""
    rows.sort(key=lambda row: ([v.text for v in row.cells.get(first, [])], row.name))
    return [(p, property_label(p)) for p in columns], rows
