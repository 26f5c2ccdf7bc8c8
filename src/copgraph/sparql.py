"""Query evaluation and result serialisation, shared by the CLI and the HTTP endpoint.

Oxigraph writes every result format itself; copgraph only chooses which.
"""

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
    )
}
# What a format name means for the other kind of result, so one `--format` works for any query.
FALLBACK = {"json": "jsonld", "xml": "rdfxml", "csv": "ntriples", "tsv": "ntriples", "turtle": "json"}

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


def is_graph_result(result: QueryResult) -> bool:
    return isinstance(result, ox.QueryTriples)


def serialize(result: QueryResult, format_name: str) -> tuple[bytes, str]:
    """Serialise a query result in the named format (or its counterpart for the result's kind)."""
    table = GRAPH_FORMATS if is_graph_result(result) else RESULT_FORMATS
    chosen = table.get(format_name) or table.get(FALLBACK.get(format_name, ""))
    if chosen is None:
        known = ", ".join(sorted(RESULT_FORMATS | GRAPH_FORMATS))
        raise ValueError(f"unknown result format {format_name!r}; choose one of {known}")
    return result.serialize(format=chosen.writer), chosen.media_type


def as_table(result: QueryResult) -> str:
    """A plain-text table of a SELECT result (ASK gives true/false; graphs are written as N-Triples)."""
    if isinstance(result, ox.QueryBoolean):
        return "true\n" if bool(result) else "false\n"
    if is_graph_result(result):
        return result.serialize(format=ox.RdfFormat.N_TRIPLES).decode()
    names = [v.value for v in result.variables]
    rows = [[_cell(solution[name]) for name in names] for solution in result]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(names)]
    lines = [" | ".join(name.ljust(w) for name, w in zip(names, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _cell(term: object) -> str:
    return "" if term is None else term.value
