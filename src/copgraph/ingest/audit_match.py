"""Matching an audit's rows to the communities copgraph already publishes (an import never invents a community).

A row is matched by its homepage, then its hashtags, then its handles, then its name, compared as `core.things`
normalises them; the platforms it lists are matched by slug or label.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib.namespace import RDFS

from copgraph.core.things import hashtag_key, normalise_name, normalise_url
from copgraph.ingest.audit_sheet import split_cell

COMMUNITY_INDEX_QUERY = """
PREFIX cop: <https://w3id.org/copgraph/def/cop#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <https://schema.org/>
SELECT ?community ?kind ?value WHERE {
  ?community a cop:CommunityOfPractice .
  { ?community rdfs:label ?value BIND("name" AS ?kind) }
  UNION { ?community skos:altLabel ?value BIND("name" AS ?kind) }
  UNION { ?community foaf:homepage|foaf:page ?value BIND("url" AS ?kind) }
  UNION { ?community cop:hasPresence/schema:url ?value BIND("url" AS ?kind) }
  UNION { ?community cop:hashtag/cop:normalisedTag ?value BIND("hashtag" AS ?kind) }
  UNION { ?community cop:hasPresence/cop:handle ?value BIND("handle" AS ?kind) }
}
"""
PLATFORM_QUERY = """
PREFIX cop: <https://w3id.org/copgraph/def/cop#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?platform ?label WHERE { ?platform a cop:Platform . OPTIONAL { ?platform rdfs:label ?label } }
"""


class CommunityIndex:
    """The published communities by each key a row can be matched on."""

    def __init__(self, quads: Iterable[ox.Quad]):
        store = ox.Store()
        store.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
        self.keys: dict[tuple[str, str], set[str]] = {}
        self.labels: dict[str, str] = {}
        for solution in store.query(COMMUNITY_INDEX_QUERY):
            community, kind, value = solution["community"].value, solution["kind"].value, solution["value"].value
            self.keys.setdefault((kind, self._normal(kind, value)), set()).add(community)
        for quad in store.quads_for_pattern(None, ox.NamedNode(str(RDFS.label)), None):
            self.labels[quad.subject.value] = quad.object.value
        # Platforms by their slug and by their label, compared as names are ("Email list", "email-list").
        self.platforms: dict[str, str] = {}
        for solution in store.query(PLATFORM_QUERY):
            platform = solution["platform"].value
            self.platforms[normalise_name(platform.rsplit("/", 1)[-1])] = platform
            if solution["label"] is not None:
                self.platforms[normalise_name(solution["label"].value)] = platform

    @staticmethod
    def _normal(kind: str, value: str) -> str:
        if kind == "url":
            return normalise_url(value)
        if kind == "name":
            return normalise_name(value)
        return hashtag_key(value)  # hashtags, and handles compared alike ("#channel" or "channel")

    def find(self, kind: str, values: Iterable[str]) -> set[str]:
        return set().union(*(self.keys.get((kind, self._normal(kind, v)), set()) for v in values))

    def match(self, row: dict[str, str]) -> tuple[str | None, str | None]:
        """(community IRI, None), or (None, why not): the first key that finds communities decides; when it finds
        several, the later keys may narrow them to one, else the row is ambiguous."""
        handles = [
            detail for _, _, detail in (t.partition(":") for t in split_cell(row.get("platforms", ""))) if detail
        ]
        keys = [
            ("homepage", self.find("url", [row["url"]] if row.get("url") else [])),
            ("hashtag", self.find("hashtag", split_cell(row.get("hashtags", "")))),
            ("handle", self.find("handle", [h for h in handles if "://" not in h]) | self.find("url", handles)),
            ("name", self.find("name", [row["name"]])),
        ]
        candidates: set[str] | None = None
        first = ""
        for key, found in keys:
            if not found:
                continue
            narrowed = found if candidates is None else candidates & found
            if narrowed:
                candidates, first = narrowed, first or key
            if len(candidates) == 1:
                return next(iter(candidates)), None
        if candidates is None:
            return None, f"{row['name']!r} is not in copgraph yet: contribute it at /contribute, then import again"
        names = ", ".join(sorted(f"{self.labels.get(c, c)} ({c.rsplit('/', 1)[-1]})" for c in candidates))
        return None, f"{row['name']!r} matches more than one community by {first}: {names}; make the row specific"

    def platforms_seen(self, cell: str) -> tuple[list[str], list[str]]:
        """(platform IRIs, names matching no platform) of a platforms cell such as ``Twitter:@handle;Zoom``."""
        seen, unknown = [], []
        for token in split_cell(cell):
            name = token.partition(":")[0].strip()
            platform = self.platforms.get(normalise_name(name))
            if platform is None:  # a bare address names no platform: report it whole
                unknown.append(token if token.startswith(("http://", "https://")) else name or token)
            elif platform not in seen:
                seen.append(platform)
        return seen, unknown
