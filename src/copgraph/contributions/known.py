"""The published values a contribution may name, read from the store once per request.

A contribution refers to themes, platforms, organisations, statuses, governance types and communities by slug; its
answers are checked against these (`answers.py`), and its homepage, accounts and hashtags are compared with those of
the published communities to flag likely duplicates (`duplicates.py`). One read of the served generation gives all
of them, so a check never mixes two versions of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib.namespace import FOAF, RDFS

from copgraph.core.things import normalise_url
from copgraph.core.vocab import COP, SCHEMA, thing
from copgraph.store.reader import Dataset


@dataclass(frozen=True)
class Known:
    """The published values a contribution may refer to, by slug, with their labels."""

    themes: dict[str, str]
    platforms: dict[str, str]
    organisations: dict[str, str]
    statuses: dict[str, str]
    governance: dict[str, str]
    communities: dict[str, str]
    hashtags: dict[str, str]  # normalised tag -> slugs of the communities using it, space-separated ("" for none)
    homepages: dict[str, str]  # normalised homepage -> community slug
    handles: dict[tuple[str, str], str]  # (platform slug, lower-case handle or normalised URL) -> community slug


def _slug_of(value: str, kind: str) -> str:
    return value.removeprefix(thing(kind, ""))


def known_values(dataset: Dataset) -> Known:
    """Read the schemes, platforms, organisations and communities the published store holds."""

    def labelled(kind: str, where: str) -> dict[str, str]:
        query = f"""SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ {where} OPTIONAL {{ ?s <{RDFS.label}> ?l }}
                    FILTER(STRSTARTS(STR(?s), "{thing(kind, "")}")) }} GROUP BY ?s"""
        rows = dataset.query(query)
        return dict(sorted((_slug_of(r["s"].value, kind), r["label"].value if r["label"] else "") for r in rows))

    def scheme(kind: str) -> dict[str, str]:
        return labelled(kind, f"?s <http://www.w3.org/2004/02/skos/core#inScheme> <{thing('scheme', kind)}> .")

    def rows(query: str) -> list[tuple[str, ...]]:
        return [tuple(term.value if term else "" for term in row) for row in dataset.query(query)]

    community = f"<{COP.CommunityOfPractice}>"
    homepages = {
        normalise_url(page): _slug_of(c, "community")
        for c, page in rows(f"SELECT ?c ?h WHERE {{ ?c a {community} ; <{FOAF.homepage}>|<{FOAF.page}> ?h }}")
    }
    handles: dict[tuple[str, str], str] = {}
    presence_query = f"""SELECT ?c ?p ?account WHERE {{ ?c a {community} ; <{COP.hasPresence}> ?x .
        ?x <{COP.onPlatform}> ?p . {{ ?x <{COP.handle}> ?account }} UNION {{ ?x <{SCHEMA.url}> ?account }} }}"""
    for c, platform, account in rows(presence_query):
        handles[(_slug_of(platform, "platform"), normalise_account(account))] = _slug_of(c, "community")
    hashtags: dict[str, str] = {}
    tag_query = f"""SELECT ?t ?c WHERE {{ ?h a <{COP.Hashtag}> ; <{COP.normalisedTag}> ?t .
        OPTIONAL {{ ?c <{COP.hashtag}> ?h }} }}"""
    for tag, c in rows(tag_query):
        hashtags.setdefault(tag, "")
        if c:
            hashtags[tag] = " ".join(filter(None, [hashtags[tag], _slug_of(c, "community")]))
    return Known(
        themes=scheme("theme"),
        platforms=labelled("platform", f"?s a <{COP.Platform}> ."),
        organisations=labelled("organisation", "?s a <http://www.w3.org/ns/org#Organization> ."),
        statuses=scheme("status"),
        governance=scheme("governance"),
        communities=labelled("community", f"?s a {community} ."),
        hashtags=hashtags,
        homepages=homepages,
        handles=handles,
    )


def normalise_account(account: str) -> str:
    """An account reduced for comparison: an address as `normalise_url` reduces it, a handle lower-case without '@'."""
    text = account.strip()
    return normalise_url(text) if text.startswith(("http://", "https://")) else text.lower().lstrip("@")
