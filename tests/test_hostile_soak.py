"""Hostile soak: issue 14's attacks, and other shapes of them, mixed with normal reads against a server started with
the default settings (but rate limits off, as for an attacker with many addresses), while /healthz and a bounded
lookup are probed.

The attacks: input that once crashed a worker (JSON-LD, Turtle, collections and RDF/XML nested 5,000 deep to
/validate; a DESCRIBE of 3,000 IRIs by GET and POST; SPARQL nested 5,000 deep), validations that run out of their
budget (300 presences sharing a handle; a 150,000-item list), queries that run until the query timeout stops them,
clients that send their body a byte at a time, big answers (100,000 rows, uncached) and a dump read slowly.

Promised (asserted): the service never goes down — the server process runs throughout, and /healthz is answered at
least every OUTAGE_BOUND seconds and at the end. The figures (p99 of /healthz and of the lookup, 5xx, worker restarts,
peak memory of each process) are printed, written as JSON to $COPGRAPH_HOSTILE_SOAK_REPORT when set, and reported in
docs/reliability.md; the issue's targets (no worker crash, health p99 within 1 s, no worker above 1 GiB) are not
asserted.

    COPGRAPH_HOSTILE_SOAK_SECONDS=120 COPGRAPH_HOSTILE_SOAK_REPORT=hostile.json \\
        .venv/bin/python -m pytest -m slow -s tests/test_hostile_soak.py
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from copgraph.core.config import Config
from tests.conftest import REPO
from tests.serving import Server, children, descendants, rss_bytes, serving
from tests.test_untrusted_work import deep_jsonld, long_list, many_described, same_handle

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("COPGRAPH_HOSTILE_SOAK_SECONDS", "30"))  # 120 for the figures in docs/reliability.md
MAX_REQUESTS_PER_CLIENT = 20_000  # every loop is bounded in count as well as in time
WORKERS = 2  # the README's default
PROBE_EVERY = 0.2  # seconds between probes of /healthz, and of the lookup
PROBE_TIMEOUT = 60.0
OUTAGE_BOUND = 10.0  # seconds /healthz may go unanswered before the service counts as down
SAMPLE_EVERY = 0.5  # seconds between samples of the processes and their memory
DEPTH = 5000
COMMUNITY = "https://w3id.org/copgraph/id/community/"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
BIG = "SELECT ?a ?c WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 100000"  # 100,000 rows, too big for the result cache
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/copgraph/def/cop#CommunityOfPractice> }"


def nested(open_: str, inner: str, close: str, depth: int = DEPTH) -> bytes:
    return (open_ * depth + inner + close * depth).encode()


def _type(subtype: str, kind: str = "application") -> dict[str, str]:
    return {"Content-Type": f"{kind}/{subtype}"}


RDF_XML = b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:x="http://x/">%s</rdf:RDF>'
# (what, path, body, content type; None: a GET with the body as its query): each a shape of input that once crashed
# a web worker, or would if a parser saw it.
CRASHERS = [
    ("deep JSON-LD", "/validate", deep_jsonld(DEPTH), _type("ld+json")),
    ("deep Turtle", "/validate", b"<x:a> <x:p> " + nested("[ <x:p> ", '"v"', " ]") + b" .", _type("turtle", "text")),
    ("deep collection", "/validate", b"<x:a> <x:p> " + nested("(", "1", ")") + b" .", _type("turtle", "text")),
    (
        "deep RDF/XML",
        "/validate",
        RDF_XML % nested('<rdf:Description><x:p rdf:parseType="Resource">', "", "</x:p></rdf:Description>"),
        _type("rdf+xml"),
    ),
    ("DESCRIBE of 3,000 (GET)", "/sparql", many_described(3000), None),
    ("DESCRIBE of 3,000 (POST)", "/sparql", many_described(3000).encode(), _type("sparql-query")),
    ("deep SPARQL", "/sparql", b"ASK " + nested("{ ", "", " }"), _type("sparql-query")),
]
# Validations that run out of their budget (or are refused by their size).
SLOW_VALIDATIONS = [("300 presences, one handle", same_handle(300)), ("150,000-item list", long_list(150_000))]


@dataclass
class Seen:
    """Every answer the soak got, by kind of request; shared by its threads (updates under one lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ended: bool = False  # answers that come after the soak ended (the server stopping under them) are not counted
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    answered: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # when a 200 came, by kind

    def note(self, kind: str, started: float, outcome: int | str) -> None:
        now = time.monotonic()
        with self.lock:
            if self.ended:
                return
            self.statuses[kind][outcome] += 1
            self.latencies[kind].append(now - started)
            if outcome == 200:
                self.answered[kind].append(now)


def loop(stop: threading.Event, pause: float, act: Callable[[], None]) -> None:
    """act() every `pause` seconds (after the last one ended) until stopped, at most MAX_REQUESTS_PER_CLIENT times."""
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if stop.is_set():
            return
        act()
        stop.wait(pause)


class Load:
    """The soak's clients, one thread each (see `actions`): probes, normal readers and attackers."""

    def __init__(self, url: str, seen: Seen, slugs: list[str]):
        self.url, self.seen, self.slugs = url, seen, slugs

    def actions(self) -> list[tuple[float, Callable[[], None]]]:
        """(pause after each, one action) of each client thread."""
        return [
            (PROBE_EVERY, self.health_probe()),
            (PROBE_EVERY, self.lookup_probe()),
            *[(0.05, self.reader()) for _ in range(2)],
            (0.5, self.querier()),
            (0.5, self.crasher()),
            (0.5, self.slow_validator()),
            *[(0, self.endless_queries()) for _ in range(2)],
            (1.0, self.big_answers()),
            (1.0, self.slow_downloads()),
        ]

    def send(self, kind: str, request: Callable[[], requests.Response]) -> None:
        started = time.monotonic()
        try:
            outcome: int | str = request().status_code
        except requests.RequestException as error:
            outcome = type(error).__name__
        self.seen.note(kind, started, outcome)

    def health_probe(self) -> Callable[[], None]:
        session = requests.Session()
        return lambda: self.send("health", lambda: session.get(self.url + "/healthz", timeout=PROBE_TIMEOUT))

    def lookup_probe(self) -> Callable[[], None]:
        session = requests.Session()

        def probe() -> None:
            query = f"DESCRIBE <{COMMUNITY}{random.choice(self.slugs)}>"
            self.send(
                "lookup", lambda: session.get(self.url + "/sparql", params={"query": query}, timeout=PROBE_TIMEOUT)
            )

        return probe

    def reader(self) -> Callable[[], None]:
        """Pages and records: answered in the worker."""
        session = requests.Session()

        def read() -> None:
            slug = random.choice(self.slugs)
            kind, path, accept = random.choice(
                [
                    ("read: record page", f"/doc/community/{slug}", "text/html"),
                    ("read: record N-Triples", f"/doc/community/{slug}", "application/n-triples"),
                    ("read: dataset page", "/dataset", "text/html"),
                    ("read: communities page", "/communities", "text/html"),
                ]
            )
            self.send(kind, lambda: session.get(self.url + path, headers={"Accept": accept}, timeout=120))

        return read

    def querier(self) -> Callable[[], None]:
        """Queries and canned queries: in the query process, in turn with every other query sent to the same worker."""
        session = requests.Session()

        def query() -> None:
            kind, path, params = random.choice(
                [
                    ("read: canned query", "/queries/communities-by-status", {}),
                    ("read: query", "/sparql", {"query": COUNT + nonce()}),
                ]
            )
            self.send(kind, lambda: session.get(self.url + path, params=params, timeout=120))

        return query

    def crasher(self) -> Callable[[], None]:
        session = requests.Session()

        def crash() -> None:
            what, path, body, headers = random.choice(CRASHERS)
            if headers is None:  # sent as a GET, the body as the query
                request = lambda: session.get(self.url + path, params={"query": body}, timeout=120)  # noqa: E731
            else:
                request = lambda: session.post(self.url + path, data=body, headers=headers, timeout=120)  # noqa: E731
            self.send(f"hostile: {what}", request)

        return crash

    def slow_validator(self) -> Callable[[], None]:
        session = requests.Session()
        headers = _type("turtle", "text")

        def validate() -> None:
            what, body = random.choice(SLOW_VALIDATIONS)
            self.send(
                f"hostile: {what}",
                lambda: session.post(self.url + "/validate", data=body, headers=headers, timeout=120),
            )

        return validate

    def endless_queries(self) -> Callable[[], None]:
        return self.queries("hostile: query to the timeout", ENDLESS)

    def big_answers(self) -> Callable[[], None]:
        return self.queries("hostile: 100,000 rows", BIG)

    def queries(self, kind: str, query: str) -> Callable[[], None]:
        session = requests.Session()
        return lambda: self.send(
            kind, lambda: session.get(self.url + "/sparql", params={"query": query + nonce()}, timeout=120)
        )

    def slow_downloads(self) -> Callable[[], None]:
        session = requests.Session()

        def download() -> requests.Response:
            with session.get(self.url + "/dumps/copgraph.nq.gz", stream=True, timeout=120) as response:
                for _ in response.iter_content(16_384):
                    time.sleep(0.2)
                return response

        return lambda: self.send("hostile: dump read slowly", download)


def nonce() -> str:
    """A comment that gives each query its own text, so that no answer comes from a cache."""
    return f" # {random.random()}"


def slow_bodies(url: str, seen: Seen, stop: threading.Event, connections: int = 2) -> None:
    """Bodies sent a byte every 0.2 s to /validate on `connections` connections, each opened again if closed."""
    address = urlsplit(url)
    head = b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\nContent-Length: 100000\r\n\r\n"
    open_ = [None] * connections
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if stop.wait(0.2):
            break
        for index, connection in enumerate(open_):
            try:
                if connection is None:
                    connection = open_[index] = socket.create_connection((address.hostname, address.port), timeout=5)
                    connection.sendall(head)
                connection.sendall(b" ")
            except OSError:
                seen.note("hostile: slow body", time.monotonic(), "closed")
                open_[index] = None
    for connection in open_:
        if connection is not None:
            connection.close()


@dataclass
class Processes:
    """The server's processes as sampled: every worker seen, and the peak resident memory of each process."""

    workers: set[int] = field(default_factory=set)
    peak_rss: dict[int, int] = field(default_factory=dict)
    role: dict[int, str] = field(default_factory=dict)

    def sample(self, server: Server) -> None:
        master = server.process.pid
        workers = children(master)
        self.workers.update(workers)
        self.role[master] = "master"
        for worker in workers:
            self.role[worker] = "worker"
            for child in descendants(worker):
                self.role.setdefault(child, "query or input process")
        for pid in self.role:
            self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), rss_bytes(pid))


def watch(server: Server, processes: Processes, stop: threading.Event) -> None:
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        processes.sample(server)
        if stop.wait(SAMPLE_EVERY):
            return


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def longest_silence(answered: list[float], started: float, ended: float) -> float:
    """The longest time with no successful answer, from the start to the end of the soak."""
    moments = [started, *sorted(answered), ended]
    return max(later - earlier for earlier, later in zip(moments, moments[1:], strict=False))


def test_the_service_survives_a_hostile_soak_and_answers_health_throughout(
    built_config: Config, tmp_path: Path
) -> None:
    slugs = sorted(path.stem for path in (REPO / "data" / "communities").glob("*.ttl"))
    seen, processes, stop = Seen(), Processes(), threading.Event()
    settings = {"rate_limit_per_minute": "0", "access_log": "false"}
    with serving(REPO, built_config.store_dir, tmp_path / "server.log", workers=WORKERS, **settings) as server:
        processes.sample(server)
        started = time.monotonic()
        load = Load(server.url, seen, slugs)
        threads = [threading.Thread(target=loop, args=(stop, pause, act)) for pause, act in load.actions()]
        threads += [
            threading.Thread(target=slow_bodies, args=(server.url, seen, stop)),
            threading.Thread(target=watch, args=(server, processes, stop)),
        ]
        for thread in threads:
            thread.start()
        stop.wait(SECONDS)
        stop.set()
        ended = time.monotonic()
        with seen.lock:
            seen.ended = True
        running_at_the_end = server.process.poll() is None
        final_health = requests.get(server.url + "/healthz", timeout=30).status_code
    for thread in threads:  # the server has stopped: requests still waiting on it end now
        thread.join(60)

    report = summarise(seen, processes, ended - started)
    print("\nhostile soak:", json.dumps(report, indent=2))
    if os.environ.get("COPGRAPH_HOSTILE_SOAK_REPORT"):
        Path(os.environ["COPGRAPH_HOSTILE_SOAK_REPORT"]).write_text(json.dumps(report, indent=2))

    assert running_at_the_end, "the server process ended during the soak"
    assert final_health == 200
    assert seen.answered["health"], "/healthz was answered"
    silence = longest_silence(seen.answered["health"], started, ended)
    assert silence <= OUTAGE_BOUND, f"/healthz went unanswered for {silence:.1f} s"


def summarise(seen: Seen, processes: Processes, duration: float) -> dict:
    def latency(kind: str) -> dict[str, float]:
        values = seen.latencies[kind]
        return {name: round(1000 * percentile(values, q), 1) for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1))}

    def server_errors(prefix: bool) -> int:
        return sum(
            count
            for kind, statuses in seen.statuses.items()
            if kind.startswith("hostile:") == prefix
            for status, count in statuses.items()
            if isinstance(status, int) and status >= 500
        )

    peaks: dict[str, list[float]] = defaultdict(list)
    for pid, peak in processes.peak_rss.items():
        peaks[processes.role[pid]].append(round(peak / 2**20, 1))
    return {
        "seconds": round(duration, 1),
        "server_workers": WORKERS,
        "health_ms": latency("health"),
        "lookup_ms": latency("lookup"),
        "5xx_of_normal_requests": server_errors(prefix=False),
        "5xx_of_hostile_requests": server_errors(prefix=True),
        "worker_restarts": len(processes.workers) - WORKERS,
        "peak_rss_mib": {role: sorted(values, reverse=True) for role, values in peaks.items()},
        "by_kind": {
            kind: {"statuses": {str(s): n for s, n in sorted(statuses.items(), key=str)}, "latency_ms": latency(kind)}
            for kind, statuses in sorted(seen.statuses.items())
        },
    }
