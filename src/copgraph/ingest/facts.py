"""The conversion of the sourced fact files (../shared/facts/*.csv) into copgraph's Turtle data, safe to run again.

    python -m copgraph.ingest.facts ../shared/facts data [--dry-run] [--replace THING ...]

The Turtle files under data/ are the source of truth: maintainers edit them, and contributions, audit imports and
`copgraph export` write into them. So a re-run never simply overwrites data/: it merges record by record (a record is
what one file states about one subject: a community, a presence, an observation, an organisation...) against what the
conversion last wrote, which `data/facts-conversion.json` keeps as a SHA-256 of each record's statements:

- a record the facts give and data/ lacks is **added**;
- a record still as the conversion last wrote it is **updated** to what the facts now say;
- a record edited or approved in data/ since (its statements differ from the ones the conversion wrote) is **kept**,
  and the difference from the facts is printed instead (`--replace THING` takes the facts' version after review);
- a record the conversion wrote and a maintainer has removed from data/ since is not added again;
- a record the facts no longer give is kept, and reported.

Files are written only when a record in them is added or updated, so a re-run on converted data changes nothing.

Nothing here invents a fact: every value comes from a CSV cell, and every record carries the cell's sources. The
only editorial choices are the labels and definitions of our own concept schemes (``ingest/schemes.py``), the reading
of the free-text ``host_or_sponsor`` column into organisation roles (``SUPPORT_ROLES`` below; the original words are
kept as ``cop:supportNote``) and of the updates' free text (``UPDATE_PLATFORMS``). Records are stated with the
builders every writer shares (``core/things.py``), so a contribution or an audit import writes a presence, a hashtag
or an audit as this conversion does.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, RDF, RDFS, SKOS, XSD

from copgraph.core.things import (
    add_hashtag,
    add_presences,
    add_sources,
    hashtag_key,
    iri,
    new_graph,
    normalise_url,
    platform_id,
    slugify,
)
from copgraph.core.vocab import COP, ID, SCHEMA
from copgraph.ingest.fact_cells import read_csv, sources, split_list
from copgraph.ingest.facts_audits import convert_audits
from copgraph.ingest.facts_identifiers import convert_identifiers
from copgraph.ingest.facts_merge import (
    MANIFEST,
    Conversion,
    fingerprint,
    merge_file,
    read_manifest,
    record_key,
    statements,
    write,
    write_manifest,
)
from copgraph.ingest.schemes import (
    GOVERNANCE_LABELS,
    ORGANISATION_TYPE_LABELS,
    THEME_LABELS,
    convert_schemes,
    convert_themes,
)

# The 2020 report's front matter (../shared/seeds) gives its funder and licence; later reports were not available.

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
# Our reading of community_updates.csv's free text: the platforms.csv platforms an update saw a community use, by the
# update's observation (<community>-update-<n>). APConnect's Constellation B is the facts' evidence for Slack.
UPDATE_PLATFORMS = {"apconnect-update-1": ["slack"]}
# An update names another communities.csv row as "(row <id>)": the observation points at that community.
ROW_REFERENCE = re.compile(r"\(row ([a-z0-9-]+)\)")


# --- Records from the facts --------------------------------------------------------------------------------------


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
            graph.add((platform, SCHEMA.sameAs, URIRef(row["wikidata"])))
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
            graph.add((organisation, SCHEMA.sameAs, URIRef(row["wikidata"])))
        add_sources(graph, organisation, sources(row["sources"]))
    return graph


@dataclass(frozen=True)
class Context:
    """What converting one community row needs to know about the other files."""

    platform_labels: dict[str, str]
    organisation_ids: set[str]
    # Organisations' homepages, normalised: a community whose homepage is one of these links to it with foaf:page.
    organisation_homepages: set[str]
    community_ids: set[str]
    updates: dict[str, list[dict[str, str]]]  # community_updates.csv rows by community id, in file order


def convert_community(row: dict[str, str], context: Context) -> Graph:
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
        # foaf:homepage is inverse-functional: a page that is an organisation's homepage too (NATECLA the network and
        # NATECLA the association) would make a reasoner conclude the community *is* the organisation.
        shared = normalise_url(row["homepage"]) in context.organisation_homepages
        graph.add((community, FOAF.page if shared else FOAF.homepage, URIRef(row["homepage"])))
    if row["founded"]:
        graph.add((community, SCHEMA.foundingDate, Literal(row["founded"], datatype=XSD.gYear)))
    graph.add((community, COP.status, iri("status", row["status"])))
    if row["status_note"]:
        graph.add((community, COP.statusNote, Literal(row["status_note"])))
    if row["governance"] not in GOVERNANCE_LABELS:
        raise ValueError(f"communities.csv: unknown governance {row['governance']!r} for {slug}")
    graph.add((community, COP.governance, iri("governance", row["governance"])))
    for theme in split_list(row["themes"]):
        if theme not in THEME_LABELS:
            raise ValueError(f"communities.csv: unknown theme {theme!r} for {slug}")
        graph.add((community, DCTERMS.subject, iri("theme", theme)))
    for tag in split_list(row["hashtags"]):
        graph.add((community, COP.hashtag, iri("hashtag", hashtag_key(tag))))
    accounts = presence_accounts(row, context.platform_labels)
    add_presences(graph, community, slug, row["name"], accounts, context.platform_labels, row_sources)
    for role, organisation_id in SUPPORT_ROLES.get(slug, []):
        if organisation_id not in context.organisation_ids:
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
    add_updates(graph, community, row, context)
    return graph


def add_updates(graph: Graph, community: URIRef, row: dict[str, str], context: Context) -> None:
    """community_updates.csv's findings about a community: one observation each (<slug>-update-<n>, n counting the
    community's rows in file order), the finding as cop:reportedFact with the row's own sources."""
    updates = context.updates.get(row["id"], [])
    for number, update in enumerate(updates, start=1):
        slug = f"{row['id']}-update-{number}"
        observation = iri("observation", slug)
        label = f"Further facts reported about {row['name']}" + (f" ({number})" if len(updates) > 1 else "")
        graph.add((observation, RDF.type, COP.Observation))
        graph.add((observation, RDFS.label, Literal(label)))
        graph.add((observation, COP.observedCommunity, community))
        graph.add((observation, COP.reportedFact, Literal(update["fact"])))
        for other in ROW_REFERENCE.findall(update["fact"]):
            if other not in context.community_ids:
                raise ValueError(f"community_updates.csv: {row['id']} names unknown row {other!r}")
            graph.add((observation, RDFS.seeAlso, iri("community", other)))
        for platform in UPDATE_PLATFORMS.get(slug, []):
            if platform not in context.platform_labels:
                raise ValueError(f"UPDATE_PLATFORMS: {slug} names unknown platform {platform!r}")
            graph.add((observation, COP.observedPlatform, iri("platform", platform)))
        update_sources = sources(update["sources"])
        if not update_sources:
            raise ValueError(f"community_updates.csv: the update {slug} cites no source")
        add_sources(graph, observation, update_sources)


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


def facts_graphs(facts_dir: Path) -> dict[str, tuple[Graph, str]]:
    """Every file the facts give, by its path under data/: (its graph, the fact file it comes from)."""
    communities = read_csv(facts_dir / "communities.csv")
    organisations = read_csv(facts_dir / "organisations.csv")
    platforms = read_csv(facts_dir / "platforms.csv")
    updates: dict[str, list[dict[str, str]]] = {}
    community_ids = {row["id"] for row in communities}
    for update in read_csv(facts_dir / "community_updates.csv"):
        if update["community_id"] not in community_ids:
            raise ValueError(f"community_updates.csv: no community {update['community_id']!r}")
        updates.setdefault(update["community_id"], []).append(update)
    context = Context(
        platform_labels={row["id"]: row["name"] for row in platforms},
        organisation_ids={row["id"] for row in organisations},
        organisation_homepages={normalise_url(row["homepage"]) for row in organisations if row["homepage"]},
        community_ids=community_ids,
        updates=updates,
    )
    names = {
        "organisation": {row["id"]: row["name"] for row in organisations},
        "platform": context.platform_labels,
    }
    outputs = {
        "platforms.ttl": (convert_platforms(platforms), "platforms.csv"),
        "organisations.ttl": (convert_organisations(organisations), "organisations.csv"),
        "identifiers.ttl": (convert_identifiers(read_csv(facts_dir / "identifiers.csv"), names), "identifiers.csv"),
        "hashtags.ttl": (convert_hashtags(communities), "communities.csv"),
        "audits.ttl": (convert_audits(read_csv(facts_dir / "audits.csv"), context.organisation_ids), "audits.csv"),
        "schemes.ttl": (convert_schemes(), "README.md and *.csv value lists"),
        "themes.ttl": (convert_themes(), "communities.csv themes"),
    }
    for row in communities:
        outputs[f"communities/{row['id']}.ttl"] = (convert_community(row, context), "communities.csv and its updates")
    return outputs


# --- Merging into data/ ------------------------------------------------------------------------------------------


def convert(
    facts_dir: Path,
    data_dir: Path,
    *,
    replace: Iterable[str] = (),
    dry_run: bool = False,
    baseline: bool = False,
) -> Conversion:
    """Merge the facts into data_dir's Turtle files, record by record (see the module's docstring).

    `baseline` first records every record that data/ and the facts both hold, as data/ holds it, as what the
    conversion last wrote (where the manifest has no entry yet): for a data/ folder converted before the manifest
    existed and not edited since, so that its records are updated rather than reported as edited."""
    wanted = {key.removeprefix(str(ID)) for key in replace}
    manifest = read_manifest(data_dir)
    outcome = Conversion()
    for name, (graph, csv_name) in facts_graphs(facts_dir).items():
        path = data_dir / name
        data = Graph().parse(path, format="turtle") if path.is_file() else None
        base = manifest.get(name, {})
        if baseline and data is not None:
            given = set(graph.subjects())
            base = {record_key(s): fingerprint(statements(data, s)) for s in set(data.subjects()) & given} | base
        merged, entries, events = merge_file(name, graph, data, base, wanted)
        outcome.events += events
        outcome.manifest[name] = entries
        if merged is not None and not dry_run:
            write(merged, path, csv_name)
            outcome.written.append(path)
    for name in set(manifest) - set(outcome.manifest):  # files the facts no longer give: kept, still tracked
        outcome.manifest[name] = manifest[name]
    if not dry_run and write_manifest(data_dir, outcome.manifest):
        outcome.written.append(data_dir / MANIFEST)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("facts_dir", type=Path)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="report what a run would do; write nothing")
    parser.add_argument(
        "--replace",
        metavar="RECORD",
        action="append",
        default=[],
        help="take the facts' version of this record even though data/ has changed it (e.g. community/ukfechat)",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="treat records data/ holds that the manifest does not list yet as the conversion's own output "
        "(once, for a data/ converted before data/facts-conversion.json existed and not edited since)",
    )
    args = parser.parse_args(argv)
    outcome = convert(args.facts_dir, args.data_dir, replace=args.replace, dry_run=args.dry_run, baseline=args.baseline)
    print(outcome.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
