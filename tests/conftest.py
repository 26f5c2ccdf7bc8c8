"""Shared fixtures: a real store built from the repository, and a real server process on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from copgraph.build.pipeline import build
from copgraph.core.config import Config
from copgraph.store.reader import Dataset, open_dataset

REPO = Path(__file__).resolve().parent.parent
# A community with nothing but its type: invalid (no name, status, governance, theme or source).
NAMELESS_COMMUNITY = (
    "<https://w3id.org/copgraph/id/community/nameless> a <https://w3id.org/copgraph/def/cop#CommunityOfPractice> .\n"
)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def built_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A store built (with validation) from the repository's own ontology, shapes and data."""
    config = Config.from_env(environ={}, root=REPO, store=tmp_path_factory.mktemp("store"))
    build(config)
    return config


@pytest.fixture(scope="session")
def dataset(built_config: Config) -> Dataset:
    return open_dataset(built_config)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):  # a worker still starting may not answer in time
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer within {seconds} s")


def copgraph_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "copgraph", *args]


@contextmanager
def running_server(root: Path, store: Path, workers: int = 2, **settings: str) -> Iterator[str]:
    """`copgraph serve` (gunicorn) on a free loopback port with COPGRAPH_<NAME> settings; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env |= {"COPGRAPH_ROOT": str(root), "COPGRAPH_STORE": str(store)}
    env |= {f"COPGRAPH_{name.upper()}": value for name, value in settings.items()}
    command = copgraph_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + "/healthz", process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def server(built_config: Config) -> Iterator[str]:
    """The read-only public server over the repository's data (no maintainer token)."""
    with running_server(REPO, built_config.store_dir) as url:
        yield url


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    """A copy of the repository's ontology, shapes, data and queries that a test may change."""
    root = tmp_path / "root"
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    return root
