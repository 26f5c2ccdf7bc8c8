"""A record's HTML page: the record's one graph arranged for a person — names first, statements grouped and labelled
in reading order, links to what it points at, and a community's presences, observations and figures as tables. The
machine formats of the same graph are written by `model.record_graph`; this only arranges, it never queries."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS

from copgraph.core.vocab import ADMS, COP, PREFIXES, SCHEMA
from copgraph.web.http.links import local_href

RDF_TYPE, LABEL, PREF_LABEL, SOURCE = str(RDF.type), str(RDFS.label), str(SKOS.prefLabel), str(DCTERMS.source)
PRIMARY_TOPIC, IN_DATASET = str(FOAF.primaryTopic), "http://rdfs.org/ns/void#inDataset"
NAME_PROPERTIES = (PREF_LABEL, LABEL)
# Display names of properties, in the order a record lists them.
PROPERTY_LABELS = {
    str(p): label
    for p, label in (
        (SKOS.altLabel, "Alternate names"),
        (DCTERMS.description, "Description"),
        (SKOS.definition, "Definition"),
        (FOAF.homepage, "Homepage"),
        (FOAF.page, "Web page"),
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
        (COP.reportedFact, "Reported facts"),
        (RDFS.seeAlso, "See also"),
        (COP.observedName, "Name in the audit"),
        (COP.observedPlatform, "Platforms seen"),
        (RDFS.comment, "Comment"),
        (SKOS.prefLabel, "Preferred label"),
        (LABEL, "Name"),
        (SKOS.inScheme, "In scheme"),
        (SKOS.topConceptOf, "Top concept of"),
        (SKOS.hasTopConcept, "Top concepts"),
        (ADMS.identifier, "Identifiers"),
        (SKOS.notation, "Identifier"),
        (DCTERMS.conformsTo, "Scheme"),
        (ADMS.schemaAgency, "Scheme agency"),
        (SCHEMA.url, "Resolves to"),
        (COP.caveat, "Caveat"),
        (SCHEMA.sameAs, "Same as, in other datasets"),
        (OWL.sameAs, "Same as"),
        (DCTERMS.source, "Sources"),
    )
}
DISPLAY_ORDER = {predicate: position for position, predicate in enumerate(PROPERTY_LABELS)}
# Statements about the thing made by another thing in its record, named from the thing's side.
INVERSE_LABELS = {str(COP.hasPresence): "Presence of", str(ADMS.identifier): "Identifier of"}
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
        "About",
        _iris(SKOS.altLabel, DCTERMS.description, FOAF.homepage, FOAF.page, SCHEMA.foundingDate, DCTERMS.isPartOf),
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
    licence: Value | None = None  # the record's own dct:license and void:inDataset (record_graph.document_triples)
    dataset: Value | None = None


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
    page = Page(iri, name, types, sections)
    for document in statements.referrers(iri, PRIMARY_TOPIC):
        licences, datasets = statements.values(document, str(DCTERMS.license)), statements.values(document, IN_DATASET)
        page.licence = licences[0] if licences else None
        page.dataset = datasets[0] if datasets else None
    return page


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
