"""Soak: a bounded mixed load at concurrency 32 against the production server while a maintainer applies updates
and reviews contributions.

The load is reads (queries, canned queries, records, Graph Store reads, health), validations and contributions
(POST /contribute, good ones and some with markup); the maintainer updates a record every UPDATE_EVERY seconds and
approves or rejects one of the contributions received so far every REVIEW_EVERY updates.

Promised: no 5xx, no dropped connection, every read sees one whole dataset version (the version in its ETag is one
the maintainer produced, and the record it shows has the label written for that version), every contribution is
either received (201 with its receipt) or refused with a 4xx and field errors, and only received ones leave files in
the pending area; every approval is published; server memory does not grow without bound. The figures are printed,
and written as JSON to $COPGRAPH_SOAK_REPORT when set (docs/reliability.md reports a run).

    COPGRAPH_SOAK_SECONDS=120 COPGRAPH_SOAK_REPORT=soak.json .venv/bin/python -m pytest -m slow -s tests/test_soak.py
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.store.reader import Dataset, open_dataset
from tests.conftest import REPO
from tests.serving import Server, serving

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("COPGRAPH_SOAK_SECONDS", "120"))
MAX_REQUESTS = int(os.environ.get("COPGRAPH_SOAK_MAX_REQUESTS", "400000"))
CONCURRENCY = 32
WORKERS = 3
UPDATE_EVERY = 2.0  # seconds between the maintainer's updates
REVIEW_EVERY = 8  # updates between the maintainer's reviews of a contribution (approvals, with a rejection between)
REVIEWED = {"approve": "approved", "reject": "rejected"}
MEMORY_EVERY = 3.0  # seconds between samples of the server's memory
TOKEN = "soak-maintainer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

COMMUNITY = "https://w3id.org/copgraph/id/community/ukfechat"
COMMUNITY_GRAPH = "https://w3id.org/copgraph/graph/communities/ukfechat"
DATASET_GRAPH = "https://w3id.org/copgraph/graph/dataset"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
VERSION = "https://w3id.org/copgraph/def/cop#datasetVersion"
LABEL_AND_VERSION = f"""SELECT ?label ?version WHERE {{
  GRAPH <{DATASET_GRAPH}> {{ ?dataset <{VERSION}> ?version }}
  GRAPH <{COMMUNITY_GRAPH}> {{ <{COMMUNITY}> <{LABEL}> ?label }}
}}"""
LABEL_IN_NTRIPLES = re.compile(rf'^<{re.escape(COMMUNITY)}> <{re.escape(LABEL)}> "((?:[^"\\]|\\.)*)"', re.M)
ETAG_VERSION = re.compile(r'"([0-9a-f]{16})-')
CANNED = ("communities-per-platform", "communities-by-status", "platform-kinds", "communities-per-theme")
CANDIDATE = """@prefix cop: <https://w3id.org/copgraph/def/cop#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/copgraph/id/community/soak-candidate> a cop:CommunityOfPractice ; rdfs:label "Soak candidate" .
"""


def label_for(counter: int) -> str:
    return f"#UKFEchat soak {counter}"


@dataclass
class Contributions:
    """What the load contributed: the receipts received (in order), refusals, and anything that was neither a receipt
    nor a clear refusal. Shared by the client threads and the maintainer."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    received: list[str] = field(default_factory=list)
    refused: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    reviewed: dict[str, str] = field(default_factory=dict)  # receipt id -> "approved" or "rejected"

    def next_name(self) -> str:
        with self.lock:
            self.sent += 1
            return f"Soak Contribution {self.sent}"

    def to_review(self) -> str | None:
        with self.lock:
            waiting = [receipt_id for receipt_id in self.received if receipt_id not in self.reviewed]
            return waiting[0] if waiting else None


@dataclass
class Observation:
    """What one read saw: the version its ETag names, and the community's label where the response shows it."""

    kind: str
    version: str | None
    label: str | None


@dataclass
class Tally:
    """Everything the load saw, shared by the client threads (append and Counter updates under one lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    requests: int = 0

    def claim(self) -> bool:
        """One more request, unless the cap is reached."""
        with self.lock:
            if self.requests >= MAX_REQUESTS:
                return False
            self.requests += 1
            return True


@dataclass
class Maintainer:
    """Applies an update every UPDATE_EVERY seconds, each giving the community a label that names its counter, and
    records which label each dataset version must show."""

    server: Server
    config: Config
    contributions: Contributions
    labels: dict[str, str] = field(default_factory=dict)  # version -> the label it holds
    failures: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        self.labels[open_dataset(self.config).version] = self.current_label()
        counter = 0
        while not stop.wait(UPDATE_EVERY):
            counter += 1
            if counter % REVIEW_EVERY == 0:
                self.review(counter, "reject" if counter % (3 * REVIEW_EVERY) == 0 else "approve")
            update = (
                f"DELETE {{ GRAPH <{COMMUNITY_GRAPH}> {{ <{COMMUNITY}> <{LABEL}> ?old }} }} "
                f'INSERT {{ GRAPH <{COMMUNITY_GRAPH}> {{ <{COMMUNITY}> <{LABEL}> "{label_for(counter)}" }} }} '
                f"WHERE {{ GRAPH <{COMMUNITY_GRAPH}> {{ <{COMMUNITY}> <{LABEL}> ?old }} }}"
            )
            headers = {"Content-Type": "application/sparql-update", **AUTH}
            response = requests.post(self.server.url + "/sparql", data=update.encode(), headers=headers, timeout=120)
            if response.status_code != 204:
                self.failures.append(f"update {counter}: {response.status_code} {response.text[:200]}")
                continue
            # Only this thread writes, so the version now served is the one this update made.
            self.labels[open_dataset(self.config).version] = label_for(counter)

    def review(self, counter: int, action: str) -> None:
        """Approve or reject the oldest contribution not yet reviewed; the version it makes shows the same label."""
        receipt_id = self.contributions.to_review()
        if receipt_id is None:
            return
        url = f"{self.server.url}/maintain/contributions/{receipt_id}/{action}"
        response = requests.post(url, json={"reason": f"soak review {counter}"}, headers=AUTH, timeout=120)
        if response.status_code != 200 or response.json().get("status") != REVIEWED[action]:
            self.failures.append(f"{action} {receipt_id}: {response.status_code} {response.text[:200]}")
            return
        with self.contributions.lock:
            self.contributions.reviewed[receipt_id] = REVIEWED[action]
        dataset = open_dataset(self.config)  # only this thread writes: the version the review made
        self.labels[dataset.version] = self.current_label(dataset)

    def current_label(self, dataset: Dataset | None = None) -> str:
        rows = (dataset or open_dataset(self.config)).query(LABEL_AND_VERSION)
        return next(iter(rows))["label"].value


def _etag_version(response: requests.Response) -> str | None:
    match = ETAG_VERSION.search(response.headers.get("ETag", ""))
    return match[1] if match else None


def read_label_and_version(session: requests.Session, url: str) -> tuple[requests.Response, Observation]:
    response = session.get(
        url + "/sparql", params={"query": LABEL_AND_VERSION}, headers={"Accept": "application/json"}, timeout=120
    )
    label = version = None
    if response.status_code == 200:
        rows = response.json()["results"]["bindings"]
        label, version = rows[0]["label"]["value"], rows[0]["version"]["value"]
        if version != _etag_version(response):
            label = f"(ETag {_etag_version(response)} but data of version {version})"
    return response, Observation("sparql", version, label)


def read_record(session: requests.Session, url: str) -> tuple[requests.Response, Observation]:
    response = session.get(url + "/doc/community/ukfechat", headers={"Accept": "application/n-triples"}, timeout=120)
    match = LABEL_IN_NTRIPLES.search(response.text) if response.status_code == 200 else None
    return response, Observation("record", _etag_version(response), match[1] if match else None)


def read_graph(session: requests.Session, url: str) -> tuple[requests.Response, Observation]:
    """The Graph Store read names no version: its label must be one the maintainer wrote."""
    response = session.get(
        url + "/store", params={"graph": COMMUNITY_GRAPH}, headers={"Accept": "application/n-triples"}, timeout=120
    )
    match = LABEL_IN_NTRIPLES.search(response.text) if response.status_code == 200 else None
    return response, Observation("graph-store", None, match[1] if match else None)


def read_canned(session: requests.Session, url: str) -> tuple[requests.Response, Observation]:
    response = session.get(url + f"/queries/{random.choice(CANNED)}", headers={"Accept": "text/csv"}, timeout=120)
    return response, Observation("canned", _etag_version(response), None)


def read_other_record(session: requests.Session, url: str, slugs: list[str]) -> tuple[requests.Response, Observation]:
    response = session.get(url + f"/doc/community/{random.choice(slugs)}", timeout=120)
    return response, Observation("other-record", _etag_version(response), None)


def validate(session: requests.Session, url: str) -> tuple[requests.Response, Observation]:
    headers = {"Content-Type": "text/turtle", "Accept": "application/json"}
    response = session.post(url + "/validate", data=CANDIDATE.encode(), headers=headers, timeout=120)
    return response, Observation("validate", None, None)


def contribute(
    session: requests.Session, url: str, contributions: Contributions, markup: bool = False
) -> tuple[requests.Response, Observation]:
    """A new community (or, with markup, one whose name holds a script): a receipt, or a 4xx with field errors."""
    name = contributions.next_name()
    body = {"name": f"<script>alert('{name}')</script>" if markup else name, "themes": ["maths", "pedagogy"]}
    body["source"] = "https://example.org/soak/" + name.lower().replace(" ", "-")
    response = session.post(url + "/contribute", json=body, headers={"Accept": "application/json"}, timeout=120)
    with contributions.lock:
        if (
            response.status_code == 201
            and not markup
            and response.headers.get("Location") == response.json().get("receipt")
        ):
            contributions.received.append(response.json()["id"])
        elif 400 <= response.status_code < 500 and markup and response.json().get("errors", {}).get("name"):
            contributions.refused[response.status_code] += 1
        elif response.status_code < 500:  # a 5xx is counted with every other request's
            contributions.problems.append(f"{name} (markup {markup}): {response.status_code} {response.text[:200]}")
    return response, Observation("contribution", None, None)


def health(session: requests.Session, url: str) -> tuple[requests.Response, Observation]:
    response = session.get(url + "/healthz", timeout=120)
    version = response.json().get("version") if response.status_code == 200 else None
    return response, Observation("health", version, None)


def the_mix(
    slugs: list[str], contributions: Contributions
) -> list[tuple[float, Callable[[requests.Session, str], tuple]]]:
    """(weight, request): mostly queries and record fetches, as a public endpoint sees them, and some contributions."""
    return [
        (25, read_label_and_version),
        (15, read_canned),
        (20, read_record),
        (15, lambda session, url: read_other_record(session, url, slugs)),
        (10, read_graph),
        (10, health),
        (4, validate),
        (2, lambda session, url: contribute(session, url, contributions)),
        (1, lambda session, url: contribute(session, url, contributions, markup=True)),
    ]


def client(url: str, tally: Tally, stop: threading.Event, slugs: list[str], contributions: Contributions) -> None:
    mix = the_mix(slugs, contributions)
    weights = [weight for weight, _ in mix]
    with requests.Session() as session:
        while not stop.is_set() and tally.claim():
            read = random.choices([read for _, read in mix], weights)[0]
            started = time.perf_counter()
            try:
                response, observation = read(session, url)
            except requests.RequestException as error:
                with tally.lock:
                    tally.errors.append(f"{type(error).__name__}: {error}")
                continue
            elapsed = time.perf_counter() - started
            with tally.lock:
                tally.statuses[response.status_code] += 1
                tally.kinds[observation.kind] += 1
                tally.latencies.append(elapsed)
                if response.status_code >= 500:
                    tally.errors.append(f"{observation.kind}: {response.status_code} {response.text[:200]}")
                else:
                    tally.observations.append(observation)


def sample_memory(server: Server, stop: threading.Event, samples: list[tuple[float, int]]) -> None:
    started = time.monotonic()
    while True:
        samples.append((round(time.monotonic() - started, 1), server.memory()))
        if stop.wait(MEMORY_EVERY):
            return


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def inconsistencies(observations: list[Observation], labels: dict[str, str]) -> list[str]:
    """Reads that saw a version nobody produced, or a label that is not the one written for their version."""
    problems = []
    produced = set(labels.values())
    for seen in observations:
        if seen.version is not None and seen.version not in labels:
            problems.append(f"{seen.kind}: version {seen.version} was never produced")
        elif seen.version is not None and seen.label is not None and seen.label != labels[seen.version]:
            problems.append(f"{seen.kind}: version {seen.version} shows {seen.label!r}, not {labels[seen.version]!r}")
        elif seen.version is None and seen.label is not None and seen.label not in produced:
            problems.append(f"{seen.kind}: label {seen.label!r} was never written")
        elif seen.kind in ("sparql", "record", "graph-store") and seen.label is None:
            problems.append(f"{seen.kind}: the community's label is missing")
    return problems


@pytest.fixture(scope="module")
def soak_store(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("soak")
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    config = Config.from_env(environ={}, root=root, store=root / "store")
    build(config)
    return config


def test_mixed_load_with_updates_sees_whole_versions_without_errors(soak_store: Config, tmp_path: Path) -> None:
    slugs = sorted(path.stem for path in (REPO / "data" / "communities").glob("*.ttl"))
    settings = {"maintainer_token": TOKEN, "rate_limit_per_minute": "0"}
    tally, memory, stop, contributions = Tally(), [], threading.Event(), Contributions()
    with serving(soak_store.root, soak_store.store_dir, tmp_path / "server.log", workers=WORKERS, **settings) as server:
        maintainer = Maintainer(server, soak_store, contributions)
        background = [
            threading.Thread(target=maintainer.run, args=(stop,)),
            threading.Thread(target=sample_memory, args=(server, stop, memory)),
        ]
        for thread in background:
            thread.start()
        started = time.monotonic()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            clients = [pool.submit(client, server.url, tally, stop, slugs, contributions) for _ in range(CONCURRENCY)]
            stop.wait(SECONDS)
            stop.set()
            for running in clients:
                running.result(timeout=180)
        duration = time.monotonic() - started
        for thread in background:
            thread.join(180)

    report = summarise(tally, memory, maintainer, duration, contributions)
    print("\nsoak:", json.dumps(report, indent=2))
    if os.environ.get("COPGRAPH_SOAK_REPORT"):
        Path(os.environ["COPGRAPH_SOAK_REPORT"]).write_text(json.dumps(report, indent=2))

    assert tally.requests > 0
    assert tally.errors == [], f"{len(tally.errors)} failed requests, e.g. {tally.errors[:5]}"
    assert maintainer.failures == []
    assert len(maintainer.labels) > 1, "the maintainer's updates were applied during the load"
    assert inconsistencies(tally.observations, maintainer.labels) == []
    assert contributions.problems == [], "contributions neither received nor refused with field errors"
    assert contributions.received and sum(contributions.refused.values()) > 0
    assert "approved" in contributions.reviewed.values(), "the maintainer approved contributions during the load"
    receipts = sorted(path.stem for path in soak_store.pending_dir.glob("*.json"))
    assert receipts == sorted(contributions.received), "only received contributions left files in the pending area"
    for receipt_id, status in contributions.reviewed.items():
        stored = json.loads((soak_store.pending_dir / f"{receipt_id}.json").read_text())
        assert stored["status"] == status
        published = open_dataset(soak_store).query(f"ASK {{ <{stored['community']}> ?p ?o }}")
        assert bool(published) == (status == "approved"), f"{stored['community']} {status}"
    third = max(1, len(memory) // 3)
    first, last = statistics.median(m for _, m in memory[:third]), statistics.median(m for _, m in memory[-third:])
    assert last <= 3 * first, f"server memory grew from {first / 2**20:.0f} MiB to {last / 2**20:.0f} MiB"


def summarise(
    tally: Tally, memory: list[tuple[float, int]], maintainer: Maintainer, duration: float, contributions: Contributions
) -> dict:
    seen = Counter(o.version for o in tally.observations if o.version)
    return {
        "seconds": round(duration, 1),
        "concurrency": CONCURRENCY,
        "server_workers": WORKERS,
        "requests": tally.requests,
        "throughput_per_second": round(sum(tally.statuses.values()) / duration, 1),
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
        "by_kind": dict(tally.kinds),
        "failed_requests": len(tally.errors),
        "latency_ms": {
            name: round(1000 * percentile(tally.latencies, fraction), 1)
            for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
        "versions_produced": len(maintainer.labels),
        "contributions": {
            "sent": contributions.sent,
            "received": len(contributions.received),
            "refused": {str(status): count for status, count in contributions.refused.items()},
            "reviewed": dict(Counter(contributions.reviewed.values())),
        },
        "versions_seen": len(seen),
        "memory_mib": [(second, round(rss / 2**20, 1)) for second, rss in memory],
    }
