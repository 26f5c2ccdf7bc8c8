"""Result formats and their serialisation, shared by the CLI and the HTTP endpoint.

Graphs and booleans are written by Oxigraph. SELECT results are written here because copgraph caps the number of
rows it returns: Oxigraph serialises a whole result iterator, and a capped answer is a list of solutions.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


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
QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list  # list: triples from a remote store


def pick(table: dict[str, Format], name: str) -> Format:
    chosen = table.get(name) or table.get(FALLBACK.get(name, ""))
    if chosen is None:
        raise ValueError(f"unknown result format {name!r}; choose one of {', '.join(ALL_FORMAT_NAMES)}")
    return chosen


def serialize_boolean(result: ox.QueryBoolean, name: str) -> tuple[bytes, str]:
    if name == TABLE:
        return (b"true\n" if bool(result) else b"false\n"), "text/plain"
    chosen = pick(RESULT_FORMATS, name)
    return result.serialize(format=chosen.writer), chosen.media_type


def serialize_triples(triples: Sequence[ox.Triple], name: str) -> tuple[bytes, str]:
    chosen = pick(GRAPH_FORMATS, name)
    quads = chosen.writer in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
    items = [ox.Quad(t.subject, t.predicate, t.object) for t in triples] if quads else triples
    return ox.serialize(items, format=chosen.writer), chosen.media_type


def serialize_solutions(variables: Sequence[str], rows: Sequence[ox.QuerySolution], name: str) -> tuple[bytes, str]:
    """Write SELECT solutions in one of the four W3C result formats (or the CLI's table)."""
    if name == TABLE:
        return as_table(variables, rows).encode("utf-8"), "text/plain"
    chosen = pick(RESULT_FORMATS, name)
    writer = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}[chosen.name]
    return writer(variables, rows).encode("utf-8"), chosen.media_type


def _json_term(term: object) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        value: dict = {"type": "literal", "value": term.value}
        if term.language:
            value["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            value["datatype"] = term.datatype.value
        return value
    return {"type": "triple", "value": {k: _json_term(getattr(term, k)) for k in ("subject", "predicate", "object")}}


def _json(variables: Sequence[str], rows: Sequence[ox.QuerySolution]) -> str:
    bindings = []
    for row in rows:
        bindings.append({name: _json_term(row[name]) for name in variables if row[name] is not None})
    return json.dumps({"head": {"vars": list(variables)}, "results": {"bindings": bindings}}, ensure_ascii=False)


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    parts = "".join(f"<{k}>{_xml_term(getattr(term, k))}</{k}>" for k in ("subject", "predicate", "object"))
    return f"<triple>{parts}</triple>"


def _xml(variables: Sequence[str], rows: Sequence[ox.QuerySolution]) -> str:
    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
    out += [f"<variable name={quoteattr(name)}/>" for name in variables]
    out.append("</head>\n<results>")
    for row in rows:
        out.append("<result>")
        for name in variables:
            if row[name] is not None:
                out.append(f"<binding name={quoteattr(name)}>{_xml_term(row[name])}</binding>")
        out.append("</result>")
    out.append("</results>\n</sparql>\n")
    return "".join(out)


def _csv_value(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def _csv(variables: Sequence[str], rows: Sequence[ox.QuerySolution]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(variables)
    for row in rows:
        writer.writerow([_csv_value(row[name]) for name in variables])
    return buffer.getvalue()


def _tsv(variables: Sequence[str], rows: Sequence[ox.QuerySolution]) -> str:
    lines = ["\t".join(f"?{name}" for name in variables)]
    for row in rows:
        lines.append("\t".join("" if row[name] is None else str(row[name]) for name in variables))
    return "\n".join(lines) + "\n"


def as_table(variables: Sequence[str], rows: Sequence[ox.QuerySolution]) -> str:
    """A plain-text table of SELECT solutions, for people at a terminal."""
    cells = [[_csv_value(row[name]) for name in variables] for row in rows]
    widths = [max([len(name)] + [len(r[i]) for r in cells]) for i, name in enumerate(variables)]
    lines = [" | ".join(name.ljust(w) for name, w in zip(variables, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in cells]
    lines.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(lines) + "\n"
