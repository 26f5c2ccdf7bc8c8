"""Bounded lookups (copgraph.query.lookups) run in the web worker; everything else goes to the killable query
process."""

from __future__ import annotations

import pytest

from copgraph.core.config import Config
from copgraph.query.executor import Executor, QueryRequest, QuerySyntaxError
from copgraph.query.lookups import is_bounded_lookup

UKFECHAT = "<https://w3id.org/copgraph/id/community/ukfechat>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"

LOOKUPS = [
    f"SELECT ?l WHERE {{ {UKFECHAT} {LABEL} ?l }}",
    f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?l {{ {UKFECHAT} rdfs:label ?l . }} LIMIT 10",
    f"DESCRIBE {UKFECHAT}",
    f"DESCRIBE {UKFECHAT} <https://w3id.org/copgraph/id/platform/twitter>",
    f"ask {{ {UKFECHAT} a ?type }}",
    f"select distinct * where {{ {UKFECHAT} ?p ?o }} offset 5 limit 3",
    "PREFIX : <https://w3id.org/copgraph/id/community/>\nDESCRIBE :ukfechat",
]
NOT_LOOKUPS = [
    "SELECT ?l WHERE { ?s ?p ?l }",  # no constant subject: a scan
    f"SELECT ?l WHERE {{ {UKFECHAT} ?p ?l . <x:b> ?q ?m }}",  # two patterns: a product
    f"SELECT ?l WHERE {{ {UKFECHAT} ?p ?l ; ?q ?m }}",
    f"SELECT ?l WHERE {{ {UKFECHAT} ?p ?l }} ORDER BY ?l",  # blocking modifier
    f'SELECT ?l WHERE {{ {UKFECHAT} ?p "x" }}',  # strings are not in the grammar
    "DESCRIBE ?x WHERE { ?x ?p ?o }",
    f"SELECT ?l WHERE {{ {UKFECHAT} ?p ?l }} # a comment",
    f"SELECT (COUNT(*) AS ?c) WHERE {{ {UKFECHAT} ?p ?l }}",
    f"SELECT ?l WHERE {{ {UKFECHAT} <x:p>* ?l }}",  # paths
    f"SELECT ?l WHERE {{ SERVICE <http://127.0.0.1:9/> {{ {UKFECHAT} ?p ?l }} }}",
    f"SELECT ?l WHERE {{ {UKFECHAT} ?p ?l }} LIMIT 1 LIMIT 2",
    f"CONSTRUCT WHERE {{ {UKFECHAT} ?p ?o }}",
    f"SELECT ?l WHERE {{ {UKFECHAT} ?p ?l . FILTER(?l) }}",
    f"SELECT ?l FROM <x:g> WHERE {{ {UKFECHAT} ?p ?l }}",
    f"SELECT ?l WHERE {{ GRAPH ?g {{ {UKFECHAT} ?p ?l }} }}",
    "",
    "PREFIX x: <a:b>",
]


@pytest.mark.parametrize("query", LOOKUPS)
def test_lookups_are_recognised(query: str) -> None:
    assert is_bounded_lookup(query)


@pytest.mark.parametrize("query", NOT_LOOKUPS)
def test_anything_else_is_not(query: str) -> None:
    assert not is_bounded_lookup(query)


@pytest.fixture
def executor(built_config: Config):  # noqa: ANN201
    executor = Executor(built_config.store_dir, timeout=10, memory_limit=2**30, max_rows=1000)
    yield executor
    executor.close()


def test_a_lookup_runs_in_the_worker_and_answers_like_the_query_process(executor: Executor) -> None:
    lookup = QueryRequest(f"SELECT ?l WHERE {{ {UKFECHAT} {LABEL} ?l }}")
    here = executor.run(lookup)
    assert not executor.sandbox.started, "a lookup started the query process"
    assert b"#UKFEchat" in here.body
    # The same question in a form that is not a lookup goes to the query process and gets the same answer.
    there = executor.run(QueryRequest(f"SELECT ?l WHERE {{ {UKFECHAT} {LABEL} ?l FILTER(true) }}"))
    assert executor.sandbox.started
    assert (there.body, there.media_type, there.version) == (here.body, here.media_type, here.version)


def test_a_malformed_lookup_is_a_syntax_error(executor: Executor) -> None:
    with pytest.raises(QuerySyntaxError, match="Malformed query"):
        executor.run(QueryRequest("SELECT ?l WHERE { undeclared:x <x:p> ?l }"))
