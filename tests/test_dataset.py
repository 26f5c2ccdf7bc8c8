"""The ontology at /def/cop, the shapes at /def/shapes, the VoID + DCAT description at /dataset and /.well-known/void,
and the dumps at /dumps/<file>: served by a real server over the repository's data, checked against the store."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import shutil
import tarfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pyshacl
import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF

from copgraph.build.description import DATASET_IRI, compute_statistics, published_write
from copgraph.build.dumps import PENDING_GRAPHS, published_graphs, read_manifest, write_dumps
from copgraph.build.ontology_docs import documentation_path
from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH
from copgraph.core.vocab import DEFAULT_BASE
from copgraph.store.generations import current_generation
from copgraph.store.reader import open_dataset
from tests.conftest import REPO

COP = "https://w3id.org/copgraph/def/cop#"
# Open namespaces: rdflib's closed ones warn when pytest inspects this module's names.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
VOID = Namespace("http://rdfs.org/ns/void#")
SH = "http://www.w3.org/ns/shacl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SPDX = "http://spdx.org/rdf/terms#"
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA_SAME_AS = URIRef("https://schema.org/sameAs")
# The DCAT-AP 3.0.0 SHACL shapes European data portals harvest with (unchanged copies, CC BY 4.0; see its README).
DCAT_AP = REPO.parent / "shared" / "reference" / "dcat-ap-3.0.0"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RDFLIB_FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
}
EXTENSIONS = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}
# Every statement but the description's own graph, which lists the dumps' checksums and so is not inside them.
PUBLISHED = f"GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != <{DATASET_GRAPH}>)"


def get(url: str, path: str, accept: str | None = None) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    return requests.get(url + path, headers=headers, timeout=30)


def parsed(response: requests.Response) -> Graph:
    assert response.status_code == 200, response.text
    media_type = response.headers["Content-Type"].split(";")[0]
    return Graph().parse(data=response.content, format=RDFLIB_FORMATS[media_type])


def values(dataset, query: str) -> list:
    return [row[0].value for row in dataset.query(query)]


def count(dataset, query: str) -> int:
    return int(values(dataset, query)[0])


@pytest.fixture(scope="module")
def description(server: str) -> Graph:
    return parsed(get(server, "/dataset", "text/turtle"))


def local_path(iri: str) -> str:
    """This server's path for a canonical IRI, as links.local_href maps it."""
    assert iri.startswith(DEFAULT_BASE), iri
    return "/" + iri[len(DEFAULT_BASE) :]


# --- /def/cop and /def/shapes -----------------------------------------------------------------------------------


def cop_classes(dataset) -> set[str]:
    query = f'SELECT ?c WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c a <{OWL}Class> }} FILTER STRSTARTS(STR(?c), "{COP}") }}'
    classes = set(values(dataset, query))
    assert len(classes) >= 7
    return classes


@pytest.mark.parametrize("media_type", list(RDFLIB_FORMATS))
def test_ontology_by_accept_parses_and_declares_every_class(server: str, dataset, media_type: str) -> None:
    response = get(server, "/def/cop", media_type)
    assert response.headers["Content-Type"].startswith(media_type)
    assert "Accept" in response.headers["Vary"]
    graph = parsed(response)
    for iri in cop_classes(dataset):
        assert (URIRef(iri), RDF.type, OWL.Class) in graph, iri
    assert (URIRef(DEFAULT_BASE + "def/cop"), RDF.type, OWL.Ontology) in graph


@pytest.mark.parametrize("extension", list(EXTENSIONS))
def test_ontology_by_extension_ignores_accept(server: str, dataset, extension: str) -> None:
    response = get(server, f"/def/cop.{extension}", "text/html")
    assert response.headers["Content-Type"].startswith(EXTENSIONS[extension])
    graph = parsed(response)
    assert all((URIRef(iri), RDF.type, OWL.Class) in graph for iri in cop_classes(dataset))


def test_a_client_without_preference_gets_turtle_and_a_browser_gets_html(server: str) -> None:
    for path in ("/def/cop", "/dataset", "/def/shapes"):
        assert requests.get(server + path, timeout=30).headers["Content-Type"].startswith("text/turtle")
        assert get(server, path, "*/*").headers["Content-Type"].startswith("text/turtle")
        assert get(server, path, BROWSER).headers["Content-Type"].startswith("text/html")


def test_unknown_extension_is_404_and_unacceptable_type_is_406(server: str) -> None:
    assert get(server, "/def/cop.xyz").status_code == 404
    refused = get(server, "/dataset", "image/png")
    assert refused.status_code == 406
    assert "text/turtle" in refused.text


def test_documents_link_their_other_formats_and_answer_304(server: str) -> None:
    response = get(server, "/def/cop", "text/turtle")
    for extension in ("ttl", "html", "jsonld", "nt", "rdf"):
        assert f"</def/cop.{extension}>" in response.headers["Link"]
    again = requests.get(
        server + "/def/cop", headers={"Accept": "text/turtle", "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


class Sections(HTMLParser):
    """The text inside each `<div class="... entity" id="...">` of pyLODE's page (the classes and properties)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self.open: list[str | None] = []  # for each open div, the section it starts (or None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            attributes = dict(attrs)
            starts = "entity" in (attributes.get("class") or "").split() and attributes.get("id")
            self.open.append(attributes["id"] if starts else None)
            if starts:
                self.text[attributes["id"]] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for section in self.open:
            if section:
                self.text[section].append(data)

    def joined(self, section: str) -> str:
        return " ".join(" ".join(self.text[section]).split())


def test_ontology_page_lists_each_class_with_its_shapes_and_their_messages(server: str, dataset) -> None:
    response = get(server, "/def/cop", BROWSER)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert '<link href="/def/cop.ttl" rel="alternate" type="text/turtle">' in response.text
    page = Sections()
    page.feed(response.text)
    shapes_query = f"""SELECT ?class ?message WHERE {{ GRAPH <{SHAPES_GRAPH}> {{
        ?shape <{SH}targetClass> ?class .
        {{ ?shape <{SH}property>/<{SH}message> ?message }} UNION {{ ?shape <{SH}message> ?message }}
        UNION {{ ?shape <{SH}sparql>/<{SH}message> ?message }} }} }}"""
    expected: dict[str, list[str]] = {}
    for row in dataset.query(shapes_query):
        expected.setdefault(row["class"].value, []).append(" ".join(row["message"].value.split()))
    for iri in cop_classes(dataset):
        sections = [page.joined(key) for key in page.text if f" IRI {iri} " in page.joined(key)]
        assert len(sections) == 1, f"no section for {iri}"
        text = sections[0]
        assert "SHACL shapes checking this class" in text, iri
        assert expected[iri], f"no shape targets {iri}"
        for message in expected[iri]:
            assert message in text, (iri, message)


def test_ontology_page_lists_the_shapes_of_reused_classes(server: str) -> None:
    text = get(server, "/def/cop", BROWSER).text
    assert 'id="shapes"' in text
    for shape in ("cops:Concept", "cops:Organisation", "cops:ThemeValue"):
        assert f"<code>{shape}</code>" in text


def test_ontology_page_was_generated_with_the_store_generation(built_config: Config) -> None:
    page = documentation_path(current_generation(built_config.store_dir))
    assert page.is_file() and "pyLODE" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("extension", list(EXTENSIONS))
def test_shapes_are_served_in_every_format(server: str, dataset, extension: str) -> None:
    graph = parsed(get(server, f"/def/shapes.{extension}"))
    expected = count(dataset, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SHAPES_GRAPH}> {{ ?s ?p ?o }} }}")
    assert len(graph) == expected
    assert (URIRef(DEFAULT_BASE + "def/shapes#Community"), RDF.type, URIRef(SH + "NodeShape")) in graph


# --- /dataset and /.well-known/void -----------------------------------------------------------------------------


def number(graph: Graph, subject: URIRef, predicate: URIRef) -> int:
    found = list(graph.objects(subject, predicate))
    assert len(found) == 1, (subject, predicate, found)
    return int(found[0])


def test_statistics_equal_counts_made_with_sparql(description: Graph, dataset) -> None:
    node = URIRef(DATASET_IRI)
    uri_space = DEFAULT_BASE + "id/"
    assert number(description, node, VOID.triples) == count(dataset, f"SELECT (COUNT(*) AS ?n) WHERE {{ {PUBLISHED} }}")
    assert number(description, node, VOID.distinctSubjects) == count(
        dataset, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {PUBLISHED} }}"
    )
    assert number(description, node, VOID.distinctObjects) == count(
        dataset, f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {PUBLISHED} }}"
    )
    in_uri_space = f'FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{uri_space}"))'
    assert number(description, node, VOID.entities) == count(
        dataset, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {PUBLISHED} {in_uri_space} }}"
    )


def test_class_partitions_count_the_instances_of_every_class(description: Graph, dataset) -> None:
    query = f"""SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }} FILTER (?g != <{DATASET_GRAPH}>) }}
        GROUP BY ?c"""
    expected = {row["c"].value: int(row["n"].value) for row in dataset.query(query)}
    partitions = {
        str(description.value(part, VOID["class"])): int(description.value(part, VOID.entities))
        for part in description.objects(URIRef(DATASET_IRI), VOID.classPartition)
    }
    assert partitions == expected
    assert partitions[COP + "CommunityOfPractice"] > 0
    assert number(description, URIRef(DATASET_IRI), VOID.classes) == len(expected)


def test_property_partitions_add_up_to_the_triples(description: Graph, dataset) -> None:
    query = f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {PUBLISHED} }} GROUP BY ?p"
    expected = {row["p"].value: int(row["n"].value) for row in dataset.query(query)}
    partitions = {
        str(description.value(part, VOID.property)): int(description.value(part, VOID.triples))
        for part in description.objects(URIRef(DATASET_IRI), VOID.propertyPartition)
    }
    assert partitions == expected
    assert sum(partitions.values()) == number(description, URIRef(DATASET_IRI), VOID.triples)


def test_description_gives_licence_publisher_endpoint_uri_space_and_examples(description: Graph, dataset) -> None:
    node = URIRef(DATASET_IRI)
    assert (node, RDF.type, VOID.Dataset) in description and (node, RDF.type, DCAT.Dataset) in description
    assert (node, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by-sa/4.0/")) in description
    assert description.value(node, DCTERMS.title) and description.value(node, DCTERMS.description)
    assert description.value(description.value(node, DCTERMS.publisher), URIRef("http://xmlns.com/foaf/0.1/name"))
    assert description.value(node, VOID.sparqlEndpoint) == URIRef(DEFAULT_BASE + "sparql")
    assert description.value(node, VOID.uriSpace) == Literal(DEFAULT_BASE + "id/")
    examples = set(description.objects(node, VOID.exampleResource))
    communities = set(values(dataset, f"SELECT ?c WHERE {{ ?c a <{COP}CommunityOfPractice> }}"))
    assert examples and {str(e) for e in examples} <= communities


def test_description_lists_every_source_page_and_vocabulary(description: Graph, dataset) -> None:
    node = URIRef(DATASET_IRI)
    sources = values(
        dataset,
        f"SELECT DISTINCT ?o WHERE {{ GRAPH ?g {{ ?s <{DCTERMS.source}> ?o }} FILTER (?g != <{DATASET_GRAPH}>) }}",
    )
    assert {str(s) for s in description.objects(node, PROV.wasDerivedFrom)} == set(sources)
    assert not list(description.objects(node, DCTERMS.source)), "DCAT-AP reads dct:source as another dcat:Dataset"
    vocabularies = {str(v) for v in description.objects(node, VOID.vocabulary)}
    assert DEFAULT_BASE + "def/cop" in vocabularies
    assert {str(SH), "http://www.w3.org/2004/02/skos/core#", "http://purl.org/dc/terms/"} <= vocabularies
    assert COP not in vocabularies  # given as the ontology's IRI, not its namespace


def test_linksets_count_the_links_to_each_target_that_the_data_holds(description: Graph, dataset) -> None:
    linksets = list(description.subjects(RDF.type, VOID.Linkset))
    targets = {description.value(linkset, VOID.objectsTarget) for linkset in linksets}
    assert {str(description.value(t, DCTERMS.title)) for t in targets} >= {"Wikidata"}
    assert {description.value(linkset, VOID.linkPredicate) for linkset in linksets} == {OWL.sameAs, SCHEMA_SAME_AS}
    total = 0
    for linkset in linksets:
        predicate = description.value(linkset, VOID.linkPredicate)
        space = str(description.value(description.value(linkset, VOID.objectsTarget), VOID.uriSpace))
        in_data = count(
            dataset,
            f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{predicate}> ?o }}
                FILTER (?g != <{DATASET_GRAPH}> && isIRI(?o) && STRSTARTS(STR(?o), "{space}")) }}""",
        )
        assert number(description, linkset, VOID.triples) == in_data
        assert (URIRef(DATASET_IRI), VOID.subset, linkset) in description
        total += in_data
    all_links = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{SCHEMA_SAME_AS}>|<{OWL.sameAs}> ?o }} }}"
    assert total == count(dataset, all_links) > 0, "every link out is counted in the linkset of its target"


# --- DCAT-AP 3 ---------------------------------------------------------------------------------------------------


def test_the_description_conforms_to_dcat_ap_3(description: Graph) -> None:
    """What a European data portal's harvester checks: 0 violations of the DCAT-AP 3.0.0 shapes (with range.ttl,
    which checks the class of every value, so every such value is typed in the description itself)."""
    if not DCAT_AP.is_dir():
        pytest.skip(f"the DCAT-AP shapes are not at {DCAT_AP} (shared/ should sit beside the repository)")
    shapes = Graph().parse(DCAT_AP / "shapes.ttl").parse(DCAT_AP / "range.ttl")
    _, report, text = pyshacl.validate(description, shacl_graph=shapes, inference="none")
    violations = list(report.subjects(URIRef(SH + "resultSeverity"), URIRef(SH + "Violation")))
    assert not violations, text


def test_the_description_gives_what_dcat_ap_recommends(description: Graph) -> None:
    node = URIRef(DATASET_IRI)
    for predicate in (
        DCAT.contactPoint, DCTERMS.issued, DCAT.theme, DCTERMS.spatial, DCTERMS.temporal, DCTERMS.language,
        DCAT.distribution, DCAT.keyword, DCTERMS.publisher, DCAT.landingPage,
    ):  # fmt: skip
        assert description.value(node, predicate) is not None, predicate
    for distribution in description.objects(node, DCAT.distribution):
        for predicate in (DCTERMS["format"], DCTERMS.description, DCAT.mediaType, DCTERMS.license):
            assert description.value(distribution, predicate) is not None, (distribution, predicate)
        assert description.value(distribution, DCAT.byteSize).datatype == URIRef(XSD + "decimal")
    service = description.value(node, VOID.sparqlEndpoint)
    assert description.value(service, DCAT.endpointDescription) is not None
    period = description.value(node, DCTERMS.temporal)
    assert int(description.value(period, DCAT.startDate)) <= int(description.value(period, DCAT.endDate))


# --- Named graphs at their IRIs ----------------------------------------------------------------------------------


def graph_subsets(description: Graph) -> list[str]:
    return sorted(str(s) for s in description.objects(URIRef(DATASET_IRI), VOID.subset) if "/graph/" in str(s))


def test_every_named_graph_the_dataset_lists_dereferences_to_its_statements(server: str, description: Graph, dataset):
    subsets = graph_subsets(description)
    assert len(subsets) > 100
    wrong = []
    for graph in subsets:
        response = get(server, local_path(graph), "application/n-triples")
        if response.status_code != 200 or "Accept" not in response.headers.get("Vary", ""):
            wrong.append((graph, response.status_code))
            continue
        served = Graph().parse(data=response.text, format="nt")
        stored = count(dataset, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        if len(served) != stored:
            wrong.append((graph, len(served), stored))
    assert not wrong, wrong[:10]


def test_a_named_graph_is_a_page_for_people_and_answers_by_extension(server: str) -> None:
    page = get(server, "/graph/communities/ukfechat", BROWSER)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'href="/id/community/ukfechat"' in page.text and "data/communities/ukfechat.ttl" in page.text
    turtle = get(server, "/graph/platforms.ttl", BROWSER)
    assert turtle.headers["Content-Type"].startswith("text/turtle")
    assert (None, RDF.type, URIRef(COP + "Platform")) in Graph().parse(data=turtle.text, format="turtle")


@pytest.mark.parametrize(
    "path", ["/graph/no-such-graph", "/graph/pending/contribution-1", "/graph/Communities/ukfechat"]
)
def test_graphs_the_store_does_not_publish_are_404(server: str, path: str) -> None:
    assert get(server, path, "text/turtle").status_code == 404


def test_the_ontology_version_iri_dereferences(server: str) -> None:
    ontology = parsed(get(server, "/def/cop", "text/turtle"))
    version = ontology.value(URIRef(DEFAULT_BASE + "def/cop"), OWL.versionIRI)
    assert version is not None and str(version).startswith(DEFAULT_BASE + "def/cop/")
    assert isomorphic(parsed(get(server, local_path(str(version)), "text/turtle")), ontology)
    assert get(server, "/def/cop/0.0.1", "text/turtle").status_code == 404


def test_well_known_void_is_the_same_graph_as_dataset(server: str, description: Graph) -> None:
    assert isomorphic(parsed(get(server, "/.well-known/void", "text/turtle")), description)


@pytest.mark.parametrize("extension", list(EXTENSIONS))
def test_description_in_every_format_is_the_same_graph(server: str, description: Graph, extension: str) -> None:
    assert isomorphic(parsed(get(server, f"/dataset.{extension}")), description)


def test_dataset_page_shows_the_description_to_people(server: str, description: Graph) -> None:
    response = get(server, "/dataset", BROWSER)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "https://creativecommons.org/licenses/by-sa/4.0/" in page
    assert f"{number(description, URIRef(DATASET_IRI), VOID.triples):,}" in page
    for distribution in description.objects(URIRef(DATASET_IRI), DCAT.distribution):
        url = str(description.value(distribution, DCAT.downloadURL))
        assert f'href="{local_path(url)}"' in page


# --- Dumps ----------------------------------------------------------------------------------------------------------


def distributions(description: Graph) -> list[dict]:
    found = []
    for distribution in description.objects(URIRef(DATASET_IRI), DCAT.distribution):
        checksum = description.value(distribution, URIRef(SPDX + "checksum"))
        assert description.value(checksum, URIRef(SPDX + "algorithm")) == URIRef(SPDX + "checksumAlgorithm_sha256")
        found.append(
            {
                "url": str(description.value(distribution, DCAT.downloadURL)),
                "media_type": str(description.value(distribution, DCAT.mediaType)),
                "byte_size": int(description.value(distribution, DCAT.byteSize)),
                "sha256": str(description.value(checksum, URIRef(SPDX + "checksumValue"))),
            }
        )
    assert len(found) == 4
    return found


def test_distributions_give_the_size_and_sha256_of_what_is_downloaded(server: str, description: Graph) -> None:
    for distribution in distributions(description):
        response = get(server, local_path(distribution["url"]))
        assert response.status_code == 200, distribution
        assert response.headers["Content-Type"] == "application/gzip"
        assert len(response.content) == distribution["byte_size"]
        assert hashlib.sha256(response.content).hexdigest() == distribution["sha256"]
        assert response.headers["ETag"] == f'"{distribution["sha256"]}"'
        cached = requests.get(response.url, headers={"If-None-Match": response.headers["ETag"]}, timeout=30)
        assert cached.status_code == 304


def download(server: str, name: str) -> bytes:
    response = get(server, f"/dumps/{name}")
    assert response.status_code == 200, response.text
    return gzip.decompress(response.content)


def published_quad_count(dataset) -> int:
    return count(dataset, f"SELECT (COUNT(*) AS ?n) WHERE {{ {PUBLISHED} }}")


@pytest.mark.parametrize(
    ("name", "rdf_format"),
    [
        ("copgraph.nq.gz", ox.RdfFormat.N_QUADS),
        ("copgraph.trig.gz", ox.RdfFormat.TRIG),
        ("copgraph.jsonld.gz", ox.RdfFormat.JSON_LD),
    ],
)
def test_whole_dataset_dumps_hold_every_published_quad(server: str, dataset, name: str, rdf_format) -> None:
    quads = list(ox.parse(download(server, name), format=rdf_format))
    assert len(quads) == published_quad_count(dataset)
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    assert ONTOLOGY_GRAPH in graphs and SHAPES_GRAPH in graphs and DATASET_GRAPH not in graphs


def test_graph_archive_holds_one_turtle_file_per_graph(server: str, dataset) -> None:
    expected = set(values(dataset, f"SELECT DISTINCT ?g WHERE {{ {PUBLISHED} }}"))
    total = 0
    with tarfile.open(fileobj=io.BytesIO(download(server, "copgraph-graphs.ttl.tar.gz"))) as archive:
        index = archive.extractfile("index.tsv").read().decode().splitlines()[1:]
        files = dict(line.split("\t") for line in index)
        for name in files:
            total += len(list(ox.parse(archive.extractfile(name).read(), format=ox.RdfFormat.TURTLE)))
    assert set(files.values()) == expected
    assert files["communities/ukfechat.ttl"] == DEFAULT_BASE + "graph/communities/ukfechat"
    assert total == published_quad_count(dataset)


@pytest.mark.parametrize(
    "path",
    ["/dumps/../x", "/dumps/..%2Fmeta.json", "/dumps/%2e%2e/meta.json", "/dumps/manifest.json", "/dumps/nothing.nq.gz"],
)
def test_names_outside_the_manifest_are_404(server: str, path: str) -> None:
    address = urlsplit(server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request("GET", path)  # sent as written: no client-side normalisation of ".."
    response = connection.getresponse()
    assert response.status == 404
    connection.close()


def test_manifest_lists_every_dump_of_the_generation(built_config: Config) -> None:
    folder = current_generation(built_config.store_dir) / "dumps"
    manifest = read_manifest(folder)
    assert set(manifest) == {p.name for p in folder.iterdir() if not p.name.startswith((".", "manifest"))}


# --- Pending graphs and writes -----------------------------------------------------------------------------------


def quad(subject: str, graph: str) -> ox.Quad:
    return ox.Quad(
        ox.NamedNode(subject),
        ox.NamedNode(str(RDF.type)),
        ox.NamedNode(COP + "CommunityOfPractice"),
        ox.NamedNode(graph),
    )


def statistics_as_first_counted(store: ox.Store, base: str) -> dict:
    """The figures compute_statistics once got with FILTERs over every statement and an ORDER BY in the engine (slow
    on large data: it now counts them differently), for comparison."""
    graphs = published_graphs(store)
    uri_space = base + "id/"

    def select(query: str) -> list:
        return list(store.query(query, default_graph=graphs))

    def count(query: str) -> int:
        return int(select(query)[0]["n"].value)

    datatypes = {
        row["d"].value for row in select("SELECT DISTINCT (DATATYPE(?o) AS ?d) WHERE { ?s ?p ?o FILTER isLiteral(?o) }")
    }
    ontologies = {row["o"].value for row in select(f"SELECT ?o WHERE {{ ?o a <{OWL}Ontology> }}")}
    properties = {row["p"].value for row in select("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")}
    classes = {row["c"].value for row in select("SELECT DISTINCT ?c WHERE { ?s a ?c FILTER isIRI(?c) }")}
    namespaces = set()
    for term in properties | classes | datatypes:
        cut = max(term.rfind("#"), term.rfind("/"))
        if cut > len("https://"):
            namespaces.add(term[: cut + 1])
    return {
        "entities": count(
            "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
            f'{{ ?s ?p ?o FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{uri_space}")) }}'
        ),
        "distinct_subjects": count("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"),
        "distinct_objects": count("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"),
        "vocabularies": sorted(ns[:-1] if ns.endswith("#") and ns[:-1] in ontologies else ns for ns in namespaces),
        "examples": [
            row["c"].value
            for row in select(
                f"SELECT DISTINCT ?c WHERE {{ ?c a <{COP}CommunityOfPractice> "
                f'FILTER STRSTARTS(STR(?c), "{uri_space}") }} ORDER BY ?c LIMIT 3'
            )
        ],
    }


def counted(store: ox.Store, base: str) -> dict:
    statistics = compute_statistics(store, base)
    return {name: getattr(statistics, name) for name in statistics_as_first_counted(store, base)}


def test_statistics_of_the_repository_data_are_the_figures_first_counted(dataset) -> None:
    assert counted(dataset.store, DEFAULT_BASE) == statistics_as_first_counted(dataset.store, DEFAULT_BASE)


def test_statistics_are_the_figures_first_counted_on_awkward_data(tmp_path: Path) -> None:
    """Subjects and objects in several graphs, blank nodes, IRIs outside the URI space or sorting unlike their bytes,
    literals of every kind, and what is not published (which must not count)."""
    store = ox.Store(str(tmp_path / "store"))
    community, ex = DEFAULT_BASE + "id/community/", "http://example.org/"
    string = ox.Literal("a long literal, stored apart from the quads that use it")
    literals = [string, ox.Literal("fr", language="fr"), ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))]
    literals += [
        ox.Literal("2024-01-02", datatype=ox.NamedNode(XSD + "date")),
        ox.Literal("x", datatype=ox.NamedNode(ex + "dt#own")),
    ]
    for name, graph in [("b", "communities/b"), ("a", "communities/a"), ("Z", "communities/z"), ("é", "communities/e")]:
        iri = ox.NamedNode(community + name)
        for target in (ox.NamedNode(DEFAULT_BASE + "graph/" + graph), ox.NamedNode(DEFAULT_BASE + "graph/platforms")):
            store.add(ox.Quad(iri, ox.NamedNode(str(RDF.type)), ox.NamedNode(COP + "CommunityOfPractice"), target))
            for literal in literals:
                store.add(ox.Quad(iri, ox.NamedNode(ex + "p"), literal, target))
    blank = ox.BlankNode()
    store.add(ox.Quad(blank, ox.NamedNode(str(RDF.type)), ox.NamedNode(COP + "CommunityOfPractice"), ox.DefaultGraph()))
    store.add(ox.Quad(ox.NamedNode(ex + "outside"), ox.NamedNode(ex + "q"), blank, ox.DefaultGraph()))
    store.add(ox.Quad(ox.NamedNode(ex + "outside"), ox.NamedNode(ex + "q"), string, ox.DefaultGraph()))
    store.add(quad(community + "0-pending", PENDING_GRAPHS + "contribution-1"))
    store.add(
        ox.Quad(
            ox.NamedNode(DATASET_IRI),
            ox.NamedNode(ex + "p"),
            ox.Literal("1", datatype=ox.NamedNode(ex + "hidden")),
            ox.NamedNode(DATASET_GRAPH),
        )
    )
    first = statistics_as_first_counted(store, DEFAULT_BASE)
    assert counted(store, DEFAULT_BASE) == first
    assert first["examples"] == [community + "Z", community + "a", community + "b"]
    assert first["entities"] == 4 and first["distinct_subjects"] == 6
    assert "http://example.org/dt#" in first["vocabularies"] and "http://example.org/" in first["vocabularies"]


def test_pending_graphs_are_left_out_of_dumps_and_statistics(tmp_path: Path) -> None:
    store = ox.Store()
    store.add(quad(DEFAULT_BASE + "id/community/published", DEFAULT_BASE + "graph/communities/published"))
    store.add(quad(DEFAULT_BASE + "id/community/waiting", PENDING_GRAPHS + "contribution-1"))
    store.add(quad(DATASET_IRI, DATASET_GRAPH))
    assert [g.value for g in published_graphs(store) if isinstance(g, ox.NamedNode)] == [
        DEFAULT_BASE + "graph/communities/published"
    ]
    for dump in write_dumps(store, tmp_path):
        if not dump.package:
            dumped = list(ox.parse(gzip.decompress((tmp_path / dump.name).read_bytes()), format=_format(dump.name)))
            assert [q.subject.value for q in dumped] == [DEFAULT_BASE + "id/community/published"], dump.name
    statistics = compute_statistics(store, DEFAULT_BASE)
    assert (statistics.triples, statistics.entities, statistics.examples) == (
        1,
        1,
        [DEFAULT_BASE + "id/community/published"],
    )


def _format(name: str) -> ox.RdfFormat:
    return {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}[name.split(".")[1]]


def test_a_maintainer_write_brings_description_and_dumps_up_to_date(tmp_path: Path) -> None:
    # A small root (the build's cost grows with the number of files), the ontology and shapes as they are.
    root = tmp_path / "root"
    for folder in ("ontology", "shapes"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "data" / "communities").mkdir(parents=True)
    shutil.copy(REPO / "data" / "communities" / "ukfechat.ttl", root / "data" / "communities")
    config = Config.from_env(environ={}, root=root, store=tmp_path / "store")
    build(config, validate=False)
    before = current_generation(config.store_dir)
    added = DEFAULT_BASE + "id/community/written-by-a-maintainer"
    published_write(config, lambda store: store.add(quad(added, DEFAULT_BASE + "graph/communities/written")), "test")
    after = open_dataset(config)
    triples = [
        row["n"].value
        for row in after.query(
            f"SELECT ?n WHERE {{ GRAPH <{DATASET_GRAPH}> {{ <{DATASET_IRI}> <{VOID.triples}> ?n }} }}"
        )
    ]
    expected = count(after, f"SELECT (COUNT(*) AS ?n) WHERE {{ {PUBLISHED} }}")
    assert triples == [str(expected)]
    nquads = gzip.decompress((after.generation / "dumps" / "copgraph.nq.gz").read_bytes()).decode()
    assert f"<{added}>" in nquads and len(nquads.splitlines()) == expected
    # The ontology and shapes did not change, so the documentation was reused, not generated again.
    assert documentation_path(after.generation).read_bytes() == documentation_path(before).read_bytes()
