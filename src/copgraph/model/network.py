"""The network of networks, the read model behind /map, /map/network.json and /charts: communities as nodes, joined to
what they share (themes, hashtags, organisations in any supporting role, platforms) and to the communities they are
part of, with what decides in which years each community is on the map (YEAR_RULE).

Built with five SPARQL queries from one dataset version and kept in the worker's cache of read models
(copgraph.core.cache), so a build or a write shows at once and an unchanged dataset costs no query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from copgraph.core.vocab import sparql_prefixes
from copgraph.model.rows import rows
from copgraph.store.reader import Dataset

CLOSED = "https://w3id.org/copgraph/id/status/closed"
KINDS = ("community", "theme", "hashtag", "organisation", "platform")

YEAR_RULE = (
    "A community is on the map in a year when it was founded in or before that year and no dated observation records "
    "it as closed before that year, or when an observation (from an audit or a public source) is dated in that year. "
    "Communities without a recorded founding year or a dated observation appear only under “All years”."
)
THEME_RULE = "A theme keeps the communities with that theme and everything they connect to."

COMMUNITIES_QUERY = (
    sparql_prefixes()
    + """
SELECT ?community (SAMPLE(?name) AS ?label) (SAMPLE(?founded) AS ?founding) (SAMPLE(?statusName) AS ?status)
WHERE {
  ?community a cop:CommunityOfPractice ; rdfs:label ?name .
  OPTIONAL { ?community schema:foundingDate ?founded }
  OPTIONAL { ?community cop:status/skos:prefLabel ?statusName }
}
GROUP BY ?community
"""
)

# One row per connection. Organisation roles are every sub-property of cop:supportedBy that the ontology declares, so
# a new role needs no change here.
CONNECTIONS_QUERY = (
    sparql_prefixes()
    + """
SELECT DISTINCT ?community ?kind ?target ?targetLabel ?roleLabel WHERE {
  ?community a cop:CommunityOfPractice .
  {
    ?community dct:subject ?target . BIND("theme" AS ?kind)
  } UNION {
    ?community cop:hashtag ?target . BIND("hashtag" AS ?kind)
  } UNION {
    ?community cop:hasPresence/cop:onPlatform ?target . BIND("platform" AS ?kind)
  } UNION {
    ?community ?role ?target . ?role rdfs:subPropertyOf* cop:supportedBy . BIND("organisation" AS ?kind)
    OPTIONAL { ?role rdfs:label ?roleName }
    BIND(COALESCE(?roleName, "supported by") AS ?roleLabel)
  }
  OPTIONAL { ?target skos:prefLabel ?prefLabel }
  OPTIONAL { ?target rdfs:label ?plainLabel }
  BIND(COALESCE(?prefLabel, ?plainLabel, STR(?target)) AS ?targetLabel)
}
"""
)

PART_OF_QUERY = (
    sparql_prefixes()
    + """
SELECT DISTINCT ?community ?whole WHERE {
  ?community a cop:CommunityOfPractice ; dct:isPartOf ?whole . ?whole a cop:CommunityOfPractice .
}
"""
)

# The year of an observation is its cop:year, else the year of the audit that made it (docs/MODEL.md).
OBSERVATIONS_QUERY = (
    sparql_prefixes()
    + f"""
SELECT ?community ?year ?closed WHERE {{
  ?observation cop:observedCommunity ?community .
  OPTIONAL {{ ?observation cop:year ?ownYear }}
  OPTIONAL {{ ?observation cop:inAudit/cop:auditYear ?auditYear }}
  BIND(COALESCE(?ownYear, ?auditYear) AS ?year)
  FILTER(BOUND(?year))
  OPTIONAL {{ ?observation cop:status ?status }}
  BIND(COALESCE(?status = <{CLOSED}>, false) AS ?closed)
}}
"""
)

AUDITS_QUERY = (
    sparql_prefixes()
    + """
SELECT ?audit ?year (SAMPLE(?name) AS ?label)
WHERE { ?audit a cop:SectorAudit ; cop:auditYear ?year ; rdfs:label ?name }
GROUP BY ?audit ?year ORDER BY ?year
"""
)


@dataclass
class Node:
    """A thing on the map: a community, or a theme, hashtag, organisation or platform that communities share."""

    iri: str
    label: str
    kind: str
    href: str


@dataclass
class Community(Node):
    """A community with what decides in which years it is on the map."""

    founded: int | None = None
    closed: int | None = None  # earliest year a dated observation records it as closed
    observed: set[int] = field(default_factory=set)
    status: str = ""

    def on_map_in(self, year: int) -> bool:
        """True when the community is on the map in `year` (YEAR_RULE; map.js applies the same rule)."""
        lasting = self.founded is not None and self.founded <= year and (self.closed is None or self.closed >= year)
        return lasting or year in self.observed


@dataclass
class Edge:
    """A connection from a community to what it shares; `label` says how (a role such as "hosted by")."""

    source: str
    target: str
    kind: str
    label: str


@dataclass
class Audit:
    """A sector audit, as the map's years and the charts' groups need it."""

    iri: str
    year: int
    label: str
    href: str


@dataclass
class Network:
    """The whole network for one dataset version."""

    version: str
    communities: dict[str, Community]
    others: dict[str, Node]
    edges: list[Edge]
    audits: list[Audit]

    @property
    def years(self) -> list[int]:
        """Every year from the earliest to the latest the data dates anything in, newest first."""
        dated = [c.founded for c in self.communities.values() if c.founded is not None]
        dated += [year for c in self.communities.values() for year in c.observed] + [a.year for a in self.audits]
        return list(range(max(dated), min(dated) - 1, -1)) if dated else []

    def themes(self) -> list[tuple[Node, int]]:
        """The themes communities have, with how many have each, by label."""
        counts: dict[str, int] = defaultdict(int)
        for edge in self.edges:
            if edge.kind == "theme":
                counts[edge.target] += 1
        return sorted(((self.others[iri], n) for iri, n in counts.items()), key=lambda pair: pair[0].label.lower())

    def theme_by_slug(self, slug: str) -> Node | None:
        return next((theme for theme, _ in self.themes() if slug_of(theme.iri) == slug), None)

    def selected(self, theme: str | None = None, year: int | None = None) -> list[Community]:
        """The communities a filter keeps (THEME_RULE, YEAR_RULE), by name."""
        with_theme = {e.source for e in self.edges if e.kind == "theme" and e.target == theme} if theme else None
        kept = [
            community
            for community in self.communities.values()
            if (with_theme is None or community.iri in with_theme) and (year is None or community.on_map_in(year))
        ]
        return sorted(kept, key=lambda c: c.label.lower())

    def connections(self, communities: list[Community]) -> dict[str, list[Edge]]:
        """Each community's own edges, by kind and then by the label of what they lead to."""
        wanted = {c.iri for c in communities}
        found: dict[str, list[Edge]] = {iri: [] for iri in wanted}
        for edge in self.edges:
            if edge.source in wanted:
                found[edge.source].append(edge)
        for edges in found.values():
            edges.sort(key=lambda e: (KINDS.index(e.kind) if e.kind in KINDS else 0, self.label_of(e.target).lower()))
        return found

    def shared(self, communities: list[Community]) -> list[tuple[Node, list[Community]]]:
        """What two or more of `communities` share (themes, hashtags, organisations, platforms), most shared first."""
        by_iri = {c.iri: c for c in communities}
        sharing: dict[str, list[Community]] = defaultdict(list)
        for edge in self.edges:
            if edge.source in by_iri and edge.target in self.others and by_iri[edge.source] not in sharing[edge.target]:
                sharing[edge.target].append(by_iri[edge.source])
        hubs = [(self.others[iri], sorted(members, key=lambda c: c.label.lower())) for iri, members in sharing.items()]
        return sorted((hub for hub in hubs if len(hub[1]) > 1), key=lambda hub: (-len(hub[1]), hub[0].label.lower()))

    def label_of(self, iri: str) -> str:
        node = self.communities.get(iri) or self.others.get(iri)
        return node.label if node else iri

    def as_json(self) -> dict[str, Any]:
        """The network as /map/network.json serves it: nodes and edges ready for Cytoscape.js, and the rules."""
        nodes = [
            {
                "id": c.iri,
                "label": c.label,
                "kind": c.kind,
                "links": {"local_href": c.href},
                "founded": c.founded,
                "closed": c.closed,
                "observed": sorted(c.observed),
                "status": c.status,
            }
            for c in sorted(self.communities.values(), key=lambda c: c.label.lower())
        ]
        nodes += [
            {"id": n.iri, "label": n.label, "kind": n.kind, "links": {"local_href": n.href}}
            for n in sorted(self.others.values(), key=lambda n: (KINDS.index(n.kind), n.label.lower()))
        ]
        edges = [
            {
                "id": f"{e.source} {e.kind} {e.target}",
                "source": e.source,
                "target": e.target,
                "kind": e.kind,
                "label": e.label,
            }
            for e in self.edges
        ]
        return {
            "version": self.version,
            "definitions": {
                "year": YEAR_RULE,
                "theme": THEME_RULE,
                "founded": "the community's schema:foundingDate year, or null when no source gives it",
                "closed": "the earliest year a dated observation records the community as closed, or null",
                "observed": "the years of the community's dated observations",
                "links.local_href": "the path on this server that resolves the node's IRI to its record",
            },
            "years": self.years,
            "audit_years": [a.year for a in self.audits],
            "themes": [
                {"id": t.iri, "slug": slug_of(t.iri), "label": t.label, "communities": n} for t, n in self.themes()
            ],
            "nodes": nodes,
            "edges": edges,
        }


def slug_of(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def year_of(text: str) -> int | None:
    """The year at the start of an xsd:gYear, xsd:gYearMonth or xsd:date lexical form, or None."""
    digits = text.lstrip("-")[:4]
    return int(digits) if digits.isdigit() else None


def build_network(current: Dataset, href: Callable[[str], str]) -> Network:
    """Read the network of one dataset version with five SPARQL queries; `href` maps an IRI to this server's path."""
    communities = {
        row["community"]: Community(
            row["community"],
            row["label"] or row["community"],
            "community",
            href(row["community"]),
            founded=year_of(row["founding"] or ""),
            status=row["status"] or "",
        )
        for row in rows(current, COMMUNITIES_QUERY)
    }
    others: dict[str, Node] = {}
    merged: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for row in rows(current, CONNECTIONS_QUERY):
        source, target, kind = row["community"], row["target"], row["kind"]
        others.setdefault(target, Node(target, row["targetLabel"], kind, href(target)))
        merged[(source, kind, target)].append(row["roleLabel"] or kind)
    for row in rows(current, PART_OF_QUERY):
        merged[(row["community"], "part-of", row["whole"])].append("part of")
    for row in rows(current, OBSERVATIONS_QUERY):
        community, year = communities.get(row["community"]), year_of(row["year"] or "")
        if community is None or year is None:
            continue
        community.observed.add(year)
        if row["closed"] == "true" and (community.closed is None or year < community.closed):
            community.closed = year
    edges = [
        Edge(source, target, kind, ", ".join(sorted(set(labels))))
        for (source, kind, target), labels in merged.items()
        if source in communities
    ]
    audits = [
        Audit(row["audit"], int(year_of(row["year"] or "") or 0), row["label"] or "", href(row["audit"]))
        for row in rows(current, AUDITS_QUERY)
    ]
    return Network(current.version, communities, others, edges, audits)
