"""The audits' published figures (audits.csv) as audit records, figures and closure observations, for the facts
conversion (`facts.facts_graphs`)."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from copgraph.core.things import (
    AUDIT_PUBLISHER,
    add_audit,
    add_audit_observation,
    add_sources,
    iri,
    new_graph,
)
from copgraph.core.vocab import COP, SCHEMA
from copgraph.ingest.fact_cells import sources
from copgraph.ingest.schemes import (
    MEASURES,
)

# Figures that describe the AmplifyFE network rather than the audit's count of communities.
NETWORK_FIGURES = {"amplifyfe_professionals_connected", "amplifyfe_practitioners_connected"}

AUDIT_2020_FUNDER = "ufi-voctech-trust"
AUDIT_2020_LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"


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
