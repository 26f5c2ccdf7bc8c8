"""Things in records: how a thing is named, which triples state it, and how it is recognised when written another way.

Every writer of records uses these: the facts conversion (ingest/facts.py), audit imports (ingest/audit.py) and
contributions (contributions/record.py). Shared, they write a community's presences, hashtags, audits and
observations alike whoever writes them, and recognise the same page or name alike whoever compares. IRIs come from
`core.vocab.thing`, the one place that knows the URI scheme; `iri` is its rdflib form, for building graphs.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from copgraph.core.vocab import COP, ID, PREFIXES, SCHEMA, thing

# Audits are ALT's: every cop:SectorAudit is published by this organisation (id/organisation/alt).
AUDIT_PUBLISHER = "alt"
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


# --- Names -----------------------------------------------------------------------------------------------------------


def iri(kind: str, slug: str) -> URIRef:
    """`thing(kind, slug)` as an rdflib term."""
    return URIRef(thing(kind, slug))


def slugify(text: str) -> str:
    """The slug a name gives a thing's IRI: lower-case letters and digits, runs of anything else as one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def platform_id(token: str) -> str:
    """A platform's slug from the name a person or a spreadsheet gives it ("Email list" → "email-list")."""
    return token.strip().lower().replace(" ", "-")


def hashtag_key(tag: str) -> str:
    """A hashtag's normalised form (its slug and cop:normalisedTag): no '#', lower-case ("#UKFEchat" → "ukfechat")."""
    return tag.lstrip("#").lower()


# --- Recognising a thing written another way -------------------------------------------------------------------------


def normalise_url(url: str) -> str:
    """A web address reduced to the page it names, to recognise one page written two ways: no scheme, no leading
    "www.", no trailing slash, no fragment, lower-case. The query string is kept.

    The query is kept because on many sites it is what names the page: WordPress posts (``/?p=3382``), JISCMail lists
    (``webadmin?A0=ESOL-RESEARCH``), forum threads. Without it every such page of a site would be "the same page", and
    a contribution would be flagged as a duplicate of (or an audit row matched to) an unrelated community. The fragment
    goes: it names a place inside a page and never reaches the server. An address without a scheme
    ("www.example.org/x", as spreadsheets often write it) reads as the same page as with one; one that cannot be split
    into parts (a broken IPv6 host) is compared as written, lower-case."""
    text = url.strip()
    try:
        parts = urlsplit(text if SCHEME.match(text) else "//" + text)
    except ValueError:
        return text.lower()
    host = parts.netloc.lower().removeprefix("www.")
    return (host + parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")).lower()


def normalise_name(name: str) -> str:
    """A name reduced for comparison: lower-case words of letters and digits, single-spaced."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


# --- Triples ---------------------------------------------------------------------------------------------------------


def new_graph() -> Graph:
    """An empty graph that writes Turtle with copgraph's prefixes (and ``id:`` for things)."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    graph.bind("id", str(ID), override=True)
    return graph


def add_sources(graph: Graph, subject: URIRef, urls: list[URIRef]) -> None:
    for url in urls:
        graph.add((subject, DCTERMS.source, url))


def add_presences(
    graph: Graph,
    community: URIRef,
    slug: str,
    name: str,
    accounts: list[tuple[str, str]],
    platform_labels: dict[str, str],
    sources: list[URIRef],
) -> None:
    """A community's presences, one per (platform slug, account) pair, where an account is a handle, an address or "":
    presence/<slug>-<platform>[-n] (n from the second on the same platform), labelled "<name> on <platform>
    (<handle>)"."""
    seen: dict[str, int] = {}
    for platform, account in accounts:
        seen[platform] = seen.get(platform, 0) + 1
        suffix = "" if seen[platform] == 1 else f"-{seen[platform]}"
        presence = iri("presence", f"{slug}-{platform}{suffix}")
        label = f"{name} on {platform_labels[platform]}"
        graph.add((community, COP.hasPresence, presence))
        graph.add((presence, RDF.type, COP.Presence))
        graph.add((presence, COP.onPlatform, iri("platform", platform)))
        if account.startswith(("http://", "https://")):
            graph.add((presence, SCHEMA.url, URIRef(account)))
        elif account:
            graph.add((presence, COP.handle, Literal(account)))
            label += f" ({account})"
        graph.add((presence, RDFS.label, Literal(label)))
        add_sources(graph, presence, sources)


def add_hashtag(graph: Graph, tag: str, sources: list[URIRef]) -> URIRef:
    """The cop:Hashtag of a tag ("#UKFEchat"), labelled as first written in this graph (a hashtag has one label, so a
    later spelling differing only in case adds nothing but its sources); returns its IRI."""
    key = hashtag_key(tag)
    hashtag = iri("hashtag", key)
    if (hashtag, RDF.type, COP.Hashtag) not in graph:
        graph.add((hashtag, RDF.type, COP.Hashtag))
        graph.add((hashtag, RDFS.label, Literal(tag)))
        graph.add((hashtag, COP.normalisedTag, Literal(key)))
    add_sources(graph, hashtag, sources)
    return hashtag


def add_audit(graph: Graph, year: str) -> URIRef:
    """The cop:SectorAudit of a year, published by AUDIT_PUBLISHER; returns its IRI."""
    audit = iri("audit", year)
    graph.add((audit, RDF.type, COP.SectorAudit))
    graph.add((audit, RDFS.label, Literal(f"Communities of Practice Sector Audit {year}")))
    graph.add((audit, COP.auditYear, Literal(year, datatype=XSD.gYear)))
    graph.add((audit, DCTERMS.publisher, iri("organisation", AUDIT_PUBLISHER)))
    return audit


def add_audit_observation(graph: Graph, observation: URIRef, community: URIRef, label: str, year: str) -> None:
    """A cop:Observation of a community in the audit of a year (its findings are added by the caller)."""
    graph.add((observation, RDF.type, COP.Observation))
    graph.add((observation, RDFS.label, Literal(label)))
    graph.add((observation, COP.observedCommunity, community))
    graph.add((observation, COP.inAudit, iri("audit", year)))
    graph.add((observation, COP.year, Literal(year, datatype=XSD.gYear)))
