"""Hostile input against real servers: random and broken SPARQL (Hypothesis), the corpus in tests/hostile/, path
traversal, header injection, external entities and remote JSON-LD contexts (a loopback listener that must never be
contacted), oversized bodies and markup in written data.

Expected everywhere: a 4xx with a message (or a 200 for a harmless query), never a 5xx or a stack trace, and never a
write (the dataset version is unchanged after every refused write).
"""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copgraph.build.pipeline import build
from copgraph.core.config import Config
from tests.conftest import REPO, running_server

HOSTILE = Path(__file__).parent / "hostile"
TOKEN = "hostile-input-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIMIT = 200_000  # the writable server's max_request_bytes
BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TRACE_MARKERS = ("Traceback", 'File "/', "Werkzeug Debugger", "<title>500")


def assert_handled(response: requests.Response, *, allow_ok: bool = True) -> None:
    """A 4xx with a message (or a 2xx/3xx when the input was harmless); never a 5xx nor a stack trace."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if not allow_ok:
        assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        assert response.text.strip(), "an error without a message"
    assert not any(marker in response.text for marker in TRACE_MARKERS), response.text[:500]


def assert_handled_or_limited(response: requests.Response) -> None:
    """As assert_handled, but a query too costly to finish may also meet the time or memory limit: a 503 that says
    so, with Retry-After (the endpoint's answer to any runaway query), never a crash."""
    if response.status_code == 503:
        assert "Retry-After" in response.headers
        assert "limit" in response.text, response.text[:300]
        return
    assert_handled(response)


def version(url: str) -> str:
    return requests.get(url + "/healthz", timeout=10).json()["version"]


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A maintained server over a copy of the data: a token, and a body limit small enough to reach."""
    root = tmp_path_factory.mktemp("hostile")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config)
    settings_ = {"maintainer_token": TOKEN, "max_request_bytes": str(LIMIT), "query_timeout": "5"}
    with running_server(root, config.store_dir, **settings_) as url:
        yield url


class Listener:
    """A loopback HTTP server that records every request made to it: the server under test must make none."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                listener.requests.append(self.path)
                body = b'{"@context": {"name": "http://ex/fetched"}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.httpd.shutdown()


def corpus(pattern: str) -> list[Path]:
    return sorted(HOSTILE.glob(pattern))


def query(url: str, text: str, **kwargs: object) -> requests.Response:
    return requests.post(url + "/sparql", data={"query": text}, timeout=30, **kwargs)


# --- Random, truncated and pathological SPARQL -------------------------------------------------------------------

SPARQL_WORDS = st.sampled_from(
    ["SELECT", "*", "WHERE", "{", "}", "?s", "?p", "?o", "FILTER", "(", ")", "OPTIONAL", "UNION", "GRAPH", "<",
     ">", "http://ex/a", "\"", "'", ".", ";", ",", "PREFIX", ":", "ex:", "LIMIT", "-1", "999999999999999999999",
     "ORDER BY", "GROUP BY", "COUNT", "REGEX", "\\", "#", "\n", "VALUES", "BIND", "AS", "SERVICE", "DESCRIBE",
     "CONSTRUCT", "ASK", "^^", "@en", "\u202e", "\x00", "\ud7ff", "\ufffd", "𝔘", "a"]
)  # fmt: skip


@BOUNDED
@given(text=st.text(max_size=300))
def test_random_text_as_a_query_is_never_a_server_error(server: str, text: str) -> None:
    assert_handled(query(server, text))


@BOUNDED
@given(words=st.lists(SPARQL_WORDS, max_size=60))
def test_random_sparql_tokens_are_never_a_server_error(server: str, words: list[str]) -> None:
    assert_handled(query(server, " ".join(words)))


@BOUNDED
@given(data=st.data())
def test_truncated_canned_queries_are_never_a_server_error(server: str, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(sorted(p.read_text() for p in (REPO / "queries").glob("*.rq"))))
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    assert_handled(query(server, text[:cut]))


@BOUNDED
@given(body=st.binary(max_size=300))
def test_random_bytes_as_a_query_body_are_never_a_server_error(server: str, body: bytes) -> None:
    response = requests.post(
        server + "/sparql", data=body, headers={"Content-Type": "application/sparql-query"}, timeout=30
    )
    assert_handled(response)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE " + "{" * 5000 + "}" * 5000,
        "SELECT * WHERE " + "{" * 5000,
        "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
        "SELECT * WHERE { " + "OPTIONAL { " * 2000 + "?s ?p ?o" + " }" * 2000 + " }",
        "SELECT * WHERE { ?s ?p ?o " + "UNION { ?s ?p ?o } " * 3000 + "}",
        "ASK { ?s " + "/".join(["<http://ex/p>"] * 5000) + " ?o }",
        "ASK { ?s " + "(" * 3000 + "<http://ex/p>" + ")*" * 3000 + " ?o }",
    ],
    ids=["braces", "unclosed-braces", "parentheses", "optionals", "unions", "long-path", "nested-path"],
)
def test_deeply_nested_queries_are_answered_or_refused(writable: str, text: str) -> None:
    assert_handled_or_limited(query(writable, text))


def test_a_query_with_thousands_of_variables(writable: str) -> None:
    variables = " ".join(f"?v{i}" for i in range(5000))
    assert_handled(query(writable, f"SELECT {variables} WHERE {{ VALUES ({variables}) {{ }} }}"))
    patterns = " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(3000))
    assert_handled_or_limited(query(writable, f"SELECT * WHERE {{ {patterns} }}"))


def test_queries_near_and_over_the_size_limit(writable: str) -> None:
    padding = "#" + "x" * (LIMIT - 2000) + "\n"
    assert query(writable, padding + "ASK {}").status_code == 200
    over = query(writable, padding * 2 + "ASK {}")
    assert over.status_code == 413
    assert "larger than" in over.text


@pytest.mark.parametrize("path", corpus("*.rq"), ids=lambda p: p.name)
def test_hostile_query_corpus(server: str, path: Path) -> None:
    assert_handled(query(server, path.read_text()))


@pytest.mark.parametrize(
    "raw",
    [
        b"ASK { \xed\xa0\x80 }",
        b"ASK { <http://ex/\x00> ?p ?o }",
        b"\xff\xfe",
        'ASK { ?s ?p "\u202e\u200f" }'.encode(),
    ],
    ids=["lone-surrogate", "nul", "bom-garbage", "rtl-marks"],
)
def test_invalid_unicode_in_a_query_body(server: str, raw: bytes) -> None:
    response = requests.post(server + "/sparql", data=raw, headers={"Content-Type": "application/sparql-query"})
    assert_handled(response)


@pytest.mark.parametrize("param", ["%ED%A0%80", "%00", "%E2%80%AE", "%FF", "%C0%AF"])
def test_invalid_unicode_in_query_parameters(server: str, param: str) -> None:
    assert_handled(requests.get(f"{server}/sparql?query=ASK%7B%3Chttp://ex/{param}%3E%20?p%20?o%7D", timeout=10))
    assert_handled(requests.get(f"{server}/search?q={param}", timeout=10))
    assert_handled(requests.get(f"{server}/sparql?query=ASK%7B%7D&default-graph-uri=http://ex/{param}", timeout=10))


# --- Path traversal ----------------------------------------------------------------------------------------------

TRAVERSALS = ["..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..\\..\\etc\\passwd",
              "..%5c..%5cetc%5cpasswd", "passwd%00.ttl", "%00", "....//....//etc/passwd",
              "%252e%252e%252fetc"]  # fmt: skip
PREFIXES = ["/doc/community/", "/id/community/", "/dumps/", "/vendor/yasgui/", "/vendor/cytoscape/", "/static/",
            "/queries/", "/doc/", "/store/"]  # fmt: skip


@pytest.mark.parametrize("prefix", PREFIXES)
def test_path_traversal_reaches_no_file_outside(server: str, prefix: str) -> None:
    for attempt in TRAVERSALS:
        response = requests.get(server + prefix + attempt, timeout=10)
        assert_handled(response)
        assert "root:" not in response.text, f"{prefix}{attempt}"
        assert "[project]" not in response.text, f"{prefix}{attempt}"  # pyproject.toml


# --- Header injection --------------------------------------------------------------------------------------------


def raw_request(url: str, request: bytes) -> bytes:
    """Send bytes as they are (requests refuses CR/LF in headers) and read the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def header_block(answer: bytes) -> bytes:
    return answer.split(b"\r\n\r\n", 1)[0]


@pytest.mark.parametrize(
    "target",
    [
        "/store?graph=http://ex/a%0d%0aSet-Cookie:%20injected=1",
        "/store?graph=http://ex/a%0aX-Injected:%201",
        "/store/a%0d%0aSet-Cookie:%20injected=1",
    ],
)
def test_crlf_in_a_graph_name_never_becomes_a_header(writable: str, target: str) -> None:
    before = version(writable)
    for method in ("PUT", "POST"):
        response = requests.request(
            method, writable + target, data="<http://ex/a> <http://ex/b> <http://ex/c> .",
            headers={"Content-Type": "text/turtle", **AUTH}, timeout=10,
        )  # fmt: skip
        assert_handled(response, allow_ok=False)
        assert "injected" not in str(response.headers).lower()
        assert "x-injected" not in {name.lower() for name in response.headers}
    assert version(writable) == before


def test_crlf_in_the_host_header_never_reaches_location(writable: str) -> None:
    host = writable.removeprefix("http://")
    body = b"<http://ex/a> <http://ex/b> <http://ex/c> ."
    request = (
        f"POST /store HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: text/turtle\r\n"
        "X-Forwarded-Host: evil%0d%0aSet-Cookie:%20injected=1\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    headers = header_block(raw_request(writable, request))
    assert b"Set-Cookie: injected" not in headers
    assert b"evil" not in headers


@pytest.mark.parametrize("path", ["/doc/community/ukfechat%0d%0aX-Injected:%201", "/id/community/x%0d%0aX-Injected:1"])
def test_crlf_in_a_record_path_never_becomes_a_header(server: str, path: str) -> None:
    host = server.removeprefix("http://")
    answer = raw_request(server, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    assert not answer.startswith(b"HTTP/1.1 5")
    assert b"\r\nX-Injected" not in header_block(answer)


# --- Bodies over the limit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/sparql", "application/sparql-query"),
        ("POST", "/sparql", "application/sparql-update"),
        ("POST", "/sparql", "application/x-www-form-urlencoded"),
        ("PUT", "/store?graph=http://ex/big", "text/turtle"),
        ("POST", "/store", "text/turtle"),
    ],
)
def test_bodies_far_over_the_limit_are_413_and_write_nothing(
    writable: str, method: str, path: str, content_type: str
) -> None:
    before = version(writable)
    body = b"<http://ex/a> <http://ex/b> <http://ex/c> .\n" * (50 * LIMIT // 44)  # 50 times the limit
    response = requests.request(
        method, writable + path, data=body, headers={"Content-Type": content_type, **AUTH}, timeout=60
    )
    assert response.status_code == 413, response.text[:300]
    assert "larger than" in response.text
    assert version(writable) == before


# --- Malformed RDF, external entities and remote contexts ---------------------------------------------------------

RDF_TYPES = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".rdf": "application/rdf+xml"}


def rdf_corpus() -> list[Path]:
    return [p for p in corpus("*") if p.suffix in RDF_TYPES and p.name != "markup-community.ttl"]


@pytest.mark.parametrize("path", rdf_corpus(), ids=lambda p: p.name)
def test_malformed_rdf_to_the_graph_store_is_refused_and_writes_nothing(writable: str, path: Path) -> None:
    before = version(writable)
    response = requests.put(
        writable + "/store?graph=http://ex/hostile", data=path.read_bytes(),
        headers={"Content-Type": RDF_TYPES[path.suffix], **AUTH}, timeout=30,
    )  # fmt: skip
    assert_handled(response)
    if response.status_code < 400:  # parsed after all: then nothing secret (nor an entity bomb) may be stored
        stored = requests.get(writable + "/store?graph=http://ex/hostile", timeout=30).text
        assert "root:" not in stored and "aaaaaaaaaa" * 1000 not in stored
    else:
        assert version(writable) == before


@pytest.mark.parametrize("path", rdf_corpus(), ids=lambda p: p.name)
def test_malformed_rdf_to_the_validation_service_is_a_4xx(server: str, path: Path) -> None:
    response = requests.post(
        server + "/validate", data=path.read_bytes(), headers={"Content-Type": RDF_TYPES[path.suffix]}, timeout=30
    )
    if response.status_code == 404:
        pytest.skip("no /validate on this server")
    assert_handled(response)


@pytest.mark.parametrize("template", corpus("*.template"), ids=lambda p: p.name)
def test_external_entities_and_remote_contexts_are_never_fetched(
    writable: str, server: str, listener: Listener, template: Path
) -> None:
    body = template.read_text().replace("{LISTENER}", listener.url).encode()
    content_type = RDF_TYPES[Path(template.stem).suffix]
    before = version(writable)
    put = requests.put(
        writable + "/store?graph=http://ex/ssrf", data=body, headers={"Content-Type": content_type, **AUTH}, timeout=30
    )
    assert_handled(put)
    validated = requests.post(server + "/validate", data=body, headers={"Content-Type": content_type}, timeout=30)
    assert_handled(validated)
    assert listener.requests == [], "the server fetched from the loopback listener"
    if put.status_code >= 400:
        assert version(writable) == before
    else:
        assert "fetched" not in requests.get(writable + "/store?graph=http://ex/ssrf", timeout=30).text


def test_a_service_call_to_loopback_is_refused_and_never_made(server: str, listener: Listener) -> None:
    response = query(server, f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}")
    assert 400 <= response.status_code < 500
    assert listener.requests == []


def test_load_by_a_maintainer_is_refused_and_never_fetched(writable: str, listener: Listener) -> None:
    before = version(writable)
    for update in (
        f"LOAD <{listener.url}/data.ttl>",
        f"LOAD SILENT <{listener.url}/data.ttl> INTO GRAPH <http://ex/l>",
    ):
        response = requests.post(writable + "/sparql", data={"update": update}, headers=AUTH, timeout=30)
        assert response.status_code == 400, response.text
        assert "LOAD is not accepted" in response.text
    assert listener.requests == []
    assert version(writable) == before


# --- Markup in written data --------------------------------------------------------------------------------------

SCRIPT_MARKERS = ("<script>alert", "<img src=x onerror", "<svg onload")


@pytest.fixture(scope="module")
def marked_up(writable: str) -> str:
    put = requests.put(
        writable + "/store?graph=https://w3id.org/copgraph/graph/hostile-markup",
        data=(HOSTILE / "markup-community.ttl").read_bytes(),
        headers={"Content-Type": "text/turtle", **AUTH}, timeout=30,
    )  # fmt: skip
    assert put.status_code in (201, 204), put.text
    return writable


@pytest.mark.parametrize(
    "path",
    ["/doc/community/hostile-markup", "/communities", "/search?q=script", "/search?q=alert", "/map", "/",
     "/search?q=%3Cscript%3Ealert(1)%3C/script%3E"],
)  # fmt: skip
def test_markup_in_data_is_shown_as_text(marked_up: str, path: str) -> None:
    response = requests.get(marked_up + path, headers={"Accept": "text/html"}, timeout=30)
    assert_handled(response)
    for marker in SCRIPT_MARKERS:
        assert marker not in response.text, f"{path} shows {marker!r} as markup"


def test_the_record_page_escapes_the_label(marked_up: str) -> None:
    page = requests.get(marked_up + "/doc/community/hostile-markup", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(" in page.text


def test_the_map_data_carries_markup_as_json_strings(marked_up: str) -> None:
    response = requests.get(marked_up + "/map/network.json", timeout=30)
    assert_handled(response)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
