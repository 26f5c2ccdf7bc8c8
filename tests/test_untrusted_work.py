"""No untrusted work in a web worker (issue 14): what once crashed a worker or held it for a minute is refused by its
shape before any parser sees it, or runs in the worker's query or input process under a budget and fails there alone.

Against real servers: each hostile request gets the status that fits, in bounded time, while /healthz answers every
probe and no worker process dies (the worker pids are the same after). A second server with a tiny stack budget and
the shape limits lifted shows that a crash of the sandbox process is reported as a crash, not as a memory limit. The
sandbox itself (core.sandbox) is also tested directly: each way a job can end, and the process replaced after it.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from copgraph.core.config import Config
from copgraph.core.rdf_io import nesting_depth, untrusted_input_problem
from copgraph.core.sandbox import Budget, Crashed, OutOfMemory, OutOfTime, Sandbox, Workspace, how_it_ended
from copgraph.query.guards import described_count
from copgraph.query.lookups import is_bounded_lookup
from tests.conftest import REPO
from tests.serving import Server, serving

TOKEN = "untrusted-work-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INPUT_TIMEOUT = 3  # seconds: short, so that the budget test is quick
UKFECHAT = "https://w3id.org/copgraph/id/community/ukfechat"
VALID = sorted((REPO / "tests" / "valid").glob("*.ttl"))[0]  # a valid contribution


# --- The hostile inputs of issue 14 --------------------------------------------------------------------------------


def deep_jsonld(depth: int = 5000) -> bytes:
    """JSON-LD nested `depth` deep (~165 KB at 5,000): segfaulted a web worker in pyoxigraph's parser."""
    return ('{"@id": "http://x/a", "http://x/p": ' * depth + '"v"' + "}" * depth).encode()


def many_described(count: int = 3000) -> str:
    """A DESCRIBE of `count` IRIs: once taken for a bounded lookup, it segfaulted the worker it ran in."""
    return "DESCRIBE " + " ".join(f"<x:{i}>" for i in range(count))


def same_handle(presences: int = 300) -> bytes:
    """Presences of different communities sharing one handle (~23 KB at 300): the unique-handle rule compares every
    pair, 46 s and 1 GB in the web worker."""
    lines = [
        "@prefix cop: <https://w3id.org/copgraph/def/cop#> .",
        "@prefix c: <https://w3id.org/copgraph/id/community/> .",
        "@prefix p: <https://w3id.org/copgraph/id/presence/> .",
    ]
    lines += [
        f'c:same{i} cop:hasPresence p:same{i} . p:same{i} cop:handle "@same" ; '
        "cop:onPlatform <https://w3id.org/copgraph/id/platform/twitter> ."
        for i in range(presences)
    ]
    return "\n".join(lines).encode()


def long_list(items: int = 150_000) -> bytes:
    """An rdf:List of `items` items (300 KB at 150,000): 14 s of validation."""
    return f"<{UKFECHAT}> <http://x/p> (".encode() + b" 1" * items + b" ) ."


# --- Servers ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(built_config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's store: the servers here are given a maintainer token."""
    copy = tmp_path_factory.mktemp("untrusted") / "store"
    shutil.copytree(built_config.store_dir, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def server(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Default budgets and limits, but for a short input time limit."""
    log = tmp_path_factory.mktemp("untrusted-log") / "server.log"
    settings = {"maintainer_token": TOKEN, "rate_limit_per_minute": "0", "input_timeout": str(INPUT_TIMEOUT)}
    with serving(REPO, store, log, workers=2, **settings) as running:
        yield running


@contextmanager
def watched(server: Server) -> Iterator[None]:
    """Around hostile requests: /healthz answers every probe meanwhile, and afterwards the same workers serve."""
    workers = server.workers
    failures: list[str] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            try:
                response = requests.get(server.url + "/healthz", timeout=15)
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
            except requests.RequestException as error:
                failures.append(repr(error))
            stop.wait(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        yield
    finally:
        stop.set()
        prober.join()
    assert failures == [], "/healthz failed while hostile requests were served"
    assert server.workers == workers, "a worker process died"
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


def timed(send: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = send()
    return response, time.monotonic() - started


def assert_refused(response: requests.Response, status: int, *words: str) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text[:300]}"
    assert "Traceback" not in response.text and len(response.text) < 1000
    for word in words:
        assert word in response.text, response.text


# --- Refused by shape, before any parser ---------------------------------------------------------------------------


def test_deeply_nested_jsonld_to_validate_is_a_400(server: Server) -> None:
    with watched(server):
        for _ in range(5):  # once killed a worker each time
            response, seconds = timed(
                lambda: requests.post(
                    server.url + "/validate",
                    data=deep_jsonld(),
                    headers={"Content-Type": "application/ld+json"},
                    timeout=30,
                )
            )
            assert_refused(response, 400, "nests brackets more than 256 deep", "Flatten it")
            assert seconds < 5


def test_deeply_nested_jsonld_to_the_graph_store_is_a_400(server: Server) -> None:
    with watched(server):
        for method in (requests.put, requests.post):
            response = method(
                server.url + "/store?graph=http://example.org/deep",
                data=deep_jsonld(),
                headers={"Content-Type": "application/ld+json", **AUTH},
                timeout=30,
            )
            assert_refused(response, 400, "nests brackets more than 256 deep")
    assert requests.get(server.url + "/store?graph=http://example.org/deep", timeout=10).status_code == 404


def test_deeply_nested_turtle_upload_is_a_400(server: Server) -> None:
    body = ("<http://x/a> <http://x/p> " + "[ <http://x/p> " * 3000 + '"v"' + " ]" * 3000 + " .").encode()
    with watched(server):
        response = requests.post(
            server.url + "/validate", files={"file": ("deep.ttl", body, "text/turtle")}, timeout=30
        )
        assert_refused(response, 400, "deep.ttl", "nests brackets")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_describe_of_3000_iris_is_a_400(server: Server, method: str) -> None:
    with watched(server):
        query = {"query": many_described()}
        if method == "GET":
            response, seconds = timed(lambda: requests.get(server.url + "/sparql", params=query, timeout=30))
        else:
            response, seconds = timed(lambda: requests.post(server.url + "/sparql", data=query, timeout=30))
        assert_refused(response, 400, "describes 3000 resources", "at most 100")
        assert seconds < 5


def test_a_150k_item_list_to_validate_is_a_413(server: Server) -> None:
    with watched(server):
        response, seconds = timed(
            lambda: requests.post(
                server.url + "/validate", data=long_list(), headers={"Content-Type": "text/turtle"}, timeout=30
            )
        )
        assert_refused(response, 413, "more than 1000 items")
        assert seconds < 5


def test_more_triples_than_one_validation_checks_is_a_413(server: Server) -> None:
    body = "".join(f'<http://x/s{i}> <http://x/p> "{i}" .\n' for i in range(10_001)).encode()
    with watched(server):
        response = requests.post(
            server.url + "/validate", data=body, headers={"Content-Type": "application/n-triples"}, timeout=30
        )
        assert_refused(response, 413, "more than 10000 triples")


# --- Out of budget, in the input process ---------------------------------------------------------------------------


def test_a_validation_out_of_time_is_a_503_and_the_worker_serves_on(server: Server) -> None:
    with watched(server):
        response, seconds = timed(
            lambda: requests.post(
                server.url + "/validate",
                data=same_handle(),
                headers={"Content-Type": "text/turtle", "Accept": "application/json"},
                timeout=60,
            )
        )
        assert_refused(response, 503, f"the {INPUT_TIMEOUT} s limit", "stopped")
        assert response.headers["Retry-After"]
        assert seconds < INPUT_TIMEOUT + 5
    valid = VALID.read_bytes()
    after = requests.post(server.url + "/validate", data=valid, headers={"Content-Type": "text/turtle"}, timeout=60)
    assert after.status_code == 200 and after.json()["conforms"], after.text


def test_a_valid_upload_is_still_validated_and_written(server: Server) -> None:
    """The ordinary cases, through the input process: a report, a Turtle report, a Graph Store write."""
    invalid = (REPO / "tests" / "invalid" / "community-label-mincount.ttl").read_bytes()
    as_turtle = requests.post(
        server.url + "/validate",
        data=invalid,
        headers={"Content-Type": "text/turtle", "Accept": "text/turtle"},
        timeout=60,
    )
    assert as_turtle.status_code == 200 and "sh:conforms false" in as_turtle.text, as_turtle.text
    written = requests.put(
        server.url + "/store?graph=http://example.org/small",
        data=b'{"@id": "http://x/a", "http://x/p": [{"@id": "http://x/b", "http://x/q": "deep enough"}]}',
        headers={"Content-Type": "application/ld+json", **AUTH},
        timeout=60,
    )
    assert written.status_code == 201, written.text
    read = requests.get(
        server.url + "/store?graph=http://example.org/small", headers={"Accept": "application/n-triples"}, timeout=10
    )
    assert '<http://x/b> <http://x/q> "deep enough" .' in read.text


# --- A crash is a crash --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fragile(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A 1 MiB stack and the shape limits lifted: deep input reaches the parser and overflows the sandbox's stack."""
    log = tmp_path_factory.mktemp("fragile-log") / "server.log"
    settings = {"stack_mb": "1", "max_nesting": "1000000", "max_described": "1000000", "rate_limit_per_minute": "0"}
    with serving(REPO, store, log, workers=2, **settings) as running:
        yield running


def test_a_crashed_input_process_is_reported_as_a_crash(fragile: Server) -> None:
    with watched(fragile):
        response = requests.post(
            fragile.url + "/validate",
            data=deep_jsonld(),
            headers={"Content-Type": "application/ld+json", "Accept": "application/json"},
            timeout=60,
        )
        assert_refused(response, 500, "crashed (SIGSEGV)", "the service itself is unaffected")
        assert "memory" not in response.text
    valid = VALID.read_bytes()
    after = requests.post(fragile.url + "/validate", data=valid, headers={"Content-Type": "text/turtle"}, timeout=60)
    assert after.status_code == 200, after.text


def test_a_crashed_query_process_is_reported_as_a_crash_not_as_memory(fragile: Server) -> None:
    with watched(fragile):
        response = requests.post(fragile.url + "/sparql", data={"query": many_described()}, timeout=60)
        assert_refused(response, 500, "query process crashed (SIGSEGV)")
        assert "memory" not in response.text
    count = requests.post(fragile.url + "/sparql", data={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    assert count.status_code == 200


# --- The sandbox, directly ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Echo:
    def run(self, workspace: Workspace, data: bytes) -> tuple[int, bytes]:
        return os.getpid(), data[::-1]


@dataclass(frozen=True)
class Sleep:
    seconds: float

    def run(self, workspace: Workspace, data: bytes) -> tuple[None, bytes]:
        time.sleep(self.seconds)
        return None, b""


@dataclass(frozen=True)
class Die:
    signal: int

    def run(self, workspace: Workspace, data: bytes) -> tuple[None, bytes]:
        os.kill(os.getpid(), self.signal)
        time.sleep(10)
        return None, b""


@dataclass(frozen=True)
class Hoard:
    def run(self, workspace: Workspace, data: bytes) -> tuple[None, bytes]:
        kept = [bytearray(2**20) for _ in range(4096)]  # 4 GiB, past any budget here
        return None, bytes(len(kept))


@dataclass(frozen=True)
class Refuse:
    def run(self, workspace: Workspace, data: bytes) -> tuple[None, bytes]:
        raise SyntaxError("refused", (None, 3, 7, None))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox("copgraph-test", Budget(seconds=2, memory_bytes=512 * 2**20), preload=(__name__,))
    yield box
    box.close()


def test_a_job_answers_with_raw_bytes_from_another_process(sandbox: Sandbox) -> None:
    pid, answer = sandbox.run(Echo(), b"abc")
    assert pid != os.getpid() and answer == b"cba"


def test_each_way_a_job_ends_has_its_own_error_and_the_next_job_gets_a_new_process(sandbox: Sandbox) -> None:
    first, _ = sandbox.run(Echo())
    with pytest.raises(OutOfTime):
        sandbox.run(Sleep(30))
    with pytest.raises(Crashed, match="SIGSEGV"):
        sandbox.run(Die(signal.SIGSEGV))
    with pytest.raises(OutOfMemory):
        sandbox.run(Hoard())
    with pytest.raises(SyntaxError) as raised:
        sandbox.run(Refuse())
    assert (raised.value.lineno, raised.value.offset) == (3, 7)
    last, _ = sandbox.run(Echo())
    assert last != first


def test_exit_signals_are_told_apart() -> None:
    assert isinstance(how_it_ended(-signal.SIGSEGV), Crashed)
    assert isinstance(how_it_ended(-signal.SIGBUS), Crashed)
    assert isinstance(how_it_ended(1), Crashed)
    assert isinstance(how_it_ended(-signal.SIGKILL), OutOfMemory)  # the kernel's OOM killer
    assert isinstance(how_it_ended(-signal.SIGABRT), OutOfMemory)  # Rust's answer to a failed allocation


# --- The shape checks, directly -------------------------------------------------------------------------------------

T, J, X, NT = ox.RdfFormat.TURTLE, ox.RdfFormat.JSON_LD, ox.RdfFormat.RDF_XML, ox.RdfFormat.N_TRIPLES


@pytest.mark.parametrize(
    ("text", "rdf_format", "depth"),
    [
        ('<http://x/a> <http://x/p> [ <http://x/q> ( "((([[[" <http://x/[> ) ] . # [[[[', T, 2),
        ("@prefix ex: <http://x/> . ex:a\\# [ ex:p [ ex:q 1 ] ] . ", T, 2),  # an escape starts no comment
        ('<< <http://x/a> <http://x/p> << <http://x/b> <http://x/p> "c" >> >> <http://x/q> "d" .', T, 2),
        ('"""a ]]] [[[ "quoted" """', T, 0),
        ('{"a": "[[[{{{\\"", "b": [{"c": [1]}]}', J, 4),
        ('<r:RDF><r:D r:about="a>b"><e:p/><e:q><r:D/></e:q></r:D><!-- <a><b><c> --></r:RDF>', X, 3),
        ("] ] [ [ [", T, 0),  # the parser stops at the first unmatched bracket, and so does the count
    ],
)
def test_nesting_is_counted_outside_strings_iris_and_comments(text: str, rdf_format: ox.RdfFormat, depth: int) -> None:
    assert nesting_depth(text.encode(), rdf_format) == depth


def test_the_nesting_limit_is_a_message_a_person_can_act_on() -> None:
    assert untrusted_input_problem(deep_jsonld(300), J, max_nesting=256) is not None
    assert untrusted_input_problem(deep_jsonld(200), J, max_nesting=256) is None
    deep_xml = b"<r:RDF>" + b"<e:p><r:D>" * 200 + b"</r:D></e:p>" * 200 + b"</r:RDF>"
    assert "nests elements more than 256 deep" in (untrusted_input_problem(deep_xml, X) or "")
    flat = b"<http://x/a> <http://x/p> [ <http://x/q> 1 ] .\n" * 20_000  # many brackets, none deep
    assert untrusted_input_problem(flat, T) is None


def test_a_lookup_is_bounded_by_its_size_too() -> None:
    assert is_bounded_lookup(f"DESCRIBE <{UKFECHAT}> <x:b>")
    assert not is_bounded_lookup(many_described(17))
    assert not is_bounded_lookup(many_described(3000))
    assert not is_bounded_lookup(f"SELECT ?o WHERE {{ <{UKFECHAT}{'x' * 3000}> ?p ?o }}")
    assert described_count(many_described(3000)) == 3000
    assert described_count('PREFIX ex: <x:> DESCRIBE ex:a ?b <x:c> WHERE { ?b ?p "DESCRIBE <x:d>" }') == 3
    assert described_count("SELECT * WHERE { ?s ?p ?o }") == 0
