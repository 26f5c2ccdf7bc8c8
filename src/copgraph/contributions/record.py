"""The community record a contribution proposes: its triples, where it is published, and what approval would change.

A contribution becomes a record in the same shape as the facts conversion and audit imports write (the builders of
`core.things`). An update replaces only what the form covers and keeps the rest of the published record
(`proposed_record`); that proposed record is what SHACL validates, in the context of the published data, both when a
contribution is received (web/views/contribute.py) and again when it is approved (`review.py`). A SHACL result is
mapped back to the form field it concerns (`field_errors`), so the contributor is told which answer to change.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD

from copgraph.build.shacl import Report
from copgraph.contributions.answers import ROLES, Answers
from copgraph.contributions.known import Known
from copgraph.core.config import Config
from copgraph.core.things import add_hashtag, add_presences, hashtag_key, iri, new_graph
from copgraph.core.vocab import COP, GRAPH, PREFIXES, SCHEMA, thing
from copgraph.store.reader import Dataset


def community_graph(answers: Answers, known: Known) -> Graph:
    """The contribution as a community record, stated as every writer states one (`core.things`); hashtags the
    store does not know yet as cop:Hashtag, with the contribution's source."""
    graph = new_graph()
    community = iri("community", answers.slug)
    source = URIRef(answers.source)
    graph.add((community, RDF.type, COP.CommunityOfPractice))
    graph.add((community, RDFS.label, Literal(answers.name)))
    if answers.description:
        graph.add((community, DCTERMS.description, Literal(answers.description)))
    if answers.homepage:
        graph.add((community, FOAF.homepage, URIRef(answers.homepage)))
    if answers.founded:
        graph.add((community, SCHEMA.foundingDate, Literal(answers.founded, datatype=XSD.gYear)))
    graph.add((community, COP.status, iri("status", answers.status)))
    graph.add((community, COP.governance, iri("governance", answers.governance)))
    for theme in answers.themes:
        graph.add((community, DCTERMS.subject, iri("theme", theme)))
    for tag in answers.hashtags:
        key = hashtag_key(tag)
        graph.add((community, COP.hashtag, iri("hashtag", key)))
        if key not in known.hashtags:
            add_hashtag(graph, tag, [source])
    add_presences(graph, community, answers.slug, answers.name, answers.platforms, known.platforms, [source])
    if answers.organisation:
        graph.add((community, COP[answers.role], iri("organisation", answers.organisation)))
    graph.add((community, DCTERMS.source, source))
    return graph


def to_quads(graph: Graph, graph_name: str | None = None) -> list[ox.Quad]:
    """An rdflib graph as Oxigraph quads (through N-Triples, so every term is carried over exactly)."""
    target = ox.NamedNode(graph_name) if graph_name else ox.DefaultGraph()
    parsed = ox.parse(graph.serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES)
    return [ox.Quad(q.subject, q.predicate, q.object, target) for q in parsed]


def record_file(triples: list[ox.Triple]) -> bytes:
    """Turtle with our prefixes, statements grouped by subject in a stable order (readable diffs in git)."""
    ordered = sorted(dict.fromkeys(triples), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def turtle(triples: list[ox.Triple]) -> str:
    """The triples as the record file would hold them (shown on receipts)."""
    return record_file(triples).decode()


# Properties of a community that the form gives; an update replaces these and keeps every other statement (alternate
# names, notes, observations). Sources are added to, never replaced: the old ones still back the kept statements.
FORM_PROPERTIES = {
    str(p)
    for p in (
        RDFS.label,
        DCTERMS.description,
        FOAF.homepage,
        SCHEMA.foundingDate,
        COP.status,
        COP.governance,
        DCTERMS.subject,
        COP.hashtag,
        COP.hasPresence,
        *(COP[role] for role in ROLES),
    )
}


def proposed_record(current: list[ox.Triple], contributed: list[ox.Triple], community: str) -> list[ox.Triple]:
    """The community's graph as approval would leave it: the contribution, plus what the current record says that the
    form does not cover (and its sources). The community's old presences go: the contribution lists its presences."""
    old_presences = {
        t.object for t in current if t.subject.value == community and t.predicate.value == str(COP.hasPresence)
    }
    kept = [
        t
        for t in current
        if t.subject not in old_presences
        and not (t.subject.value == community and t.predicate.value in FORM_PROPERTIES)
    ]
    return list(dict.fromkeys(kept + contributed))


def diff(current: list[ox.Triple], proposed: list[ox.Triple]) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(added, removed) triples going from the current record to the proposed one, each in a stable order."""
    before, after = set(current), set(proposed)
    return sorted(after - before, key=str), sorted(before - after, key=str)


def record_path(config: Config, slug: str) -> Path:
    """The file a community's record is kept in (the source of truth the store is built from)."""
    return config.root / "data" / "communities" / f"{slug}.ttl"


def community_graph_name(slug: str) -> str:
    """The named graph the store holds a community's record in (the graph of its file)."""
    return str(GRAPH) + f"communities/{slug}"


def current_record(dataset: Dataset, slug: str) -> list[ox.Triple]:
    """The community's graph as the store serves it (empty for a new community)."""
    name = ox.NamedNode(community_graph_name(slug))
    return [q.triple for q in dataset.store.quads_for_pattern(None, None, None, name)]


# The form field each property of a record comes from, for SHACL results about it.
PATH_FIELDS = {
    str(RDFS.label): "name",
    str(DCTERMS.description): "description",
    str(FOAF.homepage): "homepage",
    str(SCHEMA.foundingDate): "founded",
    str(COP.status): "status",
    str(COP.governance): "governance",
    str(DCTERMS.subject): "themes",
    str(COP.hashtag): "hashtags",
    str(COP.hasPresence): "platforms",
    str(COP.onPlatform): "platforms",
    str(COP.handle): "platforms",
    str(SCHEMA.url): "platforms",
    str(DCTERMS.source): "source",
    **{str(COP[role]): "organisation" for role in ROLES},
}


def field_errors(report: Report) -> dict[str, list[str]]:
    """SHACL results mapped back to form fields by path (and by focus node: presences, hashtags); the rest under
    "form"."""
    errors: dict[str, list[str]] = {}
    for result in report.results:
        if result.focus_node.startswith(thing("presence", "")):
            name = "platforms"
        elif result.focus_node.startswith(thing("hashtag", "")):
            name = "hashtags"
        else:
            name = PATH_FIELDS.get(result.path or "", "form")
        if result.message not in errors.get(name, []):
            errors.setdefault(name, []).append(result.message)
    return errors
