"""Remote store mode: copgraph over a real `oxigraph serve` process on 127.0.0.1 instead of the embedded store.

`copgraph build` loads the repository into the remote store and `copgraph serve` answers from it; the last test stops
the remote store and starts it again on the same location and port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from rdflib import RDF, Graph

from copgraph.query.remote import VERSION_TTL, RemoteDataset
from copgraph.query.remote_client import RemoteStore
from copgraph.query.remote_text import refuse_unsafe_update, with_values
from copgraph.store.writes import WriteRefused
from tests.conftest import NAMELESS_COMMUNITY, REPO, copgraph_command, free_port, running_server

TOKEN = "remote-maintainer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COP = "https://w3id.org/copgraph/def/cop#"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c a <{COP}CommunityOfPractice> }}"
UKFECHAT = "https://w3id.org/copgraph/id/community/ukfechat"
TWITTER = "https://w3id.org/copgraph/id/platform/twitter"
SHAPES = "https://w3id.org/copgraph/graph/shapes"
COMMUNITIES = len(list((REPO / "data" / "communities").glob("*.ttl")))
# The things the platforms graph types, counted from the file it is loaded from.
PLATFORMS = len(set(Graph().parse(REPO / "data" / "platforms.ttl").subjects(RDF.type)))
MAX_ROWS = 50
TIMEOUT_SECONDS = 2
OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))


class OxigraphServer:
    """`oxigraph serve` with a union default graph, on a fixed location and port so that it can be restarted."""

    def __init__(self, location: Path | None, port: int):
        self.location, self.port = location, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, seconds: float = 20) -> None:
        command = [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{self.port}", "--union-default-graph"]
        if self.location is not None:
            command += ["--location", str(self.location)]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    requests.get(self.url + "/query", params={"query": "ASK {}"}, timeout=1)
                    return
                except requests.ConnectionError:
                    time.sleep(0.05)
            self.stop()  # it exited (the port not yet free after a restart, say): try again until the deadline
            time.sleep(0.2)
        raise RuntimeError(f"oxigraph serve did not answer on {self.url} within {seconds} s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    if not Path(OXIGRAPH).is_file():
        pytest.skip("the `oxigraph` server binary (PyPI package oxigraph, a test dependency) is not installed")
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph") / "db", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def remote_settings(oxigraph: OxigraphServer) -> dict[str, str]:
    return {"remote_query_url": oxigraph.url + "/query", "remote_update_url": oxigraph.url + "/update"}


def run_build(root: Path, oxigraph: OxigraphServer) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env |= {"COPGRAPH_ROOT": str(root)} | {f"COPGRAPH_{k.upper()}": v for k, v in remote_settings(oxigraph).items()}
    return subprocess.run(copgraph_command("build"), env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(oxigraph: OxigraphServer) -> subprocess.CompletedProcess:
    result = run_build(REPO, oxigraph)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def unused_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("unused") / "store"


@pytest.fixture(scope="module")
def served(built: subprocess.CompletedProcess, oxigraph: OxigraphServer, unused_store: Path) -> Iterator[str]:
    settings = remote_settings(oxigraph) | {
        "maintainer_token": TOKEN,
        "max_rows": str(MAX_ROWS),
        "query_timeout": str(TIMEOUT_SECONDS),
    }
    with running_server(REPO, unused_store, **settings) as url:
        yield url


def select(url: str, query: str, **headers: str) -> requests.Response:
    return requests.get(url + "/sparql", params={"query": query}, headers=headers, timeout=30)


def count_of(url: str, query: str) -> int:
    response = select(url, query, Accept="application/sparql-results+json")
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def version_of(url: str) -> str:
    return requests.get(url + "/healthz", timeout=10).json()["version"]


def eventually(check: Callable[[], bool], seconds: float) -> bool:
    """Whether check() holds within the time (polled every 0.1 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def update(url: str, text: str, headers: dict[str, str] = AUTH) -> requests.Response:
    return requests.post(url + "/sparql", data={"update": text}, headers=headers, timeout=30)


# --- Checks made on the text, without a store --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "CLEAR ALL",
        "drop silent named",
        f"DROP GRAPH <{SHAPES}>",
        "PREFIX g: <https://w3id.org/copgraph/graph/> CLEAR GRAPH g:ontology",
        f"INSERT DATA {{ GRAPH <https://w3id.org/copgraph/graph/dataset> {{ <{UKFECHAT}> a <{COP}X> }} }}",
        "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
        "DELETE { GRAPH $g { ?s ?p ?o } } WHERE { GRAPH $g { ?s ?p ?o } }",
    ],
)
def test_updates_that_could_reach_a_protected_graph_are_refused(text: str) -> None:
    with pytest.raises(WriteRefused):
        refuse_unsafe_update(text)


@pytest.mark.parametrize(
    "text",
    [
        'INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> "CLEAR ALL" } }',
        "INSERT { ?s a <http://example.org/C> } WHERE { GRAPH ?g { ?s ?p ?o } }  # reads any graph, writes the default",
        f"# DROP GRAPH <{SHAPES}> in a comment\nCLEAR GRAPH <http://example.org/g>",
    ],
)
def test_ordinary_updates_pass_the_text_check(text: str) -> None:
    refuse_unsafe_update(text)


def test_parameters_bind_by_a_trailing_values_clause() -> None:
    import pyoxigraph as ox

    text = with_values("SELECT ?p WHERE { ?p a ?t }", [("p", ox.NamedNode(TWITTER)), ("t", ox.Literal('a "b"'))])
    assert text.endswith(f'VALUES (?p ?t) {{ (<{TWITTER}> "a \\"b\\"") }}\n')
    with pytest.raises(ValueError):
        with_values("SELECT * {}", [("p } ; DROP ALL", ox.NamedNode(TWITTER))])


# --- Building into the remote store ------------------------------------------------------------------------------


def test_build_loads_every_file_into_its_own_graph_of_the_remote(built: subprocess.CompletedProcess, oxigraph) -> None:
    assert oxigraph.url in built.stdout
    query = (
        "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), '/communities/')) }"
    )
    answer = requests.get(oxigraph.url + "/query", params={"query": query}, headers={"Accept": "application/json"})
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == COMMUNITIES


def test_build_refuses_invalid_data_and_sends_nothing(served: str, oxigraph, scratch_root: Path) -> None:
    before = version_of(served)
    (scratch_root / "data" / "communities" / "nameless.ttl").write_text(NAMELESS_COMMUNITY)
    refused = run_build(scratch_root, oxigraph)
    assert refused.returncode == 1
    assert "nameless" in refused.stderr
    time.sleep(VERSION_TTL)
    assert version_of(served) == before
    assert count_of(served, COUNT + " # after a refused build") == COMMUNITIES


def test_serve_in_remote_mode_builds_no_local_store(served: str, unused_store: Path) -> None:
    assert not (unused_store / "current").exists()
    health = requests.get(served + "/healthz", timeout=10).json()
    assert health["status"] == "ok" and health["triples"] > 1000


# --- Queries -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "media_type",
    ["application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"],
)
def test_select_in_every_result_format(served: str, media_type: str) -> None:
    response = select(served, COUNT, Accept=media_type)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(media_type)
    assert str(COMMUNITIES) in response.text


def test_ask(served: str) -> None:
    response = select(served, f"ASK {{ <{UKFECHAT}> a <{COP}CommunityOfPractice> }}", Accept="application/json")
    assert response.json()["boolean"] is True


@pytest.mark.parametrize(
    ("media_type", "marker"),
    [
        ("text/turtle", f"<{TWITTER}>"),
        ("application/n-triples", f"<{TWITTER}>"),
        ("application/ld+json", '"@id"'),
        ("application/rdf+xml", "rdf:RDF"),
    ],
)
def test_construct_in_rdf_formats(served: str, media_type: str, marker: str) -> None:
    response = select(served, f"CONSTRUCT WHERE {{ <{TWITTER}> ?p ?o }}", Accept=media_type)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(media_type)
    assert marker in response.text


def test_describe(served: str) -> None:
    response = select(served, f"DESCRIBE <{UKFECHAT}>", Accept="application/n-triples")
    assert response.status_code == 200
    assert len(response.text.splitlines()) > 10


def test_dataset_parameters_reach_the_remote(served: str) -> None:
    query = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?type }"
    platforms = requests.get(
        served + "/sparql",
        params={"query": query, "default-graph-uri": "https://w3id.org/copgraph/graph/platforms"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert int(platforms.json()["results"]["bindings"][0]["n"]["value"]) == PLATFORMS
    assert count_of(served, query) > PLATFORMS


def test_malformed_query_is_400_with_line_and_column(served: str) -> None:
    response = select(served, "SELECT ?x WHERE {\n  ?x ?y \n}", Accept="text/plain")
    assert response.status_code == 400
    assert response.text.startswith("Malformed query: line 3, column")  # the remote's position, made readable


def test_etag_and_if_none_match_give_304(served: str) -> None:
    first = select(served, COUNT, Accept="application/sparql-results+json")
    assert first.headers["ETag"].strip('"').startswith(version_of(served))
    again = select(
        served, COUNT, **{"Accept": "application/sparql-results+json", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_results_over_the_row_limit_are_truncated_and_say_so(served: str) -> None:
    rows = select(served, "SELECT * WHERE { ?s ?p ?o }", Accept="application/sparql-results+json")
    assert len(rows.json()["results"]["bindings"]) == MAX_ROWS
    assert rows.headers["Copgraph-Truncated"] == f"max-rows={MAX_ROWS}"
    triples = select(served, "CONSTRUCT WHERE { ?s ?p ?o }", Accept="application/n-triples")
    assert len(triples.text.splitlines()) == MAX_ROWS
    assert triples.headers["Copgraph-Truncated"] == f"max-rows={MAX_ROWS}"


def test_service_outside_the_allow_list_is_refused_and_never_fetched(served: str) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(1.0)
    try:
        query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.getsockname()[1]}/sparql> {{ ?s ?p ?o }} }}"
        response = select(served, query)
        assert response.status_code == 400 and "not allowed" in response.text
        with pytest.raises(TimeoutError):
            listener.accept()  # neither copgraph nor the remote store (which would fetch it) called
    finally:
        listener.close()


def test_canned_query_with_a_parameter(served: str) -> None:
    response = requests.get(
        served + "/queries/communities-per-platform", params={"platform": TWITTER, "format": "csv"}, timeout=10
    )
    assert response.status_code == 200, response.text
    lines = response.text.splitlines()
    assert len(lines) == 2 and lines[1].startswith(TWITTER)


# --- Writes ------------------------------------------------------------------------------------------------------


def test_writes_without_the_token_are_401_and_write_nothing(served: str) -> None:
    before = version_of(served)
    assert update(served, "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }", {}).status_code == 401
    put = requests.put(served + "/store?graph=http://example.org/nt", data="<http://e/a> <http://e/b> 1 .")
    assert put.status_code == 401
    assert version_of(served) == before


def test_update_is_applied_and_changes_the_version(served: str) -> None:
    before = version_of(served)
    graph = "http://example.org/remote-update"
    inserted = update(
        served, f"INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/a> <http://example.org/b> 1, 2 }} }}"
    )
    assert inserted.status_code == 204, inserted.text
    assert count_of(served, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}") == 2
    # Every worker reads the new version within VERSION_TTL seconds.
    assert eventually(lambda: all(version_of(served) != before for _ in range(4)), VERSION_TTL + 3)


def test_malformed_update_is_400_and_writes_nothing(served: str) -> None:
    time.sleep(VERSION_TTL)  # every worker's cached version is now the remote's current one, not an earlier test's
    before = version_of(served)
    response = update(served, "INSERT DATA { <http://example.org/a> ")
    assert response.status_code == 400 and "Malformed" in response.text
    assert "1:" in response.text  # the remote's position points into the maintainer's own (one-line) text
    time.sleep(VERSION_TTL)
    assert version_of(served) == before


def test_protected_graphs_and_clear_all_are_refused(served: str) -> None:
    for text in ("CLEAR ALL", f"DROP GRAPH <{SHAPES}>", "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }"):
        response = update(served, text)
        assert response.status_code == 403, text
        assert "Nothing was written" in response.text
    assert requests.delete(served + f"/store?graph={SHAPES}", headers=AUTH, timeout=10).status_code == 403
    assert count_of(served, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SHAPES}> {{ ?s ?p ?o }} }}") > 100


def test_graph_store_put_get_post_delete(served: str) -> None:
    target = served + "/store?graph=http://example.org/remote-gsp"
    turtle = {"Content-Type": "text/turtle", **AUTH}
    assert requests.get(target, timeout=10).status_code == 404
    assert (
        requests.put(target, data="<http://example.org/a> <http://example.org/b> 1 .", headers=turtle).status_code
        == 201
    )
    assert (
        requests.put(target, data="<http://example.org/a> <http://example.org/b> 2 .", headers=turtle).status_code
        == 204
    )
    assert (
        requests.post(target, data="<http://example.org/a> <http://example.org/b> 3 .", headers=turtle).status_code
        == 200
    )
    body = requests.get(target, headers={"Accept": "application/n-triples"}, timeout=10)
    assert sorted(body.text.split()[2::4]) == [
        '"2"^^<http://www.w3.org/2001/XMLSchema#integer>',
        '"3"^^<http://www.w3.org/2001/XMLSchema#integer>',
    ]
    assert requests.delete(target, headers=AUTH, timeout=10).status_code == 200
    assert requests.get(target, timeout=10).status_code == 404
    assert requests.delete(target, headers=AUTH, timeout=10).status_code == 404


def test_default_graph_by_graph_store_is_the_triples_in_no_named_graph(served: str) -> None:
    triple = "<http://example.org/d> <http://example.org/p> 1 ."
    response = requests.put(served + "/store?default", data=triple, headers={"Content-Type": "text/turtle", **AUTH})
    assert response.status_code == 201, response.text
    body = requests.get(served + "/store?default", headers={"Accept": "application/n-triples"}, timeout=10)
    assert body.text.strip() == triple.replace("1", '"1"^^<http://www.w3.org/2001/XMLSchema#integer>')


# --- A remote store without copgraph's description ----------------------------------------------------------------


def test_a_store_loaded_by_other_means_gets_a_version_that_changes_every_few_seconds() -> None:
    if not Path(OXIGRAPH).is_file():
        pytest.skip("the `oxigraph` server binary is not installed")
    other = OxigraphServer(None, free_port())  # in memory, empty: no /graph/dataset description
    other.start()
    try:
        dataset = RemoteDataset(RemoteStore(other.url + "/query", other.url + "/update", 5))
        metadata = dataset.metadata
        assert metadata.triples == 0 and metadata.graphs == {}
        dataset.forget()
        assert eventually(lambda: dataset.forget() or dataset.version != metadata.version, VERSION_TTL + 1)
    finally:
        other.stop()


# --- Failures of the remote store (these run last: they slow or stop it) ------------------------------------------


def test_a_query_the_remote_cannot_finish_in_time_is_503(served: str) -> None:
    cross_join = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    started = time.monotonic()
    response = select(served, cross_join)
    assert response.status_code == 503
    assert f"within the {TIMEOUT_SECONDS} s limit" in response.text and response.headers["Retry-After"]
    assert time.monotonic() - started < TIMEOUT_SECONDS + 5


def test_remote_store_going_away_gives_503s_and_its_return_recovers(served: str, oxigraph: OxigraphServer) -> None:
    oxigraph.stop()
    try:
        query = select(served, COUNT + " # while the remote is down")
        assert query.status_code == 503, query.text
        assert f"The remote store at {oxigraph.url}/query did not answer" in query.text
        assert query.headers["Retry-After"]
        health = requests.get(served + "/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        for path in ("/", "/store?graph=http://example.org/x", f"/queries/communities-per-platform?platform={TWITTER}"):
            status = requests.get(served + path, timeout=10).status_code
            assert status == 503 or (status == 404 and path.startswith("/queries")), path  # /queries may not exist
        assert update(served, "INSERT DATA { <http://example.org/a> <http://example.org/b> 3 }").status_code == 503
        assert select(served, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }").status_code == 400
    finally:
        oxigraph.start()
    assert eventually(lambda: select(served, COUNT + " # after the restart").status_code == 200, 15)
    assert count_of(served, COUNT + " # the data survived") == COMMUNITIES
    assert eventually(lambda: requests.get(served + "/healthz", timeout=10).status_code == 200, 10)
