"""The service outlives its workers, and stops when told to (issue 14), with real `copgraph serve` processes.

granian exits for good when a worker it respawned less than 5.5 s earlier dies again ("Worker crash loop detected"):
two requests that crashed a worker a few seconds apart stopped the whole service. Under systemd (KillMode=control-group)
the master, its workers and their child processes all receive SIGTERM at once; a worker told to stop while it was
still starting went on serving, and the master waited for it forever. A worker over COPGRAPH_WORKER_MAX_RSS_MB is
replaced with no request refused meanwhile (with granian's half-second handover, some were).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import requests

from copgraph.core.config import Config
from tests.conftest import REPO
from tests.serving import Server, alive, descendants, serving

ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CRASH_LOOP_SECONDS = 5.5  # granian's window: a respawned worker dying again within it used to stop the server
STOP_BOUND = 30  # seconds a stopping server may take: GRACEFUL_SECONDS (10) for its workers, and a margin


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"within {seconds} s: {what}")


def serves(server: Server) -> bool:
    try:
        return requests.get(server.url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_worker_crashed_again_soon_after_its_respawn_is_respawned_and_the_service_goes_on(
    built_config: Config, tmp_path: Path
) -> None:
    with serving(REPO, built_config.store_dir, tmp_path / "server.log", workers=2) as server:
        born = {worker: time.monotonic() for worker in server.workers}
        for round, crash in enumerate((signal.SIGSEGV, signal.SIGSEGV, signal.SIGABRT, signal.SIGKILL)):
            victim = max(born, key=born.__getitem__)  # the newest worker: respawned after the previous crash
            wait_for(lambda: serves(server), 30, "the server answered before the next crash")
            os.kill(victim, crash)
            if round > 0:
                assert time.monotonic() - born[victim] < CRASH_LOOP_SECONDS, "died again soon after its respawn"
            replacement = wait_for(
                lambda: [w for w in server.workers if w not in born] if len(server.workers) == 2 else None,  # noqa: B023
                30,
                f"a worker killed by {crash.name} was replaced",
            )
            born |= {worker: time.monotonic() for worker in replacement}
            del born[victim]

        assert server.process.poll() is None, "the server is still running"
        wait_for(lambda: serves(server), 30, "the respawned workers serve")
        assert requests.get(server.url + "/doc/community/ukfechat", timeout=10).status_code == 200


def test_sigterm_to_every_process_at_once_stops_the_server_and_all_its_processes(
    built_config: Config, tmp_path: Path
) -> None:
    with serving(REPO, built_config.store_dir, tmp_path / "server.log", workers=2, query_timeout="20") as server:

        def request(url: str) -> None:
            with suppress(requests.RequestException):  # the server stops under it
                requests.get(url, timeout=60)

        urls = [server.url + f"/sparql?query={ENDLESS}"] + [server.url + "/doc/community/ukfechat"] * 2
        busy = [threading.Thread(target=request, args=(url,)) for url in urls]
        for thread in busy:
            thread.start()
        wait_for(lambda: len(descendants(server.process.pid)) >= 3, 30, "a worker started its query process")
        everyone = [server.process.pid, *descendants(server.process.pid)]
        for pid in everyone:  # as systemd stops a service (KillMode=control-group)
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        server.process.wait(STOP_BOUND)
        wait_for(lambda: not any(alive(pid) for pid in everyone), 10, "every process of the server ended")
        for thread in busy:
            thread.join(60)


def test_a_server_stopped_while_a_worker_is_starting_stops(built_config: Config, tmp_path: Path) -> None:
    with serving(REPO, built_config.store_dir, tmp_path / "server.log", workers=2) as server:
        first = server.workers
        os.kill(first[0], signal.SIGKILL)
        wait_for(lambda: set(server.workers) - set(first), 10, "the replacement worker was started")
        server.process.terminate()  # while the replacement builds its app
        server.process.wait(STOP_BOUND)


def test_a_worker_over_its_memory_bound_is_replaced_while_requests_go_on_being_answered(
    built_config: Config, tmp_path: Path
) -> None:
    settings = {"worker_max_rss_mb": "1"}  # every worker is over it: replaced at every sample (10 s)
    with serving(REPO, built_config.store_dir, tmp_path / "server.log", workers=1, **settings) as server:
        first = server.workers
        failures: list[int | str] = []
        replaced_at, deadline = None, time.monotonic() + 30
        while time.monotonic() < deadline and (replaced_at is None or time.monotonic() < replaced_at + 3):
            try:  # a new connection each time, as a client arriving during the handover would
                status = requests.get(server.url + "/healthz", timeout=10).status_code
                if status != 200:
                    failures.append(status)
            except requests.RequestException as error:
                failures.append(type(error).__name__)
            if replaced_at is None and not set(server.workers) & set(first):
                replaced_at = time.monotonic()
            time.sleep(0.1)
        assert replaced_at is not None, "the worker was replaced"
        assert failures == [], "no request was refused while the new worker took over, nor after"
