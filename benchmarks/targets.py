"""The servers a benchmark compares, started and stopped for it, and the build/load steps before them.

Every server binds a free port on 127.0.0.1 only, runs in its own process group (its own session), is polled until
it answers, and is torn down on leaving its context manager, whatever happened: SIGTERM to the group, then SIGKILL
to the group and to every process of its tree that is still alive.

- ``copgraph_server``: the production server (``copgraph serve``: granian or gunicorn, N workers, each with its query
  process),
  with its caches on (``cached=True``) or off (``COPGRAPH_RESULT_CACHE_BYTES=0`` and ``COPGRAPH_MODEL_CACHE_BYTES=0``:
  a cache of 0 bytes keeps nothing, so every query is evaluated and every record rendered).
- ``oxigraph_server``: ``oxigraph serve-read-only --union-default-graph`` on copgraph's own store generation, so both
  answer the same queries over the same data (copgraph's default graph is the union of its named graphs).
- ``rdflib_server``: rdflib-endpoint (FastAPI + uvicorn) over an rdflib ``Dataset(default_union=True)`` loaded with
  the same files, one named graph per file as copgraph does; only where it loads within a time and memory bound,
  otherwise ``TargetSkipped`` with the reason.

``build_copgraph_store`` and ``oxigraph_load`` time the two ways of making a store from the same files.

``python -m benchmarks.targets rdflib-serve --root R --port P`` is the rdflib-endpoint process itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
COPGRAPH = VENV_BIN / "copgraph"
OXIGRAPH = VENV_BIN / "oxigraph"


class TargetFailed(RuntimeError):
    """A server did not start, or a build/load failed: the message holds the end of its log."""


class TargetSkipped(Exception):
    """A target deliberately not run at this size (e.g. rdflib-endpoint over its bound); str() is the reason."""


@dataclass
class Target:
    """A running server: where it answers and the process (group leader) to measure and stop."""

    name: str  # e.g. "copgraph", "copgraph-cached", "oxigraph", "rdflib-endpoint"
    kind: str  # "copgraph", "oxigraph" or "rdflib": how requests are written for it (benchmarks.mixes)
    base_url: str
    process: subprocess.Popen
    log: Path
    started_seconds: float = 0.0  # from spawn to first good answer
    info: dict = field(default_factory=dict)

    def memory(self) -> dict:
        return tree_memory(self.process.pid)

    def alive(self) -> bool:
        return self.process.poll() is None


# --- Processes ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any COPGRAPH_* setting (a developer's shell must not leak into a run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def spawn(command: list[str], log: Path, env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
    """Start a command in its own session (so its own process group), stdout and stderr to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        handle.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(command)}\n".encode())
        return subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the process group, wait, then SIGKILL to the group and to any process of the tree still alive
    (a process that left the group, e.g. by its own setsid)."""
    try:
        tree = [process.pid] + [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
    except psutil.Error:
        tree = [process.pid]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(process: subprocess.Popen, url: str, log: Path, timeout: float, accept: str = "*/*") -> float:
    """Poll `url` until it answers 200; returns the seconds it took. TargetFailed if the process exits or time runs
    out (the caller stops the process)."""
    start = time.monotonic()
    delay = 0.05
    while True:
        if process.poll() is not None:
            raise TargetFailed(f"exited with status {process.returncode} before answering {url}:\n{log_tail(log)}")
        try:
            response = requests.get(url, headers={"Accept": accept}, timeout=5)
            if response.status_code == 200:
                return time.monotonic() - start
        except requests.RequestException:
            pass
        if time.monotonic() - start > timeout:
            raise TargetFailed(f"no answer from {url} within {timeout:.0f} s:\n{log_tail(log)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def tree_memory(pid: int) -> dict:
    """Resident memory of a process and all its descendants: RSS (counts shared pages once per process) and PSS
    (shares them out, so it adds up), in bytes, with each process's share."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {"rss_bytes": 0, "pss_bytes": 0, "processes": []}
    rows = []
    for process in processes:
        try:
            with process.oneshot():
                info = process.memory_full_info()
                command = " ".join(process.cmdline())
                rows.append(
                    {
                        "pid": process.pid,
                        "ppid": process.ppid(),
                        "name": process.name(),
                        "role": _role(command),
                        "rss_bytes": info.rss,
                        "pss_bytes": getattr(info, "pss", info.rss),
                    }
                )
        except psutil.Error:
            continue
    return {
        "rss_bytes": sum(r["rss_bytes"] for r in rows),
        "pss_bytes": sum(r["pss_bytes"] for r in rows),
        "processes": rows,
    }


def _role(command: str) -> str:
    if "multiprocessing.resource_tracker" in command:
        return "resource-tracker"
    if "multiprocessing.spawn" in command or "spawn_main" in command:
        return "spawned"
    return command.split(" ")[0].rsplit("/", 1)[-1][:40]


def per_worker_memory(memory: dict) -> dict:
    """For a copgraph tree (gunicorn or granian): the master, and each worker (a child of the master other than
    multiprocessing's resource tracker) with all its descendants (its query process), in bytes."""
    rows = memory.get("processes", [])
    if not rows:
        return {}
    master = rows[0]
    children: dict[int, list[dict]] = {}
    for row in rows:
        children.setdefault(row["ppid"], []).append(row)

    def subtree(row: dict) -> list[dict]:
        found = [row]
        for child in children.get(row["pid"], []):
            found.extend(subtree(child))
        return found

    workers = [row for row in children.get(master["pid"], []) if row["role"] != "resource-tracker"]
    per = []
    for worker in workers:
        tree = subtree(worker)
        per.append(
            {
                "pid": worker["pid"],
                "processes": len(tree),
                "rss_bytes": sum(r["rss_bytes"] for r in tree),
                "pss_bytes": sum(r["pss_bytes"] for r in tree),
            }
        )
    count = max(len(per), 1)
    return {
        "master_rss_bytes": master["rss_bytes"],
        "master_pss_bytes": master["pss_bytes"],
        "workers": per,
        "mean_worker_rss_bytes": sum(w["rss_bytes"] for w in per) // count,
        "mean_worker_pss_bytes": sum(w["pss_bytes"] for w in per) // count,
    }


def tree_cpu_seconds(pid: int) -> float:
    total = 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def wait_idle(pid: int, *, busy_fraction: float = 0.05, window: float = 0.5, timeout: float = 120) -> float:
    """Wait until a process tree uses less than `busy_fraction` of one core over `window` seconds (a server still
    evaluating queries that its client gave up on must not steal the CPU from the next measurement). Returns the
    seconds waited; gives up after `timeout` (the caller decides what a busy server means)."""
    start = time.monotonic()
    before = tree_cpu_seconds(pid)
    while time.monotonic() - start < timeout:
        time.sleep(window)
        after = tree_cpu_seconds(pid)
        if after - before < busy_fraction * window:
            return time.monotonic() - start
        before = after
    return time.monotonic() - start


def disk_usage(path: Path) -> dict:
    """Bytes under a directory (symlinks resolved at the top only): apparent size and allocated blocks."""
    path = Path(path).resolve()
    apparent = allocated = files = 0
    for folder, _dirs, names in os.walk(path):
        for name in names:
            try:
                stat = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            apparent += stat.st_size
            allocated += stat.st_blocks * 512
            files += 1
    return {"path": str(path), "bytes": apparent, "allocated_bytes": allocated, "files": files}


# --- Building and loading ------------------------------------------------------------------------------------------


def run_timed(command: list[str], log: Path, timeout: float, what: str) -> float:
    """Run a command to its end (output to `log`), stopped after `timeout` seconds; its wall-clock seconds."""
    start = time.monotonic()
    process = spawn(command, log, clean_environment())
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise TargetFailed(f"{what} did not finish within {timeout:.0f} s:\n{log_tail(log)}") from None
    if status != 0:
        raise TargetFailed(f"{what} failed (exit {status}):\n{log_tail(log)}")
    return time.monotonic() - start


def build_copgraph_store(root: Path, store: Path, log: Path, validate: bool = False, timeout: float = 7200) -> dict:
    """`copgraph build [--no-validate]` into a fresh store directory, timed. The store directory is emptied first,
    so the time and the size are those of one clean build."""
    shutil.rmtree(store, ignore_errors=True)
    store.parent.mkdir(parents=True, exist_ok=True)
    command = [str(COPGRAPH), "build", "--root", str(root), "--store", str(store)]
    if not validate:
        command.append("--no-validate")
    seconds = run_timed(command, log, timeout, "copgraph build")
    match = re.findall(r"built .*?: (\d+) triples in (\d+) graphs, version (\w+)", log.read_text(errors="replace"))
    triples, graphs, version = (int(match[-1][0]), int(match[-1][1]), match[-1][2]) if match else (None, None, None)
    meta = store / "current" / "meta.json"
    phases = json.loads(meta.read_text()).get("timings", {}) if meta.exists() else {}
    return {
        "command": command,
        "validated": validate,
        "seconds": seconds,
        "triples": triples,
        "graphs": graphs,
        "version": version,
        "triples_per_second": triples / seconds if triples and seconds else None,
        "phases": phases,  # seconds per build phase, from the generation's meta.json
    }


def oxigraph_load_named(
    files: list[tuple[Path, str]], location: Path, log: Path, triples: int | None, timeout: float = 7200
) -> dict:
    """`oxigraph load --graph G --file F` for each (file, graph), one after the other into one fresh directory: the
    named graphs copgraph's build loads into (Oxigraph fills six indexes for named graphs, three for the default
    graph), timed in all."""
    shutil.rmtree(location, ignore_errors=True)
    location.parent.mkdir(parents=True, exist_ok=True)
    seconds = 0.0
    for path, graph in files:
        command = [str(OXIGRAPH), "load", "--location", str(location), "--file", str(path)]
        command += ["--graph", graph] if graph else []  # "": copgraph's default-graph file
        seconds += run_timed(command, log, timeout, "oxigraph load --graph")
    return {
        "command": [str(OXIGRAPH), "load", "--location", str(location), "--file", "F", "--graph", "G", "(per file)"],
        "files": len(files),
        "seconds": seconds,
        "triples": triples,
        "triples_per_second": triples / seconds if triples and seconds else None,
        "disk": disk_usage(location),
    }


def oxigraph_load(files: list[Path], location: Path, log: Path, triples: int | None, timeout: float = 7200) -> dict:
    """`oxigraph load --location X --file F...` into a fresh directory, timed; `triples` (what the files hold,
    e.g. copgraph's count of the same files) gives the rate."""
    shutil.rmtree(location, ignore_errors=True)
    location.parent.mkdir(parents=True, exist_ok=True)
    command = [str(OXIGRAPH), "load", "--location", str(location), "--file", *map(str, files)]
    seconds = run_timed(command, log, timeout, "oxigraph load")
    return {
        "command": [*command[:6], f"... {len(files)} file(s)"] if len(files) > 3 else command,
        "files": len(files),
        "seconds": seconds,
        "triples": triples,
        "triples_per_second": triples / seconds if triples and seconds else None,
        "disk": disk_usage(location),
    }


# --- Servers -------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def running(target: Target) -> Iterator[Target]:
    try:
        yield target
    finally:
        stop(target.process)


@contextlib.contextmanager
def copgraph_server(
    root: Path,
    store: Path,
    log_dir: Path,
    *,
    workers: int = 2,
    cached: bool = False,
    query_timeout: float = 600,
    max_rows: int = 1_000_000_000,
    query_memory_mb: int = 8192,
    ready_timeout: float = 120,
    name: str | None = None,
    server: str | None = None,
    access_log: bool = True,
) -> Iterator[Target]:
    """`copgraph serve` (its production server: COPGRAPH_SERVER, `server`, else copgraph's default) on a free port.
    Uncached: COPGRAPH_RESULT_CACHE_BYTES=0 and COPGRAPH_MODEL_CACHE_BYTES=0."""
    port = free_port()
    name = name or ("copgraph-cached" if cached else "copgraph")
    settings = {
        "COPGRAPH_ROOT": str(root),
        "COPGRAPH_STORE": str(store),
        "COPGRAPH_HOST": "127.0.0.1",
        "COPGRAPH_PORT": str(port),
        "COPGRAPH_WORKERS": str(workers),
        "COPGRAPH_RATE_LIMIT_PER_MINUTE": "0",
        "COPGRAPH_QUERY_TIMEOUT": str(query_timeout),
        "COPGRAPH_MAX_ROWS": str(max_rows),
        "COPGRAPH_QUERY_MEMORY_MB": str(query_memory_mb),
        "COPGRAPH_PENDING": str(log_dir / f"{name}-pending"),
        "COPGRAPH_ACCESS_LOG": "true" if access_log else "false",
    }
    if not cached:
        settings["COPGRAPH_RESULT_CACHE_BYTES"] = settings["COPGRAPH_MODEL_CACHE_BYTES"] = "0"
    if server:
        settings["COPGRAPH_SERVER"] = server
    log = log_dir / f"{name}.log"
    command = [str(COPGRAPH), "serve"]
    start = time.monotonic()
    process = spawn(command, log, clean_environment(**settings), cwd=root)
    target = Target(name, "copgraph", f"http://127.0.0.1:{port}", process, log)
    with running(target):
        wait_ready(process, f"{target.base_url}/healthz", log, ready_timeout)
        target.started_seconds = time.monotonic() - start
        target.info = {
            "command": command,
            "environment": settings,
            "cached": cached,
            "workers": workers,
            "server": server or "copgraph's default",
            "processes": [row["name"] for row in tree_memory(process.pid)["processes"]],
        }
        yield target


@contextlib.contextmanager
def oxigraph_server(
    location: Path, log_dir: Path, *, timeout_s: int = 600, ready_timeout: float = 120
) -> Iterator[Target]:
    """`oxigraph serve-read-only --union-default-graph` on an existing store directory, on a free port."""
    port = free_port()
    command = [
        str(OXIGRAPH),
        "serve-read-only",
        "--location",
        str(Path(location).resolve()),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]
    if timeout_s:
        command += ["--timeout-s", str(int(timeout_s))]
    log = log_dir / ("oxigraph-timed.log" if timeout_s else "oxigraph.log")
    start = time.monotonic()
    process = spawn(command, log, clean_environment())
    target = Target("oxigraph", "oxigraph", f"http://127.0.0.1:{port}", process, log)
    with running(target):
        ask = f"{target.base_url}/query?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D"
        wait_ready(process, ask, log, ready_timeout, accept="application/sparql-results+json")
        target.started_seconds = time.monotonic() - start
        target.info = {"command": command}
        yield target


@contextlib.contextmanager
def rdflib_server(
    root: Path,
    log_dir: Path,
    *,
    triples: int | None,
    max_triples: int = 250_000,
    load_timeout: float = 300,
    memory_mb: int = 4096,
) -> Iterator[Target]:
    """rdflib-endpoint over the root's files, on a free port; TargetSkipped (with the reason) when the data is over
    `max_triples`, or it does not load within `load_timeout` seconds or `memory_mb` of address space."""
    if triples is not None and triples > max_triples:
        raise TargetSkipped(f"{triples} triples is over the rdflib-endpoint bound of {max_triples}")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "benchmarks.targets",
        "rdflib-serve",
        "--root",
        str(root),
        "--port",
        str(port),
        "--memory-mb",
        str(memory_mb),
    ]
    log = log_dir / "rdflib-endpoint.log"
    start = time.monotonic()
    process = spawn(command, log, clean_environment(PYTHONPATH=str(REPO)), cwd=REPO)
    target = Target("rdflib-endpoint", "rdflib", f"http://127.0.0.1:{port}", process, log)
    with running(target):
        try:
            ask = f"{target.base_url}/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D"
            wait_ready(process, ask, log, load_timeout, accept="application/sparql-results+json")
        except TargetFailed as error:
            reason = "ran out of memory" if "MemoryError" in str(error) else "did not load"
            raise TargetSkipped(
                f"rdflib-endpoint {reason} within {load_timeout:.0f} s / {memory_mb} MB: {str(error)[-400:]}"
            ) from None
        target.started_seconds = time.monotonic() - start
        target.info = {"command": command, "load_seconds": target.started_seconds}
        yield target


def serve_rdflib(root: Path, port: int, memory_mb: int) -> None:
    """The rdflib-endpoint process: every file copgraph builds from, each in the named graph copgraph gives it, in
    an rdflib Dataset whose default graph is their union; then uvicorn on 127.0.0.1:port."""
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import uvicorn
    from rdflib import Dataset, URIRef
    from rdflib.util import guess_format
    from rdflib_endpoint import SparqlEndpoint

    from copgraph.core.graphs import graph_name, source_files

    start = time.monotonic()
    dataset = Dataset(default_union=True)
    for path in source_files(root):
        name = graph_name(root, path)
        graph = dataset.graph(URIRef(name)) if name else dataset.default_context
        graph.parse(str(path), format=guess_format(str(path)) or "turtle")
    print(f"loaded {len(dataset)} triples in {time.monotonic() - start:.1f} s", flush=True)
    app = SparqlEndpoint(graph=dataset, path="/sparql", cors_enabled=False, title="copgraph benchmark")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.targets")
    commands = parser.add_subparsers(required=True, dest="command")
    p = commands.add_parser("rdflib-serve", help="serve a copgraph root with rdflib-endpoint")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--memory-mb", type=int, default=4096)
    args = parser.parse_args(argv)
    serve_rdflib(args.root.resolve(), args.port, args.memory_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
