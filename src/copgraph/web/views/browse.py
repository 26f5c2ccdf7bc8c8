"""Browse pages for people and their JSON twins: /communities (filtered, sorted, paged), /platforms, /hashtags,
/themes, /organisations, /audits and /search.

Every page reads one `SiteIndex`, built from four SPARQL queries once per dataset version and kept per worker (a few
hundred rows for the current data, built in milliseconds). Filtering, sorting, paging and search run in Python over
that index, so nothing a client sends ever reaches a query: a filter value is looked up among the things the index
knows (400 otherwise) and a search term is only compared with strings. Each view computes one data dictionary and
renders it as HTML, or as JSON when the client prefers `application/json` (or asks with `format=json`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, make_response, render_template, request, url_for

from copgraph.core.vocab import sparql_prefixes, thing
from copgraph.store.reader import Dataset
from copgraph.web.http.context import config, dataset
from copgraph.web.http.errors import error_response
from copgraph.web.http.links import local_href

blueprint = Blueprint("browse", __name__)

PAGE_SIZE = 25
MAX_QUERY_CHARS = 200
MAX_SEARCH_RESULTS = 100
INDEX_KEY = "copgraph.site_index"
FORMATS = ("html", "json")
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


# --- the index --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thing:
    """Anything with a record: a platform, theme, status, hashtag, organisation, audit or support role."""

    kind: str
    iri: str
    slug: str
    label: str
    note: str = ""

    def as_json(self) -> dict[str, str]:
        described = {"iri": self.iri, "href": local_href(self.iri), "slug": self.slug, "label": self.label}
        return described | ({"note": self.note} if self.note else {})


@dataclass
class Community:
    """What the browse pages and search need to know about one community of practice."""

    iri: str
    slug: str
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
            "href": local_href(self.iri),
            "slug": self.slug,
            "name": self.name,
            "status": self.status.as_json() if self.status else None,
            "founded": self.founded,
            "platforms": [platform.as_json() for platform in self.platforms],
            "themes": [theme.as_json() for theme in self.themes],
        }


@dataclass(frozen=True)
class Figure:
    """An aggregate figure published by an audit, or a network figure of one community (AmplifyFE's)."""

    iri: str
    label: str
    value: int
    unit: str
    year: str
    measure: str
    comment: str
    audit: str | None
    community: str | None
    sources: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "href": local_href(self.iri),
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "year": self.year,
            "measure": self.measure,
            "comment": self.comment,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Audit:
    thing: Thing
    year: str
    publisher: Thing | None
    issued: str | None
    licence: str | None
    sources: tuple[str, ...]


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


# Each query returns few rows per community; together they are the whole index.
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

FIGURES = (
    sparql_prefixes()
    + """
SELECT ?figure ?label ?value ?unit ?year ?measure ?comment ?audit ?community ?source WHERE {
  ?figure a cop:PublishedFigure ; rdfs:label ?label ; cop:value ?value ; cop:unit ?unit ; cop:year ?year ;
          cop:measure ?measureConcept .
  OPTIONAL { ?measureConcept skos:prefLabel ?measureLabel }
  BIND(COALESCE(?measureLabel, STR(?measureConcept)) AS ?measure)
  OPTIONAL { ?figure rdfs:comment ?comment }
  OPTIONAL { ?figure cop:inAudit ?audit }
  OPTIONAL { ?figure cop:figureOf ?community }
  OPTIONAL { ?figure dct:source ?source }
}
"""
)

FACET_ATTRIBUTES = {"platform": "platforms", "theme": "themes", "hashtag": "hashtags"}


def site_index() -> SiteIndex:
    """The index of the dataset being served, rebuilt when its version changes (a build or a write)."""
    current = dataset()
    cached: SiteIndex | None = current_app.extensions.get(INDEX_KEY)
    if cached is None or cached.version != current.version:
        cached = build_index(current)
        current_app.extensions[INDEX_KEY] = cached
    return cached


def build_index(current: Dataset) -> SiteIndex:
    """Read the dataset once into the index every browse page and search uses."""
    things = _read_things(current)
    audits = _read_audits(current, things)
    communities = _read_communities(current, things)
    return SiteIndex(
        version=current.version,
        communities=communities,
        things=things,
        audits=audits,
        figures=_read_figures(current),
        choices={facet.name: _choices(communities, things, audits, facet.name) for facet in FACETS},
    )


def slug_of(iri: str, kind: str) -> str:
    """The slug of one of our things (`.../id/platform/twitter` → `twitter`); the last path segment otherwise."""
    marker = f"/id/{kind}/"
    return iri.split(marker, 1)[1] if marker in iri else iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _value(solution: Any, name: str) -> str | None:
    term = solution[name]
    return None if term is None else term.value


def _read_things(current: Dataset) -> dict[str, dict[str, Thing]]:
    labels: dict[tuple[str, str], str] = {}
    notes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for solution in current.query(THINGS):
        key = (_value(solution, "kind") or "", _value(solution, "thing") or "")
        labels.setdefault(key, _value(solution, "label") or "")
        if note := _value(solution, "note"):
            notes[key].add(note)
    things: dict[str, dict[str, Thing]] = defaultdict(dict)
    for (kind, iri), label in labels.items():
        slug = slug_of(iri, kind)
        things[kind][slug] = Thing(kind, iri, slug, label or slug, "; ".join(sorted(notes[(kind, iri)])))
    return dict(things)


def _lookup(things: dict[str, dict[str, Thing]], kind: str, iri: str) -> Thing:
    """The thing of that kind with that IRI; one labelled by its slug if the data does not describe it."""
    slug = slug_of(iri, kind)
    known = things.get(kind, {}).get(slug)
    return known if known is not None and known.iri == iri else Thing(kind, iri, slug, slug)


def _read_communities(current: Dataset, things: dict[str, dict[str, Thing]]) -> list[Community]:
    communities: dict[str, Community] = {}
    for solution in current.query(COMMUNITY_FACTS):
        iri = _value(solution, "community") or ""
        community = communities.setdefault(iri, Community(iri, slug_of(iri, "community")))
        _add_fact(community, _value(solution, "field") or "", _value(solution, "value") or "", solution, things)
    for community in communities.values():
        community.name = community.name or community.slug
        _tidy(community)
    return sorted(communities.values(), key=lambda c: (name_key(c.name), c.iri))


def _add_fact(community: Community, kind: str, value: str, solution: Any, things: dict[str, dict[str, Thing]]) -> None:
    extra = _value(solution, "extra")
    if kind == "name":
        community.name = value
    elif kind == "alternate":
        community.alternates.append(value)
    elif kind == "founded":
        community.founded = value
    elif kind == "status":
        community.status = _lookup(things, "status", value)
    elif kind == "audit":
        community.audit_years.add(value)
    elif kind == "organisation" and extra:
        community.supporters.append((_lookup(things, "role", extra), _lookup(things, "organisation", value)))
    elif kind == "platform":
        platform = _lookup(things, "platform", value)
        community.platforms.append(platform)
        if extra:
            community.handles.append((extra, platform))
    elif kind in FACET_ATTRIBUTES:
        getattr(community, FACET_ATTRIBUTES[kind]).append(_lookup(things, kind, value))


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


def _read_audits(current: Dataset, things: dict[str, dict[str, Thing]]) -> dict[str, Audit]:
    rows: dict[str, dict[str, Any]] = {}
    for solution in current.query(AUDITS):
        iri = _value(solution, "audit") or ""
        row = rows.setdefault(iri, {"year": _value(solution, "year"), "sources": set()})
        for name in ("publisher", "issued", "licence"):
            row.setdefault(name, _value(solution, name))
        if source := _value(solution, "source"):
            row["sources"].add(source)
    audits = {
        row["year"]: Audit(
            thing=_lookup(things, "audit", iri),
            year=row["year"],
            publisher=_lookup(things, "organisation", row["publisher"]) if row["publisher"] else None,
            issued=row["issued"],
            licence=row["licence"],
            sources=tuple(sorted(row["sources"])),
        )
        for iri, row in rows.items()
    }
    return dict(sorted(audits.items()))


def _read_figures(current: Dataset) -> list[Figure]:
    rows: dict[str, dict[str, Any]] = {}
    for solution in current.query(FIGURES):
        iri = _value(solution, "figure") or ""
        names = ("label", "value", "unit", "year", "measure", "comment", "audit", "community")
        row = rows.setdefault(iri, {name: _value(solution, name) for name in names} | {"sources": set()})
        if source := _value(solution, "source"):
            row["sources"].add(source)
    figures = [
        Figure(
            iri=iri,
            label=row["label"],
            value=int(row["value"]),
            unit=row["unit"],
            year=row["year"],
            measure=row["measure"],
            comment=row["comment"] or "",
            audit=row["audit"],
            community=row["community"],
            sources=tuple(sorted(row["sources"])),
        )
        for iri, row in rows.items()
    ]
    return sorted(figures, key=lambda f: (f.year, f.label))


def name_key(text: str) -> str:
    """How names sort: case-insensitively, ignoring a leading `#` or `@` (so #UKFEchat sorts under U)."""
    return re.sub(r"^\W+", "", normalised(text)) or normalised(text)


def normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


# --- answering --------------------------------------------------------------------------------------------------


class Refused(Exception):
    """A request this blueprint will not answer, with the status and a message a person can act on."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@blueprint.errorhandler(Refused)
def refused(error: Refused) -> Response:
    """An HTML page for browsers (the site's layout, the message, a way on); the one error shape for others."""
    if _wants_json() or request.accept_mimetypes["text/html"] < request.accept_mimetypes["text/plain"]:
        return error_response(error.status, str(error))
    page = render_template("site_error.html", status=error.status, message=str(error), metadata=dataset().metadata)
    response = make_response(page, error.status)
    response.headers["Vary"] = "Accept"
    return response


def _wants_json() -> bool:
    """`format=json`, or an Accept header that ranks JSON above HTML (a browser's `*/*` ranks them equal)."""
    chosen = request.args.get("format", "")
    if chosen in FORMATS:
        return chosen == "json"
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def render(template: str, data: dict[str, Any], **for_html: Any) -> Response:
    """The one data dictionary as JSON or through the template (which gets `data` and anything only HTML needs)."""
    if _wants_json():
        response = jsonify(data)
    else:
        response = make_response(render_template(template, data=data, metadata=dataset().metadata, **for_html))
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = config().cache_control
    return response


def check_parameters(allowed: Iterable[str]) -> None:
    """Refuse parameters a page does not take, and repeated ones, rather than silently ignoring a typo."""
    allowed = set(allowed) | {"format"}
    if request.args.get("format", "html") not in FORMATS:
        raise Refused(400, f"Unknown format {_shown(request.args['format'])}: use format=html or format=json.")
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise Refused(
            400,
            f"Unknown parameter {', '.join(_shown(name) for name in unknown)}. "
            f"This page takes: {', '.join(sorted(allowed))}.",
        )
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise Refused(400, f"Give {', '.join(_shown(name) for name in repeated)} at most once.")


def _shown(text: str) -> str:
    """Client text quoted in a message, cut short so a message stays readable."""
    return repr(text if len(text) <= 60 else text[:60] + "…")


# --- /communities -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
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
SORTS: dict[str, Callable[[Community], str | None]] = {
    "name": lambda c: name_key(c.name),
    "founded": lambda c: c.founded,
    "status": lambda c: name_key(c.status.label) if c.status else None,
}
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Choice:
    value: str  # what the filter parameter carries: a slug, or a year for audits
    label: str
    thing: Thing
    communities: int

    def as_json(self) -> dict[str, Any]:
        record = {"iri": self.thing.iri, "href": local_href(self.thing.iri)}
        return {"value": self.value, "label": self.label, "communities": self.communities} | record


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


@dataclass(frozen=True)
class CommunityQuery:
    """A validated /communities request."""

    filters: dict[str, Choice]
    sort: str
    order: str
    page: int

    def parameters(self, **changes: Any) -> dict[str, str]:
        """Query parameters for this view (or a changed one), leaving out defaults so links stay short."""
        values = {name: choice.value for name, choice in self.filters.items()}
        values |= {"sort": self.sort, "order": self.order, "page": str(self.page)} | changes
        defaults = {"sort": "name", "order": "asc", "page": "1"}
        return {name: str(value) for name, value in values.items() if value and defaults.get(name) != str(value)}


def read_community_query(index: SiteIndex) -> CommunityQuery:
    """The request's filters, sort and page, each checked against what the data holds; Refused(400) otherwise."""
    check_parameters([facet.name for facet in FACETS] + ["sort", "order", "page"])
    filters = {}
    for facet in FACETS:
        given = request.args.get(facet.name, "").strip()
        if not given:
            continue
        known = index.choices[facet.name]
        if given not in known:
            raise Refused(400, _unknown_value(facet, given, known))
        filters[facet.name] = known[given]
    sort = request.args.get("sort", "") or "name"
    order = request.args.get("order", "") or "asc"
    if sort not in SORTS:
        raise Refused(400, f"Unknown sort {_shown(sort)}: sort by {', '.join(SORTS)}.")
    if order not in ORDERS:
        raise Refused(400, f"Unknown order {_shown(order)}: use asc or desc.")
    return CommunityQuery(filters, sort, order, _page_number(request.args.get("page", "") or "1"))


def _unknown_value(facet: Facet, given: str, known: Mapping[str, Choice]) -> str:
    if facet.name == "audit":
        expected = f"an audit year: {', '.join(known)}"
    else:
        shown = ", ".join(list(known)[:30]) + (", …" if len(known) > 30 else "")
        expected = f"the last part of a {facet.name}'s IRI, one of: {shown}"
    plural = f"/{facet.name}s" if facet.name != "audit" else "/audits"
    return f"There is no {facet.label.lower()} {_shown(given)}. Give {expected} (see {plural})."


def _page_number(given: str) -> int:
    if not PAGE_NUMBER.fullmatch(given) or int(given) < 1:
        raise Refused(400, f"The page must be a whole number from 1, not {_shown(given)}.")
    return int(given)


def select_communities(index: SiteIndex, query: CommunityQuery) -> list[Community]:
    """The communities matching every filter, in the requested order (those with no value to sort by last)."""
    matching = [c for c in index.communities if all(ch.value in c.facets[name] for name, ch in query.filters.items())]
    key = SORTS[query.sort]
    present = [c for c in matching if key(c) is not None]
    missing = [c for c in matching if key(c) is None]
    # The index is in name order and sorting is stable, so ties stay in name order whichever way the key runs.
    return sorted(present, key=key, reverse=query.order == "desc") + missing


@blueprint.route("/communities")
def communities() -> Response:
    """The communities, filtered by platform, theme, status, audit year, organisation or hashtag; sorted; paged."""
    index = site_index()
    query = read_community_query(index)
    matching = select_communities(index, query)
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    if query.page > pages:
        raise Refused(
            404,
            f"There is no page {query.page}: {len(matching)} communities match, "
            f"{pages} page{'s' if pages != 1 else ''} of {PAGE_SIZE}.",
        )
    shown = matching[(query.page - 1) * PAGE_SIZE : query.page * PAGE_SIZE]

    def link(**changes: Any) -> str:
        return url_for("browse.communities", **query.parameters(**changes))

    data = {
        "title": "Communities of practice",
        "description": describe_filters(query),
        "total": len(matching),
        "page": query.page,
        "pages": pages,
        "page_size": PAGE_SIZE,
        "first": (query.page - 1) * PAGE_SIZE + 1 if shown else 0,
        "last": (query.page - 1) * PAGE_SIZE + len(shown),
        "sort": query.sort,
        "order": query.order,
        "filters": {name: choice.as_json() for name, choice in query.filters.items()},
        "communities": [community.as_json() for community in shown],
        "links": {
            "self": link(),
            "prev": link(page=query.page - 1) if query.page > 1 else None,
            "next": link(page=query.page + 1) if query.page < pages else None,
            "json": link(format="json"),
        },
        "options": {
            facet.name: [choice.as_json() for choice in index.choices[facet.name].values()] for facet in FACETS
        },
    }
    return render("communities.html", data, facets=FACETS, sorts=list(SORTS), orders=ORDERS)


def describe_filters(query: CommunityQuery) -> str:
    """The filters as a sentence: "Communities with a presence on Twitter, about ESOL"."""
    phrases = [facet.phrase.format(query.filters[facet.name].label) for facet in FACETS if facet.name in query.filters]
    return "All communities" if not phrases else "Communities " + ", ".join(phrases)


# --- lists of platforms, hashtags, themes, organisations, audits -----------------------------------------------


LISTS = {
    "platform": ("Platforms", "The platforms communities meet on, with how many communities have a presence on each."),
    "hashtag": ("Hashtags", "The hashtags communities use, with how many communities use each."),
    "theme": ("Themes", "The themes communities are about, with how many communities cover each."),
}


def facet_list(kind: str) -> Response:
    """Things of one kind, most used first, each linking to its record and to the communities that have it."""
    check_parameters([])
    index = site_index()
    listed = sorted(index.choices[kind].values(), key=lambda c: (-c.communities, name_key(c.label)))
    title, description = LISTS[kind]
    data = {
        "title": title,
        "description": description,
        "items": [
            choice.as_json()
            | {"note": choice.thing.note, "communities_href": url_for("browse.communities", **{kind: choice.value})}
            for choice in listed
        ],
    }
    return render("facet_list.html", data, kind=kind)


@blueprint.route("/platforms")
def platforms() -> Response:
    return facet_list("platform")


@blueprint.route("/hashtags")
def hashtags() -> Response:
    return facet_list("hashtag")


@blueprint.route("/themes")
def themes() -> Response:
    return facet_list("theme")


@blueprint.route("/organisations")
def organisations() -> Response:
    """Organisations with the communities they support, counted per role (hosts, sponsors, funds, …)."""
    check_parameters([])
    index = site_index()
    roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    role_things: dict[str, Thing] = {}
    for community in index.communities:
        for role, organisation in community.supporters:
            roles[organisation.slug][role.slug].add(community.iri)
            role_things[role.slug] = role
    items = []
    for choice in index.choices["organisation"].values():
        by_role = roles.get(choice.value, {})
        items.append(
            choice.as_json()
            | {
                "note": choice.thing.note,
                "roles": [
                    {"role": role_things[slug].as_json(), "communities": len(members)}
                    for slug, members in sorted(by_role.items(), key=lambda pair: (-len(pair[1]), pair[0]))
                ],
                "communities_href": url_for("browse.communities", organisation=choice.value),
            }
        )
    items.sort(key=lambda item: (-item["communities"], name_key(item["label"])))
    data = {
        "title": "Organisations",
        "description": "Organisations that host, sponsor, fund, deliver, partner with or otherwise support "
        "communities, with how many communities they support in each role.",
        "items": items,
    }
    return render("organisations.html", data)


@blueprint.route("/audits")
def audits() -> Response:
    """The sector audits by year: publisher, published figures and the communities recorded in each."""
    check_parameters([])
    index = site_index()
    recorded = index.choices["audit"]
    items = []
    for year, audit in index.audits.items():
        figures = [figure.as_json() for figure in index.figures if figure.audit == audit.thing.iri]
        items.append(
            audit.thing.as_json()
            | {
                "year": year,
                "publisher": audit.publisher.as_json() if audit.publisher else None,
                "issued": audit.issued,
                "licence": audit.licence,
                "sources": list(audit.sources),
                "figures": figures,
                "communities": recorded[year].communities,
                "communities_href": url_for("browse.communities", audit=year),
            }
        )
    data = {
        "title": "Sector audits",
        "description": "The ALT / AmplifyFE Communities of Practice Sector Audits: who published them, the figures "
        "they published, and the communities copgraph records as observed in each.",
        "items": items,
    }
    return render("audits.html", data)


# --- /search ----------------------------------------------------------------------------------------------------


def search_term(text: str) -> str:
    """What search compares: case-folded, without surrounding space or a leading `#` or `@`."""
    return normalised(text).lstrip("#@").strip()


def match_rank(term: str, text: str) -> int | None:
    """0 if text is the term, 1 if it starts with it, 2 if it contains it, None otherwise (both normalised)."""
    candidate = search_term(text)
    if candidate == term:
        return 0
    if candidate.startswith(term):
        return 1
    return 2 if term in normalised(text) else None


def search_communities(index: SiteIndex, q: str) -> list[tuple[Community, int, list[tuple[str, str]]]]:
    """Communities whose name, alternate name, hashtag or handle contains q (case- and `#`/`@`-insensitive), best
    matches first, each with what matched. Matching is in Python over the index: no text reaches a query."""
    term = search_term(q)
    hits = []
    for community in index.communities:
        ranked = [
            (rank, what, text) for what, text in community.searchable() if (rank := match_rank(term, text)) is not None
        ]
        if ranked:
            ranked.sort(key=lambda item: item[0])
            hits.append((community, ranked[0][0], [(what, text) for _, what, text in ranked]))
    hits.sort(key=lambda hit: hit[1])  # stable: equal ranks stay in name order
    return hits


@blueprint.route("/search")
def search() -> Response:
    """Search communities by name, alternate name, hashtag or handle; with no term, the form and a hint."""
    check_parameters(["q"])
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise Refused(400, f"The search term is {len(q)} characters long; give at most {MAX_QUERY_CHARS}.")
    term = search_term(q)
    hits = search_communities(site_index(), q) if term else []
    data: dict[str, Any] = {"title": "Search", "q": q, "total": len(hits), "limit": MAX_SEARCH_RESULTS}
    if not term:
        data["hint"] = (
            "Type part of a community's name, an alternate name, a hashtag (with or without #) or a handle "
            "(with or without @), for example UKFEchat, #UKFEchat, @theukfechat or ESOL."
        )
    data["results"] = [
        community.as_json() | {"matches": [{"field": what, "value": text} for what, text in matches]}
        for community, _, matches in hits[:MAX_SEARCH_RESULTS]
    ]
    return render("search.html", data)
