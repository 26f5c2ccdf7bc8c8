"""The checks made on query text before it reaches the engine: their shortcuts give the answers of the full scan."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copgraph.query.guards import MAX_NESTING, QueryTooDeep, check_nesting, nesting_depth, services_in

# Brackets, the characters that open and close strings, IRIs and comments, and a few others.
QUERY_TEXT = st.text(alphabet="{}()[]\"'#<>\n ?xS", max_size=1200)


@settings(max_examples=300, deadline=None)
@given(
    text=QUERY_TEXT,
    prefix=st.sampled_from(["", "{" * (MAX_NESTING - 3), "(" * MAX_NESTING, "[" * (MAX_NESTING + 1)]),
)
def test_check_nesting_refuses_exactly_the_queries_nested_too_deep(text: str, prefix: str) -> None:
    query = prefix + text
    if nesting_depth(query) > MAX_NESTING:  # the full scan, which the shortcut must agree with
        with pytest.raises(QueryTooDeep):
            check_nesting(query)
    else:
        check_nesting(query)


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    assert nesting_depth('ASK { FILTER("(((" = <http://x/[>) } # {{{') == 2
    check_nesting('ASK { FILTER("' + "(" * 1000 + '") } # ' + "{" * 1000)
    with pytest.raises(QueryTooDeep):
        check_nesting("ASK " + "{" * (MAX_NESTING + 1) + "}" * (MAX_NESTING + 1))


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(alphabet='{} "#<>\n?x:', max_size=60),
    keyword=st.sampled_from(["SERVICE", "service", "Service SILENT", "SERVICES", "xSERVICE"]),
    target=st.sampled_from(["<http://a.example/sparql>", "ex:sparql", "?endpoint", ":local"]),
)
def test_services_in_finds_the_targets_the_full_scan_finds(before: str, keyword: str, target: str) -> None:
    query = f"PREFIX ex: <http://b.example/> PREFIX : <http://c.example/> {before} {keyword} {target} {{ }}"
    # A trailing comment naming SERVICE forces the full scan and, being a comment, changes nothing else.
    assert services_in(query) == services_in(query + "\n# SERVICE")


def test_a_query_without_the_word_has_no_service() -> None:
    assert services_in("SELECT * WHERE { ?s ?p ?o }") == []
    assert services_in('SELECT ("SERVICE <http://x/>" AS ?x) WHERE {}') == []  # in a string: not a SERVICE
    assert services_in("SELECT * WHERE { SERVICE <http://x/> { } }") == ["http://x/"]
