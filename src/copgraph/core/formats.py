"""The one table of RDF and SPARQL result formats: short names, media types (with the aliases clients send), file
extensions, labels and Oxigraph's writer for each.

Everything that names a format reads it here: the CLI's `--format`, the endpoint's `format=` and `Accept`, record and
dataset documents by extension, dumps. HTTP negotiation over these (and HTML for pages) is `web.http.negotiation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # the short name used by `--format` and `?format=`
    media_type: str
    writer: ox.QueryResultsFormat | ox.RdfFormat | None  # None: rendered by copgraph (HTML, plain JSON, text)
    extension: str = ""  # of a document in this format (/doc/community/x.ttl), where one is offered
    label: str = ""  # shown to people, e.g. in a record's list of formats
    aliases: tuple[str, ...] = ()  # other media types that clients send for it


# SELECT and ASK results.
RESULT_FORMATS = {
    f.name: f
    for f in (
        Format("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON, "srj", "SPARQL JSON",
               ("application/json",)),
        Format("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML, "srx", "SPARQL XML",
               ("application/xml", "text/xml")),
        Format("csv", "text/csv", ox.QueryResultsFormat.CSV, "csv", "CSV"),
        Format("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV, "tsv", "TSV"),
    )
}  # fmt: skip

# CONSTRUCT and DESCRIBE results, and RDF documents.
GRAPH_FORMATS = {
    f.name: f
    for f in (
        Format("turtle", "text/turtle", ox.RdfFormat.TURTLE, "ttl", "Turtle",
               ("application/x-turtle", "application/turtle")),
        Format("ntriples", "application/n-triples", ox.RdfFormat.N_TRIPLES, "nt", "N-Triples", ("text/plain",)),
        Format("jsonld", "application/ld+json", ox.RdfFormat.JSON_LD, "jsonld", "JSON-LD", ("application/json",)),
        Format("rdfxml", "application/rdf+xml", ox.RdfFormat.RDF_XML, "rdf", "RDF/XML",
               ("application/xml", "text/xml")),
        Format("nquads", "application/n-quads", ox.RdfFormat.N_QUADS, "nq", "N-Quads"),
        Format("trig", "application/trig", ox.RdfFormat.TRIG, "trig", "TriG"),
    )
}  # fmt: skip

# What a format name means for the other kind of result, so one `--format` works for any query.
FALLBACK = {
    "json": "jsonld",
    "xml": "rdfxml",
    "csv": "ntriples",
    "tsv": "ntriples",
    "turtle": "json",
    "table": "ntriples",
}
# Other names clients put in `format=` / `output=` (SPARQLWrapper sends `rdf+xml`, `json-ld`, `n3`).
NAME_ALIASES = {"rdf+xml": "rdfxml", "rdf": "rdfxml", "json-ld": "jsonld", "n3": "turtle", "ttl": "turtle",
                "nt": "ntriples", "n-triples": "ntriples"}  # fmt: skip
TABLE = "table"  # the CLI's plain-text table of solutions
ALL_FORMAT_NAMES = sorted(RESULT_FORMATS | GRAPH_FORMATS)


def pick(table: dict[str, Format], name: str) -> Format:
    """The format of `table` called `name`, or the one it stands for in the other kind of result; ValueError else."""
    chosen = table.get(name) or table.get(FALLBACK.get(name, ""))
    if chosen is None:
        raise ValueError(f"unknown result format {name!r}; choose one of {', '.join(ALL_FORMAT_NAMES)}")
    return chosen
