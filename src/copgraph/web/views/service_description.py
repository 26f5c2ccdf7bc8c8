"""The SPARQL 1.1 Service Description of /sparql (W3C sd: vocabulary), in any RDF format."""

from __future__ import annotations

import pyoxigraph as ox

from copgraph.query import results
from copgraph.web.http.context import config, dataset

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"

RESULT_FORMAT_IRIS = [
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
    "N-Quads",
    "TriG",
]
INPUT_FORMAT_IRIS = ["Turtle", "N-Triples", "RDF_XML", "JSON-LD", "N3"]


def service_description(url_root: str, format_name: str) -> tuple[bytes, str]:
    endpoint = ox.NamedNode(url_root.rstrip("/") + "/sparql")
    service = ox.BlankNode("service")
    default_dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")

    def triple(s: object, p: str, o: object) -> ox.Triple:
        return ox.Triple(s, ox.NamedNode(p), o)

    triples = [
        triple(service, RDF_TYPE, ox.NamedNode(SD + "Service")),
        triple(service, SD + "endpoint", endpoint),
        triple(service, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Query")),
        triple(service, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph")),
        triple(service, SD + "feature", ox.NamedNode(SD + "BasicFederatedQuery")),
        triple(service, SD + "defaultDataset", default_dataset),
        triple(default_dataset, RDF_TYPE, ox.NamedNode(SD + "Dataset")),
        triple(default_dataset, SD + "defaultGraph", default_graph),
        triple(default_graph, RDF_TYPE, ox.NamedNode(SD + "Graph")),
        triple(
            default_graph,
            VOID + "triples",
            ox.Literal(
                str(dataset().metadata.triples), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
            ),
        ),
        triple(
            service,
            DCT + "description",
            ox.Literal(
                "copgraph: communities of practice of UK FE and skills. The default graph is the union of all named "
                "graphs; each data file is its own named graph."
            ),
        ),
    ]
    if config().maintainer_token:
        triples.append(triple(service, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Update")))
    for name in RESULT_FORMAT_IRIS:
        triples.append(triple(service, SD + "resultFormat", ox.NamedNode(FORMATS + name)))
    for name in INPUT_FORMAT_IRIS:
        triples.append(triple(service, SD + "inputFormat", ox.NamedNode(FORMATS + name)))
    for name in sorted(dataset().metadata.graphs):
        if name:
            named = ox.BlankNode()
            triples.append(triple(default_dataset, SD + "namedGraph", named))
            triples.append(triple(named, SD + "name", ox.NamedNode(name)))
    return results.serialize_triples(triples, format_name)
