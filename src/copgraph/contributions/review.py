"""Contributions ("put yourself on the map"): form answers turned into RDF, kept pending, reviewed by a maintainer.

A contribution is checked field by field against the published data (known themes, platforms, organisations,
statuses), turned into the Turtle a community record is written in (the same shape as ``ingest/facts.py`` writes),
and kept as its own named graph ``<base>graph/pending/<id>`` in a TriG file plus a JSON receipt in the pending
directory beside the store (``Config.pending_dir``). Pending graphs are never loaded into the store, so they can
never appear in /sparql or the dumps.

Approval replaces the community's graph in the store (one atomic `store.write`, which also records the PROV
activity in the provenance graph), then writes ``data/communities/<slug>.ttl`` and ``data/provenance.ttl``
(each atomically), and changes the receipt last. A crash before the store swap leaves the old state everywhere; a
crash after it leaves the new state in the store, which is authoritative: the files may lag behind, and
`copgraph build` then refuses ("run `copgraph export` first") until they are written back, so no rebuild can lose
or half-apply the approval.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, XSD

from copgraph.build.description import published_write
from copgraph.build.shacl import Report, Validator
from copgraph.core.config import Config
from copgraph.core.vocab import COP, GRAPH, PREFIXES, SCHEMA, thing
from copgraph.ingest.facts import add_presence_triples, iri, new_graph, platform_id, slugify
from copgraph.store.reader import Dataset

PENDING_GRAPH = str(GRAPH) + "pending/"
PROVENANCE_GRAPH = str(GRAPH) + "provenance"
PROVENANCE_FILE = "data/provenance.ttl"
MAINTAINER_AGENT = thing("agent", "maintainer")
ROLES = ("hostedBy", "sponsoredBy", "fundedBy", "supportedBy")
FIELDS = (
    "name",
    "description",
    "homepage",
    "platforms",
    "hashtags",
    "themes",
    "organisation",
    "role",
    "founded",
    "status",
    "governance",
    "source",
    "updates",
)
# Longest accepted answer per field, in characters (per item for lists).
LIMITS = {
    "name": 200,
    "description": 2000,
    "homepage": 500,
    "platforms": 500,
    "hashtags": 100,
    "source": 500,
    "founded": 4,
    "reason": 2000,
}
DEFAULT_LIMIT = 200  # every other field: known values are short, and a refusal never echoes more than this
MULTI_LINE = ("description", "reason")  # every other answer is one line
MAX_ITEMS = 20  # platform rows, hashtags, themes
SIMILAR_NAME = 0.85  # difflib ratio at or above which two normalised names are flagged as likely the same community
TAG = re.compile(r"<\s*(?:[/!?]|[a-zA-Z])")  # a tag, closed or not, a comment, a declaration


def _noncharacter(text: str) -> bool:
    """True if the text holds a Unicode noncharacter (U+FDD0..U+FDEF, or U+xFFFE / U+xFFFF in any plane)."""
    return any(0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE for code in map(ord, text))


# What plain text may not hold, each with the field error it gets (checked in this order).
UNACCEPTABLE: tuple[tuple[Callable[[str], object], str], ...] = (
    (re.compile(r"[\ud800-\udfff]").search, "Not valid Unicode text (a lone surrogate): send the text as UTF-8."),
    (re.compile("\ufffd").search, "Part of this could not be read as UTF-8 (U+FFFD): send the text as UTF-8."),
    (TAG.search, "HTML tags are not accepted here: write plain text, with no '<' before a letter, '/', '!' or '?'."),
    (
        re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]").search,
        "Control characters are not accepted: write plain text.",
    ),
    (
        re.compile("[\u202a-\u202e\u2066-\u2069]").search,
        "Text direction controls (U+202A to U+202E, U+2066 to U+2069) are not accepted: they can disguise what the "
        "text says.",
    ),
    (_noncharacter, "Unicode noncharacters (such as U+FFFF) are not accepted: write plain text."),
)
LINE_BREAK = re.compile(r"[\t\n\r]")
OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # javascript:, data:, file:... (http(s) is checked first)
HASHTAG = re.compile(r"#?([A-Za-z0-9_]+)")
RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ContributionError(Exception):
    """A contribution that cannot be accepted or reviewed; `errors` maps form fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()))
        self.errors = errors


class NotPending(Exception):
    """The contribution has already been approved or rejected (or does not exist)."""


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
        for c, page in rows(f"SELECT ?c ?h WHERE {{ ?c a {community} ; <{FOAF.homepage}> ?h }}")
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


def normalise_url(url: str) -> str:
    """A URL reduced for comparison: no scheme, no leading www., no trailing slash, lower-case host."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return (host + parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")).lower()


def normalise_account(account: str) -> str:
    text = account.strip()
    return normalise_url(text) if text.startswith(("http://", "https://")) else text.lower().lstrip("@")


def normalise_name(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


# --- Answers: plain text in, field errors out -----------------------------------------------------------------------


@dataclass
class Answers:
    """A contribution's answers, each checked: plain text, within limits, naming only known values."""

    name: str
    slug: str
    description: str = ""
    homepage: str = ""
    platforms: list[tuple[str, str]] = field(default_factory=list)  # (platform slug, handle or URL; may be "")
    hashtags: list[str] = field(default_factory=list)  # display forms, "#UKFEchat"
    themes: list[str] = field(default_factory=list)
    organisation: str = ""
    role: str = ""
    founded: str = ""
    status: str = "unknown"
    governance: str = "unknown"
    source: str = ""
    updates: str = ""


def _plain(name: str, value: str, errors: dict[str, list[str]]) -> str:
    """The value stripped; an error (and "") unless it is plain text within the field's length, on one line unless
    the field is MULTI_LINE: no markup, no control, text-direction or noncharacter code points, valid Unicode."""
    text = value.strip()
    limit = LIMITS.get(name, DEFAULT_LIMIT)
    if len(text) > limit:
        errors.setdefault(name, []).append(f"Too long: at most {limit} characters (this has {len(text)}).")
        return ""
    for pattern, message in UNACCEPTABLE:
        if pattern(text):
            errors.setdefault(name, []).append(message)
            return ""
    if name not in MULTI_LINE and LINE_BREAK.search(text):
        errors.setdefault(name, []).append("Write this on one line, without tabs or line breaks.")
        return ""
    return text


def _http_url(name: str, value: str, errors: dict[str, list[str]]) -> str:
    """An http(s) URL that is also a valid IRI (so it can name a thing in RDF), or "" with an error."""
    text = _plain(name, value, errors)
    if not text:
        return ""
    try:
        ox.NamedNode(text)
        problem = "" if text.startswith(("http://", "https://")) and urlsplit(text).netloc else "not an http(s) URL"
    except ValueError as error:  # not an IRI (Oxigraph says why), or a host urlsplit cannot read
        problem = str(error)
    if problem:
        shown = text if len(text) <= 80 else text[:80] + "..."
        errors.setdefault(name, []).append(f"Not a web address ({problem}): give a full http(s):// URL, not {shown!r}.")
        return ""
    return text


def _one_of(name: str, value: str, allowed: dict[str, str], errors: dict[str, list[str]], what: str) -> str:
    text = _plain(name, value, errors)
    if text and text not in allowed:
        errors.setdefault(name, []).append(f"Unknown {what} {text!r}. Known: {', '.join(allowed)}.")
        return ""
    return text


def _first(raw: Mapping[str, list[str]], name: str) -> str:
    values = raw.get(name) or [""]
    return values[0] or ""


def check_answers(raw: Mapping[str, list[str]], known: Known) -> Answers:
    """Answers from raw values (field -> list of strings); raises ContributionError with every field's errors.

    `platforms` items are "platform-slug<TAB>handle-or-URL" (the account may be empty); `hashtags` items may each
    hold several tags separated by spaces or commas."""
    errors: dict[str, list[str]] = {}
    name = _plain("name", _first(raw, "name"), errors)
    if not name and "name" not in errors:
        errors["name"] = ["A name is required."]
    updates = _one_of("updates", _first(raw, "updates"), known.communities, errors, "community")
    slug = updates or slugify(name)
    if name and not slug:
        errors.setdefault("name", []).append(
            "The name needs at least one letter a-z or digit 0-9: they make the community's address."
        )
    elif not updates and slug in known.communities:
        errors.setdefault("name", []).append(
            f"A community with this name ({known.communities[slug]}, /id/community/{slug}) is already published: "
            "to change it, choose it under 'updates'; otherwise give a more specific name."
        )
    answers = Answers(name=name, slug=slug)
    answers.description = _plain("description", _first(raw, "description"), errors)
    answers.homepage = _http_url("homepage", _first(raw, "homepage"), errors)
    answers.source = _http_url("source", _first(raw, "source"), errors)
    if not answers.source and "source" not in errors:
        errors["source"] = ["A source is required: the http(s) address of a public page that shows these facts."]
    answers.platforms = _platforms(raw.get("platforms", []), known, errors)
    answers.hashtags = _hashtags(raw.get("hashtags", []), errors)
    answers.themes = []
    if len(raw.get("themes", [])) > MAX_ITEMS:
        errors.setdefault("themes", []).append(f"At most {MAX_ITEMS} themes.")
    for theme in raw.get("themes", [])[:MAX_ITEMS]:
        checked = _one_of("themes", theme, known.themes, errors, "theme")
        if checked and checked not in answers.themes:
            answers.themes.append(checked)
    if not answers.themes and "themes" not in errors:
        errors["themes"] = [f"Choose at least one theme. Known: {', '.join(known.themes)}."]
    answers.organisation = _one_of(
        "organisation", _first(raw, "organisation"), known.organisations, errors, "organisation"
    )
    answers.role = _one_of("role", _first(raw, "role"), dict.fromkeys(ROLES, ""), errors, "role")
    if answers.organisation and not answers.role and "role" not in errors:
        errors["role"] = [f"Say how the organisation supports the community: one of {', '.join(ROLES)}."]
    founded = _plain("founded", _first(raw, "founded"), errors)
    if founded and not re.fullmatch(r"(19[5-9][0-9]|20[0-9][0-9]|2100)", founded):
        errors.setdefault("founded", []).append("Give the year founded as four digits between 1950 and 2100.")
    answers.founded = founded
    answers.status = _one_of("status", _first(raw, "status") or "unknown", known.statuses, errors, "status")
    answers.governance = _one_of(
        "governance", _first(raw, "governance") or "unknown", known.governance, errors, "governance type"
    )
    answers.updates = updates
    if errors:
        raise ContributionError(errors)
    return answers


def _platforms(rows: list[str], known: Known, errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Rows "slug<TAB>account" (account optional): known platforms only, at most MAX_ITEMS."""
    found: list[tuple[str, str]] = []
    if len(rows) > MAX_ITEMS:
        errors.setdefault("platforms", []).append(f"At most {MAX_ITEMS} platforms.")
        return found
    for row in rows:
        slug, _, account = row.partition("\t")
        slug = platform_id(_plain("platforms", slug, errors))
        account = _plain("platforms", account, errors)
        if not slug and not account:
            continue
        if slug not in known.platforms:
            errors.setdefault("platforms", []).append(
                f"Unknown platform {slug or '(none)'!r}. Known: {', '.join(known.platforms)}."
            )
            continue
        if account.startswith(("http://", "https://")):
            account = _http_url("platforms", account, errors)
            if not account:
                continue
        elif OTHER_SCHEME.match(account) or account.startswith("//"):
            errors.setdefault("platforms", []).append(
                f"Give the handle (e.g. @name) or a full http(s):// address, not {account[:80]!r}."
            )
            continue
        elif " " in account:
            errors.setdefault("platforms", []).append(f"A handle has no spaces: {account!r}.")
            continue
        found.append((slug, account))
    return found


def _hashtags(values: list[str], errors: dict[str, list[str]]) -> list[str]:
    tags: list[str] = []
    if len(values) > MAX_ITEMS:
        errors.setdefault("hashtags", []).append(f"At most {MAX_ITEMS} hashtags.")
        return tags
    for value in values:
        for word in re.split(r"[\s,]+", _plain("hashtags", value, errors)):
            if not word:
                continue
            match = HASHTAG.fullmatch(word)
            if not match or len(word) > LIMITS["hashtags"]:
                errors.setdefault("hashtags", []).append(
                    f"Not a hashtag: {word!r}. Write '#' and letters a-z, digits or '_' (e.g. #UKFEchat)."
                )
            elif "#" + match.group(1) not in tags:
                tags.append("#" + match.group(1))
    if len(tags) > MAX_ITEMS:
        errors.setdefault("hashtags", []).append(f"At most {MAX_ITEMS} hashtags.")
    return tags


# --- RDF: the community record ---------------------------------------------------------------------------------------


def community_graph(answers: Answers, known: Known) -> Graph:
    """The contribution as a community record in our model (ingest/facts.py's shape); new hashtags as cop:Hashtag."""
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
        normalised = tag[1:].lower()
        hashtag = iri("hashtag", normalised)
        graph.add((community, COP.hashtag, hashtag))
        if normalised not in known.hashtags:
            graph.add((hashtag, RDF.type, COP.Hashtag))
            graph.add((hashtag, RDFS.label, Literal(tag)))
            graph.add((hashtag, COP.normalisedTag, Literal(normalised)))
            graph.add((hashtag, DCTERMS.source, source))
    add_presence_triples(graph, community, answers.slug, answers.name, answers.platforms, known.platforms, [source])
    if answers.organisation:
        graph.add((community, COP[answers.role], iri("organisation", answers.organisation)))
    graph.add((community, DCTERMS.source, source))
    return graph


def to_quads(graph: Graph, graph_name: str | None = None) -> list[ox.Quad]:
    """An rdflib graph as Oxigraph quads (through N-Triples, so every term is carried over exactly)."""
    target = ox.NamedNode(graph_name) if graph_name else ox.DefaultGraph()
    parsed = ox.parse(graph.serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES)
    return [ox.Quad(q.subject, q.predicate, q.object, target) for q in parsed]


def turtle(triples: list[ox.Triple]) -> str:
    return _record_file(triples).decode()


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


# --- Duplicates ----------------------------------------------------------------------------------------------------


def duplicates(answers: Answers, known: Known) -> list[dict[str, str]]:
    """Published communities this contribution may duplicate (same homepage, handle or hashtag, or a similar name),
    leaving out the community it says it updates."""
    found: list[dict[str, str]] = []

    def flag(slug: str, reason: str) -> None:
        if slug and slug != answers.updates:
            found.append({"community": slug, "label": known.communities.get(slug, slug), "reason": reason})

    if answers.homepage:
        flag(known.homepages.get(normalise_url(answers.homepage), ""), f"same homepage ({answers.homepage})")
    for platform, account in answers.platforms:
        if account:
            owner = known.handles.get((platform, normalise_account(account)), "")
            flag(owner, f"same {known.platforms[platform]} account ({account})")
    for tag in answers.hashtags:
        for owner in known.hashtags.get(tag[1:].lower(), "").split():
            flag(owner, f"same hashtag ({tag})")
    name = normalise_name(answers.name)
    for slug, label in known.communities.items():
        ratio = difflib.SequenceMatcher(None, name, normalise_name(label)).ratio()
        if ratio >= SIMILAR_NAME:
            flag(slug, f"similar name ({label}, {ratio:.0%} alike)")
    return found


# --- Field errors from SHACL ---------------------------------------------------------------------------------------

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


# --- The pending area ----------------------------------------------------------------------------------------------


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _atomic_write(path: Path, body: bytes) -> None:
    """Write a file so that readers (and a crash) see the old content or the new, never part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def pending_graph(receipt_id: str) -> str:
    return PENDING_GRAPH + receipt_id


def record_path(config: Config, slug: str) -> Path:
    return config.root / "data" / "communities" / f"{slug}.ttl"


def community_graph_name(slug: str) -> str:
    return str(GRAPH) + f"communities/{slug}"


def submit(config: Config, answers: Answers, graph: Graph, flagged: list[dict[str, str]]) -> dict:
    """Keep a validated contribution pending: its TriG file first, then the receipt that makes it visible."""
    receipt_id = secrets.token_urlsafe(18)
    quads = to_quads(graph, pending_graph(receipt_id))
    directory = config.pending_dir
    _atomic_write(directory / f"{receipt_id}.trig", ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES))
    stamp = now()
    receipt = {
        "id": receipt_id,
        "status": "pending",
        "created": stamp,
        "updated": stamp,
        "reason": "",
        "name": answers.name,
        "slug": answers.slug,
        "community": thing("community", answers.slug),
        "updates": answers.updates,
        "graph": pending_graph(receipt_id),
        "duplicates": flagged,
    }
    _save_receipt(config, receipt)
    return receipt


def _save_receipt(config: Config, receipt: dict) -> None:
    _atomic_write(config.pending_dir / f"{receipt['id']}.json", json.dumps(receipt, indent=2).encode())


def receipt(config: Config, receipt_id: str) -> dict | None:
    """The receipt of a contribution, or None if there is none with this id."""
    if not RECEIPT_ID.match(receipt_id):
        return None
    path = config.pending_dir / f"{receipt_id}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def receipts(config: Config, status: str | None = "pending") -> list[dict]:
    """Every receipt (with this status), oldest first."""
    if not config.pending_dir.is_dir():
        return []
    found = [json.loads(p.read_text(encoding="utf-8")) for p in config.pending_dir.glob("*.json")]
    return sorted((r for r in found if status is None or r["status"] == status), key=lambda r: r["created"])


def contributed_triples(config: Config, receipt_id: str) -> list[ox.Triple]:
    path = config.pending_dir / f"{receipt_id}.trig"
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)]


def current_record(dataset: Dataset, slug: str) -> list[ox.Triple]:
    """The community's graph as the store serves it (empty for a new community)."""
    name = ox.NamedNode(community_graph_name(slug))
    return [q.triple for q in dataset.store.quads_for_pattern(None, None, None, name)]


# --- Review: approval and rejection --------------------------------------------------------------------------------


@contextmanager
def _review_lock(config: Config) -> Iterator[None]:
    """One review at a time (across workers), so a contribution is approved or rejected once."""
    config.pending_dir.mkdir(parents=True, exist_ok=True)
    with (config.pending_dir / "review.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _activity(receipt: dict, outcome: str, reason: str, started: str, ended: str) -> list[ox.Triple]:
    """The PROV record of one review: what was used, what it generated, who did it, when and why."""
    activity = ox.NamedNode(thing("activity", f"{outcome}-{receipt['id']}"))
    agent = ox.NamedNode(MAINTAINER_AGENT)

    def node(term: URIRef) -> ox.NamedNode:
        return ox.NamedNode(str(term))

    def when(stamp: str) -> ox.Literal:
        return ox.Literal(stamp, datatype=node(XSD.dateTime))

    statements = [
        (activity, RDF.type, node(PROV.Activity)),
        (activity, RDFS.label, ox.Literal(f"{outcome.capitalize()} of contribution {receipt['id']}")),
        (activity, PROV.startedAtTime, when(started)),
        (activity, PROV.endedAtTime, when(ended)),
        (activity, PROV.used, ox.NamedNode(receipt["graph"])),
        (activity, PROV.wasAssociatedWith, agent),
        (agent, RDF.type, node(PROV.Agent)),
        (agent, RDFS.label, ox.Literal("copgraph maintainer")),
    ]
    if outcome == "approval":
        statements.append((activity, PROV.generated, ox.NamedNode(receipt["community"])))
    if reason:
        statements.append((activity, RDFS.comment, ox.Literal(reason)))
    return [ox.Triple(s, node(p), o) for s, p, o in statements]


def _history(store: ox.Store, receipt: dict, outcome: str, reason: str, started: str) -> list[ox.Triple]:
    """The provenance graph with this review's activity in it; a review run again after a crash (the receipt still
    pending) replaces the activity its first run stored, so it never has two start or end times."""
    activity = _activity(receipt, outcome, reason, started, now())
    again = activity[0].subject
    kept = [
        q.triple
        for q in store.quads_for_pattern(None, None, None, ox.NamedNode(PROVENANCE_GRAPH))
        if q.subject != again
    ]
    return kept + activity


def _pending_receipt(config: Config, receipt_id: str) -> dict:
    found = receipt(config, receipt_id)
    if found is None or found["status"] != "pending":
        raise NotPending(
            f"contribution {receipt_id} is not pending" + (f" (it was {found['status']})" if found else "")
        )
    return found


def approve(
    config: Config,
    receipt_id: str,
    reason: str = "",
    validator: Validator | None = None,
    after_store_write: Callable[[], None] | None = None,
) -> dict:
    """Publish a pending contribution; raises ContributionError (nothing written) if it no longer validates.

    Steps, in crash-safe order: validate the proposed record in context (replacing its old file); one atomic store
    write replacing the community's graph and adding the PROV activity; the record file and data/provenance.ttl;
    the receipt last. `after_store_write` runs between the store swap and the file writes (tests use it to crash
    there)."""
    reason = _checked_reason(reason, required=False)
    with _review_lock(config):
        found = _pending_receipt(config, receipt_id)
        started = now()
        slug, community = found["slug"], found["community"]
        graph_name = community_graph_name(slug)
        contributed = contributed_triples(config, receipt_id)
        path = record_path(config, slug)
        validator = validator or Validator(config.root)
        holder: dict[str, list[ox.Triple]] = {}

        def change(store: ox.Store) -> None:
            named = ox.NamedNode(graph_name)
            current = [q.triple for q in store.quads_for_pattern(None, None, None, named)]
            record = proposed_record(current, contributed, community)
            if current and not found["updates"] and set(record) != set(current):
                # Published by someone else since it was contributed (the same record again is a retried approval).
                raise ContributionError(
                    {"name": [f"A community {slug!r} has been published since: contribute an update to it instead."]}
                )
            report = validator.validate_quads(
                [ox.Quad(t.subject, t.predicate, t.object) for t in record], replacing=[path]
            )
            if not report.conforms:
                raise ContributionError(field_errors(report))
            history = _history(store, found, "approval", reason, started)
            holder["record"] = _replace_graph(store, named, record)
            holder["history"] = _replace_graph(store, ox.NamedNode(PROVENANCE_GRAPH), history)

        published_write(config, change, f"approve:{receipt_id}")
        if after_store_write:
            after_store_write()
        _atomic_write(path, _record_file(holder["record"]))
        _atomic_write(config.root / PROVENANCE_FILE, _record_file(holder["history"]))
        return _close(config, found, "approved", reason)


def reject(config: Config, receipt_id: str, reason: str) -> dict:
    """Reject a pending contribution with a reason (required): the PROV activity is stored and filed, the receipt
    keeps the reason. Nothing is published."""
    reason = _checked_reason(reason, required=True)
    with _review_lock(config):
        found = _pending_receipt(config, receipt_id)
        started = now()
        holder: dict[str, list[ox.Triple]] = {}

        def change(store: ox.Store) -> None:
            history = _history(store, found, "rejection", reason, started)
            holder["history"] = _replace_graph(store, ox.NamedNode(PROVENANCE_GRAPH), history)

        published_write(config, change, f"reject:{receipt_id}")
        _atomic_write(config.root / PROVENANCE_FILE, _record_file(holder["history"]))
        return _close(config, found, "rejected", reason)


def _checked_reason(reason: str, required: bool) -> str:
    errors: dict[str, list[str]] = {}
    text = _plain("reason", reason or "", errors)
    if required and not text and "reason" not in errors:
        errors["reason"] = ["A reason is required to reject a contribution; the contributor sees it on the receipt."]
    if errors:
        raise ContributionError(errors)
    return text


def _replace_graph(store: ox.Store, name: ox.NamedNode, triples: list[ox.Triple]) -> list[ox.Triple]:
    """Make the graph hold exactly these triples; returns them as the store holds them (it normalises some literals,
    e.g. dates in UTC end in Z), so that the file written from them matches the store exactly."""
    if store.contains_named_graph(name):
        store.remove_graph(name)
    store.add_graph(name)
    store.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in dict.fromkeys(triples))
    return [q.triple for q in store.quads_for_pattern(None, None, None, name)]


def _record_file(triples: list[ox.Triple]) -> bytes:
    """Turtle with our prefixes, statements grouped by subject in a stable order (readable diffs in git)."""
    ordered = sorted(dict.fromkeys(triples), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def _close(config: Config, found: dict, status: str, reason: str) -> dict:
    closed = found | {"status": status, "reason": reason, "updated": now()}
    _save_receipt(config, closed)
    return closed


# --- Expiry --------------------------------------------------------------------------------------------------------

REVIEWED = ("approved", "rejected")
# Leftovers of a submission are only removed at least this old: a submission being written is never touched.
LEFTOVER_AGE = timedelta(hours=1)


def prune_pending(config: Config, older_than_days: float, at: datetime | None = None) -> list[Path]:
    """Remove the files of contributions approved or rejected more than `older_than_days` ago (their receipt, then
    their TriG), and what interrupted submissions left (a TriG without a receipt, temporary files) if that old and
    at least LEFTOVER_AGE old. Pending contributions are never removed. Returns the files removed; ValueError for a
    negative age.

    The approval or rejection itself stays recorded as PROV in the store and data/provenance.ttl; only the
    contributor's receipt (and its address) goes."""
    if not older_than_days >= 0:  # also refuses NaN
        raise ValueError(f"--older-than must be a number of days, 0 or more; got {older_than_days}")
    directory = config.pending_dir
    if not directory.is_dir():
        return []
    moment = at or datetime.now(UTC)
    cutoff = moment - timedelta(days=older_than_days)
    removed: list[Path] = []
    with _review_lock(config):  # no review closes a receipt while its files go
        for path in sorted(directory.glob("*.json")):
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
                closed = found["status"] in REVIEWED and _parse_stamp(found["updated"]) < cutoff
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not a receipt this code wrote: left for a person to look at
            if closed:
                removed += _unlink(path, path.with_suffix(".trig"))
        receipts_left = {path.stem for path in directory.glob("*.json")}
        for path in sorted([*directory.glob("*.trig"), *directory.glob(".*.tmp")]):
            if path.stem not in receipts_left and _modified(path) < min(cutoff, moment - LEFTOVER_AGE):
                removed += _unlink(path)
    return removed


def _parse_stamp(stamp: str) -> datetime:
    """A receipt's time ("2026-11-23T10:47:11Z"), aware, in UTC."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _unlink(*paths: Path) -> list[Path]:
    """Remove the files, in this order (the receipt first: without it a contribution is invisible)."""
    gone = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        gone.append(path)
    return gone
