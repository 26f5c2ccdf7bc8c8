"""The SPARQL 1.1 Protocol endpoint, through real `copgraph serve` processes on 127.0.0.1.

`server` is the public read-only server over the repository's data. `maintained` is a second server over a copy of
the data with a maintainer token and tight limits, for writes, timeouts, memory and row caps.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from rdflib import RDF, Graph
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TURTLE, XML, SPARQLWrapper

from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.store.generations import current_generation
from copgraph.store.reader import open_dataset
from tests.conftest import REPO, copgraph_command, running_server

# The things the platforms graph types, counted from the file it is loaded from.
PLATFORMS = len(set(Graph().parse(REPO / "data" / "platforms.ttl").subjects(RDF.type)))

TOKEN = "test-maintainer-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COP = "https://w3id.org/copgraph/def/cop#"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c a <{COP}CommunityOfPractice> }}"
UKFECHAT = "https://w3id.org/copgraph/id/community/ukfechat"
PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
MEMORY_HOG = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f ?a ?d"
TIMEOUT_SECONDS = 2
MAX_ROWS = 50


@pytest.fixture(scope="module")
def maintained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Config]]:
    root = tmp_path_factory.mktemp("maintained")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config)
    settings = {
        "maintainer_token": TOKEN,
        "query_timeout": str(TIMEOUT_SECONDS),
        "query_memory_mb": "400",
        "max_rows": str(MAX_ROWS),
        "max_request_bytes": "200000",
    }
    with running_server(root, config.store_dir, **settings) as url:
        yield url, config


def select(url: str, query: str, **headers: str) -> requests.Response:
    return requests.get(url + "/sparql", params={"query": query}, headers=headers, timeout=30)


def count_of(url: str, query: str = COUNT) -> int:
    response = select(url, query, Accept="application/sparql-results+json")
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


# --- Protocol: requests and results -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/json", "application/sparql-results+json"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_select_results_follow_accept_with_quality_values(server: str, accept: str, media_type: str) -> None:
    response = select(server, COUNT, Accept=accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(media_type)
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("accept", "media_type", "marker"),
    [
        ("text/turtle", "text/turtle", "<https://w3id.org/copgraph/id/platform/twitter>"),
        ("application/n-triples", "application/n-triples", "<https://w3id.org/copgraph/id/platform/twitter>"),
        ("application/ld+json", "application/ld+json", '"@id"'),
        ("application/rdf+xml", "application/rdf+xml", "rdf:RDF"),
        ("application/n-quads", "application/n-quads", "<https://w3id.org/copgraph/id/platform/twitter>"),
        ("application/trig", "application/trig", "<https://w3id.org/copgraph/id/platform/twitter>"),
    ],
)
def test_construct_results_in_every_rdf_format(server: str, accept: str, media_type: str, marker: str) -> None:
    query = "CONSTRUCT WHERE { <https://w3id.org/copgraph/id/platform/twitter> ?p ?o }"
    response = select(server, query, Accept=accept)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(media_type)
    assert marker in response.text


def test_format_parameter_serves_browsers(server: str) -> None:
    response = requests.get(server + "/sparql", params={"query": COUNT, "format": "csv"}, timeout=10)
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.text.splitlines()[0] == "n"


def test_unacceptable_media_type_is_406_listing_what_is_offered(server: str) -> None:
    response = select(server, COUNT, Accept="image/png")
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text


def test_unknown_format_parameter_is_400(server: str) -> None:
    response = requests.get(server + "/sparql", params={"query": COUNT, "format": "pdf"}, timeout=10)
    assert response.status_code == 400
    assert "Unknown format" in response.text


def test_malformed_query_is_400_with_line_and_column(server: str) -> None:
    response = select(server, "SELECT ?x WHERE {\n  ?x ?y \n}", Accept="text/plain")
    assert response.status_code == 400
    assert "line" in response.text.lower() and "column" in response.text.lower()
    assert response.headers["Content-Type"].startswith("text/plain")


def test_errors_are_json_when_the_client_prefers_json(server: str) -> None:
    response = select(server, "SELECT WHERE {", Accept="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert "Malformed query" in response.json()["error"]


def test_two_query_parameters_are_400(server: str) -> None:
    response = requests.get(server + "/sparql", params=[("query", COUNT), ("query", COUNT)], timeout=10)
    assert response.status_code == 400
    assert "exactly one" in response.text


def test_query_and_update_together_are_400(server: str) -> None:
    response = requests.post(server + "/sparql", data={"query": COUNT, "update": "CLEAR ALL"}, timeout=10)
    assert response.status_code == 400
    assert "not both" in response.text


def test_update_by_get_is_refused(server: str) -> None:
    response = requests.get(server + "/sparql", params={"update": "CLEAR ALL"}, timeout=10)
    assert response.status_code == 400


def test_the_endpoint_also_answers_with_a_trailing_slash(server: str) -> None:
    response = requests.get(server + "/sparql/", params={"query": "ASK {}"}, timeout=10)
    assert response.status_code == 200 and response.json()["boolean"] is True


def test_form_post_honours_dataset_parameters_in_the_url(server: str) -> None:
    query = f"ASK {{ <{UKFECHAT}> ?p ?o }}"
    response = requests.post(
        server + "/sparql",
        params={"default-graph-uri": "https://w3id.org/copgraph/graph/platforms"},
        data={"query": query},
        timeout=10,
    )
    assert response.json()["boolean"] is False


def test_sparql_text_in_another_charset_is_refused(server: str) -> None:
    response = requests.post(
        server + "/sparql",
        data="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"},
        timeout=10,
    )
    assert response.status_code == 415
    assert "UTF-8" in response.text


def test_other_methods_are_405_with_allow(server: str) -> None:
    response = requests.put(server + "/sparql", data=COUNT, timeout=10)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    assert "<html" not in response.text.lower()


def test_unsupported_request_body_type_is_415(server: str) -> None:
    response = requests.post(server + "/sparql", data=COUNT, headers={"Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


def test_oversized_request_is_413(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    query = COUNT + " #" + "x" * 300_000
    response = requests.post(url + "/sparql", data=query, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    assert "larger than" in response.text


def test_default_graph_uri_restricts_the_default_graph(server: str) -> None:
    query = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?type }"
    platforms = requests.get(
        server + "/sparql",
        params={"query": query, "default-graph-uri": "https://w3id.org/copgraph/graph/platforms"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    ).json()
    assert int(platforms["results"]["bindings"][0]["n"]["value"]) == PLATFORMS
    assert count_of(server, query) > PLATFORMS


def test_named_graph_uri_restricts_graph_patterns(server: str) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    graph = "https://w3id.org/copgraph/graph/communities/ukfechat"
    response = requests.post(
        server + "/sparql",
        data={"query": query, "named-graph-uri": graph},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [graph]


def test_graph_patterns_still_reach_each_files_graph(server: str) -> None:
    query = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{UKFECHAT}> a ?t }} }}"
    rows = select(server, query, Accept="application/sparql-results+json").json()["results"]["bindings"]
    assert [r["g"]["value"] for r in rows] == ["https://w3id.org/copgraph/graph/communities/ukfechat"]


# --- Service description and editor ----------------------------------------------------------------------------


def test_machine_get_without_query_gets_the_service_description(server: str) -> None:
    response = requests.get(server + "/sparql", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    ask = f"ASK {{ ?s a <{sd}Service> ; <{sd}endpoint> <{server}/sparql> ; <{sd}feature> <{sd}UnionDefaultGraph> }}"
    assert graph.query(ask).askAnswer


def test_service_description_in_other_rdf_formats(server: str) -> None:
    response = requests.get(server + "/sparql", headers={"Accept": "application/ld+json"}, timeout=10)
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert "sparql-service-description#Service" in response.text


def test_browser_get_without_query_gets_the_editor(server: str) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = requests.get(server + "/sparql", headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert 'id="yasgui"' in response.text
    assert "Communities per platform" in response.text  # a canned query offered as an example
    assert "PREFIX cop: &lt;https://w3id.org/copgraph/def/cop#&gt;" in response.text or "PREFIX cop:" in response.text


def test_editor_assets_come_from_the_npm_package(server: str) -> None:
    if not (REPO / "node_modules" / "@zazuko" / "yasgui" / "build" / "yasgui.min.js").is_file():
        pytest.skip("YASGUI is installed by `make serve` / `make test` (npm install)")
    response = requests.get(server + "/vendor/yasgui/yasgui.min.js", timeout=10)
    assert response.status_code == 200
    assert requests.get(server + "/vendor/yasgui/..%2Fpackage.json", timeout=10).status_code == 404


# --- Caching, compression, CORS, health and metrics ------------------------------------------------------------


def test_etag_and_if_none_match_give_304(server: str) -> None:
    first = select(server, COUNT, Accept="application/sparql-results+json")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"]
    assert first.headers["Last-Modified"]
    again = select(server, COUNT, **{"Accept": "application/sparql-results+json", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_if_modified_since_gives_304(server: str) -> None:
    first = select(server, COUNT)
    again = select(server, COUNT, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304


def test_etag_differs_between_formats(server: str) -> None:
    json_etag = select(server, COUNT, Accept="application/sparql-results+json").headers["ETag"]
    csv_etag = select(server, COUNT, Accept="text/csv").headers["ETag"]
    assert json_etag != csv_etag


def test_large_responses_are_compressed(server: str) -> None:
    query = "SELECT * WHERE { ?s ?p ?o }"
    for encoding in ("gzip", "br"):
        response = requests.get(
            server + "/sparql",
            params={"query": query},
            headers={"Accept-Encoding": encoding, "Accept": "text/csv"},
            timeout=10,
            stream=True,
        )
        assert response.headers["Content-Encoding"] == encoding
        raw = response.raw.read()
        if encoding == "gzip":
            assert sorted(gzip.decompress(raw).split(b"\r\n")[0].split(b",")) == [b"o", b"p", b"s"]


def test_cors_preflight_and_reads(server: str) -> None:
    preflight = requests.options(
        server + "/sparql",
        headers={
            "Origin": "https://partner.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", "https://partner.example")
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    read = select(server, COUNT, Origin="https://partner.example")
    assert read.headers["Access-Control-Allow-Origin"] in ("*", "https://partner.example")


def test_healthz_reports_the_dataset_version(server: str, dataset) -> None:
    health = requests.get(server + "/healthz", timeout=10).json()
    assert health == {
        "status": "ok",
        "version": dataset.version,
        "built_at": dataset.metadata.built_at,
        "triples": dataset.metadata.triples,
    }


def test_metrics_count_requests_cache_hits_and_latency(server: str) -> None:
    select(server, COUNT + " # metrics")
    select(server, COUNT + " # metrics")
    text = requests.get(server + "/metrics", timeout=10).text
    assert "copgraph_requests_total" in text
    assert "copgraph_request_seconds_bucket" in text
    assert 'copgraph_result_cache_total{result="hit"}' in text


# --- Federation --------------------------------------------------------------------------------------------------


def test_service_outside_the_allow_list_is_refused_and_never_fetched(server: str) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(1.5)
    port = listener.getsockname()[1]
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    try:
        response = select(server, query)
        assert response.status_code == 400
        assert "not allowed" in response.text
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


def test_service_given_by_prefixed_name_or_variable_is_refused(server: str) -> None:
    for query in (
        "PREFIX loop: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE SILENT loop:sparql { ?s ?p ?o } }",
        "SELECT * WHERE { VALUES ?e { <http://127.0.0.1:9/> } SERVICE ?e { ?s ?p ?o } }",
    ):
        assert select(server, query).status_code == 400


def test_the_word_service_in_a_string_is_not_federation(server: str) -> None:
    query = 'SELECT ("SERVICE <http://127.0.0.1:9/>" AS ?x) WHERE {}'
    assert select(server, query).status_code == 200


# --- Third-party clients -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("return_format", [JSON, XML, CSV])
def test_sparqlwrapper_select_formats(server: str, return_format: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(COUNT)
    client.setReturnFormat(return_format)
    result = client.query().convert()
    if return_format == JSON:
        value = result["results"]["bindings"][0]["n"]["value"]
    elif return_format == XML:
        value = result.getElementsByTagName("literal")[0].firstChild.data
    else:
        value = result.decode().splitlines()[1]
    assert int(value) == len(list((REPO / "data" / "communities").glob("*.ttl")))


def test_sparqlwrapper_ask_construct_describe(server: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(f"ASK {{ <{UKFECHAT}> a <{COP}CommunityOfPractice> }}")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True

    client.setQuery(f"CONSTRUCT WHERE {{ <{UKFECHAT}> ?p ?o }}")
    client.setReturnFormat(TURTLE)
    graph = Graph().parse(data=client.query().convert(), format="turtle")
    assert len(graph) > 10

    client.setQuery(f"DESCRIBE <{UKFECHAT}>")
    client.setReturnFormat(XML)
    described = client.query().convert()
    assert len(described) > 10


@pytest.mark.parametrize("return_format", [RDFXML, JSONLD, N3, TURTLE])
def test_sparqlwrapper_construct_in_every_graph_format_it_asks_for(server: str, return_format: str) -> None:
    """SPARQLWrapper sends its own `format=` names (`rdf+xml`, `json-ld`, `n3`) with the Accept header (issue 16)."""
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(f"CONSTRUCT WHERE {{ <{UKFECHAT}> ?p ?o }}")
    client.setReturnFormat(return_format)
    converted = client.query().convert()
    graph = converted if isinstance(converted, Graph) else Graph().parse(data=converted, format="turtle")
    assert len(graph) > 10


def test_rdflib_sparqlstore(server: str) -> None:
    store = SPARQLStore(server + "/sparql")
    graph = Graph(store=store)
    rows = list(
        graph.query(f"SELECT ?name WHERE {{ <{UKFECHAT}> <http://www.w3.org/2000/01/rdf-schema#label> ?name }}")
    )
    assert [str(r[0]) for r in rows] == ["#UKFEchat"]


# --- Limits ------------------------------------------------------------------------------------------------------


def test_runaway_query_is_stopped_while_others_are_served(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    outcome: dict[str, object] = {}

    def run_pathological() -> None:
        started = time.monotonic()
        outcome["response"] = select(url, PATHOLOGICAL)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_pathological)
    thread.start()
    time.sleep(0.3)
    served = [select(url, COUNT + f" # {n}").status_code for n in range(5)]
    thread.join(60)
    assert served == [200] * 5
    response = outcome["response"]
    assert response.status_code == 503
    assert "limit" in response.text and "stopped" in response.text
    assert response.headers["Retry-After"]
    assert outcome["seconds"] < TIMEOUT_SECONDS + 10
    assert select(url, COUNT).status_code == 200


def test_query_exhausting_memory_fails_alone(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    response = select(url, MEMORY_HOG, Accept="text/csv")
    assert response.status_code == 503
    assert "memory" in response.text or "limit" in response.text
    assert requests.get(url + "/healthz", timeout=10).status_code == 200
    assert select(url, COUNT).status_code == 200


def test_results_over_the_row_limit_are_truncated_and_say_so(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    response = select(url, "SELECT * WHERE { ?s ?p ?o }", Accept="application/sparql-results+json")
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == MAX_ROWS
    assert response.headers["Copgraph-Truncated"] == f"max-rows={MAX_ROWS}"
    small = select(url, COUNT)
    assert "Copgraph-Truncated" not in small.headers


# --- Writes: permissions -----------------------------------------------------------------------------------------


def test_writes_are_off_without_a_configured_token(server: str, dataset) -> None:
    update = requests.post(server + "/sparql", data={"update": "CLEAR ALL"}, timeout=10)
    assert update.status_code == 403
    assert "COPGRAPH_MAINTAINER_TOKEN" in update.text
    put = requests.put(
        server + "/store?graph=http://ex/g",
        data="<http://ex/a> <http://ex/b> <http://ex/c> .",
        headers={"Content-Type": "text/turtle"},
        timeout=10,
    )
    assert put.status_code == 403
    assert requests.get(server + "/healthz", timeout=10).json()["version"] == dataset.version


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_writes_without_the_right_token_are_refused_and_write_nothing(
    maintained: tuple[str, Config], headers: dict[str, str]
) -> None:
    url, _ = maintained
    before = requests.get(url + "/healthz", timeout=10).json()["version"]
    update = requests.post(url + "/sparql", data={"update": "CLEAR ALL"}, headers=headers, timeout=10)
    put = requests.put(
        url + "/store?default",
        data="<http://ex/a> <http://ex/b> <http://ex/c> .",
        headers={"Content-Type": "text/turtle", **headers},
        timeout=10,
    )
    delete = requests.delete(url + "/store?graph=https://w3id.org/copgraph/graph/platforms", headers=headers)
    for response in (update, put, delete):
        assert response.status_code == (401 if "Bearer wrong" not in str(headers) else 403), response.text
    assert requests.get(url + "/healthz", timeout=10).json()["version"] == before
    assert count_of(url) == len(list((REPO / "data" / "communities").glob("*.ttl")))


# --- Writes: SPARQL Update ---------------------------------------------------------------------------------------


def test_update_is_applied_atomically_and_empties_the_cache(maintained: tuple[str, Config]) -> None:
    url, config = maintained
    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/g-update> { ?s ?p ?o } }"
    assert count_of(url, query) == 0
    assert count_of(url, query) == 0  # now cached
    before = requests.get(url + "/healthz", timeout=10).json()["version"]
    update = (
        "INSERT DATA { GRAPH <http://example.org/g-update> { <http://example.org/a> <http://example.org/b> 1, 2 } }"
    )
    response = requests.post(
        url + "/sparql", data=update.encode(), headers={"Content-Type": "application/sparql-update", **AUTH}, timeout=30
    )
    assert response.status_code == 204, response.text
    assert count_of(url, query) == 2
    assert requests.get(url + "/healthz", timeout=10).json()["version"] != before
    assert open_dataset(config).metadata.written


def test_malformed_update_is_400_and_writes_nothing(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    before = requests.get(url + "/healthz", timeout=10).json()["version"]
    response = requests.post(url + "/sparql", data={"update": "INSERT DATA { <a> "}, headers=AUTH, timeout=10)
    assert response.status_code == 400
    assert "Malformed" in response.text
    assert requests.get(url + "/healthz", timeout=10).json()["version"] == before


def test_update_with_service_outside_the_allow_list_is_refused(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    update = "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    response = requests.post(url + "/sparql", data={"update": update}, headers=AUTH, timeout=10)
    assert response.status_code == 400


# --- Writes: Graph Store Protocol --------------------------------------------------------------------------------


def test_graph_store_put_get_post_delete(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    target = url + "/store?graph=http://example.org/gsp"
    turtle = {"Content-Type": "text/turtle", **AUTH}
    assert requests.get(target, timeout=10).status_code == 404
    created = requests.put(target, data="<http://example.org/a> <http://example.org/b> 1 .", headers=turtle)
    assert created.status_code == 201
    replaced = requests.put(target, data="<http://example.org/a> <http://example.org/b> 2 .", headers=turtle)
    assert replaced.status_code == 204
    merged = requests.post(target, data="<http://example.org/a> <http://example.org/b> 3 .", headers=turtle)
    assert merged.status_code == 200
    body = requests.get(target, headers={"Accept": "application/n-triples"}, timeout=10)
    assert body.status_code == 200
    assert sorted(body.text.split()[2::4]) == [
        '"2"^^<http://www.w3.org/2001/XMLSchema#integer>',
        '"3"^^<http://www.w3.org/2001/XMLSchema#integer>',
    ]
    head = requests.head(target, timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert requests.delete(target, headers=AUTH, timeout=10).status_code == 200
    assert requests.get(target, timeout=10).status_code == 404
    assert requests.delete(target, headers=AUTH, timeout=10).status_code == 404


def test_graph_store_direct_identification_and_relative_graph_iris(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    turtle = {"Content-Type": "text/turtle", **AUTH}
    direct = url + "/store/person/1.ttl"
    body = f'<{url}/store/person/1> <http://xmlns.com/foaf/0.1/name> "Jane Doe" .'
    assert requests.put(direct, data=body, headers=turtle, timeout=30).status_code == 201
    indirect = requests.get(url + "/store", params={"graph": "/store/person/1.ttl"}, timeout=10)
    assert indirect.status_code == 200 and "Jane Doe" in indirect.text
    assert requests.head(direct, timeout=10).status_code == 200
    assert requests.head(url + "/store/person/4.ttl", timeout=10).status_code == 404
    assert requests.delete(direct, headers=AUTH, timeout=30).status_code == 200


def test_graph_store_default_graph_and_multipart_post(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    files = {
        "one": ("one.ttl", b"<http://example.org/m> <http://example.org/p> 1 .", "text/turtle"),
        "two": ("two.nt", b'<http://example.org/m> <http://example.org/p> "2" .\n', "application/n-triples"),
    }
    response = requests.post(url + "/store?default", files=files, headers=AUTH, timeout=30)
    assert response.status_code == 201, response.text  # the default graph was empty
    graph = Graph().parse(data=requests.get(url + "/store?default", timeout=10).text, format="turtle")
    assert len(graph) == 2


def test_graph_store_post_to_the_store_creates_a_graph(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    response = requests.post(
        url + "/store",
        data="<http://example.org/n> <http://example.org/p> 1 .",
        headers={"Content-Type": "text/turtle", **AUTH},
        timeout=30,
    )
    assert response.status_code == 201
    fetched = requests.get(response.headers["Location"], headers={"Accept": "text/turtle"}, timeout=10)
    assert fetched.status_code == 200 and "example.org/n" in fetched.text


def test_graph_store_rejects_bad_bodies_and_writes_nothing(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    before = requests.get(url + "/healthz", timeout=10).json()["version"]
    target = url + "/store?graph=http://example.org/bad"
    bad = requests.put(
        target, data="<http://example.org/a> <http://example.org/b> ", headers={"Content-Type": "text/turtle", **AUTH}
    )
    assert bad.status_code == 400 and "line" in bad.text
    unsupported = requests.put(target, data="{}", headers={"Content-Type": "application/pdf", **AUTH})
    assert unsupported.status_code == 415
    remote_context = requests.put(
        target,
        data='{"@context": "http://127.0.0.1:9/ctx", "@id": "http://a"}',
        headers={"Content-Type": "application/ld+json", **AUTH},
    )
    assert remote_context.status_code == 400
    both = requests.get(url + "/store?default&graph=http://example.org/x", timeout=10)
    assert both.status_code == 400
    assert requests.get(url + "/healthz", timeout=10).json()["version"] == before


# --- Writes do not vanish at the next build ----------------------------------------------------------------------


def test_build_refuses_to_drop_writes_until_they_are_exported(maintained: tuple[str, Config]) -> None:
    url, config = maintained
    graph = "https://w3id.org/copgraph/graph/communities/ukfechat"
    alt_label = "<http://www.w3.org/2004/02/skos/core#altLabel>"
    update = f'INSERT DATA {{ GRAPH <{graph}> {{ <{UKFECHAT}> {alt_label} "UKFE chat" }} }}'
    assert requests.post(url + "/sparql", data={"update": update}, headers=AUTH, timeout=30).status_code == 204
    env = {**os.environ, "COPGRAPH_ROOT": str(config.root), "COPGRAPH_STORE": str(config.store_dir)}

    refused = subprocess.run(copgraph_command("build"), env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "copgraph export" in refused.stderr
    assert "graph/communities/ukfechat" in refused.stderr

    exported = subprocess.run(copgraph_command("export"), env=env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert "data/communities/ukfechat.ttl" in exported.stdout
    assert "UKFE chat" in (config.root / "data" / "communities" / "ukfechat.ttl").read_text()

    # Other writes of this module's tests (example.org graphs, the default graph) went to files of their own.
    rebuilt = subprocess.run(copgraph_command("build"), env=env, capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr
    query = f'ASK {{ <{UKFECHAT}> {alt_label} "UKFE chat" }}'
    assert bool(open_dataset(config).query(query))
    assert current_generation(config.store_dir) is not None


def test_drop_all_is_allowed_but_cannot_outlive_the_repository(maintained: tuple[str, Config]) -> None:
    url, config = maintained
    env = {**os.environ, "COPGRAPH_ROOT": str(config.root), "COPGRAPH_STORE": str(config.store_dir)}
    response = requests.post(url + "/sparql", data={"update": "DROP ALL"}, headers=AUTH, timeout=30)
    assert response.status_code == 204
    assert count_of(url) == 0

    refused = subprocess.run(copgraph_command("build"), env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "graph/shapes" in refused.stderr
    exported = subprocess.run(copgraph_command("export"), env=env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 1
    assert "shapes/" in exported.stderr and "--discard-writes" in exported.stderr

    restored = subprocess.run(
        copgraph_command("build", "--discard-writes"), env=env, capture_output=True, text=True, timeout=120
    )
    assert restored.returncode == 0, restored.stderr
    shapes = "ASK { GRAPH <https://w3id.org/copgraph/graph/shapes> { ?s ?p ?o } }"
    assert bool(open_dataset(config).query(shapes))


def test_update_with_using_graph_uri_applies_to_the_where_clause(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    source, target = "http://example.org/using-source", "http://example.org/using-target"
    setup = f"INSERT DATA {{ GRAPH <{source}> {{ <http://example.org/x> a <http://example.org/T> }} }}"
    assert requests.post(url + "/sparql", data={"update": setup}, headers=AUTH, timeout=30).status_code == 204
    update = f"INSERT {{ GRAPH <{target}> {{ ?s a <http://example.org/U> }} }} WHERE {{ ?s a <http://example.org/T> }}"
    response = requests.post(
        url + "/sparql",
        params={"using-graph-uri": source},
        data=update.encode(),
        headers={"Content-Type": "application/sparql-update", **AUTH},
        timeout=30,
    )
    assert response.status_code == 204, response.text
    ask = f"ASK {{ GRAPH <{target}> {{ <http://example.org/x> a <http://example.org/U> }} }}"
    assert requests.get(url + "/sparql", params={"query": ask}, timeout=10).json()["boolean"] is True
    conflict = requests.post(
        url + "/sparql",
        params={"using-graph-uri": source},
        data={"update": f"WITH <{source}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}"},
        headers=AUTH,
        timeout=30,
    )
    assert conflict.status_code == 400


def test_relative_iris_in_an_update_resolve_against_the_service(maintained: tuple[str, Config]) -> None:
    url, _ = maintained
    update = "INSERT DATA { GRAPH <http://example.org/base> { <http://example.org/s> <http://example.org/p> <test> } }"
    assert requests.post(url + "/sparql", data={"update": update}, headers=AUTH, timeout=30).status_code == 204
    query = "SELECT ?o WHERE { GRAPH <http://example.org/base> { ?s ?p ?o } }"
    rows = requests.get(url + "/sparql", params={"query": query}, timeout=10).json()["results"]["bindings"]
    assert rows[0]["o"]["value"] == url + "/test"
