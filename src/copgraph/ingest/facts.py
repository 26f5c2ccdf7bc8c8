"""One-off conversion of the sourced fact files (../shared/facts/*.csv) into copgraph's Turtle data.

Run once to create ``data/``; from then on the Turtle files are the source of truth and are maintained by hand,
by contributions and by audit imports. Running it again overwrites ``data/`` from the facts.

    python -m copgraph.ingest.facts ../shared/facts data

Nothing here invents a fact: every value comes from a CSV cell, and every record carries the cell's sources.
The only editorial choices are the labels of our own concept schemes (``ingest/schemes.py``) and the reading of the
free-text ``host_or_sponsor`` column into organisation roles (``SUPPORT_ROLES`` below), whose original words are kept
as ``cop:supportNote``. Records are stated with the builders every writer shares (``core/things.py``), so a
contribution or an audit import writes a presence, a hashtag or an audit as this conversion does.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, RDF, RDFS, SKOS, XSD

from copgraph.core.things import (
    AUDIT_PUBLISHER,
    add_audit,
    add_audit_observation,
    add_hashtag,
    add_presences,
    add_sources,
    hashtag_key,
    iri,
    new_graph,
    platform_id,
    slugify,
)
from copgraph.core.vocab import COP, SCHEMA
from copgraph.ingest.schemes import MEASURES, ORGANISATION_TYPE_LABELS, THEME_LABELS, convert_schemes, convert_themes

# Figures that describe the AmplifyFE network rather than the audit's count of communities.
NETWORK_FIGURES = {"amplifyfe_professionals_connected", "amplifyfe_practitioners_connected"}
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
        graph.add((community, COP.hashtag, iri("hashtag", hashtag_key(tag))))
    accounts = presence_accounts(row, platform_labels)
    add_presences(graph, community, slug, row["name"], accounts, platform_labels, row_sources)
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


def presence_accounts(row: dict[str, str], platform_labels: dict[str, str]) -> list[tuple[str, str]]:
    """(platform slug, account) per platform token ("Twitter:@handle", "Zoom"); a bare token repeating a platform
    already given in detail is dropped."""
    tokens = [token.partition(":") for token in split_list(row["platforms"])]
    detailed = {platform_id(name) for name, _, detail in tokens if detail}
    accounts = []
    for name, _, detail in tokens:
        platform = platform_id(name)
        if platform not in platform_labels:
            raise ValueError(f"communities.csv: unknown platform {name!r} for {row['id']}")
        if detail or platform not in detailed:
            accounts.append((platform, detail))
    return accounts


def convert_hashtags(rows: list[dict[str, str]]) -> Graph:
    graph = new_graph()
    for row in rows:
        for tag in split_list(row["hashtags"]):
            add_hashtag(graph, tag, sources(row["sources"]))
    return graph


def convert_audits(rows: list[dict[str, str]], organisation_ids: set[str]) -> Graph:
    graph = new_graph()
    for required in (AUDIT_PUBLISHER, AUDIT_2020_FUNDER):
        if required not in organisation_ids:
            raise ValueError(f"audits need organisation {required!r}")
    audit_years = sorted({row["year"] for row in rows if row["figure"] not in NETWORK_FIGURES})
    for year in audit_years:
        add_audit(graph, year)
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
    label = f"Tes community forums recorded as closed in the {year} audit"
    add_audit_observation(graph, observation, iri("community", "tes-community-forums"), label, year)
    graph.add((observation, COP.status, iri("status", "closed")))
    graph.add((observation, COP.reportedFigure, Literal(f"{row['value']} {row['unit']} closed")))
    add_sources(graph, observation, row_sources)


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
