"""Result formats and their serialisation, shared by the CLI and the HTTP endpoint.

Everything is written by Oxigraph; SELECT results go through its TSV first, where the row cap is a count of lines
(serialize_solutions).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyoxigraph as ox

from copgraph.core.formats import GRAPH_FORMATS, RESULT_FORMATS, TABLE, pick
from copgraph.core.rdf_io import as_bytes

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


# What a query returns: a list is the triples of a graph answer read from a remote store.
QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list[ox.Triple]


def result_writer(name: str) -> tuple[ox.QueryResultsFormat, str]:
    """Oxigraph's writer and the media type of a SELECT/ASK result format (ValueError for an unknown name)."""
    chosen = pick(RESULT_FORMATS, name)
    if not isinstance(chosen.writer, ox.QueryResultsFormat):
        raise ValueError(f"{name!r} is not a SPARQL results format")
    return chosen.writer, chosen.media_type


def graph_writer(name: str) -> tuple[ox.RdfFormat, str]:
    """Oxigraph's writer and the media type of an RDF format (ValueError for an unknown name)."""
    chosen = pick(GRAPH_FORMATS, name)
    if not isinstance(chosen.writer, ox.RdfFormat):
        raise ValueError(f"{name!r} is not an RDF format")
    return chosen.writer, chosen.media_type


def serialize_boolean(result: ox.QueryBoolean, name: str) -> tuple[bytes, str]:
    if name == TABLE:
        return (b"true\n" if bool(result) else b"false\n"), "text/plain"
    writer, media_type = result_writer(name)
    return as_bytes(result.serialize(format=writer)), media_type


def serialize_triples(triples: Sequence[ox.Triple], name: str) -> tuple[bytes, str]:
    writer, media_type = graph_writer(name)
    quads = writer in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
    items = [ox.Quad(t.subject, t.predicate, t.object) for t in triples] if quads else triples
    return as_bytes(ox.serialize(items, format=writer)), media_type


class _Enough(Exception):
    """Raised from inside Oxigraph's writer to stop it once the rows wanted are written."""


class _FirstLines(io.BytesIO):
    """A sink for Oxigraph's TSV writer that keeps what it is given until it holds `lines` whole lines."""

    def __init__(self, lines: int):
        super().__init__()
        self.lines, self.seen = lines, 0

    def write(self, chunk: ReadableBuffer) -> int:
        written = super().write(chunk)
        self.seen += bytes(chunk).count(b"\n")
        if self.seen >= self.lines:
            raise _Enough
        return written


def serialize_solutions(result: ox.QuerySolutions, name: str, max_rows: int) -> tuple[bytes, str, int, bool]:
    """Write at most max_rows SELECT solutions in one of the four W3C result formats (or the CLI's table); also
    the number of rows written and whether there were more.

    Oxigraph writes them (a Python writer cost up to twice the query itself on large answers), first as TSV: one
    solution a line, a literal's line breaks escaped, so the cap is a count of lines, and the writer is stopped as
    soon as it has written one row more than the cap. The rows kept are read back into Oxigraph's solutions and
    written in the format asked for."""
    sink = _FirstLines(max_rows + 2)  # the header, the rows kept, and one more to know the answer was cut
    with contextlib.suppress(_Enough):
        result.serialize(sink, format=ox.QueryResultsFormat.TSV)
    lines = sink.getvalue().split(b"\n", max_rows + 1)  # the header and max_rows rows, then the rest
    truncated = len(lines) > max_rows + 1 and b"\n" in lines[-1]
    kept = lines[: max_rows + 1] if truncated else lines[:-1]  # without the empty piece after the last line break
    tsv = b"\n".join(kept) + b"\n"
    rows = len(kept) - 1
    if name == TABLE:
        solutions = _kept(tsv)
        table = as_table([v.value for v in solutions.variables], list(solutions))
        return table.encode("utf-8"), "text/plain", rows, truncated
    writer, media_type = result_writer(name)
    if writer != ox.QueryResultsFormat.TSV:
        tsv = as_bytes(_kept(tsv).serialize(format=writer))
    return tsv, media_type, rows, truncated


def _kept(tsv: bytes) -> ox.QuerySolutions:
    """The rows kept, read back into Oxigraph's solutions."""
    solutions = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    if not isinstance(solutions, ox.QuerySolutions):
        raise ValueError("the TSV written for solutions read back as a boolean")
    return solutions


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return term.value
    return str(term)


def as_table(variables: Sequence[str], rows: Sequence[ox.QuerySolution]) -> str:
    """A plain-text table of SELECT solutions, for people at a terminal."""
    cells = [[_cell(row[name]) for name in variables] for row in rows]
    widths = [max([len(name)] + [len(r[i]) for r in cells]) for i, name in enumerate(variables)]
    lines = [" | ".join(name.ljust(w) for name, w in zip(variables, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in cells]
    lines.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(lines) + "\n"

