"""One-off conversion of the sourced fact files (../shared/facts/*.csv) into copgraph's Turtle data.

Run once to create ``data/``; from then on the Turtle files are the source of truth and are maintained by hand,
by contributions and by audit imports. Running it again overwrites ``data/`` from the facts.

    python -m copgraph.ingest.facts ../shared/facts data

Nothing here invents a fact: every value comes from a CSV cell, and every record carries the cell's sources.
The only editorial choices are the labels of our own concept schemes and the reading of the free-text
``host_or_sponsor`` column into organisation roles (``SUPPORT_ROLES`` below), whose original words are kept
as ``cop:supportNote``.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, RDF, RDFS, SKOS, XSD

from copgraph.core.vocab import COP, PREFIXES, SCHEMA, thing

STATUS_LABELS = {
    "active": "Active",
    "dormant": "Dormant",
    "closed": "Closed",
    "unknown": "Unknown",
}
STATUS_DEFINITIONS = {
    "active": "The latest source shows the community meeting, posting or running.",
    "dormant": "The community still exists but its latest source shows it winding down or inactive.",
    "closed": "The community has closed, ended or been shut down.",
    "unknown": "The latest source is too old or too vague to say whether the community is still running.",
}
GOVERNANCE_LABELS = {
    "membership-body": "Membership body",
    "independent-practitioners": "Independent practitioners",
    "sector-body": "Sector body",
    "college-or-provider": "College or provider",
    "technology-company": "Technology or media company",
    "charity-or-trust": "Charity or trust",
    "public-body": "Public body",
    "unknown": "Unknown",
}
PLATFORM_KIND_LABELS = {
    "social-network": "Social network",
    "chat": "Chat",
    "video-meeting": "Video meeting",
    "mailing-list": "Mailing list",
    "curation": "Curation",
    "website": "Website",
    "forum": "Forum",
    "podcast": "Podcast",
    "other": "Other",
}
ORGANISATION_TYPE_LABELS = {
    "membership-body": "Membership body",
    "sector-body": "Sector body",
    "university": "University",
    "college": "College",
    "awarding-body": "Awarding body",
    "media": "Media",
    "technology-company": "Technology company",
    "public-body": "Public body",
    "trade-union": "Trade union",
    "consultancy": "Consultancy",
    "charity-or-trust": "Charity or trust",
}
ACTIVITY_LABELS = {"high": "High", "medium": "Medium", "low": "Low", "none": "None"}
THEME_LABELS = {
    "edtech": "Educational technology",
    "learning-technology": "Learning technology",
    "digital-skills": "Digital skills",
    "vocational-subjects": "Vocational subjects",
    "pedagogy": "Pedagogy",
    "curriculum": "Curriculum",
    "teacher-education": "Teacher education",
    "policy": "Policy",
    "wellbeing": "Wellbeing",
    "leadership": "Leadership",
    "research": "Research",
    "esol": "ESOL (English for speakers of other languages)",
    "adult-community-learning": "Adult and community learning",
    "english": "English",
    "maths": "Maths",
    "functional-skills": "Functional skills",
    "employer-engagement": "Employer engagement",
    "apprenticeships": "Apprenticeships",
    "learning-resources": "Learning resources",
    "careers": "Careers",
    "inclusion-send": "Inclusion and SEND",
    "equality-diversity": "Equality and diversity",
}
# The audits' figure names, as measures (audits.csv `figure` column → measure slug and label).
MEASURES = {
    "communities_total": ("communities-total", "Communities of practice in the audit"),
    "communities_rechecked": ("communities-rechecked", "Communities from the previous audit checked again"),
    "communities_added": ("communities-added", "Communities added since the previous audit"),
    "communities_removed": ("communities-removed", "Communities removed since the previous audit"),
    "tes_forums_closed": ("tes-forums-closed", "Tes community forums closed"),
    "amplifyfe_professionals_connected": ("professionals-connected", "Professionals connected by AmplifyFE"),
    "amplifyfe_practitioners_connected": ("practitioners-connected", "Practitioners connected by AmplifyFE"),
}
# Figures that describe the AmplifyFE network rather than the audit's count of communities.
NETWORK_FIGURES = {"amplifyfe_professionals_connected", "amplifyfe_practitioners_connected"}
AUDIT_PUBLISHER = "alt"
# The 2020 report's front matter (../shared/seeds) gives its funder and licence; later reports were not available.
AUDIT_2020_FUNDER = "ufi-voctech-trust"
AUDIT_2020_LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"

# Our reading of communities.csv's free-text `host_or_sponsor` column: (role property, organisation id).
# `supportedBy` is used where the text names an organisation without saying whether it hosts or sponsors.
SUPPORT_ROLES: dict[str, list[tuple[str, str]]] = {
    "amplifyfe": [("hostedBy", "alt"), ("fundedBy", "ufi-voctech-trust")],
    "pdnorth": [("fundedBy", "etf")],
    "etf-professional-exchange-networks": [("supportedBy", "etf")],
    "apconnect": [("supportedBy", "etf"), ("fundedBy", "dfe"), ("deliveredBy", "touch-consulting")],
    "feresearchmeet": [("sponsoredBy", "neu"), ("sponsoredBy", "set")],
    "kent-lsrn": [("supportedBy", "neu")],
    "arpce": [("sponsoredBy", "etf"), ("sponsoredBy", "edge-foundation")],
    "natecla-esol-managers-network": [("hostedBy", "natecla")],
    "esol-research-jiscmail": [("hostedBy", "university-of-leeds")],
    "cfem": [("supportedBy", "etf"), ("supportedBy", "dfe")],
    "teach-too": [
        ("supportedBy", "etf"),
        ("deliveredBy", "ucl-ioe"),
        ("deliveredBy", "aelp"),
        ("deliveredBy", "aoc"),
        ("deliveredBy", "holex"),
    ],
    "blended-learning-consortium": [("hostedBy", "heart-of-worcestershire-college")],
    "lthechat": [("partneredWith", "advance-he"), ("partneredWith", "alt")],
    "jisc-fe-learning-resources-cop": [("supportedBy", "jisc")],
    "wales-ai-working-group": [("supportedBy", "jisc"), ("fundedBy", "welsh-government")],
    "vocteach": [
        ("hostedBy", "open-university"),
        ("fundedBy", "ufi-voctech-trust"),
        ("fundedBy", "open-university"),
        ("fundedBy", "jisc"),
    ],
    "tes-community-forums": [("hostedBy", "tes")],
    "fe-community-ning": [("hostedBy", "fe-news")],
    "jiscmail-moodle-fe": [("hostedBy", "jisc")],
    "jiscmail-champ-curriculum": [("hostedBy", "jisc")],
    "east-midlands-heads-of-it": [("supportedBy", "jisc")],
    "rsc-london-moodle-round-tables": [("supportedBy", "jisc")],
    "jisc-regional-support-centres": [("supportedBy", "jisc")],
    "set": [("supportedBy", "etf")],
    "techability": [("supportedBy", "natspec")],
    "otla": [("supportedBy", "etf"), ("fundedBy", "dfe"), ("deliveredBy", "ccconsultancy")],
    "edtech-demonstrator-programme": [("supportedBy", "dfe")],
    "etf-edtech-awarded-practice-wall": [("supportedBy", "etf")],
    "aoc-technology-reference-group": [("supportedBy", "aoc")],
    "week-of-voctech": [("supportedBy", "ufi-voctech-trust"), ("partneredWith", "fe-news")],
    "alt-fe-committee": [("supportedBy", "alt")],
}
# Communities the facts describe as run by another community (Ideas Room is run by the JoyFE collective).
PART_OF = {"joyfe-ideas-room": "joyfe"}

GENERATED_NOTE = (
    "# Converted from ../shared/facts/{csv} by src/copgraph/ingest/facts.py; maintained as Turtle from here on.\n"
)


def split_list(cell: str, sep: str = ";") -> list[str]:
    return [part.strip() for part in cell.split(sep) if part.strip()]


def sources(cell: str) -> list[URIRef]:
    return [URIRef(url) for url in cell.split()]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    graph.bind("id", thing("", "")[:-1], override=True)
    return graph


def iri(kind: str, slug: str) -> URIRef:
    return URIRef(thing(kind, slug))


def add_sources(graph: Graph, subject: URIRef, urls: list[URIRef]) -> None:
    for url in urls:
        graph.add((subject, DCTERMS.source, url))


def add_scheme(graph: Graph, kind: str, title: str, labels: dict[str, str], definitions: dict | None = None) -> None:
    scheme = iri("scheme", kind)
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, SKOS.prefLabel, Literal(title, lang="en")))
    graph.add((scheme, RDFS.label, Literal(title)))
    for slug, label in labels.items():
        concept = iri(kind, slug)
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.prefLabel, Literal(label, lang="en")))
        graph.add((concept, RDFS.label, Literal(label)))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((concept, SKOS.topConceptOf, scheme))
        graph.add((scheme, SKOS.hasTopConcept, concept))
        if definitions and slug in definitions:
            graph.add((concept, SKOS.definition, Literal(definitions[slug], lang="en")))


def platform_id(token: str) -> str:
    """A communities.csv platform token's platforms.csv id ("Email list" → "email-list")."""
    return token.strip().lower().replace(" ", "-")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def convert_platforms(rows: list[dict[str, str]]) -> Graph:
    graph = new_graph()
    for row in rows:
        platform = iri("platform", row["id"])
        graph.add((platform, RDF.type, COP.Platform))
        graph.add((platform, RDFS.label, Literal(row["name"])))
        graph.add((platform, COP.platformKind, iri("platform-kind", row["kind"])))
        if row["homepage"]:
            graph.add((platform, FOAF.homepage, URIRef(row["homepage"])))
        if row["wikidata"]:
            graph.add((platform, OWL.sameAs, URIRef(row["wikidata"])))
        add_sources(graph, platform, sources(row["sources"]))
    return graph


def organisation_types(cell: str) -> tuple[list[str], str | None]:
    """Split "sector-body (registered charity)" into (["sector-body"], "registered charity")."""
    main, _, rest = cell.partition(" (")
    qualifier = rest.rstrip(")") or None
    return [slugify(part) for part in main.split("/")], qualifier


def convert_organisations(rows: list[dict[str, str]]) -> Graph:
    graph = new_graph()
    for row in rows:
        organisation = iri("organisation", row["id"])
        graph.add((organisation, RDF.type, ORG.Organization))
        graph.add((organisation, RDF.type, FOAF.Organization))
        graph.add((organisation, RDFS.label, Literal(row["name"])))
        types, qualifier = organisation_types(row["type"])
        for kind in types:
            if kind not in ORGANISATION_TYPE_LABELS:
                raise ValueError(f"organisations.csv: unknown type {kind!r} for {row['id']}")
            graph.add((organisation, COP.organisationType, iri("organisation-type", kind)))
        if qualifier:
            graph.add((organisation, RDFS.comment, Literal(qualifier)))
        if row["homepage"]:
            graph.add((organisation, FOAF.homepage, URIRef(row["homepage"])))
        if row["wikidata"]:
            graph.add((organisation, OWL.sameAs, URIRef(row["wikidata"])))
        add_sources(graph, organisation, sources(row["sources"]))
    return graph


def convert_community(row: dict[str, str], platform_labels: dict[str, str], organisation_ids: set[str]) -> Graph:
    graph = new_graph()
    slug = row["id"]
    community = iri("community", slug)
    row_sources = sources(row["sources"])
    graph.add((community, RDF.type, COP.CommunityOfPractice))
    graph.add((community, RDFS.label, Literal(row["name"])))
    for name in split_list(row["alternate_names"]):
        graph.add((community, SKOS.altLabel, Literal(name)))
    if row["description"]:
        graph.add((community, DCTERMS.description, Literal(row["description"])))
    if row["homepage"]:
        graph.add((community, FOAF.homepage, URIRef(row["homepage"])))
    if row["founded"]:
        graph.add((community, SCHEMA.foundingDate, Literal(row["founded"], datatype=XSD.gYear)))
    graph.add((community, COP.status, iri("status", row["status"])))
    if row["status_note"]:
        graph.add((community, COP.statusNote, Literal(row["status_note"])))
    graph.add((community, COP.governance, iri("governance", row["governance"])))
    for theme in split_list(row["themes"]):
        if theme not in THEME_LABELS:
            raise ValueError(f"communities.csv: unknown theme {theme!r} for {slug}")
        graph.add((community, DCTERMS.subject, iri("theme", theme)))
    for tag in split_list(row["hashtags"]):
        graph.add((community, COP.hashtag, iri("hashtag", tag.lstrip("#").lower())))
    add_presences(graph, community, row, platform_labels, row_sources)
    for role, organisation_id in SUPPORT_ROLES.get(slug, []):
        if organisation_id not in organisation_ids:
            raise ValueError(f"SUPPORT_ROLES: {slug} names unknown organisation {organisation_id!r}")
        graph.add((community, COP[role], iri("organisation", organisation_id)))
    if row["host_or_sponsor"]:
        graph.add((community, COP.supportNote, Literal(row["host_or_sponsor"])))
    if slug in PART_OF:
        graph.add((community, DCTERMS.isPartOf, iri("community", PART_OF[slug])))
    add_sources(graph, community, row_sources)
    figures = split_list(row["figures"])
    if figures:
        observation = iri("observation", f"{slug}-1")
        graph.add((observation, RDF.type, COP.Observation))
        graph.add((observation, RDFS.label, Literal(f"Figures reported for {row['name']}")))
        graph.add((observation, COP.observedCommunity, community))
        for figure in figures:
            graph.add((observation, COP.reportedFigure, Literal(figure)))
        add_sources(graph, observation, row_sources)
    return graph


def add_presences(
    graph: Graph, community: URIRef, row: dict[str, str], platform_labels: dict[str, str], row_sources: list[URIRef]
) -> None:
    """One cop:Presence per platform token; a bare token repeating a platform already given in detail is dropped."""
    tokens = [token.partition(":") for token in split_list(row["platforms"])]
    detailed = {platform_id(name) for name, _, detail in tokens if detail}
    accounts = []
    for name, _, detail in tokens:
        platform = platform_id(name)
        if platform not in platform_labels:
            raise ValueError(f"communities.csv: unknown platform {name!r} for {row['id']}")
        if detail or platform not in detailed:
            accounts.append((platform, detail))
    add_presence_triples(graph, community, row["id"], row["name"], accounts, platform_labels, row_sources)


def add_presence_triples(
    graph: Graph,
    community: URIRef,
    slug: str,
    name: str,
    accounts: list[tuple[str, str]],
    platform_labels: dict[str, str],
    sources: list[URIRef],
) -> None:
    """A community's presences, one per (platform id, account) pair, where an account is a handle, an address or "":
    presence/<slug>-<platform>[-n] (n from the second on the same platform), labelled "<name> on <platform>
    (<handle>)". Shared by the facts conversion and contributions, so both write presences alike."""
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


def convert_hashtags(rows: list[dict[str, str]]) -> Graph:
    graph = new_graph()
    for row in rows:
        for tag in split_list(row["hashtags"]):
            normalised = tag.lstrip("#").lower()
            hashtag = iri("hashtag", normalised)
            if (hashtag, RDF.type, COP.Hashtag) not in graph:
                graph.add((hashtag, RDF.type, COP.Hashtag))
                graph.add((hashtag, RDFS.label, Literal(tag)))
                graph.add((hashtag, COP.normalisedTag, Literal(normalised)))
            add_sources(graph, hashtag, sources(row["sources"]))
    return graph


def convert_audits(rows: list[dict[str, str]], organisation_ids: set[str]) -> Graph:
    graph = new_graph()
    for required in (AUDIT_PUBLISHER, AUDIT_2020_FUNDER):
        if required not in organisation_ids:
            raise ValueError(f"audits need organisation {required!r}")
    audit_years = sorted({row["year"] for row in rows if row["figure"] not in NETWORK_FIGURES})
    for year in audit_years:
        audit = iri("audit", year)
        graph.add((audit, RDF.type, COP.SectorAudit))
        graph.add((audit, RDFS.label, Literal(f"Communities of Practice Sector Audit {year}")))
        graph.add((audit, COP.auditYear, Literal(year, datatype=XSD.gYear)))
        graph.add((audit, DCTERMS.publisher, iri("organisation", AUDIT_PUBLISHER)))
    audit_2020 = iri("audit", "2020")
    graph.add((audit_2020, SCHEMA.funder, iri("organisation", AUDIT_2020_FUNDER)))
    graph.add((audit_2020, DCTERMS.license, URIRef(AUDIT_2020_LICENCE)))
    for row in rows:
        row_sources = sources(row["source"])
        year = row["year"]
        if row["figure"] == "report_published":
            audit = iri("audit", year)
            if row["unit"] == "month":
                graph.add((audit, DCTERMS.issued, Literal(row["value"], datatype=XSD.gYearMonth)))
            graph.add((audit, RDFS.comment, Literal(row["note"])))
            add_sources(graph, audit, row_sources)
            continue
        measure_slug, measure_label = MEASURES[row["figure"]]
        figure = iri("figure", f"{year}-{measure_slug}")
        graph.add((figure, RDF.type, COP.PublishedFigure))
        graph.add((figure, RDFS.label, Literal(f"{measure_label}, {year}: {row['value']}")))
        graph.add((figure, COP.measure, iri("measure", measure_slug)))
        graph.add((figure, COP.value, Literal(int(row["value"]), datatype=XSD.integer)))
        graph.add((figure, COP.unit, Literal(row["unit"])))
        graph.add((figure, COP.year, Literal(year, datatype=XSD.gYear)))
        if row["figure"] in NETWORK_FIGURES:
            graph.add((figure, COP.figureOf, iri("community", "amplifyfe")))
        else:
            graph.add((figure, COP.inAudit, iri("audit", year)))
            add_sources(graph, iri("audit", year), row_sources)
        if row["note"]:
            graph.add((figure, RDFS.comment, Literal(row["note"])))
        add_sources(graph, figure, row_sources)
        if row["figure"] == "tes_forums_closed":
            add_closure_observation(graph, year, row, row_sources)
    return graph


def add_closure_observation(graph: Graph, year: str, row: dict[str, str], row_sources: list[URIRef]) -> None:
    """The 2021 audit recorded the closure of the Tes forums: an observation of that community in that audit."""
    observation = iri("observation", f"tes-community-forums-{year}")
    graph.add((observation, RDF.type, COP.Observation))
    graph.add((observation, RDFS.label, Literal(f"Tes community forums recorded as closed in the {year} audit")))
    graph.add((observation, COP.observedCommunity, iri("community", "tes-community-forums")))
    graph.add((observation, COP.inAudit, iri("audit", year)))
    graph.add((observation, COP.year, Literal(year, datatype=XSD.gYear)))
    graph.add((observation, COP.status, iri("status", "closed")))
    graph.add((observation, COP.reportedFigure, Literal(f"{row['value']} {row['unit']} closed")))
    add_sources(graph, observation, row_sources)


def convert_schemes() -> Graph:
    graph = new_graph()
    add_scheme(graph, "status", "Community status", STATUS_LABELS, STATUS_DEFINITIONS)
    add_scheme(graph, "governance", "Community governance type", GOVERNANCE_LABELS)
    add_scheme(graph, "platform-kind", "Platform kind", PLATFORM_KIND_LABELS)
    add_scheme(graph, "organisation-type", "Organisation type", ORGANISATION_TYPE_LABELS)
    add_scheme(graph, "activity", "Activity level", ACTIVITY_LABELS)
    add_scheme(graph, "measure", "Published audit and network figures", dict(MEASURES.values()))
    return graph


def convert_themes() -> Graph:
    graph = new_graph()
    add_scheme(graph, "theme", "Themes of FE and skills communities of practice", THEME_LABELS)
    return graph


def write(graph: Graph, path: Path, csv_name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = graph.serialize(format="turtle")
    path.write_text(GENERATED_NOTE.format(csv=csv_name) + text, encoding="utf-8")


def convert(facts_dir: Path, data_dir: Path) -> int:
    """Write data_dir's Turtle files from facts_dir's CSVs; returns the number of files written."""
    communities = read_csv(facts_dir / "communities.csv")
    organisations = read_csv(facts_dir / "organisations.csv")
    platforms = read_csv(facts_dir / "platforms.csv")
    audits = read_csv(facts_dir / "audits.csv")
    platform_labels = {row["id"]: row["name"] for row in platforms}
    organisation_ids = {row["id"] for row in organisations}
    outputs = {
        "platforms.ttl": (convert_platforms(platforms), "platforms.csv"),
        "organisations.ttl": (convert_organisations(organisations), "organisations.csv"),
        "hashtags.ttl": (convert_hashtags(communities), "communities.csv"),
        "audits.ttl": (convert_audits(audits, organisation_ids), "audits.csv"),
        "schemes.ttl": (convert_schemes(), "README.md and *.csv value lists"),
        "themes.ttl": (convert_themes(), "communities.csv themes"),
    }
    for row in communities:
        graph = convert_community(row, platform_labels, organisation_ids)
        outputs[f"communities/{row['id']}.ttl"] = (graph, "communities.csv")
    for name, (graph, csv_name) in outputs.items():
        write(graph, data_dir / name, csv_name)
    return len(outputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts_dir", type=Path)
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    count = convert(args.facts_dir, args.data_dir)
    print(f"wrote {count} files to {args.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
