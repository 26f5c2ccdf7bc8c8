"""Records: every URI in the data dereferences, for a machine and for a person, through a real `copgraph serve`.

`walked` follows every IRI under https://w3id.org/copgraph/id/ that the store holds (subjects and objects): the
/id/ path, its 303, then the document in each of the five formats by Accept, once, with one session. The tests
below it each check one promise over all of those answers. `injected` is a second server over a copy of the data
with one contributed community whose name and links try to inject markup.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import pytest
import requests
from markupsafe import escape
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDFS, SKOS
from requests.utils import parse_header_links

from copgraph.build.description import DATASET_IRI, LICENCE
from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.model.record_graph import published_context, record_graph, serialize_record
from copgraph.store.reader import Dataset
from tests.conftest import REPO, running_server

BASE = "https://w3id.org/copgraph/"
UKFECHAT = BASE + "id/community/ukfechat"
COP = BASE + "def/cop#"
DCT = "http://purl.org/dc/terms/"
# Media type → rdflib parser (None: HTML), in the order of the extension table in docs/ENDPOINT.md.
FORMATS = {
    "text/html": None,
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
EXTENSIONS = {"html": "text/html", "ttl": "text/turtle", "jsonld": "application/ld+json"}
EXTENSIONS |= {"nt": "application/n-triples", "rdf": "application/rdf+xml"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# rdflib's JSON-LD parser builds a ConjunctiveGraph inside, which rdflib itself deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


@dataclass
class Walk:
    path: str  # /id/{type}/{slug}
    redirect: requests.Response
    documents: dict[str, requests.Response]  # by the media type asked for


@pytest.fixture(scope="module")
def data_iris(dataset: Dataset) -> list[str]:
    """Every IRI of a thing that the store holds, as subject or object."""
    rows = dataset.query(
        f"""SELECT DISTINCT ?thing WHERE {{ {{ ?thing ?p ?o }} UNION {{ ?s ?p ?thing }}
        FILTER(isIRI(?thing) && STRSTARTS(STR(?thing), "{BASE}id/")) }}"""
    )
    iris = sorted(row["thing"].value for row in rows)
    assert len(iris) > 200, "the walk should cover the whole data, not a handful of IRIs"
    return iris


@pytest.fixture(scope="module")
def walked(server: str, data_iris: list[str]) -> dict[str, Walk]:
    # A few threads, each with its own session, keep both server workers busy.
    local = threading.local()

    def walk(iri: str) -> Walk:
        session = local.__dict__.setdefault("session", requests.Session())
        path = "/" + iri.removeprefix(BASE)
        redirect = session.get(server + path, allow_redirects=False, timeout=10)
        target = server + redirect.headers.get("Location", "/missing-location")
        documents = {media: session.get(target, headers={"Accept": media}, timeout=10) for media in FORMATS}
        return Walk(path, redirect, documents)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(data_iris, pool.map(walk, data_iris), strict=True))


@cache
def parsed(response: requests.Response, parser: str) -> Graph:
    """A machine document as an rdflib graph; JSON-LD expanded with the local copy of the context, never fetched."""
    if parser != "json-ld":
        return Graph().parse(data=response.text, format=parser)
    document = response.json()
    assert document["@context"].endswith("/context.jsonld")
    return Graph().parse(data=json.dumps(document | {"@context": published_context()}), format="json-ld")


def label_of(graph: Graph, iri: str) -> str:
    labels = [*graph.objects(URIRef(iri), SKOS.prefLabel), *graph.objects(URIRef(iri), RDFS.label)]
    assert labels, f"{iri} has no label"
    return str(labels[0])


def vary(response: requests.Response) -> list[str]:
    return [name.strip() for name in response.headers.get("Vary", "").split(",")]


def raw_get(server: str, path: str, accept: str = "text/html") -> tuple[int, str]:
    """GET a path exactly as written (no client normalisation of `..` or percent-escapes): status, content type."""
    address = urlsplit(server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Content-Type", "")
    finally:
        connection.close()


# --- Every URI in the data dereferences ---------------------------------------------------------------------------


def test_every_uri_in_the_data_answers_303_to_its_document(walked: dict[str, Walk]) -> None:
    wrong = [
        (walk.path, walk.redirect.status_code, walk.redirect.headers.get("Location"))
        for walk in walked.values()
        if walk.redirect.status_code != 303 or walk.redirect.headers.get("Location") != "/doc/" + walk.path[4:]
    ]
    assert not wrong, wrong[:10]


def test_every_document_answers_200_in_each_of_the_five_formats(walked: dict[str, Walk]) -> None:
    wrong = [
        (walk.path, media, response.status_code, response.headers.get("Content-Type"))
        for walk in walked.values()
        for media, response in walk.documents.items()
        if response.status_code != 200 or not response.headers["Content-Type"].startswith(media)
    ]
    assert not wrong, wrong[:10]


def test_every_machine_document_parses_and_describes_its_resource(walked: dict[str, Walk]) -> None:
    wrong = []
    for iri, walk in walked.items():
        for media, parser in FORMATS.items():
            if parser and (URIRef(iri), None, None) not in parsed(walk.documents[media], parser):
                wrong.append((walk.path, media))
    assert not wrong, wrong[:10]


def test_every_html_document_shows_the_things_label_and_links_every_format(walked: dict[str, Walk]) -> None:
    wrong = []
    for iri, walk in walked.items():
        page = walk.documents["text/html"].text
        label = label_of(parsed(walk.documents["text/turtle"], "turtle"), iri)
        if f"<h1>{escape(label)}</h1>" not in page:
            wrong.append((walk.path, "label", label))
        for media in FORMATS:
            if f'<link rel="alternate" type="{media}"' not in page:
                wrong.append((walk.path, "alternate", media))
    assert not wrong, wrong[:10]


def test_every_json_ld_document_expands_with_the_local_context_to_the_turtle_triples(walked: dict[str, Walk]) -> None:
    wrong = [
        walk.path
        for walk in walked.values()
        if not isomorphic(
            parsed(walk.documents["application/ld+json"], "json-ld"), parsed(walk.documents["text/turtle"], "turtle")
        )
    ]
    assert not wrong, wrong[:10]


def test_every_format_holds_the_same_triples(walked: dict[str, Walk]) -> None:
    wrong = []
    for walk in walked.values():
        turtle = parsed(walk.documents["text/turtle"], "turtle")
        for media in ("application/n-triples", "application/rdf+xml"):
            if not isomorphic(parsed(walk.documents[media], FORMATS[media]), turtle):
                wrong.append((walk.path, media))
    assert not wrong, wrong[:10]


# --- Negotiation, extensions and headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/turtle;q=0.5, application/ld+json;q=0.9", "application/ld+json"),
        ("application/rdf+xml, text/html;q=0.5", "application/rdf+xml"),
        ("application/n-triples;q=1.0, text/turtle;q=0.99", "application/n-triples"),
        ("text/turtle, */*;q=0.1", "text/turtle"),
        ("application/json", "application/ld+json"),
        (BROWSER_ACCEPT, "text/html"),
        ("*/*", "text/html"),
    ],
)
def test_documents_follow_accept_with_quality_values(server: str, accept: str, media_type: str) -> None:
    response = requests.get(server + "/doc/community/ukfechat", headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(media_type)
    assert "Accept" in vary(response)


def test_an_unacceptable_media_type_is_406_listing_what_is_offered(server: str) -> None:
    response = requests.get(server + "/doc/community/ukfechat", headers={"Accept": "image/png"}, timeout=10)
    assert response.status_code == 406
    assert "text/turtle" in response.text


@pytest.mark.parametrize(("extension", "media_type"), EXTENSIONS.items())
def test_extension_urls_answer_in_their_format_whatever_accept_says(
    server: str, extension: str, media_type: str
) -> None:
    other = "text/html" if media_type != "text/html" else "text/turtle"
    response = requests.get(f"{server}/doc/community/ukfechat.{extension}", headers={"Accept": other}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(media_type)
    assert "Accept" not in vary(response)


def test_the_id_redirect_leaves_the_query_string_behind(server: str) -> None:
    response = requests.get(server + "/id/community/ukfechat?utm_source=x", allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["Location"] == "/doc/community/ukfechat"


def test_following_the_redirect_reaches_the_document(server: str) -> None:
    response = requests.get(server + "/id/community/ukfechat", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200
    assert response.url.endswith("/doc/community/ukfechat")
    assert f"<{UKFECHAT}>" in response.text


def test_machine_formats_link_to_the_html_page_and_the_dataset(server: str) -> None:
    response = requests.get(server + "/doc/community/ukfechat.ttl", timeout=10)
    links = parse_header_links(response.headers["Link"])
    assert {"url": "/doc/community/ukfechat.html", "rel": "alternate", "type": "text/html"} in links
    assert {"url": "/dataset", "rel": "describedby"} in links


def test_turtle_uses_the_projects_prefixes(server: str) -> None:
    text = requests.get(server + "/doc/community/ukfechat.ttl", timeout=10).text
    assert f"@prefix cop: <{COP}> ." in text
    assert "cop:hasPresence" in text
    assert "@prefix sh:" not in text, "prefixes the record does not use are left out"


def test_json_ld_reads_as_plain_json(server: str) -> None:
    document = requests.get(server + "/doc/community/ukfechat.jsonld", timeout=10).json()
    assert document["@context"] == "https://w3id.org/copgraph/context.jsonld"  # canonical: never from the Host header
    assert document["id"] == UKFECHAT
    assert document["type"] == "CommunityOfPractice"
    assert document["name"] == "#UKFEchat"
    assert {presence["platform"]["name"] for presence in document["presences"]} == {"Twitter", "Wakelet", "Website"}
    assert [hashtag["name"] for hashtag in document["hashtags"]] == ["#UKFEchat"]
    assert {theme["prefLabel"] for theme in document["themes"]} >= {"Pedagogy", "Policy"}
    assert document["status"]["prefLabel"] == "Active"
    assert document["observations"][0]["reportedFigures"]
    assert all(source.startswith("http") for source in document["sources"])


def test_a_community_page_shows_its_sections_and_every_source_as_a_link(server: str, dataset: Dataset) -> None:
    page = requests.get(server + "/doc/community/ukfechat", headers={"Accept": BROWSER_ACCEPT}, timeout=10).text
    for heading in ("About", "Status", "Platforms and handles", "Hashtags", "Themes", "Sources"):
        assert f">{heading}</h2>" in page
    assert '<a href="/id/platform/twitter">Twitter</a>' in page
    assert "@theukfechat" in page
    assert '<a href="/id/theme/pedagogy">Pedagogy</a>' in page
    sources = [row["s"].value for row in dataset.query(f"SELECT ?s WHERE {{ <{UKFECHAT}> <{DCT}source> ?s }}")]
    assert sources
    for source in sources:
        assert f'<a href="{escape(source)}" rel="external">' in page


def test_a_community_page_names_its_hosts_sponsors_and_funders_by_role(server: str) -> None:
    page = requests.get(server + "/doc/community/amplifyfe.html", timeout=10).text
    assert ">Hosts, sponsors and funders</h2>" in page
    assert "<dt>Hosted by</dt>" in page and "<dt>Funded by</dt>" in page
    assert ">Published figures</h2>" in page


def test_a_presence_page_names_its_community(server: str) -> None:
    page = requests.get(server + "/doc/presence/ukfechat-twitter.html", timeout=10).text
    assert "<dt>Presence of</dt>" in page
    assert '<a href="/id/community/ukfechat">#UKFEchat</a>' in page


def test_a_hashtag_with_an_underscore_has_a_record(server: str) -> None:
    response = requests.get(server + "/id/hashtag/advancehe_chat", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200


# --- Not found --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "accept", "media_type", "marker"),
    [
        ("/doc/community/no-such-community", "text/html", "text/html", "No such record"),
        ("/doc/community/no-such-community", "text/turtle", "text/plain", "no copgraph record"),
        ("/doc/community/no-such-community", "application/ld+json", "application/json", '"status": 404'),
        ("/doc/community/no-such-community.ttl", "text/html", "text/plain", "no copgraph record"),
        ("/doc/community/no-such-community.jsonld", "text/html", "application/json", '"status": 404'),
        ("/doc/community/no-such-community.html", "text/turtle", "text/html", "No such record"),
        ("/id/community/no-such-community", "text/html", "text/html", "No such record"),
        ("/id/community/no-such-community", "text/turtle", "text/plain", "no copgraph record"),
    ],
)
def test_an_unknown_record_is_404_in_the_requested_format(
    server: str, path: str, accept: str, media_type: str, marker: str
) -> None:
    response = requests.get(server + path, headers={"Accept": accept}, allow_redirects=False, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith(media_type)
    assert marker in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/doc/community/..",
        "/doc/community/../platform/twitter",
        "/doc/community/%2e%2e",
        "/doc/community/%2e%2e%2fplatform%2ftwitter",
        "/doc/community/%2E%2E.ttl",
        "/id/community/..%2f..%2fetc%2fpasswd",
        "/id/community/UKFEchat",
        "/id/Community/ukfechat",
        "/doc/community/UKFEchat.ttl",
        "/id/widget/ukfechat",
        "/id/community/ukfechat.ttl",
        "/id/community/-ukfechat",
        "/id/community/ukfe--chat",
        "/id/community/ukfe_chat",
        "/doc/community/ukfechat.exe",
        "/doc/community/ukfechat.ttl.ttl",
        "/id/community/ukfechat%00",
    ],
)
def test_odd_types_and_slugs_are_404(server: str, path: str) -> None:
    status, _ = raw_get(server, path)
    assert status == 404


# --- Caching ------------------------------------------------------------------------------------------------------


def test_etag_and_if_none_match_give_304(server: str, dataset: Dataset) -> None:
    first = requests.get(server + "/doc/community/ukfechat.ttl", timeout=10)
    assert dataset.version in first.headers["ETag"]
    assert first.headers["Cache-Control"]
    again = requests.get(
        server + "/doc/community/ukfechat.ttl", headers={"If-None-Match": first.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304
    assert again.content == b""


def test_if_modified_since_gives_304(server: str) -> None:
    first = requests.get(server + "/doc/community/ukfechat", headers={"Accept": "text/html"}, timeout=10)
    again = requests.get(
        server + "/doc/community/ukfechat",
        headers={"Accept": "text/html", "If-Modified-Since": first.headers["Last-Modified"]},
        timeout=10,
    )
    assert again.status_code == 304


def test_etags_differ_between_formats(server: str) -> None:
    etags = {requests.get(f"{server}/doc/community/ukfechat.{ext}", timeout=10).headers["ETag"] for ext in EXTENSIONS}
    assert len(etags) == len(EXTENSIONS)


# --- The JSON-LD context ------------------------------------------------------------------------------------------


def test_the_context_is_served_as_json_ld(server: str) -> None:
    response = requests.get(server + "/context.jsonld", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert response.json()["@context"] == published_context()


def expanded_terms(context: dict) -> set[str]:
    """The IRIs the context's terms stand for (forward terms only)."""
    prefixes = {term: value for term, value in context.items() if isinstance(value, str) and value.endswith(("/", "#"))}

    def expand(value: str) -> str:
        prefix, _, name = value.partition(":")
        return prefixes[prefix] + name if prefix in prefixes else value

    iris = set()
    for term, definition in context.items():
        target = definition.get("@id") if isinstance(definition, dict) else definition
        if isinstance(target, str) and term not in prefixes and not target.startswith("@"):
            iris.add(expand(target))
    return iris


def test_the_context_names_every_property_used_in_the_data(dataset: Dataset) -> None:
    data_graphs = {graph for graph, path in dataset.metadata.graphs.items() if path.startswith("data/")}
    rows = dataset.query("SELECT DISTINCT ?g ?p WHERE { GRAPH ?g { ?s ?p ?o } }")
    used = {row["p"].value for row in rows if row["g"].value in data_graphs}
    used.discard("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")  # the context's `type` (@type)
    assert used, "the data graphs should have been found"
    assert not used - expanded_terms(published_context())


def test_the_context_names_every_property_the_ontology_declares(dataset: Dataset) -> None:
    owl = "http://www.w3.org/2002/07/owl#"
    rows = dataset.query(
        f"SELECT ?p WHERE {{ GRAPH <{BASE}graph/ontology> {{ ?p a ?kind }} "
        f"VALUES ?kind {{ <{owl}ObjectProperty> <{owl}DatatypeProperty> }} }}"
    )
    declared = {row["p"].value for row in rows}
    assert declared
    assert not declared - expanded_terms(published_context())


def test_json_ld_is_written_without_fetching_the_context(dataset: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError("the JSON-LD writer tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    triples = record_graph(dataset, UKFECHAT)
    document = json.loads(serialize_record(triples, UKFECHAT, "jsonld", "http://unreachable.invalid/context.jsonld"))
    assert document["@context"] == "http://unreachable.invalid/context.jsonld"
    assert document["name"] == "#UKFEchat"


# --- The record's graph -----------------------------------------------------------------------------------------


def test_an_unknown_iri_has_an_empty_record(dataset: Dataset) -> None:
    assert record_graph(dataset, BASE + "id/community/no-such-community") == []


def test_a_community_record_holds_its_presences_observations_and_the_labels_it_needs(dataset: Dataset) -> None:
    triples = record_graph(dataset, UKFECHAT)
    statements = {(t.subject.value, t.predicate.value, getattr(t.object, "value", None)) for t in triples}
    assert (UKFECHAT, COP + "hasPresence", BASE + "id/presence/ukfechat-twitter") in statements
    assert (BASE + "id/presence/ukfechat-twitter", COP + "handle", "@theukfechat") in statements
    assert (BASE + "id/platform/twitter", str(RDFS.label), "Twitter") in statements
    assert (BASE + "id/observation/ukfechat-1", COP + "observedCommunity", UKFECHAT) in statements
    assert (BASE + "id/theme/pedagogy", str(SKOS.prefLabel), "Pedagogy") in statements
    assert triples[0].subject.value == UKFECHAT, "the thing's own statements come first"


def test_a_record_is_bounded_to_the_thing_its_parts_and_labels(dataset: Dataset) -> None:
    triples = record_graph(dataset, UKFECHAT)
    parts = {BASE + "id/presence/ukfechat-" + p for p in ("twitter", "wakelet", "website")}
    parts |= {UKFECHAT, BASE + "id/observation/ukfechat-1", BASE + "id/observation/ukfechat-update-1"}
    parts.add(BASE + "doc/community/ukfechat")  # the record itself: its topic, licence and dataset
    others = {(t.subject.value, t.predicate.value) for t in triples if t.subject.value not in parts}
    assert others
    assert {predicate for _, predicate in others} <= {str(RDFS.label), str(SKOS.prefLabel)}


def test_every_record_states_its_licence_and_its_dataset(walked: dict[str, Walk]) -> None:
    licence, dataset_iri = URIRef(LICENCE), URIRef(DATASET_IRI)
    wrong = []
    for iri, walk in walked.items():
        document = URIRef(BASE + "doc/" + iri.removeprefix(BASE + "id/"))
        for media, parser in FORMATS.items():
            if parser is None:
                page = walk.documents[media].text
                if f'rel="license" href="{LICENCE}"' not in page or 'href="/dataset"' not in page:
                    wrong.append((walk.path, media))
                continue
            graph = parsed(walk.documents[media], parser)
            if (document, FOAF.primaryTopic, URIRef(iri)) not in graph or (
                (document, DCTERMS.license, licence) not in graph
                or (document, URIRef("http://rdfs.org/ns/void#inDataset"), dataset_iri) not in graph
            ):
                wrong.append((walk.path, media))
    assert not wrong, wrong[:10]


def test_an_organisation_record_holds_its_identifiers_and_links_out(dataset: Dataset) -> None:
    jisc = BASE + "id/organisation/jisc"
    triples = record_graph(dataset, jisc)
    statements = {(t.subject.value, t.predicate.value, t.object.value) for t in triples}
    identifier = BASE + "id/identifier/jisc-companies-house"
    assert (jisc, "http://www.w3.org/ns/adms#identifier", identifier) in statements
    assert (identifier, "http://www.w3.org/2004/02/skos/core#notation", "05747339") in statements
    assert (jisc, "https://schema.org/sameAs", "http://business.data.gov.uk/id/company/05747339") in statements
    assert (BASE + "id/identifier-scheme/companies-house", str(RDFS.label), "Companies House company number") in {
        (t.subject.value, t.predicate.value, t.object.value) for t in triples
    }


# --- Injection ----------------------------------------------------------------------------------------------------

INJECTED_NAME = "<script>alert(1)</script> chat"
INJECTED_ALT = '"><img src=x onerror=alert(2)>'
INJECTED_COMMUNITY = f"""@prefix cop: <{COP}> .
@prefix dct: <{DCT}> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

<{BASE}id/community/injected> a cop:CommunityOfPractice ;
    rdfs:label "<script>alert(1)</script> chat" ;
    skos:altLabel "\\"><img src=x onerror=alert(2)>" ;
    dct:description "A synthetic community made by tests/test_records.py to check escaping." ;
    cop:status <{BASE}id/status/active> ;
    cop:governance <{BASE}id/governance/unknown> ;
    dct:subject <{BASE}id/theme/pedagogy> ;
    owl:sameAs <javascript:alert(3)> ;
    dct:source <https://example.org/injected> .
"""


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over a copy of the data plus one community whose name and links try to inject markup."""
    root = tmp_path_factory.mktemp("injected")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "data" / "communities" / "injected.ttl").write_text(INJECTED_COMMUNITY, encoding="utf-8")
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config)
    with running_server(root, config.store_dir, workers=1) as url:
        yield url


def test_a_contributed_name_is_shown_as_text_never_as_markup(injected: str) -> None:
    page = requests.get(injected + "/doc/community/injected.html", timeout=10).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; chat" in page
    assert "<img src=x" not in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page


def test_a_link_that_is_not_a_web_address_is_shown_as_text(injected: str) -> None:
    page = requests.get(injected + "/doc/community/injected.html", timeout=10).text
    assert 'href="javascript:' not in page
    assert "javascript:alert(3)" in page


def test_machine_formats_keep_the_contributed_name_exactly(injected: str) -> None:
    document = requests.get(injected + "/doc/community/injected.jsonld", timeout=10).json()
    assert document["name"] == INJECTED_NAME
    assert document["alternateNames"] == [INJECTED_ALT]


def test_html_title_escapes_the_name(injected: str) -> None:
    page = requests.get(injected + "/doc/community/injected.html", timeout=10).text
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and "&lt;script&gt;" in title.group(1)


def test_a_forged_host_header_never_reaches_a_cacheable_body(server: str) -> None:
    """Issue 14, point 7: a record is cached (by this server and by proxies that key on the path) with one ETag, so
    nothing in it may come from the request's Host header."""
    honest = requests.get(server + "/doc/community/ukfechat.jsonld", timeout=10)
    forged = requests.get(server + "/doc/community/ukfechat.jsonld", headers={"Host": "evil.example"}, timeout=10)
    assert forged.status_code == 200
    assert "evil.example" not in forged.text
    assert forged.content == honest.content and forged.headers["ETag"] == honest.headers["ETag"]
    description = requests.get(
        server + "/sparql", headers={"Host": "evil.example", "Accept": "text/turtle"}, timeout=10
    )
    assert "Host" in description.headers["Vary"]  # the service description names the address it was reached at
