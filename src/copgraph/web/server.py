"""Running the Flask application: granian's worker processes in production (gunicorn's on request), Flask's debug
server with --dev.

Each worker is its own process with its own read-only handle on the store and its own query and input processes:
pyoxigraph holds the GIL while it evaluates a query, so parallel queries need processes, not threads.

granian is the default because its HTTP layer is Rust: keep-alive connections and request parsing cost a fraction
of gunicorn's pure-Python sync workers, which close every connection. On this project's lookups that doubled the
requests a worker answers (docs/benchmarks.md). `COPGRAPH_SERVER=gunicorn` keeps gunicorn's sync workers.

**No slow request delays a cheap one.** A granian worker serves COPGRAPH_THREADS requests at once, each on a thread
of its own: a request's costly work runs in the worker's query or input process, so its thread mostly waits with the
GIL released (with one thread, 24 concurrent 4.5 s queries left /healthz unanswered for 48 s). Requests that may hold
their thread long (every request with a body, queries, canned queries, Graph Store reads, dumps) take at most
COPGRAPH_SLOW_REQUESTS of those threads; one more is answered 503 with Retry-After at once (web.http.slow_requests),
so the other threads always remain for /healthz, pages, records and bounded lookups.

granian cannot bound the time a client takes to send a body: it hands WSGI a stream that the request's thread reads
on demand, without a timeout, and a body read on another thread once the request is answered stalls the whole worker
until the client stops (granian 2.8, seen here). So a slow body holds one of the slow-request threads for as long as
its client keeps sending; a reverse proxy that buffers bodies (nginx's `client_body_timeout`) bounds it in time.

**The service outlives its workers.** granian respawns a worker that dies, but exits for good when one it respawned
less than 5.5 s earlier dies again ("Worker crash loop detected"): two requests that crash a worker a few seconds apart
would stop the service. A worker killed by a signal (a segfault, the OOM killer) was killed by what it was doing, not
by how it starts, so copgraph always respawns it (`_RespawnTimes`); granian's rule still stops a server whose workers
exit on start-up. A stopping or replaced worker gets GRACEFUL_SECONDS to finish its requests, then is killed, and a
worker over COPGRAPH_WORKER_MAX_RSS_MB of memory is replaced gracefully.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from dataclasses import fields
from typing import Any

from copgraph.core.config import Config

SERVERS = ("granian", "gunicorn")
GRACEFUL_SECONDS = 10  # a stopping or replaced worker finishes its requests within this, then is killed
RSS_SAMPLE_SECONDS = 10  # how often granian compares each worker's memory with COPGRAPH_WORKER_MAX_RSS_MB
# A worker replaced gracefully (over its memory, or on SIGHUP) serves on this long beside its replacement, which takes
# 1-2 s to start: with 0.5 s, requests arriving in between were refused.
HANDOVER_SECONDS = 5
# A worker killed by one of these died of what it was doing (a crash; SIGKILL: the OOM killer), not of starting up.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE, signal.SIGKILL})


def run(config: Config, dev: bool = False) -> None:
    if dev:
        from copgraph.web.app import create_app

        create_app(config).run(host=config.host, port=config.port, debug=True)
        return
    if config.server not in SERVERS:
        raise ValueError(f"COPGRAPH_SERVER must be one of {', '.join(SERVERS)}, not {config.server!r}")
    if config.server == "granian" and not 0 < config.slow_requests < config.threads:
        raise ValueError(
            "COPGRAPH_SLOW_REQUESTS must be at least 1 and less than COPGRAPH_THREADS (the threads left over serve "
            f"/healthz and cheap reads), not {config.slow_requests} of {config.threads}"
        )
    # Workers write their metrics to files here so that /metrics can add up all of them. prometheus_client reads
    # this variable when the metrics are defined, so it is set before copgraph.web is imported.
    metrics_dir = tempfile.mkdtemp(prefix="copgraph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        if config.server == "granian":
            _run_granian(config)
        else:
            _gunicorn_application(config).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_granian(config: Config) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    class Server(Granian):  # granian's server, but a crash never ends it (_RespawnTimes)
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.respawned_wrks = _RespawnTimes(self)

    # granian's workers are new interpreters that build the app from the environment: hand them the whole config.
    for field in fields(Config):
        value = getattr(config, field.name)
        if value is not None:
            os.environ[f"COPGRAPH_{field.name.upper()}"] = str(value)
    Server(
        "copgraph.web.server:granian_application",
        factory=True,
        interface=Interfaces.WSGI,
        address=config.host,
        port=config.port,
        workers=config.workers,
        blocking_threads=config.threads,
        respawn_failed_workers=True,
        respawn_interval=HANDOVER_SECONDS,
        workers_kill_timeout=GRACEFUL_SECONDS,
        workers_max_rss=config.worker_max_rss_mb or None,
        rss_sample_interval=RSS_SAMPLE_SECONDS,
        log_access=False,  # written by granian_application instead, at a fraction of the cost
    ).serve()


class _RespawnTimes(dict):
    """granian's note of when it last respawned each worker (by index), which it reads when a worker dies: a death
    within 5.5 s of the respawn is taken for a crash loop and granian exits. For a worker that a crash signal killed the
    note reads "never", so that worker is respawned however soon it died; one that exited keeps granian's rule. (A
    worker that crashed on every start would be respawned, and logged, until the server is stopped.)"""

    def __init__(self, server: Any):
        super().__init__()
        self.server = server

    def get(self, index: int, default: Any = None) -> Any:
        workers = self.server.wrks
        process = workers[index].inner if index < len(workers) else None
        exitcode = getattr(process, "exitcode", None)  # None: alive, or a thread (granian without the GIL)
        if exitcode is not None and -exitcode in CRASH_SIGNALS:
            return default
        return super().get(index, default)


def granian_application():  # noqa: ANN201 - a WSGI callable
    """What each granian worker serves: the application behind the slow-request limit and the access log (unless that
    is turned off)."""
    # granian installs its worker's signal handlers only once this returns; until then the worker runs the handler it
    # inherited from the master, which only sets a flag of the master's. A worker told to stop while it built the app
    # went on to serve, and the master waited for it forever: until then, a stop signal ends the worker.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    from copgraph.web.app import create_app
    from copgraph.web.http.access_log import AccessLog
    from copgraph.web.http.slow_requests import SlowRequests

    config = Config.from_env()
    application = SlowRequests(create_app(config), config.slow_requests)
    return AccessLog(application) if config.access_log else application


def _gunicorn_application(config: Config):  # noqa: ANN202 - gunicorn is imported only when chosen
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{config.host}:{config.port}",
                "workers": config.workers,
                "accesslog": "-" if config.access_log else None,
                # A worker waits at most the query timeout for its query process; past that something else is wrong.
                "timeout": int(config.query_timeout) + 30,
                "graceful_timeout": GRACEFUL_SECONDS,
                "child_exit": _child_exit,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):  # noqa: ANN202 - gunicorn's hook returns the WSGI app
            from copgraph.web.app import create_app

            return create_app(config)

    return Application()


def _child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
