"""A thing's hub: the communities that have a theme, platform, hashtag, organisation, audit or status, and how that
thing connects to the rest of the network through them (the themes they cover, the platforms they meet on, the
organisations that support them).

Read from the site index (copgraph.model.site_index) of one version, so a hub costs a pass over its communities and
never a query; the record's own RDF stays the record, and a hub is what its HTML page and `/hub/...` JSON add to it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from copgraph.model.site_index import FACETS, Community, SiteIndex, Thing, name_key

# Kinds of record a hub is made for, each with the /communities filter that selects its communities.
HUB_FACETS = {
    "theme": "theme",
    "platform": "platform",
    "hashtag": "hashtag",
    "organisation": "organisation",
    "audit": "audit",
    "status": "status",
}
# The connections a hub lists, in order: (facet, heading, heading when the hub is itself of that kind).
CONNECTIONS = (
    ("theme", "Themes these communities cover", "Related themes"),
    ("platform", "Platforms they meet on", "Platforms used together with it"),
    ("organisation", "Organisations that support them", "Organisations supporting the same communities"),
    ("hashtag", "Hashtags they use", "Hashtags used together with it"),
    ("status", "Their status", "Their status"),
)
MAX_CONNECTIONS = 12  # per kind of connection: the most shared first


@dataclass(frozen=True)
class Connection:
    """Another thing the hub's communities have, with how many of them have it."""

    thing: Thing
    communities: int
    roles: tuple[str, ...] = ()  # for an organisation: how it supports them ("Hosted by", ...)

    def as_json(self) -> dict[str, Any]:
        shown = self.thing.as_json() | {"communities": self.communities}
        return shown | ({"roles": list(self.roles)} if self.roles else {})


@dataclass
class Hub:
    """The communities of one thing and its connections, kind by kind."""

    kind: str
    facet: str
    value: str  # the /communities filter value: the slug, or the year of an audit
    sentence: str  # how many communities, in words: "4 communities about Maths"
    communities: list[Community]
    roles: dict[str, list[str]] = field(default_factory=dict)  # an organisation's hub: community IRI -> its roles
    connections: list[tuple[str, str, list[Connection], int]] = field(default_factory=list)  # facet, heading, top, all

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "filter": {self.facet: self.value},
            "sentence": self.sentence,
            "total": len(self.communities),
            "communities": [
                community.as_json() | ({"roles": self.roles[community.iri]} if community.iri in self.roles else {})
                for community in self.communities
            ],
            "connections": {
                facet: {"heading": heading, "total": total, "items": [c.as_json() for c in items]}
                for facet, heading, items, total in self.connections
            },
        }


def hub(index: SiteIndex, kind: str, iri: str) -> Hub | None:
    """The hub of the thing with this IRI, or None if it is not of a kind that has one (or the index lacks it)."""
    facet = HUB_FACETS.get(kind)
    if facet is None:
        return None
    value = _filter_value(index, kind, iri)
    if value is None:
        return None
    members = [community for community in index.communities if value in community.facets[facet]]
    found = Hub(kind, facet, value, _sentence(index, kind, facet, value, len(members)), members)
    if kind == "organisation":
        for community in members:
            found.roles[community.iri] = sorted({role.label for role, o in community.supporters if o.iri == iri})
    for other, heading, own_heading in CONNECTIONS:
        if other == "status" and facet == "status":
            continue
        items = _connections(members, other, exclude=iri)
        if items:
            shown = own_heading if other == facet else heading
            found.connections.append((other, shown, items[:MAX_CONNECTIONS], len(items)))
    return found


def _filter_value(index: SiteIndex, kind: str, iri: str) -> str | None:
    if kind == "audit":
        return next((year for year, audit in index.audits.items() if audit.thing.iri == iri), None)
    return next((thing.slug for thing in index.things.get(kind, {}).values() if thing.iri == iri), None)


def _sentence(index: SiteIndex, kind: str, facet: str, value: str, count: int) -> str:
    phrase = next(f.phrase for f in FACETS if f.name == facet)
    label = value if kind == "audit" else index.things[kind][value].label
    noun = "community" if count == 1 else "communities"
    return f"{count if count else 'No'} {noun} {phrase.format(label)}"


def _things_of(community: Community, facet: str) -> list[Thing]:
    if facet == "organisation":
        return [organisation for _, organisation in community.supporters]
    if facet == "status":
        return [community.status] if community.status else []
    return list(getattr(community, {"theme": "themes", "platform": "platforms", "hashtag": "hashtags"}[facet]))


def _connections(members: list[Community], facet: str, exclude: str) -> list[Connection]:
    """The things of one kind the members have, each counted once per community, most shared first."""
    counts: Counter[str] = Counter()
    things: dict[str, Thing] = {}
    roles: dict[str, set[str]] = {}
    for community in members:
        for item in {thing.iri: thing for thing in _things_of(community, facet)}.values():
            counts[item.iri] += 1
            things[item.iri] = item
        if facet == "organisation":
            for role, organisation in community.supporters:
                roles.setdefault(organisation.iri, set()).add(role.label)
    ordered = sorted(counts, key=lambda iri: (-counts[iri], name_key(things[iri].label)))
    return [
        Connection(things[iri], counts[iri], tuple(sorted(roles.get(iri, set())))) for iri in ordered if iri != exclude
    ]
