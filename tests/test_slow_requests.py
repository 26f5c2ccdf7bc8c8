"""Slow requests do not delay cheap ones (issue 14).

Against real servers: queries that run until the query timeout stops them and clients that send their body a byte at
a time, while /healthz and a bounded lookup are probed: every probe is answered (a generous bound, not a timing
target; the figures are in docs/reliability.md). With one thread per worker, 24 such queries once left /healthz
unanswered for 48 s. Requests that may wait beyond the per-worker limit are refused with 503 at once, and cheap ones
still answered. In process: which requests count as ones that may wait, and the shape of a refusal.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import Client

from copgraph.core.config import Config
from copgraph.web.app import create_app
from copgraph.web.http.slow_requests import BUSY, SlowRequests, may_wait
from tests.conftest import REPO, copgraph_command
from tests.serving import serving

# A four-way cross join: runs until the query timeout stops it, holding its thread (and the query process) meanwhile.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LOOKUP = "DESCRIBE <https://w3id.org/copgraph/id/community/ukfechat>"  # a bounded lookup, answered in the worker
QUERY_TIMEOUT = 2  # seconds
PROBE_SECONDS = 8.0
PROBE_BOUND = 10.0  # seconds a probe may take before it counts as unanswered: generous, not a timing target


@contextmanager
def endless_queries(url: str, clients: int) -> Iterator[list[int | str]]:
    """`clients` threads sending ENDLESS one after another (at most 10 each) until the block ends; yields the
    statuses (or errors) they saw."""
    outcomes: list[int | str] = []
    stop = threading.Event()

    def send(client: int) -> None:
        for attempt in range(10):
            if stop.is_set():
                return
            query = f"{ENDLESS} # {client}.{attempt}"  # each its own text: no answer can come from a cache
            try:
                outcomes.append(requests.get(url + "/sparql", params={"query": query}, timeout=120).status_code)
            except requests.RequestException as error:
                outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=send, args=(client,)) for client in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield outcomes
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


@contextmanager
def slow_bodies(url: str, clients: int, every: float = 0.2) -> Iterator[list[bytes]]:
    """`clients` connections that POST a Turtle body to /validate a byte every `every` seconds for as long as the
    block lasts (never finishing it); yields what the server had answered each when the block ended (b"": nothing)."""
    address = urlsplit(url)
    connections = [socket.create_connection((address.hostname, address.port), timeout=10) for _ in range(clients)]
    stop = threading.Event()
    answered: list[bytes] = []

    def trickle() -> None:
        head = b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\nContent-Length: 100000\r\n\r\n"
        for connection in connections:
            connection.sendall(head)
        while not stop.wait(every):
            for connection in connections:
                with suppress(OSError):  # answered and closed: the others go on
                    connection.sendall(b" ")

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        yield answered
    finally:
        stop.set()
        sender.join(10)
        for connection in connections:
            connection.setblocking(False)
            try:
                answered.append(connection.recv(200))
            except BlockingIOError:
                answered.append(b"")
            except OSError as error:
                answered.append(repr(error).encode())
            connection.close()


def probe(url: str, seconds: float) -> dict[str, list[tuple[float, int | str]]]:
    """GET /healthz and the bounded lookup, one after the other, for `seconds`: (latency, status or error) of each."""
    seen: dict[str, list[tuple[float, int | str]]] = {"health": [], "lookup": []}
    deadline = time.monotonic() + seconds
    with requests.Session() as session:
        while time.monotonic() < deadline:
            for kind, path, params in (("health", "/healthz", {}), ("lookup", "/sparql", {"query": LOOKUP})):
                started = time.monotonic()
                try:
                    status: int | str = session.get(url + path, params=params, timeout=PROBE_BOUND).status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                seen[kind].append((time.monotonic() - started, status))
            time.sleep(0.1)
    return seen


def summary(seen: dict[str, list[tuple[float, int | str]]]) -> str:
    return "; ".join(
        f"{kind}: {len(probes)} probes, median {statistics.median(t for t, _ in probes) * 1000:.0f} ms, "
        f"max {max(t for t, _ in probes) * 1000:.0f} ms"
        for kind, probes in seen.items()
    )


def test_slow_queries_and_slow_bodies_do_not_stall_health_or_lookups(built_config: Config, tmp_path: Path) -> None:
    settings = {"query_timeout": str(QUERY_TIMEOUT), "rate_limit_per_minute": "0"}
    with serving(REPO, built_config.store_dir, tmp_path / "server.log", workers=2, **settings) as server:
        with endless_queries(server.url, clients=8) as outcomes, slow_bodies(server.url, clients=4) as answered:
            time.sleep(1)  # every slow request under way: each worker's queue of queries is about four deep
            seen = probe(server.url, PROBE_SECONDS)
        print("\nwhile 8 queries ran to their timeout and 4 bodies trickled in:", summary(seen))

        for kind, probes in seen.items():
            failed = [(round(t, 1), status) for t, status in probes if status != 200]
            assert failed == [], f"{kind} probes not answered within {PROBE_BOUND} s: {failed}"
        assert 503 in outcomes, "the endless queries were stopped by the query timeout: the slow load was real"
        assert answered == [b""] * 4, "the slow bodies were still being sent, unanswered, while the probes ran"
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


def test_requests_that_may_wait_beyond_the_limit_are_refused_at_once_and_cheap_ones_still_answered(
    built_config: Config, tmp_path: Path
) -> None:
    settings = {"threads": "4", "slow_requests": "2"}
    with serving(REPO, built_config.store_dir, tmp_path / "server.log", workers=1, **settings) as server:
        with slow_bodies(server.url, clients=2):
            time.sleep(1)  # both places taken, for as long as the bodies trickle in
            started = time.monotonic()
            refused = requests.get(server.url + "/sparql", params={"query": ENDLESS}, timeout=30)
            refused_in = time.monotonic() - started
            seen = probe(server.url, 2.0)
        answered = requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "1"
    assert "already answering as many slow requests" in refused.text
    assert refused_in < 5, "refused at once, not after waiting for a place"
    for kind, probes in seen.items():
        assert {status for _, status in probes} == {200}, f"{kind}: {probes}"
    assert answered.status_code == 200, "once the slow bodies have gone, their places are free again"


def test_the_slow_request_limit_must_leave_threads_for_cheap_requests(built_config: Config) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env |= {"COPGRAPH_ROOT": str(REPO), "COPGRAPH_STORE": str(built_config.store_dir)}
    env |= {"COPGRAPH_THREADS": "8", "COPGRAPH_SLOW_REQUESTS": "8"}
    result = subprocess.run(copgraph_command("serve"), env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "COPGRAPH_SLOW_REQUESTS must be at least 1 and less than COPGRAPH_THREADS" in result.stderr


@pytest.mark.parametrize(
    ("method", "path", "query_string", "waits"),
    [
        ("GET", "/healthz", "", False),
        ("GET", "/doc/community/ukfechat", "", False),
        ("GET", "/communities", "", False),
        ("GET", "/sparql", "query=" + LOOKUP.replace(" ", "+"), False),
        ("GET", "/sparql", "query=SELECT+*+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D", True),
        ("GET", "/sparql", "query=" + LOOKUP.replace(" ", "+") + "&query=ASK+%7B%7D", True),
        ("GET", "/queries/communities-by-status", "", True),
        ("GET", "/store", "graph=https://w3id.org/copgraph/graph/communities/ukfechat", True),
        ("GET", "/dumps/copgraph.nq.gz", "", True),
        ("POST", "/validate", "", True),
        ("POST", "/sparql", "", True),
        ("PUT", "/store", "default", True),
        ("POST", "/healthz", "", True),
    ],
)
def test_requests_that_may_wait_are_those_with_a_body_queries_and_transfers(
    method: str, path: str, query_string: str, waits: bool
) -> None:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query_string}
    assert may_wait(environ) is waits


def test_a_refusal_is_an_error_in_the_one_shape_and_cheap_requests_pass(built_config: Config) -> None:
    limited = SlowRequests(create_app(built_config), limit=1)
    limited.places.acquire()  # the one place is taken
    client = Client(limited)

    as_json = client.get("/sparql", query_string={"query": ENDLESS}, headers={"Accept": "application/json"})
    assert as_json.status_code == 503 and as_json.headers["Retry-After"] == "1"
    assert as_json.json == {"status": 503, "error": BUSY}
    page = client.post("/validate", data=b"<x:a> <x:b> <x:c> .", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.mimetype == "text/html" and "Try again in a moment" in page.text
    assert client.get("/healthz").status_code == 200
    assert client.get("/sparql", query_string={"query": LOOKUP}).status_code == 200

    limited.places.release()
    answered = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"})
    assert answered.status_code == 200
    assert not limited.places.acquire(blocking=False), "the place is held until the answer is handed over"
    answered.close()  # as the server does once it has sent the body
    assert limited.places.acquire(blocking=False), "then given back"
