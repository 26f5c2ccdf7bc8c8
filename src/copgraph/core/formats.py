"""core.formats: from sparql.py (docstring to be rewritten)."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # the short name used by `--format` and `?format=`
    media_type: str
    writer: ox.QueryResultsFormat | ox.RdfFormat


# SELECT and ASK results.
RESULT_FORMATS = {
    f.name: f
    for f in (
        Format("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
        Format("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
        Format("csv", "text/csv", ox.QueryResultsFormat.CSV),
        Format("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
    )
}


# CONSTRUCT and DESCRIBE results.
GRAPH_FORMATS = {
    f.name: f
    for f in (
        Format("turtle", "text/turtle", ox.RdfFormat.TURTLE),
        Format("ntriples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        Format("jsonld", "application/ld+json", ox.RdfFormat.JSON_LD),
        Format("rdfxml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
        Format("nquads", "application/n-quads", ox.RdfFormat.N_QUADS),
        Format("trig", "application/trig", ox.RdfFormat.TRIG),
    )
}


# What a format name means for the other kind of result, so one `--format` works for any query.
FALLBACK = {
    "json": "jsonld",
    "xml": "rdfxml",
    "csv": "ntriples",
    "tsv": "ntriples",
    "turtle": "json",
    "table": "ntriples",
}


TABLE = "table"  # the CLI's plain-text table of solutions


ALL_FORMAT_NAMES = sorted(RESULT_FORMATS | GRAPH_FORMATS)


def pick(table: dict[str, Format], name: str) -> Format:
    chosen = table.get(name) or table.get(FALLBACK.get(name, ""))
    if chosen is None:
        raise ValueError(f"unknown result format {name!r}; choose one of {', '.join(ALL_FORMAT_NAMES)}")
    return chosen

