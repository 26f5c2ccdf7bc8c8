"""/queries and /openapi.json against a real server: the canned queries as an API for people who do not write SPARQL.

Most tests use the session's `server` (the repository's own queries). A second server, `extra_server`, reads the
same store but a copy of queries/ with three more queries, so that string, integer and required parameters (which
no published query has yet) are tested end to end as well.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator

import pytest
import requests
from openapi_spec_validator import validate

from copgraph.core.config import Config
from copgraph.model.canned import CannedQuery, load_canned_queries
from tests.conftest import REPO, running_server

CATALOGUE = load_canned_queries(REPO / "queries")
PARAMETERISED = [(query, param) for query in CATALOGUE for param in query.params]
TWITTER = "https://w3id.org/copgraph/id/platform/twitter"
JSON_RESULTS = "application/sparql-results+json"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

EXTRA_QUERIES = {
    "community-named.rq": """# title: The community with a name
# description: The community whose name is exactly the given text.
# param: label string required  The community's name, e.g. #UKFEchat
PREFIX cop:  <https://w3id.org/copgraph/def/cop#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?community ?label WHERE { ?community a cop:CommunityOfPractice ; rdfs:label ?label . }
""",
    "echo.rq": """# title: Echo
# description: The text it is given, and its length.
# param: text string optional  Any text
SELECT ?text (STRLEN(?text) AS ?length) WHERE { }
""",
    "figures-with-value.rq": """# title: Figures with a value
# description: Published figures with the given value.
# param: value integer optional  The value, e.g. 130
PREFIX cop: <https://w3id.org/copgraph/def/cop#>
SELECT ?figure ?value WHERE { ?figure a cop:PublishedFigure ; cop:value ?value . }
""",
}


@pytest.fixture(scope="module")
def extra_server(built_config: Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`copgraph serve` on the session's store, with a root whose queries/ holds EXTRA_QUERIES too."""
    root = tmp_path_factory.mktemp("root")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    for name, text in EXTRA_QUERIES.items():
        (root / "queries" / name).write_text(text, encoding="utf-8")
    with running_server(root, built_config.store_dir, workers=1) as url:
        yield url


def rows(response: requests.Response) -> list[dict[str, str]]:
    """The solutions of a SPARQL JSON answer, each as variable -> value."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(JSON_RESULTS)
    return [{name: term["value"] for name, term in row.items()} for row in response.json()["results"]["bindings"]]


def run(base: str, name: str, **params: str) -> requests.Response:
    return requests.get(f"{base}/queries/{name}", params=params, headers={"Accept": JSON_RESULTS}, timeout=30)


# --- the list ------------------------------------------------------------------------------------------------------


def test_the_list_in_json_names_every_canned_query_with_its_parameters_and_links(server: str):
    response = requests.get(f"{server}/queries", headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    listed = {query["name"]: query for query in response.json()["queries"]}
    assert list(listed) == [query.name for query in CATALOGUE]
    for query in CATALOGUE:
        entry = listed[query.name]
        assert (entry["title"], entry["description"]) == (query.title, query.description)
        assert [(p["name"], p["type"], p["required"], p["description"]) for p in entry["parameters"]] == [
            (p.name, p.type, p.required, p.description) for p in query.params
        ]
        assert entry["links"] == {"self": f"/queries/{query.name}", "sparql": f"/queries/{query.name}.rq"}


def test_the_list_is_json_when_the_client_accepts_anything(server: str):
    response = requests.get(f"{server}/queries", headers={"Accept": "*/*"}, timeout=30)
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Accept" in response.headers["Vary"].split(", ")


def test_the_list_for_a_browser_is_a_page_with_a_labelled_form_per_query(server: str):
    response = requests.get(f"{server}/queries", headers={"Accept": BROWSER_ACCEPT}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert '<html lang="en">' in page and "Dataset version" in page
    for query in CATALOGUE:
        assert f'<form action="/queries/{query.name}" method="get">' in page
        assert f'href="/queries/{query.name}.rq"' in page
        for param in query.params:
            field = f"{query.name}--{param.name}"
            assert f'<label for="{field}">' in page and f'id="{field}" name="{param.name}"' in page


# --- running every query ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", CATALOGUE, ids=lambda q: q.name)
def test_every_canned_query_answers_in_json(server: str, query: CannedQuery):
    assert rows(run(server, query.name)), f"{query.name} returned no rows"


@pytest.mark.parametrize("query", CATALOGUE, ids=lambda q: q.name)
def test_every_canned_query_answers_in_csv_by_the_format_parameter(server: str, query: CannedQuery):
    response = requests.get(f"{server}/queries/{query.name}", params={"format": "csv"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert len(table) == 1 + len(rows(run(server, query.name)))


def test_the_result_format_follows_accept_as_on_sparql(server: str):
    response = requests.get(
        f"{server}/queries/communities-per-platform", headers={"Accept": "text/tab-separated-values"}, timeout=30
    )
    assert response.headers["Content-Type"].startswith("text/tab-separated-values")
    assert response.text.startswith("?platform\t?platformLabel\t?kind\t?communities")


def test_an_unchanged_answer_is_not_sent_again(server: str):
    first = run(server, "communities-per-theme")
    again = requests.get(
        f"{server}/queries/communities-per-theme",
        headers={"Accept": JSON_RESULTS, "If-None-Match": first.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304


# --- parameters narrow the answer -------------------------------------------------------------------------------


def test_a_platform_narrows_communities_per_platform_to_its_own_row(server: str):
    (twitter,) = [row for row in rows(run(server, "communities-per-platform")) if row["platform"] == TWITTER]
    narrowed = rows(run(server, "communities-per-platform", platform=TWITTER))
    assert narrowed == [twitter]


def test_a_year_narrows_communities_per_audit_to_that_audit(server: str):
    narrowed = rows(run(server, "communities-per-audit", year="2021"))
    assert [(row["year"], row["publishedTotal"]) for row in narrowed] == [("2021", "130")]


def test_two_parameters_narrow_together(server: str):
    narrowed = rows(
        run(server, "hashtags-and-platforms", hashtag="https://w3id.org/copgraph/id/hashtag/joyfe", platform=TWITTER)
    )
    assert [(row["tag"], row["communities"]) for row in narrowed] == [("#JoyFE", "2")]


@pytest.mark.parametrize("query, param", PARAMETERISED, ids=lambda x: getattr(x, "name", None))
def test_every_parameter_keeps_exactly_the_rows_with_its_value(server: str, query: CannedQuery, param):
    everything = rows(run(server, query.name))
    value = everything[0][param.name]
    narrowed = rows(run(server, query.name, **{param.name: value}))
    assert narrowed == [row for row in everything if row[param.name] == value]


def test_parameters_may_be_posted_as_a_form(server: str):
    response = requests.post(
        f"{server}/queries/communities-per-platform",
        data={"platform": TWITTER, "format": "json"},
        timeout=30,
    )
    assert [row["platform"] for row in rows(response)] == [TWITTER]


def test_an_empty_parameter_counts_as_not_given(server: str):
    assert rows(run(server, "communities-per-platform", platform="")) == rows(run(server, "communities-per-platform"))


# --- parameters are validated before anything runs -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://x> } ; DROP ALL ; #",
        "https://w3id.org/copgraph/id/platform/twitter> . ?s ?p ?o",
        'https://x/"quoted"',
        "https://x/a b",
        "https://x/{x}",
        "https://x/\\",
        "twitter",
        "urn:x:twitter",
        "javascript:alert(1)",
        "https://",
    ],
)
def test_an_iri_parameter_refuses_anything_but_a_plain_http_iri(server: str, value: str):
    response = run(server, "communities-per-platform", platform=value)
    assert response.status_code == 400
    assert "platform" in response.text and "IRI" in response.text


def test_the_store_is_untouched_after_an_injection_attempt(server: str):
    before = rows(run(server, "communities-per-platform"))
    run(server, "communities-per-platform", platform="https://x> } ; DROP ALL ; #")
    assert rows(run(server, "communities-per-platform")) == before


@pytest.mark.parametrize("value", ["21", "twenty", "2021-01", " 2021", "２０２１"])
def test_a_year_parameter_needs_four_digits(server: str, value: str):
    response = run(server, "communities-per-audit", year=value)
    assert response.status_code == 400
    assert "four digits" in response.text


def test_an_unknown_parameter_is_refused_naming_the_known_ones(server: str):
    response = run(server, "communities-per-platform", platfrom=TWITTER)
    assert response.status_code == 400
    assert "platfrom" in response.text and "platform (iri)" in response.text


def test_a_parameter_given_twice_is_refused(server: str):
    response = requests.get(
        f"{server}/queries/communities-per-platform", params=[("platform", TWITTER), ("platform", TWITTER)], timeout=30
    )
    assert response.status_code == 400


def test_an_unknown_format_is_refused(server: str):
    response = requests.get(f"{server}/queries/communities-per-platform", params={"format": "pdf"}, timeout=30)
    assert response.status_code == 400


def test_a_body_that_is_not_a_form_is_refused(server: str):
    response = requests.post(f"{server}/queries/communities-per-platform", json={"platform": TWITTER}, timeout=30)
    assert response.status_code == 415


def test_an_unknown_query_is_not_found_and_the_known_ones_are_named(server: str):
    response = requests.get(f"{server}/queries/communities-per-planet", timeout=30)
    assert response.status_code == 404
    assert "communities-per-platform" in response.text


def test_errors_come_as_json_to_a_client_that_asks_for_json(server: str):
    response = requests.get(
        f"{server}/queries/communities-per-audit",
        params={"year": "21"},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["status"] == 400


# --- string, integer and required parameters (extra_server) -----------------------------------------------------


def test_a_string_parameter_narrows_by_exact_text(extra_server: str):
    assert [row["label"] for row in rows(run(extra_server, "community-named", label="#UKFEchat"))] == ["#UKFEchat"]


def test_a_string_parameter_cannot_change_the_query(extra_server: str):
    response = run(extra_server, "community-named", label='#UKFEchat" } UNION { ?s ?p ?o } #')
    assert rows(response) == []


@pytest.mark.parametrize("text", ['a "quoted" word', "back\\slash", "two\nlines\r\n", "tab\there", "é ✓ \\u0041"])
def test_a_string_parameter_arrives_exactly_as_sent(extra_server: str, text: str):
    (row,) = rows(run(extra_server, "echo", text=text))
    assert row["text"] == text
    assert int(row["length"]) == len(text)


def test_a_required_parameter_that_is_missing_is_refused(extra_server: str):
    response = run(extra_server, "community-named")
    assert response.status_code == 400
    assert "label" in response.text and "required" in response.text


def test_an_integer_parameter_narrows_by_value(extra_server: str):
    narrowed = rows(run(extra_server, "figures-with-value", value="130"))
    assert narrowed and {row["value"] for row in narrowed} == {"130"}
    assert rows(run(extra_server, "figures-with-value", value="+130")) == narrowed


@pytest.mark.parametrize("value", ["1.5", "ten", "1e3", "130 ", "0x82", "١٣٠"])
def test_an_integer_parameter_refuses_anything_but_digits(extra_server: str, value: str):
    response = run(extra_server, "figures-with-value", value=value)
    assert response.status_code == 400
    assert "whole number" in response.text


# --- the SPARQL text and the OpenAPI document ------------------------------------------------------------------


@pytest.mark.parametrize("query", CATALOGUE, ids=lambda q: q.name)
def test_the_sparql_text_of_every_query_is_served(server: str, query: CannedQuery):
    response = requests.get(f"{server}/queries/{query.name}.rq", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/sparql-query")
    assert response.text == query.text


def test_the_sparql_text_of_an_unknown_query_is_not_found(server: str):
    assert requests.get(f"{server}/queries/nothing.rq", timeout=30).status_code == 404


@pytest.fixture(scope="module")
def openapi(server: str) -> dict:
    response = requests.get(f"{server}/openapi.json", timeout=30)
    assert response.status_code == 200
    return response.json()


def test_the_openapi_document_is_valid(openapi: dict):
    validate(openapi)
    assert openapi["openapi"].startswith("3.1")


def test_the_openapi_document_describes_the_endpoint_the_list_and_health(openapi: dict):
    assert {"/sparql", "/queries", "/queries/{name}.rq", "/healthz"} <= set(openapi["paths"])
    sparql = openapi["paths"]["/sparql"]
    assert {p.get("name") or p["$ref"].rsplit("/", 1)[1] for p in sparql["get"]["parameters"]} >= {"query", "format"}
    assert {"application/x-www-form-urlencoded", "application/sparql-query"} <= set(
        sparql["post"]["requestBody"]["content"]
    )
    assert {"400", "406", "413", "415", "503"} <= set(sparql["post"]["responses"])


def test_the_openapi_document_has_a_typed_path_for_every_canned_query(openapi: dict):
    for query in CATALOGUE:
        operation = openapi["paths"][f"/queries/{query.name}"]["get"]
        assert operation["summary"] == query.title
        assert operation["description"].startswith(query.description)
        declared = {p["name"]: p for p in operation["parameters"] if "name" in p}
        assert set(declared) == {param.name for param in query.params}
        for param in query.params:
            assert declared[param.name]["required"] == param.required
            assert declared[param.name]["description"].startswith(param.description)
            assert declared[param.name]["schema"]["type"] == ("integer" if param.type == "integer" else "string")


def test_the_openapi_document_follows_the_catalogue(extra_server: str):
    document = requests.get(f"{extra_server}/openapi.json", timeout=30).json()
    validate(document)
    value = {p["name"]: p for p in document["paths"]["/queries/figures-with-value"]["get"]["parameters"] if "name" in p}
    assert value["value"]["schema"] == {"type": "integer"} and value["value"]["example"] == 130
