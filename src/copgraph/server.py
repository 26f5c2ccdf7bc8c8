"""Running the Flask application: gunicorn's pre-fork workers in production, Flask's debug server with --dev.

Each gunicorn worker is its own process with its own read-only handle on the store and its own query process:
pyoxigraph holds the GIL while it evaluates a query, so parallel queries need processes, not threads.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from gunicorn.app.base import BaseApplication

from copgraph.config import Config


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config):
        self.copgraph_config = config
        super().__init__()

    def load_config(self) -> None:
        config = self.copgraph_config
        settings = {
            "bind": f"{config.host}:{config.port}",
            "workers": config.workers,
            "accesslog": "-",
            # A worker waits at most the query timeout for its query process; past that something else is wrong.
            "timeout": int(config.query_timeout) + 30,
            "graceful_timeout": 10,
            "child_exit": _child_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN201 - gunicorn's hook returns the WSGI app
        from copgraph.web import create_app

        return create_app(self.copgraph_config)


def _child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run(config: Config, dev: bool = False) -> None:
    if dev:
        from copgraph.web import create_app

        create_app(config).run(host=config.host, port=config.port, debug=True)
        return
    # Workers write their metrics to files here so that /metrics can add up all of them. prometheus_client reads
    # this variable when the metrics are defined, so it is set before copgraph.web is imported.
    metrics_dir = tempfile.mkdtemp(prefix="copgraph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _Gunicorn(config).run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
