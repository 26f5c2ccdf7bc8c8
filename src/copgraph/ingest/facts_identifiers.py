"""External identifiers (identifiers.csv) as adms:Identifier records and schema:sameAs links, for the facts
conversion (`facts.facts_graphs`): only what the file gives, each with its source or, failing one, its caveat."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from copgraph.core.things import (
    add_sources,
    iri,
    new_graph,
)
from copgraph.core.vocab import ADMS, COP, SCHEMA
from copgraph.ingest.fact_cells import sources
from copgraph.ingest.schemes import (
    IDENTIFIER_SCHEMES,
)


def convert_identifiers(rows: list[dict[str, str]], names: dict[str, dict[str, str]]) -> Graph:
    """identifiers.csv: an adms:Identifier per row (<thing>-<scheme>), linked from its organisation or platform, and
    a schema:sameAs link to the row's IRI where it gives one. A row with no source carries its note as cop:caveat."""
    graph = new_graph()
    for row in rows:
        kind, thing_id, scheme, value = row["subject_kind"], row["subject_id"], row["scheme"], row["value"]
        where = f"identifiers.csv: {kind} {thing_id} {scheme}"
        if thing_id not in names.get(kind, {}):
            raise ValueError(f"{where}: no such {kind}")
        if scheme not in IDENTIFIER_SCHEMES:
            raise ValueError(f"{where}: unknown scheme")
        if not value:
            raise ValueError(f"{where}: no value")
        thing = iri(kind, thing_id)
        identifier = iri("identifier", f"{thing_id}-{scheme}")
        if (identifier, RDF.type, ADMS.Identifier) in graph:
            raise ValueError(f"{where}: a second identifier in the same scheme")
        scheme_label, _, agency = IDENTIFIER_SCHEMES[scheme]
        graph.add((thing, ADMS.identifier, identifier))
        graph.add((identifier, RDF.type, ADMS.Identifier))
        graph.add((identifier, RDFS.label, Literal(f"{names[kind][thing_id]}: {scheme_label} {value}")))
        graph.add((identifier, SKOS.notation, Literal(value)))
        graph.add((identifier, DCTERMS.conformsTo, iri("identifier-scheme", scheme)))
        graph.add((identifier, ADMS.schemaAgency, Literal(agency)))
        if row["iri"]:
            if row["iri"].rstrip("/").rsplit("/", 1)[-1] != value:
                raise ValueError(f"{where}: the IRI {row['iri']} does not end in the value {value}")
            graph.add((identifier, SCHEMA.url, URIRef(row["iri"])))
            graph.add((thing, SCHEMA.sameAs, URIRef(row["iri"])))
        row_sources = sources(row["sources"])
        add_sources(graph, identifier, row_sources)
        if row_sources and row["note"]:
            graph.add((identifier, RDFS.comment, Literal(row["note"])))
        elif row["note"]:
            graph.add((identifier, COP.caveat, Literal(row["note"])))
        else:
            raise ValueError(f"{where}: no source, and no note to say where the value came from")
    return graph
