"""The served application, through a real `copgraph serve` process on 127.0.0.1."""

from __future__ import annotations

import csv
import io

import requests
from SPARQLWrapper import JSON, SPARQLWrapper

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/copgraph/def/cop#CommunityOfPractice> }"


def test_home_page_says_what_copgraph_is_and_links_the_endpoint(server: str, dataset) -> None:
    page = requests.get(server + "/", timeout=10)
    assert page.status_code == 200
    assert "communities of practice" in page.text
    assert 'href="/sparql"' in page.text
    assert dataset.version in page.text


def test_get_query_answers_sparql_json(server: str, repo_root) -> None:
    response = requests.get(
        server + "/sparql", params={"query": COUNT}, headers={"Accept": "application/sparql-results+json"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    value = response.json()["results"]["bindings"][0]["n"]["value"]
    assert int(value) == len(list((repo_root / "data" / "communities").glob("*.ttl")))


def test_post_form_query_answers_csv(server: str) -> None:
    response = requests.post(server + "/sparql", data={"query": COUNT}, headers={"Accept": "text/csv"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.text)))[0] == ["n"]


def test_post_sparql_query_body(server: str) -> None:
    response = requests.post(
        server + "/sparql", data=COUNT.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=10
    )
    assert response.status_code == 200
    assert "bindings" in response.json()["results"]


def test_format_parameter_overrides_accept(server: str) -> None:
    response = requests.get(server + "/sparql", params={"query": COUNT, "format": "tsv"}, timeout=10)
    assert response.headers["Content-Type"].startswith("text/tab-separated-values")


def test_malformed_query_is_a_400_with_the_parser_message(server: str) -> None:
    response = requests.get(server + "/sparql", params={"query": "SELECT WHERE {"}, timeout=10)
    assert response.status_code == 400
    assert "Malformed query" in response.text
    assert "Traceback" not in response.text


def test_sparqlwrapper_select(server: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(COUNT)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert int(result["results"]["bindings"][0]["n"]["value"]) > 0
