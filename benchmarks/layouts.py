"""Scaling out (issue 5): the same mix against several deployment layouts of copgraph, in one alternating run.

Layouts, all on this machine and on the same store:

- `granian`: one `copgraph serve` (its production server, granian) with 2 workers — the reference;
- `gunicorn`: the same with `COPGRAPH_SERVER=gunicorn` (sync workers);
- `nginx-cache`: nginx from Debian's packages as a caching reverse proxy in front of two `copgraph serve` replicas
  (1 worker each); copgraph's `Cache-Control: max-age` lets nginx answer repeats itself, and its ETags let nginx
  revalidate with `If-None-Match` once an entry is stale (`proxy_cache_revalidate`);
- `remote-oxigraph`: `copgraph serve` in remote-store mode (`COPGRAPH_REMOTE_QUERY_URL`) in front of
  `oxigraph serve-read-only` holding the same store.

    python -m benchmarks.layouts ROOT --store STORE [--mix realistic] [--rounds 3 --seconds 10]

ROOT is a copgraph root (e.g. benchmarks/work/10000/root) whose store STORE was built with `copgraph build`; the
results JSON goes to --out (default: beside STORE) and is summarised on standard output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import driver, mixes, targets
from benchmarks.generate import load_manifest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_buffer_size 1m;  # POSTed queries stay in memory, so $request_body can be part of the cache key
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=copgraph:64m max_size=2g inactive=10m use_temp_path=off;
    upstream copgraph {{
{upstreams}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://copgraph;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_cache copgraph;
            # SPARQL queries are safe to repeat whether sent by GET or POST: the body is part of the key.
            proxy_cache_methods GET HEAD POST;
            proxy_cache_key "$request_method $request_uri $http_accept $request_body";
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx_cache(upstreams: list[str], work: Path) -> Iterator[targets.Target]:
    directory = work / "nginx"
    shutil.rmtree(directory, ignore_errors=True)
    for sub in ("cache", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / sub).mkdir(parents=True)
    port = targets.free_port()
    lines = "\n".join(f"        server {url.removeprefix('http://')};" for url in upstreams)
    conf = directory / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=directory, port=port, upstreams=lines), encoding="utf-8")
    log = directory / "nginx.log"
    process = targets.spawn([NGINX, "-c", str(conf), "-p", str(directory)], log, targets.clean_environment())
    target = targets.Target("nginx-cache", "copgraph", f"http://127.0.0.1:{port}", process, log)
    with targets.running(target):
        targets.wait_ready(process, f"{target.base_url}/healthz", log, 30)
        target.info = {"config": conf.read_text(encoding="utf-8"), "upstreams": upstreams}
        yield target


@contextlib.contextmanager
def remote_copgraph(root: Path, oxigraph: targets.Target, logs: Path) -> Iterator[targets.Target]:
    """copgraph in remote-store mode in front of a running Oxigraph server (read-only: no update URL)."""
    port = targets.free_port()
    settings = {
        "COPGRAPH_ROOT": str(root),
        "COPGRAPH_STORE": str(logs / "remote-unused-store"),
        "COPGRAPH_HOST": "127.0.0.1",
        "COPGRAPH_PORT": str(port),
        "COPGRAPH_WORKERS": "2",
        "COPGRAPH_RATE_LIMIT_PER_MINUTE": "0",
        "COPGRAPH_QUERY_TIMEOUT": str(QUERY_TIMEOUT),
        "COPGRAPH_REMOTE_QUERY_URL": f"{oxigraph.base_url}/query",
        "COPGRAPH_PENDING": str(logs / "remote-pending"),
    }
    log = logs / "copgraph-remote.log"
    process = targets.spawn([str(targets.COPGRAPH), "serve"], log, targets.clean_environment(**settings), cwd=root)
    target = targets.Target("remote-oxigraph", "copgraph", f"http://127.0.0.1:{port}", process, log)
    with targets.running(target):
        targets.wait_ready(process, f"{target.base_url}/healthz", log, 120)
        target.info = {"environment": settings}
        yield target


def measure(root: Path, store: Path, work: Path, mix_name: str, rounds: int, seconds: float) -> dict:
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(root)
    samples, popular = mixes.samples_from_manifest(manifest)
    canned = mixes.canned_queries()
    result: dict = {"communities": manifest["communities"], "layouts": {}}
    with contextlib.ExitStack() as stack:
        granian = stack.enter_context(
            targets.copgraph_server(
                root, store, logs, cached=True, name="granian", server="granian", query_timeout=QUERY_TIMEOUT
            )
        )
        excluded = _too_slow(granian, canned)
        mix = mixes.build_mixes(canned, samples, popular, excluded=excluded)[mix_name]
        requests = mix.requests("copgraph")
        result["mix"] = mix.summary()
        gunicorn = stack.enter_context(
            targets.copgraph_server(
                root, store, logs, cached=True, name="gunicorn", server="gunicorn", query_timeout=QUERY_TIMEOUT
            )
        )
        replicas = [
            stack.enter_context(
                targets.copgraph_server(
                    root, store, logs, cached=True, workers=1, name=f"replica-{i}", query_timeout=QUERY_TIMEOUT
                )
            )
            for i in (1, 2)
        ]
        proxy = stack.enter_context(nginx_cache([r.base_url for r in replicas], work))
        oxigraph = stack.enter_context(targets.oxigraph_server(store / "current" / "oxigraph", logs))
        remote = stack.enter_context(remote_copgraph(root, oxigraph, logs))
        layouts = [granian, gunicorn, proxy, remote]
        endpoints = [driver.Endpoint(t.name, t.base_url, requests) for t in layouts]
        result["comparison"] = driver.compare(endpoints, reference="granian", rounds=rounds, seconds=seconds)
        result["layouts"] = {t.name: t.info for t in layouts}
        result["cache_status"] = _cache_statuses(proxy.base_url, requests[:50])
    return result


def _too_slow(target: targets.Target, canned: list[mixes.Canned]) -> dict[str, str]:
    """Canned queries left out of the load: those taking over SLOW_SECONDS (uncached, once) at this size."""
    excluded = {}
    for query in canned:
        request = mixes.render(mixes.canned_op(query), "copgraph")
        start = time.monotonic()
        try:
            response = driver.send(target.base_url, request, QUERY_TIMEOUT + 10)
            status = response.status_code
        except Exception as error:  # noqa: BLE001 - recorded as the reason
            status = type(error).__name__
        took = time.monotonic() - start
        if status != 200 or took > SLOW_SECONDS:
            excluded[query.name] = f"{took:.1f} s, status {status}"
    return excluded


SLOW_SECONDS = 2.0
QUERY_TIMEOUT = 20  # seconds: a canned query slower than this at this size is left out of the load anyway


def _cache_statuses(base_url: str, requests: list[mixes.Request]) -> dict[str, int]:
    """How nginx answered a sample of the mix after the run (HIT, REVALIDATED, MISS ...)."""
    counts: dict[str, int] = {}
    for request in requests:
        response = driver.send(base_url, request, 60)
        status = response.headers.get("X-Cache-Status", "none")
        counts[status] = counts.get(status, 0) + 1
    return counts


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--mix", default="realistic", choices=["engine", "light", "record", "repeated", "realistic"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    # SIGTERM (a timeout, a CI cancel) unwinds like Ctrl-C, so every server started is stopped again.
    signal.signal(signal.SIGTERM, _interrupt)
    if subprocess.run([NGINX, "-v"], capture_output=True).returncode != 0:
        parser.error("nginx is not installed: apt-get install nginx-light (make bench installs it)")
    work = args.store.resolve().parent / "layouts"
    start = time.monotonic()
    result = measure(args.root.resolve(), args.store.resolve(), work, args.mix, args.rounds, args.seconds)
    result["seconds"] = round(time.monotonic() - start, 1)
    result["command"] = ["python", "-m", "benchmarks.layouts", *(argv or __import__("sys").argv[1:])]
    out = args.out or work / f"layouts-{args.mix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, entry in result["comparison"]["targets"].items():
        median = entry.get("median") or {}
        print(f"{name:18} {median.get('requests_per_second', 0):9.0f} req/s  p50 {median.get('p50', 0):7.1f} ms")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
