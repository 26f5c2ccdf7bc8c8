"""Synthetic copgraph sector graphs for benchmarks and tests (issue 5): a pure function of (communities, seed).

    python -m benchmarks.generate --communities 100000 --seed 42 --out /tmp/bench-100k

makes DIR a copgraph root folder (use it as COPGRAPH_ROOT / --root):

    DIR/ontology, DIR/shapes, DIR/queries   copies of this repository's folders, taken when DIR is generated (not
                                            symlinks: copgraph.core.graphs names a file's graph by its resolved path
                                            relative to the resolved root, which fails for a symlinked folder)
    DIR/data/schemes.ttl, DIR/data/themes.ttl
                                            copies of the repository's controlled vocabularies (status, governance,
                                            platform kind, organisation type, measure, activity; the theme scheme
                                            and its themes, which the canned queries name)
    DIR/data/synthetic.nt                   every synthetic record in one N-Triples file, streamed line by line
    DIR/manifest.json                       sizes, sample IRIs per kind, platforms and themes most used first

Synthetic data never goes into the repository's data/ (the generator refuses such a folder). Synthetic records are
recognisable: communities are id/community/syn-c0000123, platforms syn-p0007, organisations syn-o000042, the themes
beyond the repository's own syn-t0003, presences id/presence/syn-c0000123-syn-p0007, observations
id/observation/syn-c0000123-2021, hashtags #SynChat0000123 (id/hashtag/synchat0000123). Audits and their figures keep
the model's year-based IRIs (id/audit/2021, id/figure/2021-communities-total) because copgraph looks audits up by
year. Every record cites an https://example.org/synthetic/source/... page.

The same (communities, seed) gives byte-identical data/synthetic.nt (one random.Random per purpose, seeded with a
string, lists only, no clock) as long as the repository's data/themes.ttl keeps its themes; manifest.json differs
only in generated_seconds. Observations use cop:observedName and cop:observedPlatform (what an audit listed and saw)
on about half of them, with a few renames and platform moves between audits.

Scale: about 43 triples (6.8 kB of N-Triples) per community; 1,000,000 communities take about a minute and 170 MB.
Note that validating with copgraph's Validator checks the whole graph, and shapes/rules.ttl's handle rule is about
quadratic in presences with handles: minutes already at 1,000 communities.

`make_contribution(manifest, index)` gives the Turtle of one more community that conforms to the shapes in the context
of the generated graph; `make_invalid_contribution(manifest, index)` the same without the community's name.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import TextIO

REPO = Path(__file__).resolve().parent.parent
ID = "https://w3id.org/copgraph/id/"
SOURCE = "https://example.org/synthetic/source/"
SITE = "https://example.org/synthetic/"
DATA_FILE = "data/synthetic.nt"
MARKER = ".copgraph-synthetic"  # says a folder is ours to replace, even if a run stopped before its manifest
VOCABULARY_FILES = ("schemes.ttl", "themes.ttl")  # copied from the repository's data/
REPOSITORY_FOLDERS = ("ontology", "shapes", "queries")  # copied from the repository
SAMPLE_SIZE = 2000
YEARS = tuple(range(2018, 2026))  # one sector audit a year
FLUSH_EVERY = 2048  # communities per write

# Predicates and classes, written out once.
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
COMMENT = "<http://www.w3.org/2000/01/rdf-schema#comment>"
COP = "https://w3id.org/copgraph/def/cop#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
SCHEMA = "https://schema.org/"
ORG_CLASS = "<http://www.w3.org/ns/org#Organization>"
P_SOURCE = f"<{DCT}source>"
P_SUBJECT = f"<{DCT}subject>"
P_DESCRIPTION = f"<{DCT}description>"
P_IS_PART_OF = f"<{DCT}isPartOf>"
P_HOMEPAGE = f"<{FOAF}homepage>"
P_FOUNDING = f"<{SCHEMA}foundingDate>"
P_URL = f"<{SCHEMA}url>"
P_ALT_LABEL = f"<{SKOS}altLabel>"
GYEAR = f"<{XSD}gYear>"
INTEGER = f"<{XSD}integer>"
NON_NEGATIVE = f"<{XSD}nonNegativeInteger>"
THEME_SCHEME = f"{ID}scheme/theme"


def cop(term: str) -> str:
    return f"<{COP}{term}>"


def thing(kind: str, slug: str) -> str:
    """The canonical IRI of a thing, as copgraph.core.vocab.thing writes it."""
    return f"{ID}{kind}/{slug}"


def literal(text: str) -> str:
    """An N-Triples string literal (xsd:string), escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary of the synthetic sector. Escaping is compositional, so names are built from pre-escaped parts.

# (label, platform kind, handle style): the head of the platform distribution, most used first.
HEAD_PLATFORMS = (
    ("Twitter/X", "social-network", "at"),
    ("JiscMail", "mailing-list", "jiscmail"),
    ("LinkedIn", "social-network", "at"),
    ("Website", "website", "site"),
    ("Microsoft Teams", "chat", "none"),
    ("Zoom", "video-meeting", "none"),
    ("Facebook", "social-network", "at"),
    ("YouTube", "other", "at"),
    ("Wakelet", "curation", "name"),
    ("Padlet", "curation", "name"),
    ("WhatsApp", "chat", "none"),
    ("Email list", "mailing-list", "list"),
    ("Moodle", "forum", "name"),
    ("Podcast", "podcast", "name"),
    ("Forum", "forum", "name"),
    ("Slack", "chat", "name"),
    ("Mastodon", "social-network", "at"),
    ("Bluesky", "social-network", "at"),
    ("Google Meet", "video-meeting", "none"),
    ("Discord", "chat", "name"),
)
PLATFORM_KINDS = ("social-network", "chat", "video-meeting", "mailing-list", "curation", "website", "forum",
                  "podcast", "other")  # fmt: skip
KIND_STYLE = {"social-network": "at", "chat": "name", "video-meeting": "none", "mailing-list": "list",
              "curation": "name", "website": "site", "forum": "name", "podcast": "name", "other": "name"}  # fmt: skip
# handle style -> (probability of a handle, handle prefix, handle suffix, probability of a schema:url)
HANDLE_STYLES = {
    "at": (0.9, "@syn_c", "", 0.3),
    "jiscmail": (0.95, "SYN-C", "@JISCMAIL.AC.UK", 0.3),
    "list": (0.6, "SYN-C", "-L", 0.2),
    "name": (0.5, "syn-c", "", 0.4),
    "none": (0.1, "syn-c", "", 0.2),
    "site": (0.0, "", "", 1.0),
}
# The repository's themes, most used first; themes it gains later follow in slug order.
THEME_ORDER = (
    "pedagogy", "edtech", "learning-technology", "teacher-education", "research", "digital-skills", "english",
    "maths", "functional-skills", "esol", "curriculum", "leadership", "policy", "wellbeing", "vocational-subjects",
    "adult-community-learning", "apprenticeships", "inclusion-send", "learning-resources", "employer-engagement",
    "careers", "equality-diversity",
)  # fmt: skip
THEME_WORDS = ("Construction", "Hair and Beauty", "Engineering", "Health and Social Care", "Creative Arts",
               "Hospitality", "Land-based Studies", "Sport", "Public Services", "Computing", "Science",
               "Business", "Childcare", "Motor Vehicle", "Travel and Tourism", "Prison Education")  # fmt: skip
REGIONS = ("North West", "North East", "Yorkshire", "East Midlands", "West Midlands", "East of England",
           "London", "South East", "South West", "Wales", "Cymru", "Scotland", "Northern Ireland", "Kent",
           "Greater Manchester", "Tyneside", "Cornwall", "Cumbria", "Ynys Môn", "Solent")  # fmt: skip
SUBJECTS = ("Functional Skills Maths", "Functional Skills English", "ESOL", "Digital Skills", "Learning Technology",
            "Apprenticeships", "Teacher Education", "FE Research", "Adult Community Learning", "Construction",
            "Health and Social Care", "Hair and Beauty", "Engineering", "Creative Arts", "SEND and Inclusion",
            "Careers Guidance", "FE Leadership", "Teachers' Wellbeing", "Vocational Pedagogy", "Moodle")  # fmt: skip
FORMATS = ("Network", "Chat", "Community of Practice", "Hub", "Forum", "Meet", "Special Interest Group",
           "Research Group", "Mailing List", "Round Table", "Collective", 'Friday "Five" Chat',
           "TeachMeet")  # fmt: skip
PLACES = ("Northshire", "Westmere", "Eastbridge", "Southwold", "Kingsford", "Ashby", "Bramley", "Caerwen",
          "Dunmore", "Elmswick", "Fairhaven", "Glenrock", "Hartley", "Ivybridge", "Langford", "Milbrook", "Newholm",
          "Oakham", "Pendle", "Redmoor", "Stanwell", "Thornbury", "Upton", "Whitmoor", "Ystrad")  # fmt: skip
ORGANISATION_KINDS = (
    ("College", ("college",)),
    ("College Group", ("college", "charity-or-trust")),
    ("University", ("university",)),
    ("Skills Trust", ("charity-or-trust",)),
    ("Learning Partnership", ("sector-body",)),
    ("Teachers' Union Branch", ("trade-union",)),
    ("EdTech Ltd", ("technology-company",)),
    ("Awarding Body", ("awarding-body",)),
    ("Council", ("public-body",)),
    ("Consulting", ("consultancy",)),
    ("Association", ("membership-body",)),
    ("Media", ("media",)),
)
GOVERNANCE = (("independent-practitioners", 25), ("membership-body", 18), ("sector-body", 15),
              ("college-or-provider", 15), ("public-body", 8), ("charity-or-trust", 7), ("technology-company", 4),
              ("unknown", 8))  # fmt: skip
SUPPORT_ROLES = (("supportedBy", 18), ("hostedBy", 9), ("fundedBy", 6), ("deliveredBy", 3), ("sponsoredBy", 2),
                 ("partneredWith", 2))  # fmt: skip
PRESENCES_PER_COMMUNITY = ((1, 40), (2, 32), (3, 18), (4, 10))
THEMES_PER_COMMUNITY = ((1, 35), (2, 35), (3, 20), (4, 10))
SUPPORTERS_PER_COMMUNITY = ((0, 55), (1, 30), (2, 12), (3, 3))
ACTIVITY = {"active": (("high", 30), ("medium", 45), ("low", 25)), "dormant": (("low", 50), ("none", 50)),
            "closed": (("none", 100),)}  # fmt: skip
ZIPF_PLATFORMS, ZIPF_THEMES, ZIPF_ORGANISATIONS = 1.2, 1.0, 0.8
FIRST_AUDIT_SHARE = 0.16  # communities already there at the first audit; the rest are added evenly later
CLOSING = 0.22  # communities that close at some audit after the one that added them
RECHECK = 0.4  # chance that an audit records a community it could have (alive, added earlier)
RENAMED_OR_MOVED = 0.1  # communities observed more than once whose name or first platform an audit saw differently


def sizes(communities: int) -> dict[str, int]:
    """How many platforms, themes (including the repository's) and organisations a graph of this size has."""
    return {
        "platforms": 20 + communities // 2000,
        "themes": 20 + communities // 5000,
        "organisations": max(10, communities // 20),
    }


class Picker:
    """Weighted choice by one random() and a bisection (random.choices is slower for one item)."""

    def __init__(self, weights: list[float] | tuple[float, ...]):
        self.cumulative: list[float] = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total
        self.last = len(self.cumulative) - 1

    def __call__(self, rnd: object) -> int:
        index = bisect.bisect_right(self.cumulative, rnd() * self.total)  # type: ignore[operator]
        return index if index <= self.last else self.last


def zipf(count: int, exponent: float) -> Picker:
    return Picker([1.0 / (rank + 1) ** exponent for rank in range(count)])


def table(pairs: tuple[tuple[object, int], ...]) -> tuple[list[object], Picker]:
    return [value for value, _ in pairs], Picker([weight for _, weight in pairs])


def repository_themes() -> list[str]:
    """Slugs of the themes in the repository's data/themes.ttl, most used first (THEME_ORDER, then the rest)."""
    import pyoxigraph as ox

    in_scheme, scheme = ox.NamedNode(SKOS + "inScheme"), ox.NamedNode(THEME_SCHEME)
    prefix = thing("theme", "")
    slugs = sorted(
        {
            quad.subject.value.removeprefix(prefix)
            for quad in ox.parse(path=str(REPO / "data" / "themes.ttl"), format=ox.RdfFormat.TURTLE)
            if quad.predicate == in_scheme and quad.object == scheme and quad.subject.value.startswith(prefix)
        }
    )
    rank = {slug: i for i, slug in enumerate(THEME_ORDER)}
    return sorted(slugs, key=lambda s: (rank.get(s, len(rank)), s))


# ---------------------------------------------------------------------------------------------------------------
# The graph


class _Sampler:
    """Reservoir sampling (algorithm R): a uniform sample of a stream of unknown length, deterministic by seed."""

    def __init__(self, rng: random.Random, size: int = SAMPLE_SIZE):
        self.rnd, self.size, self.seen, self.items = rng.random, size, 0, []

    def add(self, item: str) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            j = int(self.rnd() * self.seen)
            if j < self.size:
                self.items[j] = item


def write_graph(out: TextIO, communities: int, seed: int, real_themes: list[str]) -> dict:
    """Write every synthetic record as N-Triples to out; return counts, samples and popularity."""
    n = communities
    size = sizes(n)
    lines = 0
    buffer: list[str] = []
    w = buffer.append

    def flush() -> None:
        nonlocal lines
        chunk = "".join(buffer)
        lines += chunk.count("\n")
        out.write(chunk)
        buffer.clear()

    vocab_rng = random.Random(f"copgraph-synthetic:{seed}:{n}:vocabulary")
    vrnd = vocab_rng.random
    a = RDF_TYPE

    # Platforms: the head named after the sector's real platforms, then a long tail.
    platform_count = size["platforms"]
    platforms: list[tuple[str, str, str]] = []  # (slug, escaped label, handle style)
    for k in range(platform_count):
        if k < len(HEAD_PLATFORMS):
            name, kind, style = HEAD_PLATFORMS[k]
        else:
            kind = PLATFORM_KINDS[k % len(PLATFORM_KINDS)]
            name, style = f"Synthetic platform {k:04d}", KIND_STYLE[kind]
        slug = f"syn-p{k:04d}"
        p = f"<{thing('platform', slug)}>"
        w(f"{p} {a} {cop('Platform')} .\n{p} {LABEL} {literal(name)} .\n")
        w(f"{p} {cop('platformKind')} <{thing('platform-kind', kind)}> .\n")
        w(f"{p} {P_SOURCE} <{SOURCE}platform/{slug}> .\n")
        if vrnd() < 0.6:
            w(f"{p} {P_HOMEPAGE} <{SITE}platform/{slug}> .\n")
        platforms.append((slug, literal(name)[1:-1], style))

    # Themes: the repository's (copied in data/themes.ttl) first, then synthetic ones in the same scheme.
    theme_count = max(size["themes"], len(real_themes))
    themes = [thing("theme", slug) for slug in real_themes]
    for k in range(theme_count - len(real_themes)):
        slug = f"syn-t{k:04d}"
        t = f"<{thing('theme', slug)}>"
        label = f"{THEME_WORDS[k % len(THEME_WORDS)]} (synthetic theme {k:04d})"
        w(f"{t} {a} <{SKOS}Concept> .\n{t} {LABEL} {literal(label)} .\n")
        w(f"{t} <{SKOS}prefLabel> {literal(label)}@en .\n{t} <{SKOS}inScheme> <{THEME_SCHEME}> .\n")
        w(f"{t} <{SKOS}topConceptOf> <{THEME_SCHEME}> .\n<{THEME_SCHEME}> <{SKOS}hasTopConcept> {t} .\n")
        w(f"{t} {P_SOURCE} <{SOURCE}theme/{slug}> .\n")
        themes.append(thing("theme", slug))

    # Organisations: the first publishes the audits, the second funds them.
    organisation_count = size["organisations"]
    organisations: list[str] = []
    for k in range(organisation_count):
        slug = f"syn-o{k:06d}"
        o = f"<{thing('organisation', slug)}>"
        if k == 0:
            name, types = "Synthetic Association for Learning Technology (SALT)", ("membership-body",)
        elif k == 1:
            name, types = "Synthetic VocTech Trust", ("charity-or-trust",)
        else:
            kind, types = ORGANISATION_KINDS[int(vrnd() * len(ORGANISATION_KINDS))]
            name = f"{PLACES[int(vrnd() * len(PLACES))]} {kind} {k}"
        w(f"{o} {a} {ORG_CLASS} .\n{o} {a} <{FOAF}Organization> .\n{o} {LABEL} {literal(name)} .\n")
        for organisation_type in types:
            w(f"{o} {cop('organisationType')} <{thing('organisation-type', organisation_type)}> .\n")
        w(f"{o} {P_SOURCE} <{SOURCE}organisation/{slug}> .\n")
        if vrnd() < 0.5:
            w(f"{o} {P_HOMEPAGE} <{SITE}organisation/{slug}> .\n")
        organisations.append(f"<{thing('organisation', slug)}>")

    # Sector audits, one a year.
    audit_iri = {y: f"<{thing('audit', str(y))}>" for y in YEARS}
    audit_source = {y: f"<{SOURCE}audit/{y}>" for y in YEARS}
    for y in YEARS:
        s = audit_iri[y]
        w(f"{s} {a} {cop('SectorAudit')} .\n")
        w(f"{s} {LABEL} {literal(f'Synthetic Communities of Practice Sector Audit {y}')} .\n")
        w(f'{s} {cop("auditYear")} "{y}"^^{GYEAR} .\n{s} <{DCT}publisher> {organisations[0]} .\n')
        w(f"{s} <{SCHEMA}funder> {organisations[1]} .\n")
        w(f'{s} <{DCT}issued> "{y}-07"^^<{XSD}gYearMonth> .\n')
        w(f"{s} <{DCT}license> <https://creativecommons.org/licenses/by-sa/4.0/> .\n")
        w(f"{s} {P_SOURCE} {audit_source[y]} .\n")
    flush()

    # Communities, streamed.
    rng = random.Random(f"copgraph-synthetic:{seed}:{n}:communities")
    rnd = rng.random
    paretovariate = rng.paretovariate
    sample_rng = random.Random(f"copgraph-synthetic:{seed}:{n}:samples")
    presence_sample, hashtag_sample, observation_sample = (_Sampler(sample_rng) for _ in range(3))

    pick_platform = zipf(platform_count, ZIPF_PLATFORMS)
    pick_theme = zipf(theme_count, ZIPF_THEMES)
    pick_organisation = zipf(organisation_count, ZIPF_ORGANISATIONS)
    presence_counts, pick_presence_count = table(PRESENCES_PER_COMMUNITY)
    theme_counts, pick_theme_count = table(THEMES_PER_COMMUNITY)
    supporter_counts, pick_supporter_count = table(SUPPORTERS_PER_COMMUNITY)
    governance_values, pick_governance = table(GOVERNANCE)
    governance_iris = [f"<{thing('governance', g)}>" for g in governance_values]
    role_names, pick_role = table(SUPPORT_ROLES)
    role_iris = [cop(r) for r in role_names]
    activity = {status: table(levels) for status, levels in ACTIVITY.items()}
    activity_iris = {
        status: [f"<{thing('activity', level)}>" for level in values] for status, (values, _) in activity.items()
    }
    status_iri = {s: f"<{thing('status', s)}>" for s in ("active", "dormant", "closed", "unknown")}
    regions = [literal(r)[1:-1] for r in REGIONS]
    subjects = [literal(s)[1:-1] for s in SUBJECTS]
    formats = [literal(f)[1:-1] for f in FORMATS]
    theme_iris = [f"<{t}>" for t in themes]
    platform_iris = [f"<{thing('platform', slug)}>" for slug, _, _ in platforms]
    handle_styles = [HANDLE_STYLES[style] for _, _, style in platforms]
    platform_use = [0] * platform_count
    theme_use = [0] * theme_count
    first_year, last_year = YEARS[0], YEARS[-1]
    year_total = dict.fromkeys(YEARS, 0)
    year_added = dict.fromkeys(YEARS, 0)
    year_closed = dict.fromkeys(YEARS, 0)
    presences_total = hashtags_total = observations_total = supporter_links = 0

    C_COMMUNITY, C_PRESENCE, C_HASHTAG, C_OBSERVATION = (
        cop(x) for x in ("CommunityOfPractice", "Presence", "Hashtag", "Observation")
    )
    P_STATUS, P_GOVERNANCE, P_HAS_PRESENCE, P_ON_PLATFORM, P_HANDLE = (
        cop(x) for x in ("status", "governance", "hasPresence", "onPlatform", "handle")
    )
    P_HASHTAG, P_TAG, P_USED_ON, P_OBSERVED, P_IN_AUDIT, P_ACTIVITY, P_MEMBERS = (
        cop(x)
        for x in ("hashtag", "normalisedTag", "usedOn", "observedCommunity", "inAudit", "activityLevel", "memberCount")
    )
    P_OBSERVED_NAME, P_OBSERVED_PLATFORM = cop("observedName"), cop("observedPlatform")
    community_prefix, presence_prefix = thing("community", "syn-c"), thing("presence", "syn-c")
    observation_prefix, hashtag_prefix = thing("observation", "syn-c"), thing("hashtag", "synchat")

    for i in range(n):
        num = f"{i:07d}"
        c = f"<{community_prefix}{num}>"
        src = f"<{SOURCE}community/syn-c{num}>"
        region, subject = regions[int(rnd() * len(regions))], subjects[int(rnd() * len(subjects))]
        name = f"{region} {subject} {formats[int(rnd() * len(formats))]} {i}"
        w(f'{c} {a} {C_COMMUNITY} .\n{c} {LABEL} "{name}" .\n{c} {P_SOURCE} {src} .\n')
        w(f"{c} {P_GOVERNANCE} {governance_iris[pick_governance(rnd)]} .\n")

        # Life across the audits: first recorded (added) by the audit of `start`, perhaps closed in `closed`; each
        # later audit re-checks a living community with probability RECHECK, so the audits' totals grow over time.
        start = first_year if rnd() < FIRST_AUDIT_SHARE else first_year + 1 + int(rnd() * (len(YEARS) - 1))
        closed = start + 1 + int(rnd() * (last_year - start)) if start < last_year and rnd() < CLOSING else 0
        years = [start]
        for y in range(start + 1, closed or last_year + 1):
            if rnd() < RECHECK:
                years.append(y)
        if closed:
            years.append(closed)
        if rnd() < 0.7:
            founded = 1995 + int(rnd() * (first_year - 1994)) if start == first_year else start - int(rnd() * 3)
            w(f'{c} {P_FOUNDING} "{founded}"^^{GYEAR} .\n')

        # Themes (distinct, skewed).
        chosen: list[int] = []
        wanted = theme_counts[pick_theme_count(rnd)]
        while len(chosen) < wanted:
            t = pick_theme(rnd)
            if t not in chosen:
                chosen.append(t)
                theme_use[t] += 1
                w(f"{c} {P_SUBJECT} {theme_iris[t]} .\n")

        if rnd() < 0.5:
            w(f'{c} {P_DESCRIPTION} "A synthetic community for {name}, generated for benchmarks." .\n')
        if rnd() < 0.4:
            w(f"{c} {P_HOMEPAGE} <{SITE}site/syn-c{num}> .\n")
        if rnd() < 0.1:
            w(f'{c} {P_ALT_LABEL} "SYN{i}" .\n')
        if i and rnd() < 0.01:
            w(f"{c} {P_IS_PART_OF} <{community_prefix}{int(rnd() * i):07d}> .\n")

        # Supporting organisations (distinct, so no triple repeats), each in one role.
        supporters: list[int] = []
        wanted = supporter_counts[pick_supporter_count(rnd)]
        while len(supporters) < wanted:
            k = pick_organisation(rnd)
            if k not in supporters:
                supporters.append(k)
                w(f"{c} {role_iris[pick_role(rnd)]} {organisations[k]} .\n")
        supporter_links += wanted

        # Presences on distinct platforms, skewed.
        on: list[int] = []
        wanted = presence_counts[pick_presence_count(rnd)]
        while len(on) < wanted:
            k = pick_platform(rnd)
            if k in on:
                continue
            on.append(k)
            platform_use[k] += 1
            pslug, plabel, _ = platforms[k]
            p = f"<{presence_prefix}{num}-{pslug}>"
            presence_sample.add(p[1:-1])
            presences_total += 1
            w(f"{c} {P_HAS_PRESENCE} {p} .\n{p} {a} {C_PRESENCE} .\n{p} {P_ON_PLATFORM} {platform_iris[k]} .\n")
            w(f"{p} {P_SOURCE} {src} .\n")
            handle_probability, handle_prefix, handle_suffix, url_probability = handle_styles[k]
            if rnd() < handle_probability:
                handle = f"{handle_prefix}{num}{handle_suffix}"
                w(f'{p} {P_HANDLE} "{handle}" .\n{p} {LABEL} "{name} on {plabel} ({handle})" .\n')
            else:
                w(f'{p} {LABEL} "{name} on {plabel}" .\n')
            if rnd() < url_probability:
                w(f"{p} {P_URL} <{SITE}{pslug}/syn-c{num}> .\n")

        # A hashtag of its own (most communities have none).
        if rnd() < 0.2:
            h = f"<{hashtag_prefix}{num}>"
            hashtag_sample.add(h[1:-1])
            hashtags_total += 1
            w(f'{c} {P_HASHTAG} {h} .\n{h} {a} {C_HASHTAG} .\n{h} {LABEL} "#SynChat{num}" .\n')
            w(f'{h} {P_TAG} "synchat{num}" .\n{h} {P_SOURCE} {src} .\n')
            if rnd() < 0.5:
                w(f"{h} {P_USED_ON} {platform_iris[on[0]]} .\n")

        # Observations in the audits; once closed, never active again (shapes/rules.ttl, rule 1). Some audits also
        # record the name they listed and the platforms they saw: a few communities were renamed, or moved from
        # another platform to their first one, at one of their later audits.
        changed_at = years[1 + int(rnd() * (len(years) - 1))] if len(years) > 1 and rnd() < RENAMED_OR_MOVED else 0
        old_name = f"{region} {subject} {formats[int(rnd() * len(formats))]} {i}" if changed_at else name
        old_platform = pick_platform(rnd) if changed_at else on[0]
        if old_platform in on:
            old_platform = on[0]
        status = "active"
        for y in years:
            status = "closed" if y == closed else ("active" if rnd() < 0.85 else "dormant")
            o = f"<{observation_prefix}{num}-{y}>"
            observation_sample.add(o[1:-1])
            observations_total += 1
            year_total[y] += 1
            w(f'{o} {a} {C_OBSERVATION} .\n{o} {LABEL} "{name} in the {y} audit" .\n')
            w(f"{o} {P_SOURCE} {audit_source[y]} .\n{o} {P_OBSERVED} {c} .\n{o} {P_IN_AUDIT} {audit_iri[y]} .\n")
            w(f"{o} {P_STATUS} {status_iri[status]} .\n")
            if rnd() < 0.5:
                w(f'{o} {P_OBSERVED_NAME} "{old_name if y < changed_at else name}" .\n')
            if rnd() < 0.5:
                w(f"{o} {P_OBSERVED_PLATFORM} {platform_iris[old_platform if y < changed_at else on[0]]} .\n")
                for k in on[1:]:
                    w(f"{o} {P_OBSERVED_PLATFORM} {platform_iris[k]} .\n")
            if rnd() < 0.6:
                _, pick_level = activity[status]
                w(f"{o} {P_ACTIVITY} {activity_iris[status][pick_level(rnd)]} .\n")
            if rnd() < 0.3:
                members = min(int(20 * paretovariate(1.1)), 1_000_000)
                w(f'{o} {P_MEMBERS} "{members}"^^{NON_NEGATIVE} .\n')
        year_added[start] += 1
        if closed:
            year_closed[closed] += 1
        current = status if (closed or rnd() < 0.75) else "unknown"
        w(f"{c} {P_STATUS} {status_iri[current]} .\n")

        if i % FLUSH_EVERY == FLUSH_EVERY - 1:
            flush()

    # The audits' published figures, from what the observations hold.
    measures = (("communities-total", "Communities of practice in the audit", year_total),
                ("communities-added", "Communities added since the previous audit", year_added),
                ("communities-removed", "Communities removed since the previous audit", year_closed))  # fmt: skip
    figures = 0
    for y in YEARS:
        for measure, words, values in measures:
            if measure != "communities-total" and y == first_year:
                continue
            f = f"<{thing('figure', f'{y}-{measure}')}>"
            figures += 1
            w(f"{f} {a} {cop('PublishedFigure')} .\n{f} {LABEL} {literal(f'{words}, {y}: {values[y]}')} .\n")
            w(f"{f} {P_SOURCE} {audit_source[y]} .\n{f} {cop('inAudit')} {audit_iri[y]} .\n")
            w(f'{f} {cop("measure")} <{thing("measure", measure)}> .\n{f} {cop("unit")} "communities" .\n')
            w(f'{f} {cop("value")} "{values[y]}"^^{INTEGER} .\n{f} {cop("year")} "{y}"^^{GYEAR} .\n')
    flush()

    def by_use(iris: list[str], use: list[int]) -> list[str]:
        return [iris[k] for k in sorted(range(len(iris)), key=lambda k: (-use[k], k))]

    def uniform(iris: list[str]) -> list[str]:
        if len(iris) <= SAMPLE_SIZE:
            return list(iris)
        return [iris[k] for k in sorted(sample_rng.sample(range(len(iris)), SAMPLE_SIZE))]

    platform_plain = [p[1:-1] for p in platform_iris]
    community_sample = [f"{community_prefix}{k:07d}" for k in sorted(sample_rng.sample(range(n), min(n, SAMPLE_SIZE)))]
    return {
        "triples": lines,
        "counts": {
            "communities": n,
            "platforms": platform_count,
            "themes": theme_count,
            "organisations": organisation_count,
            "presences": presences_total,
            "hashtags": hashtags_total,
            "observations": observations_total,
            "supporter_links": supporter_links,
            "audits": len(YEARS),
            "figures": figures,
        },
        "years": list(YEARS),
        "samples": {
            "community": community_sample,
            "platform": uniform(platform_plain),
            "theme": uniform(themes),
            "organisation": uniform([o[1:-1] for o in organisations]),
            "hashtag": sorted(hashtag_sample.items),
            "audit": [audit_iri[y][1:-1] for y in YEARS],
            "presence": sorted(presence_sample.items),
            "observation": sorted(observation_sample.items),
        },
        "popular": {"platform": by_use(platform_plain, platform_use), "theme": by_use(themes, theme_use)},
        "audit_figures": {
            str(y): {"total": year_total[y], "added": year_added[y], "closed": year_closed[y]} for y in YEARS
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# The root folder


def _refuse_unsafe(out: Path) -> None:
    """Never write into the repository itself or its data/, ontology/, shapes/ or queries/."""
    for protected in (REPO / "data", REPO / "ontology", REPO / "shapes", REPO / "queries", REPO / "src"):
        if out == protected or protected in out.parents:
            raise ValueError(f"refusing to write synthetic data under {protected}: choose a folder outside it")
    if out == REPO:
        raise ValueError("refusing to use the repository itself as the synthetic root: choose another folder")


def prepare_root(out: Path) -> Path:
    """Make out an empty synthetic root: a new or empty folder, or a previous output of this generator (whose own
    files are replaced; anything else in it, such as a store under var/, is left alone)."""
    out = Path(os.path.abspath(out))
    _refuse_unsafe(out)
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"{out} exists and is not a folder")
        ours = any((out / name).exists() for name in (MARKER, "manifest.json", DATA_FILE))
        if any(out.iterdir()) and not ours:
            raise ValueError(f"{out} is not empty and is not a synthetic root made by this generator")
        (out / "manifest.json").unlink(missing_ok=True)
        for name in (*REPOSITORY_FOLDERS, "data"):
            if (out / name).is_symlink():
                (out / name).unlink()
            elif (out / name).is_dir():
                shutil.rmtree(out / name)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("A synthetic copgraph root made by benchmarks/generate.py; regenerating replaces it.\n")
    for name in REPOSITORY_FOLDERS:
        shutil.copytree(REPO / name, out / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    (out / "data").mkdir()
    for name in VOCABULARY_FILES:
        shutil.copyfile(REPO / "data" / name, out / "data" / name)
    return out


def generate(communities: int, seed: int, out: Path | str) -> dict:
    """Generate a synthetic root in out; return its manifest (also written to out/manifest.json, last)."""
    if communities < 1:
        raise ValueError("--communities must be at least 1")
    started = time.perf_counter()
    root = prepare_root(Path(out))
    with open(root / DATA_FILE, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as handle:
        result = write_graph(handle, communities, seed, repository_themes())
    manifest = {
        "communities": communities,
        "seed": seed,
        "triples": result["triples"],
        "file": DATA_FILE,
        "generated_seconds": round(time.perf_counter() - started, 3),
        "samples": result["samples"],
        "popular": result["popular"],
        "counts": result["counts"],
        "years": result["years"],
        "audit_figures": result["audit_figures"],
        "vocabulary_files": [f"data/{name}" for name in VOCABULARY_FILES],
    }
    partial = root / "manifest.json.partial"
    partial.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    partial.replace(root / "manifest.json")
    return manifest


def load_manifest(root: Path | str) -> dict:
    return json.loads((Path(root) / "manifest.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------------------
# Contributions


def _contribution(manifest: dict, index: int, with_name: bool) -> str:
    if index < 0:
        raise ValueError("index must be >= 0")
    rng = random.Random(f"copgraph-synthetic:{manifest['seed']}:{manifest['communities']}:contribution:{index}")
    num = f"{index:07d}"
    slug = f"syn-contrib-{num}"
    community = thing("community", slug)
    source = f"{SOURCE}contribution/{slug}"
    name = f"{rng.choice(REGIONS)} {rng.choice(SUBJECTS)} {rng.choice(FORMATS)} (contribution {index})"
    popular_platforms = manifest["popular"]["platform"][:10]
    platforms = rng.sample(popular_platforms, min(len(popular_platforms), rng.randint(1, 3)))
    popular_themes = manifest["popular"]["theme"][:12]
    themes = rng.sample(popular_themes, min(len(popular_themes), rng.randint(1, 3)))
    organisations = manifest["samples"]["organisation"]
    governance = rng.choice([g for g, _ in GOVERNANCE])

    def iri(value: str) -> str:
        return f"<{value}>"

    presences = [(thing("presence", f"{slug}-{p.rsplit('/', 1)[-1]}"), p) for p in platforms]
    statements = ["    a cop:CommunityOfPractice"]
    if with_name:
        statements.append(f"    rdfs:label {literal(name)}")
    statements += [
        f"    dct:description {literal('A community contributed to the synthetic benchmark graph.')}",
        f"    dct:source {iri(source)}",
        f"    cop:status {iri(thing('status', 'active'))}",
        f"    cop:governance {iri(thing('governance', governance))}",
        "    dct:subject " + ", ".join(iri(t) for t in themes),
        f'    schema:foundingDate "{YEARS[-1]}"^^xsd:gYear',
        "    cop:hasPresence " + ", ".join(iri(p) for p, _ in presences),
    ]
    if organisations:
        statements.append(f"    cop:hostedBy {iri(rng.choice(organisations))}")
    hashtag = thing("hashtag", f"syncontrib{num}") if index % 2 == 0 else None
    if hashtag:
        statements.append(f"    cop:hashtag {iri(hashtag)}")
    lines = [
        "@prefix cop: <https://w3id.org/copgraph/def/cop#> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix schema: <https://schema.org/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        "",
        f"{iri(community)}",
        " ;\n".join(statements) + " .",
    ]
    handle = f"@syn_contrib_{num}"
    for presence, platform in presences:
        label = f"{name} on {platform.rsplit('/', 1)[-1]} ({handle})"
        lines += [
            "",
            f"{iri(presence)} a cop:Presence ;",
            f"    rdfs:label {literal(label)} ;",
            f"    cop:onPlatform {iri(platform)} ;",
            f"    cop:handle {literal(handle)} ;",
            f"    dct:source {iri(source)} .",
        ]
    if hashtag:
        lines += [
            "",
            f"{iri(hashtag)} a cop:Hashtag ;",
            f'    rdfs:label "#SynContrib{num}" ;',
            f'    cop:normalisedTag "syncontrib{num}" ;',
            f"    dct:source {iri(source)} .",
        ]
    return "\n".join(lines) + "\n"


def make_contribution(manifest: dict, index: int) -> str:
    """Turtle for one new community (slug syn-contrib-<index>) with 1-3 presences on popular platforms, 1-3 popular
    themes, a host from the graph's organisations and, for even indexes, a new hashtag. It conforms to the shapes in
    the context of the generated graph and collides with nothing in it (IRIs, handles, hashtags are all new)."""
    return _contribution(manifest, index, with_name=True)


def make_invalid_contribution(manifest: dict, index: int) -> str:
    """make_contribution's community without its rdfs:label: cops:Community-label (sh:minCount 1) must fire."""
    return _contribution(manifest, index, with_name=False)


# ---------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate", description="Generate a synthetic copgraph root folder for benchmarks."
    )
    parser.add_argument("--communities", type=int, required=True, help="how many communities (e.g. 1000 .. 1000000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", type=Path, required=True, help="the root folder to create (outside data/)")
    args = parser.parse_args(argv)
    try:
        manifest = generate(args.communities, args.seed, args.out)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"{os.path.abspath(args.out)}: {manifest['communities']} communities, {manifest['triples']} triples "
        f"in {manifest['generated_seconds']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
