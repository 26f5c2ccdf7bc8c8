"""SELECT results are written by Oxigraph through its TSV (copgraph.query.results.serialize_solutions): the cap on
rows is a count of lines, so every term must come back exactly, whatever its text, and the cap must cut at the right
row."""

from __future__ import annotations

import csv
import io
import json
from xml.etree import ElementTree

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copgraph.query.results import serialize_solutions

XSD = "http://www.w3.org/2001/XMLSchema#"
QUERY = "SELECT ?s ?o ?missing WHERE { ?s ?p ?o OPTIONAL { ?s <urn:none> ?missing } } ORDER BY ?s ?o"

# Text that is hard for a line-based format: line breaks, tabs, quotes, backslashes, braces, non-ASCII.
texts = st.text(alphabet=st.sampled_from(list("ab \n\r\t\"'\\{},<>&é€🙂")), max_size=12)
literals = st.one_of(
    texts.map(ox.Literal),
    st.tuples(texts, st.sampled_from(["en", "cy", "en-gb"])).map(lambda t: ox.Literal(t[0], language=t[1])),
    st.integers(-(10**6), 10**6).map(lambda n: ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))),
    st.sampled_from(["2021", "1999"]).map(lambda y: ox.Literal(y, datatype=ox.NamedNode(XSD + "gYear"))),
)
objects = st.one_of(literals, st.integers(0, 50).map(lambda n: ox.NamedNode(f"https://example.org/thing/{n}")))
subjects = st.one_of(
    st.integers(0, 20).map(lambda n: ox.NamedNode(f"https://example.org/s/{n}")),
    st.integers(0, 5).map(lambda n: ox.BlankNode(f"b{n}")),
)


def store_of(statements: list[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode | ox.Literal]]) -> ox.Store:
    store = ox.Store()
    store.extend(ox.Quad(s, ox.NamedNode("urn:p"), o) for s, o in statements)
    return store


def json_term(term: object) -> dict:
    """The SPARQL 1.1 JSON form of a term, written out here independently of the code under test."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    value = {"type": "literal", "value": term.value}
    if term.language:
        value["xml:lang"] = term.language
    elif term.datatype.value != XSD + "string":
        value["datatype"] = term.datatype.value
    return value


def expected_bindings(store: ox.Store) -> list[dict]:
    solutions = store.query(QUERY)
    names = [v.value for v in solutions.variables]
    return [{name: json_term(row[name]) for name in names if row[name] is not None} for row in solutions]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(subjects, objects), max_size=25), st.integers(0, 30))
def test_json_results_hold_every_term_exactly_and_stop_at_the_cap(statements: list, cap: int) -> None:
    store = store_of(statements)
    every = expected_bindings(store)
    body, media_type, rows, truncated = serialize_solutions(store.query(QUERY), "json", cap)
    answer = json.loads(body)
    assert media_type == "application/sparql-results+json"
    assert answer["head"]["vars"] == ["s", "o", "missing"]
    assert answer["results"]["bindings"] == every[:cap]
    assert rows == min(cap, len(every))
    assert truncated == (len(every) > cap)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(subjects, objects), max_size=15))
def test_csv_xml_and_tsv_carry_the_same_rows(statements: list) -> None:
    store = store_of(statements)
    every = expected_bindings(store)
    csv_body, _, _, _ = serialize_solutions(store.query(QUERY), "csv", 1000)
    table = list(csv.reader(io.StringIO(csv_body.decode("utf-8"), newline="")))
    assert table[0] == ["s", "o", "missing"]
    # CSV gives the lexical form, and _:label for a blank node.
    as_csv = [[("_:" if b["s"]["type"] == "bnode" else "") + b["s"]["value"], b["o"]["value"], ""] for b in every]
    assert table[1:] == as_csv
    xml_body, media_type, _, _ = serialize_solutions(store.query(QUERY), "xml", 1000)
    assert media_type == "application/sparql-results+xml"
    namespace = {"r": "http://www.w3.org/2005/sparql-results#"}
    results = ElementTree.fromstring(xml_body).findall(".//r:result", namespace)

    # An XML reader turns a raw carriage return into a line feed (XML 1.0 §2.11), and Oxigraph writes some raw.
    def lines(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n")

    read = [lines(r.find("r:binding[@name='o']/*", namespace).text or "") for r in results]
    assert read == [lines(b["o"]["value"]) for b in every]
    tsv_body, _, rows, _ = serialize_solutions(store.query(QUERY), "tsv", 1000)
    assert tsv_body.count(b"\n") == rows + 1 == len(every) + 1  # a line a row: line breaks in literals are escaped
    reread = ox.parse_query_results(tsv_body, format=ox.QueryResultsFormat.TSV)
    assert [{n: json_term(row[n]) for n in ("s", "o") if row[n] is not None} for row in reread] == every


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("SELECT * WHERE { }", 1),  # one solution that binds nothing
        ("SELECT ?x WHERE { }", 1),
        ("SELECT ?x WHERE { FILTER(false) }", 0),
        ("SELECT ?x WHERE { VALUES ?x { 1 2 3 } }", 3),
    ],
)
def test_edge_shapes_of_answers(query: str, rows: int) -> None:
    store = ox.Store()
    body, _, counted, truncated = serialize_solutions(store.query(query), "json", 2)
    assert counted == min(rows, 2) and truncated == (rows > 2)
    assert len(json.loads(body)["results"]["bindings"]) == min(rows, 2)


def test_a_huge_answer_is_cut_without_being_written_whole() -> None:
    """The writer is stopped one row after the cap: a cap of 10 on a million solutions is quick and small."""
    store = ox.Store()
    query = "SELECT ?n WHERE { VALUES ?a { 0 1 2 3 4 5 6 7 8 9 } VALUES ?b { 0 1 2 3 4 5 6 7 8 9 } " + (
        "VALUES ?c { 0 1 2 3 4 5 6 7 8 9 } VALUES ?d { 0 1 2 3 4 5 6 7 8 9 } VALUES ?e { 0 1 2 3 4 5 6 7 8 9 } "
        "VALUES ?f { 0 1 2 3 4 5 6 7 8 9 } BIND(?a + ?b + ?c + ?d + ?e + ?f AS ?n) }"
    )
    body, _, rows, truncated = serialize_solutions(store.query(query), "json", 10)
    assert (rows, truncated) == (10, True)
    assert len(body) < 2000


def test_the_table_for_people_at_a_terminal() -> None:
    store = store_of([(ox.NamedNode("https://example.org/s/1"), ox.Literal("two\nlines"))])
    body, media_type, rows, _ = serialize_solutions(store.query(QUERY), "table", 5)
    assert media_type == "text/plain" and rows == 1
    assert body.decode().splitlines()[0].split(" | ")[:2] == ["s                      ", "o        "]
    assert body.decode().rstrip().endswith("(1 row)")
