"""Running the Flask application: granian's worker processes in production (gunicorn's on request), Flask's debug
server with --dev.

Each worker is its own process with its own read-only handle on the store and its own query process: pyoxigraph
holds the GIL while it evaluates a query, so parallel queries need processes, not threads.

granian is the default because its HTTP layer is Rust: keep-alive connections and request parsing cost a fraction
of gunicorn's pure-Python sync workers, which close every connection. On this project's lookups that doubled the
requests a worker answers (docs/benchmarks.md). `COPGRAPH_SERVER=gunicorn` keeps gunicorn's sync workers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import fields

from copgraph.core.config import Config

SERVERS = ("granian", "gunicorn")


def run(config: Config, dev: bool = False) -> None:
    if dev:
        from copgraph.web.app import create_app

        create_app(config).run(host=config.host, port=config.port, debug=True)
        return
    if config.server not in SERVERS:
        raise ValueError(f"COPGRAPH_SERVER must be one of {', '.join(SERVERS)}, not {config.server!r}")
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

    # granian's workers are new interpreters that build the app from the environment: hand them the whole config.
    for field in fields(Config):
        value = getattr(config, field.name)
        if value is not None:
            os.environ[f"COPGRAPH_{field.name.upper()}"] = str(value)
    Granian(
        "copgraph.web.server:granian_application",
        factory=True,
        interface=Interfaces.WSGI,
        address=config.host,
        port=config.port,
        workers=config.workers,
        # One request at a time per worker, as each worker has one query process; the Rust side queues the rest.
        blocking_threads=1,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        log_access=False,  # written by granian_application instead, at a fraction of the cost
    ).serve()


def granian_application():  # noqa: ANN201 - a WSGI callable
    """What each granian worker serves: the application, behind the access log unless it is turned off."""
    from copgraph.web.app import create_app
    from copgraph.web.http.access_log import AccessLog

    config = Config.from_env()
    application = create_app(config)
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
                "graceful_timeout": 10,
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
