"""Namespaces and IRI helpers: the one place that knows copgraph's URI scheme."""

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SH, SKOS

DEFAULT_BASE = "https://w3id.org/copgraph/"

COP = Namespace(DEFAULT_BASE + "def/cop#")
ONTOLOGY_IRI = DEFAULT_BASE + "def/cop"
SHAPES = Namespace(DEFAULT_BASE + "def/shapes#")
ID = Namespace(DEFAULT_BASE + "id/")
GRAPH = Namespace(DEFAULT_BASE + "graph/")
SCHEMA = Namespace("https://schema.org/")
SIOC = Namespace("http://rdfs.org/sioc/ns#")
VANN = Namespace("http://purl.org/vocab/vann/")
ADMS = Namespace("http://www.w3.org/ns/adms#")  # external identifiers (adms:identifier, adms:Identifier)

# Plain strings, for IRIs written with `+` into pyoxigraph terms and query text.
DCT = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"

PREFIXES: dict[str, str] = {
    "cop": str(COP),
    "cops": str(SHAPES),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": XSD,
    "skos": str(SKOS),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "org": str(ORG),
    "prov": str(PROV),
    "schema": str(SCHEMA),
    "sioc": str(SIOC),
    "adms": str(ADMS),
    "void": VOID,
    "dcat": str(DCAT),
    "sh": str(SH),
}


def thing(kind: str, slug: str) -> str:
    """The canonical IRI of a thing, e.g. thing("community", "ukfechat")."""
    return f"{ID}{kind}/{slug}"


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace above, for queries written by hand."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
