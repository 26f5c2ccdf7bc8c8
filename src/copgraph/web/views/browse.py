"""Browse pages for people and their JSON twins: /communities (filtered, sorted, paged), /platforms, /hashtags,
/themes, /organisations, /audits and /search.

Every page reads the site index (copgraph.model.site_index) of the version served, kept in the worker's cache of read
models, and finds communities in it with copgraph.model.community_search; this module reads and checks the request (a
filter value the index does not know is 400) and renders one data dictionary as HTML, or as JSON when the client
prefers `application/json` (or asks with `format=json`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, make_response, render_template, request, url_for

from copgraph.model.community_search import (
    ORDERS,
    SORTS,
    CommunityQuery,
    search_communities,
    search_term,
    select_communities,
)
from copgraph.model.site_index import FACETS, Choice, Facet, SiteIndex, build_index, name_key
from copgraph.web.http.context import config, dataset, model_cache
from copgraph.web.http.errors import RequestError
from copgraph.web.http.links import local_href
from copgraph.web.http.negotiation import JSON, PAGE_OFFERS, negotiate, vary

blueprint = Blueprint("browse", __name__)

PAGE_SIZE = 25
MAX_QUERY_CHARS = 200
MAX_SEARCH_RESULTS = 100
FORMATS = ("html", "json")
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


def site_index() -> SiteIndex:
    """The index of the dataset being served, built once per version (a build or a write makes a new one)."""
    current = dataset()
    return model_cache().get_or_make(current.version, "site index", lambda: build_index(current, local_href))


# --- answering --------------------------------------------------------------------------------------------------


def _wants_json() -> bool:
    """`format=json`, or an Accept header that ranks JSON above HTML (a browser's `*/*` ranks them equal)."""
    chosen = request.args.get("format", "")
    if chosen in FORMATS:
        return chosen == "json"
    return negotiate(PAGE_OFFERS) is JSON


def render(template: str, data: dict[str, Any], **for_html: Any) -> Response:
    """The one data dictionary as JSON or through the template (which gets `data` and anything only HTML needs)."""
    if _wants_json():
        response = jsonify(data)
    else:
        response = make_response(render_template(template, data=data, metadata=dataset().metadata, **for_html))
    response.headers["Cache-Control"] = config().cache_control
    return vary(response)


def check_parameters(allowed: Iterable[str]) -> None:
    """Refuse parameters a page does not take, and repeated ones, rather than silently ignoring a typo."""
    allowed = set(allowed) | {"format"}
    if request.args.get("format", "html") not in FORMATS:
        raise RequestError(400, f"Unknown format {_shown(request.args['format'])}: use format=html or format=json.")
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise RequestError(
            400,
            f"Unknown parameter {', '.join(_shown(name) for name in unknown)}. "
            f"This page takes: {', '.join(sorted(allowed))}.",
        )
    repeated = sorted(name for name in request.args if len(request.args.getlist(name)) > 1)
    if repeated:
        raise RequestError(400, f"Give {', '.join(_shown(name) for name in repeated)} at most once.")


def _shown(text: str) -> str:
    """Client text quoted in a message, cut short so a message stays readable."""
    return repr(text if len(text) <= 60 else text[:60] + "…")


# --- /communities -----------------------------------------------------------------------------------------------


def read_community_query(index: SiteIndex) -> CommunityQuery:
    """The request's filters, sort and page, each checked against what the data holds; RequestError(400) otherwise."""
    check_parameters([facet.name for facet in FACETS] + ["sort", "order", "page"])
    filters = {}
    for facet in FACETS:
        given = request.args.get(facet.name, "").strip()
        if not given:
            continue
        known = index.choices[facet.name]
        if given not in known:
            raise RequestError(400, _unknown_value(facet, given, known))
        filters[facet.name] = known[given]
    sort = request.args.get("sort", "") or "name"
    order = request.args.get("order", "") or "asc"
    if sort not in SORTS:
        raise RequestError(400, f"Unknown sort {_shown(sort)}: sort by {', '.join(SORTS)}.")
    if order not in ORDERS:
        raise RequestError(400, f"Unknown order {_shown(order)}: use asc or desc.")
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
        raise RequestError(400, f"The page must be a whole number from 1, not {_shown(given)}.")
    return int(given)


@blueprint.route("/communities")
def communities() -> Response:
    """The communities, filtered by platform, theme, status, audit year, organisation or hashtag; sorted; paged."""
    index = site_index()
    query = read_community_query(index)
    matching = select_communities(index, query)
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    if query.page > pages:
        raise RequestError(
            404,
            f"There is no page {query.page}: {len(matching)} communities match, "
            f"{pages} page{'s' if pages != 1 else ''} of {PAGE_SIZE}.",
        )
    shown = matching[(query.page - 1) * PAGE_SIZE : query.page * PAGE_SIZE]

    # A client that asked with format=json follows links that keep asking for JSON (issue 17).
    kept = {"format": "json"} if request.args.get("format") == "json" else {}

    def link(**changes: Any) -> str:
        return url_for("browse.communities", **query.parameters(**(kept | changes)))

    data = {
        "title": "Communities of practice",
        "description": query.description(),
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
    supporters = index.supporters()
    items = [
        choice.as_json()
        | {
            "note": choice.thing.note,
            "roles": [
                {"role": role.as_json(), "communities": count} for role, count in supporters.get(choice.value, [])
            ],
            "communities_href": url_for("browse.communities", organisation=choice.value),
        }
        for choice in index.choices["organisation"].values()
    ]
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
        figures = [figure.as_json() for figure in index.figures_of(audit)]
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


@blueprint.route("/search")
def search() -> Response:
    """Search communities by name, alternate name, hashtag or handle; with no term, the form and a hint."""
    check_parameters(["q"])
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise RequestError(400, f"The search term is {len(q)} characters long; give at most {MAX_QUERY_CHARS}.")
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
