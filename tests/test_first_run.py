"""The first run most users see: `copgraph serve` with no store builds it, then serves, and a maintainer's writes
complete (issue 14, point 1). Every other server test starts on a store built beforehand, which is a different state:
here the serving command itself builds the store, exactly as `make serve` does on a fresh clone.

Before the fix the build ran in the process that then forked granian's workers; the first write waited forever in
RocksDB for a flush thread that the fork had not copied, holding the write lock, and every request after it timed out.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import requests

from tests.conftest import REPO
from tests.serving import serving

TOKEN = "first-run-maintainer-token-789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/json"}


def test_a_store_built_by_serve_takes_a_write_an_approval_and_a_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    store = tmp_path / "store"
    assert not store.exists()
    settings = {"maintainer_token": TOKEN, "rate_limit_per_minute": "1000"}
    with serving(root, store, tmp_path / "server.log", **settings) as server:
        assert (store / "current").is_symlink()  # built by `serve` itself

        update = "INSERT DATA { GRAPH <https://w3id.org/copgraph/graph/first-run> { <urn:x:a> <urn:x:b> 'c' } }"
        written = requests.post(
            server.url + "/sparql",
            data=update,
            headers=AUTH | {"Content-Type": "application/sparql-update"},
            timeout=30,
        )
        assert written.status_code == 204, written.text

        contributed = requests.post(
            server.url + "/contribute",
            json={"name": "First Run Maths Circle", "themes": ["maths"], "source": "https://example.org/first-run"},
            headers=JSON,
            timeout=30,
        )
        assert contributed.status_code == 201, contributed.text
        receipt = contributed.json()["id"]
        approved = requests.post(
            f"{server.url}/maintain/contributions/{receipt}/approve", json={"reason": "ok"}, headers=AUTH, timeout=30
        )
        assert approved.status_code == 200, approved.text

        page = requests.get(server.url + "/id/community/first-run-maths-circle", timeout=30)
        assert page.status_code == 200 and "First Run Maths Circle" in page.text
        asked = requests.get(
            server.url + "/sparql",
            params={"query": "ASK { GRAPH <https://w3id.org/copgraph/graph/first-run> { <urn:x:a> ?p ?o } }"},
            headers=JSON,
            timeout=30,
        )
        assert asked.json()["boolean"] is True
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
