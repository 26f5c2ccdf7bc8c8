"""The site index: what the browse pages, search and the home page know about the data, read from one dataset version
with three SPARQL queries and the published figures (for the 56 communities of the current data: about 0.15 s and
255 KiB, some 4.5 KiB a community).

Built once per version and kept in the worker's cache of read models (copgraph.core.cache), so filtering, sorting,
paging and search (copgraph.model.community_search) run in Python over it: nothing a client sends ever reaches a
query, a filter value is only looked up among the things the index knows and a search term only compared with strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from copgraph.core.vocab import sparql_prefixes, thing
from copgraph.model.figures import Figure, published_figures
from copgraph.model.rows import Row, rows
from copgraph.store.reader import Dataset

Href = Callable[[str], str]  # an IRI to this server's path for it


@dataclass(frozen=True)
class Thing:
    """Anything with a record: a platform, theme, status, hashtag, organisation, audit or support role."""

    kind: str
    iri: str
    slug: str
    label: str
    href: str
    note: str = ""

    def as_json(self) -> dict[str, str]:
        described = {"iri": self.iri, "href": self.href, "slug": self.slug, "label": self.label}
        return described | ({"note": self.note} if self.note else {})


@dataclass
class Community:
    """What the browse pages and search need to know about one community of practice."""

    iri: str
    slug: str
    href: str
    name: str = ""
    alternates: list[str] = field(default_factory=list)
    founded: str | None = None
    status: Thing | None = None
    platforms: list[Thing] = field(default_factory=list)
    handles: list[tuple[str, Thing]] = field(default_factory=list)  # (handle, platform)
    themes: list[Thing] = field(default_factory=list)
    hashtags: list[Thing] = field(default_factory=list)
    supporters: list[tuple[Thing, Thing]] = field(default_factory=list)  # (role, organisation)
    audit_years: set[str] = field(default_factory=set)
    facets: dict[str, set[str]] = field(default_factory=dict)  # filter name -> values, filled by _tidy

    def facet_values(self, facet: str) -> set[str]:
        """The values this community has for one /communities filter (slugs; audit years for `audit`)."""
        if facet == "audit":
            return set(self.audit_years)
        if facet == "status":
            return {self.status.slug} if self.status else set()
        if facet == "organisation":
            return {organisation.slug for _, organisation in self.supporters}
        return {item.slug for item in getattr(self, FACET_ATTRIBUTES[facet])}

    def searchable(self) -> list[tuple[str, str]]:
        """(what, text) pairs search compares with: name, alternate names, hashtags and handles."""
        pairs = [("name", self.name)] + [("alternate name", alternate) for alternate in self.alternates]
        pairs += [("hashtag", hashtag.label) for hashtag in self.hashtags]
        return pairs + [(f"handle on {platform.label}", handle) for handle, platform in self.handles]

    def as_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "href": self.href,
            "slug": self.slug,
            "name": self.name,
            "status": self.status.as_json() if self.status else None,
            "founded": self.founded,
            "platforms": [platform.as_json() for platform in self.platforms],
            "themes": [theme.as_json() for theme in self.themes],
        }


@dataclass(frozen=True)
class Audit:
    """A sector audit as /audits lists it."""

    thing: Thing
    year: str
    publisher: Thing | None
    issued: str | None
    licence: str | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Facet:
    """A filter of /communities."""

    name: str  # the query parameter
    label: str  # the form's label
    phrase: str  # how a chosen value reads in a sentence: "with a presence on {}"


FACETS = (
    Facet("platform", "Platform", "with a presence on {}"),
    Facet("theme", "Theme", "about {}"),
    Facet("status", "Status", "with status {}"),
    Facet("audit", "Audit year", "recorded in the {} audit"),
    Facet("organisation", "Organisation", "supported by {}"),
    Facet("hashtag", "Hashtag", "using {}"),
)
FACET_ATTRIBUTES = {"platform": "platforms", "theme": "themes", "hashtag": "hashtags"}


@dataclass(frozen=True)
class Choice:
    """A value a filter accepts, with how many communities have it."""

    value: str  # what the filter parameter carries: a slug, or a year for audits
    label: str
    thing: Thing
    communities: int

    def as_json(self) -> dict[str, Any]:
        record = {"iri": self.thing.iri, "href": self.thing.href}
        return {"value": self.value, "label": self.label, "communities": self.communities} | record


@dataclass(frozen=True)
class SiteIndex:
    """The browseable view of one dataset version."""

    version: str
    communities: list[Community]  # by name
    things: dict[str, dict[str, Thing]]  # kind -> slug -> thing
    audits: dict[str, Audit]  # audit year -> audit
    figures: list[Figure]  # by year, then label
    choices: dict[str, dict[str, Choice]]  # filter name -> accepted value -> choice, in the order a form lists them

    def community(self, iri: str) -> Community | None:
        return next((c for c in self.communities if c.iri == iri), None)

    def figures_of(self, audit: Audit) -> list[Figure]:
        """The figures an audit published (cop:inAudit), by label."""
        return [figure for figure in self.figures if figure.audit == audit.thing.iri]

    def supporters(self) -> dict[str, list[tuple[Thing, int]]]:
        """Per organisation (by slug): each role it supports communities in, with how many, most first."""
        roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        role_things: dict[str, Thing] = {}
        for community in self.communities:
            for role, organisation in community.supporters:
                roles[organisation.slug][role.slug].add(community.iri)
                role_things[role.slug] = role
        return {
            organisation: [
                (role_things[slug], len(members))
                for slug, members in sorted(by_role.items(), key=lambda pair: (-len(pair[1]), pair[0]))
            ]
            for organisation, by_role in roles.items()
        }


# Each query returns few rows per community; together with the figures they are the whole index.
COMMUNITY_FACTS = (
    sparql_prefixes()
    + """
SELECT ?community ?field ?value ?extra WHERE {
  ?community a cop:CommunityOfPractice .
  { ?community rdfs:label ?value BIND("name" AS ?field) }
  UNION { ?community skos:altLabel ?value BIND("alternate" AS ?field) }
  UNION { ?community schema:foundingDate ?value BIND("founded" AS ?field) }
  UNION { ?community cop:status ?value BIND("status" AS ?field) }
  UNION { ?community dct:subject ?value BIND("theme" AS ?field) }
  UNION { ?community cop:hashtag ?value BIND("hashtag" AS ?field) }
  UNION { ?community cop:hasPresence ?presence . ?presence cop:onPlatform ?value BIND("platform" AS ?field)
          OPTIONAL { ?presence cop:handle ?extra } }
  UNION { ?community ?extra ?value . ?extra rdfs:subPropertyOf* cop:supportedBy BIND("organisation" AS ?field) }
  UNION { ?record cop:observedCommunity|cop:figureOf ?community ; cop:inAudit/cop:auditYear ?value
          BIND("audit" AS ?field) }
}
"""
)

THINGS = (
    sparql_prefixes()
    + f"""
SELECT ?kind ?thing ?label ?note WHERE {{
  {{ ?thing a cop:Platform BIND("platform" AS ?kind)
     OPTIONAL {{ ?thing cop:platformKind/skos:prefLabel ?note }} }}
  UNION {{ ?thing skos:inScheme <{thing("scheme", "theme")}> BIND("theme" AS ?kind)
     OPTIONAL {{ ?thing skos:definition ?note }} }}
  UNION {{ ?thing skos:inScheme <{thing("scheme", "status")}> BIND("status" AS ?kind)
     OPTIONAL {{ ?thing skos:definition ?note }} }}
  UNION {{ ?thing a cop:Hashtag BIND("hashtag" AS ?kind) }}
  UNION {{ ?thing a org:Organization BIND("organisation" AS ?kind)
     OPTIONAL {{ ?thing cop:organisationType/skos:prefLabel ?note }} }}
  UNION {{ ?thing a cop:SectorAudit BIND("audit" AS ?kind) }}
  UNION {{ ?thing rdfs:subPropertyOf* cop:supportedBy BIND("role" AS ?kind) }}
  OPTIONAL {{ ?thing skos:prefLabel ?preferred }}
  OPTIONAL {{ ?thing rdfs:label ?plain }}
  BIND(COALESCE(?preferred, ?plain) AS ?label)
}}
"""
)

AUDITS = (
    sparql_prefixes()
    + """
SELECT ?audit ?year ?publisher ?issued ?licence ?source WHERE {
  ?audit a cop:SectorAudit ; cop:auditYear ?year .
  OPTIONAL { ?audit dct:publisher ?publisher }
  OPTIONAL { ?audit dct:issued ?issued }
  OPTIONAL { ?audit dct:license ?licence }
  OPTIONAL { ?audit dct:source ?source }
}
"""
)


def build_index(current: Dataset, href: Href) -> SiteIndex:
    """Read the dataset once into the index every browse page and search uses; `href` gives this server's paths."""
    things = Things(_read_things(current, href), href)
    audits = _read_audits(current, things)
    communities = _read_communities(current, things)
    return SiteIndex(
        version=current.version,
        communities=communities,
        things=things.by_kind,
        audits=audits,
        figures=published_figures(current, href),
        choices={facet.name: _choices(communities, things.by_kind, audits, facet.name) for facet in FACETS},
    )


def slug_of(iri: str, kind: str) -> str:
    """The slug of one of our things (`.../id/platform/twitter` → `twitter`); the last path segment otherwise."""
    marker = f"/id/{kind}/"
    return iri.split(marker, 1)[1] if marker in iri else iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def name_key(text: str) -> str:
    """How names sort: case-insensitively, ignoring a leading `#` or `@` (so #UKFEchat sorts under U)."""
    return re.sub(r"^\W+", "", normalised(text)) or normalised(text)


def normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


class Things:
    """The things the data describes, by kind and slug, and a stand-in for any it names without describing."""

    def __init__(self, by_kind: dict[str, dict[str, Thing]], href: Href):
        self.by_kind = by_kind
        self.href = href

    def lookup(self, kind: str, iri: str) -> Thing:
        """The thing of that kind with that IRI; one labelled by its slug if the data does not describe it."""
        slug = slug_of(iri, kind)
        known = self.by_kind.get(kind, {}).get(slug)
        return known if known is not None and known.iri == iri else Thing(kind, iri, slug, slug, self.href(iri))


def _read_things(current: Dataset, href: Href) -> dict[str, dict[str, Thing]]:
    labels: dict[tuple[str, str], str] = {}
    notes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows(current, THINGS):
        key = (row["kind"] or "", row["thing"] or "")
        labels.setdefault(key, row["label"] or "")
        if note := row["note"]:
            notes[key].add(note)
    things: dict[str, dict[str, Thing]] = defaultdict(dict)
    for (kind, iri), label in labels.items():
        slug = slug_of(iri, kind)
        things[kind][slug] = Thing(kind, iri, slug, label or slug, href(iri), "; ".join(sorted(notes[(kind, iri)])))
    return dict(things)


def _read_communities(current: Dataset, things: Things) -> list[Community]:
    communities: dict[str, Community] = {}
    for row in rows(current, COMMUNITY_FACTS):
        iri = row["community"] or ""
        community = communities.setdefault(iri, Community(iri, slug_of(iri, "community"), things.href(iri)))
        _add_fact(community, row, things)
    for community in communities.values():
        community.name = community.name or community.slug
        _tidy(community)
    return sorted(communities.values(), key=lambda c: (name_key(c.name), c.iri))


def _add_fact(community: Community, row: Row, things: Things) -> None:
    kind, value, extra = row["field"] or "", row["value"] or "", row["extra"]
    if kind == "name":
        community.name = value
    elif kind == "alternate":
        community.alternates.append(value)
    elif kind == "founded":
        community.founded = value
    elif kind == "status":
        community.status = things.lookup("status", value)
    elif kind == "audit":
        community.audit_years.add(value)
    elif kind == "organisation" and extra:
        community.supporters.append((things.lookup("role", extra), things.lookup("organisation", value)))
    elif kind == "platform":
        platform = things.lookup("platform", value)
        community.platforms.append(platform)
        if extra:
            community.handles.append((extra, platform))
    elif kind in FACET_ATTRIBUTES:
        getattr(community, FACET_ATTRIBUTES[kind]).append(things.lookup(kind, value))


def _tidy(community: Community) -> None:
    """Drop repeats (a community can have two presences on one platform) and order everything by label."""

    def distinct(items: Iterable[Thing]) -> list[Thing]:
        return sorted({item.iri: item for item in items}.values(), key=lambda item: name_key(item.label))

    community.platforms = distinct(community.platforms)
    community.themes = distinct(community.themes)
    community.hashtags = distinct(community.hashtags)
    community.alternates = sorted(set(community.alternates), key=name_key)
    community.handles = sorted(set(community.handles), key=lambda pair: name_key(pair[0]))
    community.supporters = sorted(set(community.supporters), key=lambda pair: (name_key(pair[1].label), pair[0].iri))
    community.facets = {facet.name: community.facet_values(facet.name) for facet in FACETS}


def _read_audits(current: Dataset, things: Things) -> dict[str, Audit]:
    found: dict[str, dict[str, Any]] = {}
    for row in rows(current, AUDITS):
        audit = found.setdefault(row["audit"] or "", {"year": row["year"], "sources": set()})
        for name in ("publisher", "issued", "licence"):
            audit.setdefault(name, row[name])
        if source := row["source"]:
            audit["sources"].add(source)
    audits = {
        audit["year"]: Audit(
            thing=things.lookup("audit", iri),
            year=audit["year"],
            publisher=things.lookup("organisation", audit["publisher"]) if audit["publisher"] else None,
            issued=audit["issued"],
            licence=audit["licence"],
            sources=tuple(sorted(audit["sources"])),
        )
        for iri, audit in found.items()
    }
    return dict(sorted(audits.items()))


def _choices(
    communities: list[Community], things: dict[str, dict[str, Thing]], audits: dict[str, Audit], facet: str
) -> dict[str, Choice]:
    """Every value a /communities filter accepts (the things the data describes), with how many communities have
    it, in the order a form lists them."""
    counts: dict[str, int] = defaultdict(int)
    for community in communities:
        for value in community.facets[facet]:
            counts[value] += 1
    if facet == "audit":
        options = [(year, year, audit.thing) for year, audit in audits.items()]
    else:
        listed = sorted(things.get(facet, {}).values(), key=lambda t: name_key(t.label))
        options = [(item.slug, item.label, item) for item in listed]
    return {value: Choice(value, label, item, counts[value]) for value, label, item in options}
