"""Finding communities in the site index: the filters and sorts of /communities and the matching of /search.

Everything here runs in Python over a `SiteIndex` (copgraph.model.site_index), never as a query: a filter's value has
already been checked against the index's choices, and a search term is only compared with strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copgraph.model.site_index import FACETS, Choice, Community, SiteIndex, name_key, normalised

SORTS: dict[str, Callable[[Community], str | None]] = {
    "name": lambda c: name_key(c.name),
    "founded": lambda c: c.founded,
    "status": lambda c: name_key(c.status.label) if c.status else None,
}
ORDERS = ("asc", "desc")
DEFAULTS = {"sort": "name", "order": "asc", "page": "1"}


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
        return {name: str(value) for name, value in values.items() if value and DEFAULTS.get(name) != str(value)}

    def description(self) -> str:
        """The filters as a sentence: "Communities with a presence on Twitter, about ESOL"."""
        chosen = [facet for facet in FACETS if facet.name in self.filters]
        phrases = [facet.phrase.format(self.filters[facet.name].label) for facet in chosen]
        return "All communities" if not phrases else "Communities " + ", ".join(phrases)


def select_communities(index: SiteIndex, query: CommunityQuery) -> list[Community]:
    """The communities matching every filter, in the requested order (those with no value to sort by last)."""
    matching = [c for c in index.communities if all(ch.value in c.facets[name] for name, ch in query.filters.items())]
    key = SORTS[query.sort]
    present = [c for c in matching if key(c) is not None]
    missing = [c for c in matching if key(c) is None]
    # The index is in name order and sorting is stable, so ties stay in name order whichever way the key runs.
    return sorted(present, key=key, reverse=query.order == "desc") + missing


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
