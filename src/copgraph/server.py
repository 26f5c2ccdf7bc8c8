"""Running the Flask application: gunicorn's pre-fork workers in production, Flask's debug server with --dev.

Each gunicorn worker is its own process with its own read-only handle on the store: pyoxigraph holds the GIL
while it evaluates a query, so parallel queries need processes, not threads.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from copgraph.config import Config
from copgraph.web import create_app


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config):
        self.copgraph_config = config
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": f"{self.copgraph_config.host}:{self.copgraph_config.port}",
            "workers": self.copgraph_config.workers,
            "accesslog": "-",
            "timeout": 120,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):  # noqa: ANN201 - gunicorn's hook returns the WSGI app
        return create_app(self.copgraph_config)


def run(config: Config, dev: bool = False) -> None:
    if dev:
        create_app(config).run(host=config.host, port=config.port, debug=True)
    else:
        _Gunicorn(config).run()
