"""The benchmark orchestrator: per size, generate, build, load, serve, measure every mix, write a results JSON.

    python -m benchmarks.run --sizes 1000,10000,100000,1000000 [--quick] [--out benchmarks/results/<stamp>.json]
    python -m benchmarks.run --root . --quick          # the repository's own data instead of generated sizes

Per size N (work folder benchmarks/work/<N>/, git-ignored):

1. `python -m benchmarks.generate --communities N --seed S --out work/N/root` (skipped when work/N/root/manifest.json
   already has the same communities and seed);
2. `copgraph build --no-validate` into a fresh work/N/store (time, triples/s) and `oxigraph load` of the same files
   into a fresh work/N/oxigraph-load (time, triples/s); their disk sizes;
3. servers: Oxigraph (`serve-read-only --union-default-graph` on copgraph's own generation), rdflib-endpoint where the
   data is within its bound, and copgraph (`copgraph serve`) uncached (`COPGRAPH_RESULT_CACHE_BYTES=0`,
   `COPGRAPH_MODEL_CACHE_BYTES=0`);
4. the median latency of every canned query, sequentially (copgraph, Oxigraph, rdflib-endpoint); a query slower
   than --max-query-seconds on copgraph or Oxigraph is left out of the load mixes at this size (and said so), or,
   with --mixes-like RESULTS.json, exactly the queries that earlier run left out (and any failing now);
5. mixes engine, light, record, record-graph against uncached copgraph; then copgraph with its result cache on,
   and mixes repeated, realistic; every mix validated on every target first, then alternated in rounds
   (benchmarks.driver);
6. memory of every server's process tree (and per copgraph worker), copgraph's result-cache hits per mix;
7. SHACL timings from benchmarks.shacl_bench.measure(root, manifest) if that module exists.

The results JSON (machine, versions, the exact command line, settings, every measurement) is rewritten after each
size, so an interrupted run keeps what it measured. Exit status 1 if anything failed validation or errored.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import inspect
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests as http

from benchmarks import driver, mixes, targets
from benchmarks.driver import Endpoint, say

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "benchmarks" / "work"
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_SIZES = "1000,10000,100000,1000000"
QUICK_SIZES = "1000,10000"
UNCACHED_MIXES = ("engine", "light", "record", "record-graph")
CACHED_MIXES = ("repeated", "realistic")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", help=f"communities per generated graph (default {DEFAULT_SIZES}; --quick: {QUICK_SIZES})"
    )
    parser.add_argument("--root", type=Path, help="benchmark this copgraph root (e.g. the repository) instead of sizes")
    parser.add_argument("--quick", action="store_true", help="short rounds, fewer repetitions (for trying it out)")
    parser.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/<UTC stamp>.json)")
    parser.add_argument("--work", type=Path, default=WORK, help="work folder (default benchmarks/work)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--mixes", default=",".join(UNCACHED_MIXES + CACHED_MIXES), help="mixes to run")
    parser.add_argument("--workers", type=int, default=2, help="copgraph worker processes (default 2)")
    parser.add_argument(
        "--copgraph-server", choices=["granian", "gunicorn"], help="COPGRAPH_SERVER (default: copgraph's own default)"
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per mix (default 3; --quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds per wrk run (default 10; --quick 3)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per target and mix (default 3; --quick 1)")
    parser.add_argument("--query-reps", type=int, help="sequential repetitions per canned query (default 5; quick 3)")
    parser.add_argument(
        "--max-query-seconds",
        type=float,
        default=2.0,
        help="canned queries slower than this (sequential median, copgraph or Oxigraph) are left "
        "out of the load mixes at that size (default 2)",
    )
    parser.add_argument(
        "--mixes-like",
        type=Path,
        help="an earlier results JSON: leave out of the load mixes exactly the canned queries it left out at each "
        "size (and any that fail now) instead of cutting at --max-query-seconds (still used at sizes it lacks), so "
        "that runs on hosts of different speed measure the same requests",
    )
    parser.add_argument(
        "--query-timeout", type=float, help="seconds a single query may take on any server (default 120; --quick 30)"
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=1_000_000_000,
        help="COPGRAPH_MAX_ROWS: large by default so copgraph returns the same rows as Oxigraph",
    )
    parser.add_argument("--query-memory-mb", type=int, default=8192, help="COPGRAPH_QUERY_MEMORY_MB (default 8192)")
    parser.add_argument(
        "--record-equivalent",
        choices=["describe", "construct"],
        default="describe",
        help="what a SPARQL store is asked for a record: DESCRIBE (default) or copgraph's own "
        "record CONSTRUCT (same graph as copgraph's)",
    )
    parser.add_argument(
        "--rdflib-max-triples",
        type=int,
        default=500_000,
        help="skip rdflib-endpoint above this many triples (default 500000)",
    )
    parser.add_argument("--rdflib-load-timeout", type=float, default=300)
    parser.add_argument("--rdflib-memory-mb", type=int, default=6144)
    parser.add_argument("--no-rdflib", action="store_true", help="never start rdflib-endpoint")
    parser.add_argument("--no-shacl", action="store_true", help="skip the SHACL timings")
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="copgraph with COPGRAPH_ACCESS_LOG=false (as behind a proxy that logs; Oxigraph's server logs nothing)",
    )
    parser.add_argument(
        "--reuse-store",
        action="store_true",
        help="keep an existing work store (no build or load timing) when its version matches",
    )
    parser.add_argument("--keep-load", action="store_true", help="keep the `oxigraph load` store after measuring it")
    parser.add_argument("--max-hours", type=float, default=8.0, help="stop starting new work after this long")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = (
        ("rounds", 3, 2),
        ("seconds", 10, 3),
        ("warmup", 3, 1),
        ("query_reps", 5, 3),
        ("query_timeout", 120, 30),
    )
    for name, normal, short in defaults:
        if getattr(args, name) is None:
            setattr(args, name, short if quick else normal)
    if args.sizes is None:
        args.sizes = QUICK_SIZES if quick else DEFAULT_SIZES
    args.mix_names = [m.strip() for m in args.mixes.split(",") if m.strip()]
    unknown = set(args.mix_names) - set(UNCACHED_MIXES + CACHED_MIXES)
    if unknown:
        parser.error(f"unknown mix(es): {', '.join(sorted(unknown))}")
    args.light_iris, args.record_iris, args.realistic_length = (100, 50, 1000) if quick else (300, 200, 3000)
    return args


# --- Facts about the machine and the software ------------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _command_output(command: list[str]) -> str | None:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (completed.stdout or completed.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_facts() -> dict:
    cpu_model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    git_head = _command_output(["git", "-C", str(REPO), "rev-parse", "HEAD"])
    dirty = _command_output(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"])
    return {
        "cpu_model": cpu_model or platform.processor(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_bytes": psutil.virtual_memory().total,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "load_average_at_start": os.getloadavg(),
        "git_commit": git_head,
        "src_modified_since_commit": bool(dirty),
        "versions": {
            "copgraph": _version("copgraph"),
            "pyoxigraph": _version("pyoxigraph"),
            "oxigraph (server)": _command_output([str(targets.OXIGRAPH), "--version"]),
            "rdflib": _version("rdflib"),
            "rdflib-endpoint": _version("rdflib-endpoint"),
            "uvicorn": _version("uvicorn"),
            "granian": _version("granian"),
            "gunicorn": _version("gunicorn"),
            "flask": _version("flask"),
            "pyshacl": _version("pyshacl"),
            "wrk": _command_output([driver.WRK, "--version"]),
        },
    }


# --- Steps -------------------------------------------------------------------------------------------------------


def generate(size: int, seed: int, root: Path, log: Path) -> dict:
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        with contextlib.suppress(ValueError, OSError):
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if (
                manifest.get("communities") == size
                and manifest.get("seed") == seed
                and (root / manifest["file"]).exists()
            ):
                say(f"  generate: {root} already holds {size} communities, seed {seed}: kept")
                return {"skipped": True, "seconds": manifest.get("generated_seconds"), "manifest": manifest}
    command = [
        sys.executable,
        "-m",
        "benchmarks.generate",
        "--communities",
        str(size),
        "--seed",
        str(seed),
        "--out",
        str(root),
    ]
    say(f"  generate: {' '.join(command[1:])}")
    start = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        completed = subprocess.run(command, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT)
    if completed.returncode != 0:
        raise targets.TargetFailed(f"the generator failed (exit {completed.returncode}):\n{targets.log_tail(log)}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {"skipped": False, "seconds": time.monotonic() - start, "manifest": manifest}


def manifest_summary(manifest: dict | None) -> dict | None:
    if manifest is None:
        return None
    keep = ("communities", "seed", "triples", "file", "generated_seconds", "counts", "years")
    summary = {k: manifest[k] for k in keep if k in manifest}
    summary["samples"] = {k: len(v) for k, v in manifest.get("samples", {}).items()}
    summary["popular"] = {k: v[:5] for k, v in manifest.get("popular", {}).items()}
    return summary


def build_and_load(root: Path, work: Path, args: argparse.Namespace) -> dict:
    from copgraph.build.pipeline import dataset_version
    from copgraph.core.graphs import graph_name, source_files
    from copgraph.store.generations import current_generation

    store, logs = work / "store", work / "logs"
    files = source_files(root)
    current = current_generation(store)
    result: dict = {}
    if args.reuse_store and current is not None and current.name.endswith(dataset_version(root, files)):
        say(f"  build: reusing {current}")
        meta = json.loads((current / "meta.json").read_text())
        result["copgraph"] = {"reused": True, "triples": meta["triples"], "seconds": None, "triples_per_second": None}
        result["oxigraph_load"] = {"reused": True, "seconds": None, "triples_per_second": None}
        result["oxigraph_load_named"] = {"reused": True, "seconds": None, "triples_per_second": None}
    else:
        say("  build: copgraph build --no-validate ...")
        result["copgraph"] = targets.build_copgraph_store(root, store, logs / "copgraph-build.log")
        say(
            f"  build: {result['copgraph']['triples']} triples in {result['copgraph']['seconds']:.1f} s "
            f"({result['copgraph']['triples_per_second']:,.0f} triples/s)"
        )
        say("  load: oxigraph load ...")
        result["oxigraph_load"] = targets.oxigraph_load(
            files, work / "oxigraph-load", logs / "oxigraph-load.log", result["copgraph"]["triples"]
        )
        say(
            f"  load: {result['oxigraph_load']['seconds']:.1f} s "
            f"({result['oxigraph_load']['triples_per_second']:,.0f} triples/s)"
        )
        say("  load: oxigraph load --graph, file by file (copgraph's named graphs) ...")
        named = [(path, graph_name(root, path)) for path in files]
        result["oxigraph_load_named"] = targets.oxigraph_load_named(
            named, work / "oxigraph-load-named", logs / "oxigraph-load-named.log", result["copgraph"]["triples"]
        )
        say(f"  load: {result['oxigraph_load_named']['seconds']:.1f} s into named graphs")
    triples = result["copgraph"].get("triples")
    a, b = result["copgraph"].get("triples_per_second"), result["oxigraph_load"].get("triples_per_second")
    result["rate_ratio"] = a / b if a and b else None
    # The load phase alone (copgraph's bulk load, before compaction, dumps and statistics), against both loads.
    load_seconds = result["copgraph"].get("phases", {}).get("load")
    load_rate = triples / load_seconds if triples and load_seconds else None
    named_rate = result["oxigraph_load_named"].get("triples_per_second")
    result["load_phase"] = {
        "seconds": load_seconds,
        "triples_per_second": load_rate,
        "ratio_default_graph": load_rate / b if load_rate and b else None,
        "ratio_named_graphs": load_rate / named_rate if load_rate and named_rate else None,
    }
    generation = current_generation(store)
    result["disk"] = {
        "copgraph_generation": targets.disk_usage(generation),
        "copgraph_oxigraph": targets.disk_usage(generation / "oxigraph"),
        "oxigraph_load": targets.disk_usage(work / "oxigraph-load") if (work / "oxigraph-load").exists() else None,
    }
    result["files"] = len(files)
    if (work / "oxigraph-load-named").exists():
        result["disk"]["oxigraph_load_named"] = targets.disk_usage(work / "oxigraph-load-named")
    if not args.keep_load:  # only timed and measured: at a million communities it is gigabytes
        shutil.rmtree(work / "oxigraph-load", ignore_errors=True)
        shutil.rmtree(work / "oxigraph-load-named", ignore_errors=True)
    return result


def _sparql_request(target_kind: str, query: str) -> mixes.Request:
    return mixes.render(mixes.Op("query", "canned", query, mixes.JSON), target_kind)


def time_query(target: targets.Target, query: str, reps: int, timeout: float, slow: float) -> dict:
    """Sequential latency of one query on one server: up to `reps` runs (one only when the first is slower than
    `slow` seconds), median and minimum, the status and the number of rows."""
    request = _sparql_request(target.kind, query)
    times, status, rows, error, size = [], None, None, None, None
    for _ in range(reps):
        start = time.perf_counter()
        try:
            response = driver.send(target.base_url, request, timeout)
        except http.RequestException as failure:
            error = f"{type(failure).__name__}: {str(failure)[:200]}"
            break
        elapsed = time.perf_counter() - start
        status, size = response.status_code, len(response.content)
        if status != 200:
            error = response.text[:300]
            break
        times.append(elapsed)
        rows = driver._rows(response)
        if elapsed > slow:
            break
    result = {"status": status, "rows": rows, "bytes": size, "reps": len(times), "seconds": times}
    if times:
        result["median_s"] = statistics.median(times)
        result["min_s"] = min(times)
    if error:
        result["error"] = error
    return result


# (query name, server name) -> why it is not run again at larger sizes: it timed out at a smaller one.
TOO_SLOW: dict[tuple[str, str], str] = {}
RDFLIB_SKIP_SECONDS = 1.0  # canned queries slower than this on copgraph are not sent to rdflib-endpoint


def measure_canned(
    servers: list[targets.Target],
    canned: list[mixes.Canned],
    args: argparse.Namespace,
    size: str,
    earlier: dict[str, str] | None = None,
) -> dict:
    """Every canned query on every server, one query at a time; decides which are too slow to put under load.

    A query that times out on a server is not sent to that server again at larger sizes (it only gets slower). An
    rdflib-endpoint still busy long after its client gave up (it cannot stop a query) is stopped for the rest of the
    size, so it does not steal the CPU from the other servers' measurements."""
    out: dict = {}
    stopped: set[str] = set()
    for query in canned:
        entry: dict = {}
        for server in servers:
            if server.name in stopped:
                entry[server.name] = {"status": None, "skipped": "server stopped: still busy with an earlier query"}
                continue
            if (query.name, server.name) in TOO_SLOW:
                entry[server.name] = {"status": None, "skipped": TOO_SLOW[(query.name, server.name)]}
                continue
            reference = entry.get("copgraph", {})
            if server.kind == "rdflib" and reference.get("median_s", float("inf")) > RDFLIB_SKIP_SECONDS:
                # rdflib is 10-100 times slower and cannot stop a query its client gave up on: it would hold the
                # CPU for minutes while the others are measured.
                took = f"{reference['median_s']:.1f} s" if "median_s" in reference else "fails"
                entry[server.name] = {"status": None, "skipped": f"not sent: copgraph {took} on it"}
                continue
            slow = 10.0
            timeout = args.query_timeout
            reps = args.query_reps
            if server.kind == "rdflib":
                reps, timeout = min(reps, 3), min(args.query_timeout, 60)
            got = time_query(server, query.text, reps, timeout, slow)
            entry[server.name] = got
            timed_out = "timeout" in str(got.get("error", "")).lower() or got.get("status") == 503
            if "median_s" not in got and timed_out:
                TOO_SLOW[(query.name, server.name)] = f"timed out ({timeout:.0f} s) at size {size}"
            idle = targets.wait_idle(server.process.pid, timeout=timeout if server.kind != "rdflib" else 120)
            if idle > 5:
                got["busy_after_s"] = idle
            if server.kind == "rdflib" and idle >= 120:
                say(f"  !! {server.name} still busy {idle:.0f} s after {query.name}: stopping it for this size")
                targets.stop(server.process)
                stopped.add(server.name)
        reasons = mixes.exclusion_reasons(query.name, entry, args.max_query_seconds, earlier)
        if reasons:
            entry["excluded"] = "; ".join(reasons)
        rows = {name: got.get("rows") for name, got in entry.items() if isinstance(got, dict) and "rows" in got}
        if len({r for r in rows.values() if r is not None}) > 1:
            entry["row_counts_differ"] = rows
        out[query.name] = entry
        cells = "  ".join(
            f"{name} {got['median_s'] * 1000:9.1f} ms"
            if "median_s" in got
            else f"{name} {'SKIPPED' if got.get('skipped') else 'FAILED'} {got.get('status') or ''}"
            for name, got in entry.items()
            if isinstance(got, dict) and "status" in got
        )
        say(f"    {query.name:<40} {cells}{'  (left out of load mixes)' if reasons else ''}")
    return out


def cache_counts(target: targets.Target) -> dict:
    """copgraph's result-cache lookups so far (all workers), from /metrics."""
    try:
        text = http.get(target.base_url + "/metrics", timeout=10).text
    except http.RequestException:
        return {}
    counts = {}
    for result in ("hit", "miss"):
        match = re.search(rf'copgraph_result_cache_total\{{result="{result}"\}}\s+([0-9.e+]+)', text)
        counts[result] = float(match.group(1)) if match else 0.0
    return counts


def run_mix(
    mix: mixes.Mix,
    copgraph: targets.Target,
    others: list[targets.Target],
    dropped: dict[str, dict[str, str]],
    args: argparse.Namespace,
    work: Path,
) -> dict:
    """One mix, validated and alternated on copgraph and the other servers."""
    dead = [t for t in [copgraph, *others] if not t.alive()]
    if dead:
        # A server that exited (a crash, or a signal from outside this run) is reported, not measured on errors.
        why = "; ".join(
            f"{t.name} exited with status {t.process.returncode}: {targets.log_tail(t.log, 5)}" for t in dead
        )
        say(f"  !! mix {mix.name} not run: {why}")
        return {"complete": False, "stopped": f"server gone: {why}", "targets": {}, "ratios": {}, "mix": mix.summary()}
    say(
        f"  mix {mix.name} ({len(mix.ops)} requests, {len(set(mix.ops))} distinct) on "
        f"{', '.join(t.name for t in [copgraph, *others])}"
    )
    endpoints, left_out, not_measured = [], {}, {}
    for target in [copgraph, *others]:
        requests = mix.requests(target.kind, args.record_equivalent)
        drop = dropped.get(target.name, {})
        removed = {r.label: drop[r.label] for r in requests if r.label in drop}
        if removed:
            distinct = len({r.op_id for r in requests})
            requests = [r for r in requests if r.label not in drop]
            left_out[target.name] = removed
            if len({r.op_id for r in requests}) * 2 < distinct:
                say(f"    {target.name}: not measured, more than half of this mix is left out for it")
                not_measured[target.name] = f"more than half of the mix left out: {sorted(removed)}"
                continue
        if requests:
            endpoints.append(Endpoint(target.name, target.base_url, requests))
    planned = (args.warmup + args.rounds * args.seconds) * len(endpoints)
    before = cache_counts(copgraph)
    by_name = {t.name: t for t in [copgraph, *others]}

    def settle(name: str) -> None:
        targets.wait_idle(by_name[name].process.pid, timeout=args.query_timeout)

    result = driver.compare(
        endpoints,
        reference=copgraph.name,
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        timeout_s=args.query_timeout,
        deadline=time.monotonic() + planned * 2 + 300,
        workdir=work / "wrk" / mix.name,
        settle=settle,
    )
    after = cache_counts(copgraph)
    # copgraph's result-cache lookups during the mix (all of /sparql's answers; /doc records have no result cache).
    result["copgraph_cache"] = {k: (after[k] - before[k] if before and after else None) for k in ("hit", "miss")}
    result["mix"] = mix.summary()
    for name, why in not_measured.items():
        result["targets"][name] = {"valid": False, "runs": [], "not_measured": why}
    for name, drop in left_out.items():
        if name in result["targets"]:
            result["targets"][name].setdefault("partial", {})["left_out_before"] = drop
            if name in result["ratios"]:
                result["ratios"][name]["partial"] = True
    for name, ratio in result["ratios"].items():
        if ratio.get("throughput"):
            say(
                f"    => {copgraph.name}/{name}: {ratio['throughput']:.2f}x throughput"
                f"{' (partial)' if ratio.get('partial') else ''}"
            )
    partial = [name for name, ratio in result["ratios"].items() if ratio.get("partial")]
    for name in partial:
        result.setdefault("same_requests", {})[name] = same_requests(endpoints, copgraph, name, result, args, work, mix)
    return result


def same_requests(
    endpoints: list[driver.Endpoint],
    copgraph: targets.Target,
    other: str,
    measured: dict,
    args: argparse.Namespace,
    work: Path,
    mix: mixes.Mix,
) -> dict:
    """A target measured on part of a mix (it fails or is too slow for the rest) is measured again against copgraph
    on exactly that part, so that its ratio compares the same requests: copgraph's whole mix against a lighter one
    would flatter the other target."""
    theirs = next(e for e in endpoints if e.name == other)
    failed = set((measured["targets"].get(other, {}).get("partial") or {}).get("labels", []))
    labels = {r.label for r in theirs.requests} - failed
    ours = next(e for e in endpoints if e.name == copgraph.name)
    pair = [
        driver.Endpoint(ours.name, ours.base_url, [r for r in ours.requests if r.label in labels]),
        driver.Endpoint(theirs.name, theirs.base_url, [r for r in theirs.requests if r.label in labels]),
    ]
    say(f"  mix {mix.name}, the {len(labels)} requests {other} answers, on {copgraph.name} and {other}")
    planned = (args.warmup + args.rounds * args.seconds) * 2
    result = driver.compare(
        pair,
        reference=copgraph.name,
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        timeout_s=args.query_timeout,
        deadline=time.monotonic() + planned * 2 + 300,
        workdir=work / "wrk" / f"{mix.name}-same-as-{other}",
    )
    result["labels"] = sorted(labels)
    got = result["ratios"].get(other, {})
    if got.get("throughput"):
        say(f"    => {copgraph.name}/{other} on the same requests: {got['throughput']:.2f}x throughput")
    return result


def shacl_timings(root: Path, manifest: dict | None, store: Path) -> dict:
    try:
        module = importlib.import_module("benchmarks.shacl_bench")
    except ModuleNotFoundError:
        return {"skipped": "benchmarks/shacl_bench.py does not exist (yet)"}
    try:
        start = time.monotonic()
        extra = {"store": store} if "store" in inspect.signature(module.measure).parameters else {}
        measured = module.measure(root, manifest, **extra)
        return {"result": measured, "seconds": time.monotonic() - start}
    except Exception as error:  # noqa: BLE001 - another module's failure is recorded, not fatal
        return {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-2000:]}


def copgraph_server(root: Path, store: Path, logs: Path, args: argparse.Namespace, cached: bool):  # noqa: ANN201
    return targets.copgraph_server(
        root,
        store,
        logs,
        workers=args.workers,
        cached=cached,
        query_timeout=args.query_timeout,
        max_rows=args.max_rows,
        query_memory_mb=args.query_memory_mb,
        server=args.copgraph_server,
        access_log=not args.no_access_log,
    )


def warm(servers: list[targets.Target], args: argparse.Namespace) -> None:
    """A short concurrent run of a trivial query on each server, so every copgraph worker has started its query
    process (spawned on a worker's first query) before anything is timed. An Oxigraph server with a query timeout
    only gets a few sequential requests (see targets.oxigraph_server)."""
    for server in servers:
        request = _sparql_request(server.kind, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1")
        if "--timeout-s" in server.info.get("command", []):
            for _ in range(3):
                with contextlib.suppress(http.RequestException):
                    driver.send(server.base_url, request, 30)
            continue
        try:
            driver.run_wrk(server.base_url, [request], seconds=2, connections=max(4, args.workers * 2), threads=2)
        except RuntimeError as error:
            say(f"  !! warm-up of {server.name} failed: {error}")
        targets.wait_idle(server.process.pid, timeout=30)


def memory_of(target: targets.Target) -> dict:
    memory = target.memory()
    if target.kind == "copgraph":
        memory["per_worker"] = targets.per_worker_memory(memory)
    return memory


def run_size(
    label: str,
    root: Path,
    manifest: dict | None,
    work: Path,
    args: argparse.Namespace,
    earlier: dict[str, str] | None = None,
) -> dict:
    """One size; `earlier`: the canned queries an earlier run left out at this size (--mixes-like), if given."""
    entry: dict = {"size": label, "root": str(root), "work": str(work), "problems": [], "notes": []}
    logs = work / "logs"
    entry["build"] = build_and_load(root, work, args)
    store = work / "store"
    generation = store / "current" / "oxigraph"
    if manifest is not None:
        samples, popular = mixes.samples_from_manifest(manifest)
        entry["samples_from"] = "manifest"
    else:
        samples, popular = mixes.samples_from_store(generation)
        entry["samples_from"] = "store"
    triples = entry["build"]["copgraph"].get("triples")
    canned = mixes.canned_queries()

    def start_rdflib():  # noqa: ANN202 - a context manager of targets
        return targets.rdflib_server(
            root,
            logs,
            triples=triples,
            max_triples=args.rdflib_max_triples,
            load_timeout=args.rdflib_load_timeout,
            memory_mb=args.rdflib_memory_mb,
        )

    with contextlib.ExitStack() as servers:
        rdflib = None
        if args.no_rdflib:
            entry["rdflib"] = {"skipped": "--no-rdflib"}
        else:
            say("  starting rdflib-endpoint ...")
            try:
                rdflib = servers.enter_context(start_rdflib())
                entry["rdflib"] = {"loaded": True, "load_seconds": rdflib.started_seconds}
                say(f"  rdflib-endpoint loaded in {rdflib.started_seconds:.1f} s")
            except targets.TargetSkipped as skipped:
                entry["rdflib"] = {"skipped": str(skipped)}
                say(f"  rdflib-endpoint skipped: {skipped}")
        entry["mixes"], entry["memory"], entry["servers"] = {}, {}, {}

        with copgraph_server(root, store, logs, args, cached=False) as copgraph:
            entry["servers"][copgraph.name] = {"started_seconds": copgraph.started_seconds, **copgraph.info}
            # Sequential timings on an Oxigraph server with a query timeout: a runaway query is stopped. Under load
            # the server runs without one (its timeout costs a thread per query that lives as long as the timeout,
            # which runs out of threads at thousands of requests a second).
            with targets.oxigraph_server(generation, logs, timeout_s=int(args.query_timeout)) as timed:
                warm([copgraph, timed, *([rdflib] if rdflib else [])], args)
                say("  canned queries, sequentially:")
                servers_now = [copgraph, timed, *([rdflib] if rdflib else [])]
                entry["canned"] = measure_canned(servers_now, canned, args, label, earlier)
            if rdflib is not None and not rdflib.alive():
                say("  restarting rdflib-endpoint (stopped while busy) ...")
                entry["rdflib"]["restarted"] = "stopped during the canned queries while still busy with one"
                rdflib = servers.enter_context(start_rdflib())
            say("  starting Oxigraph server (no timeout) ...")
            oxigraph = servers.enter_context(targets.oxigraph_server(generation, logs, timeout_s=None))
            others = [oxigraph] + ([rdflib] if rdflib else [])
            for target in others:
                entry["servers"][target.name] = {"started_seconds": target.started_seconds, **target.info}
            warm([oxigraph], args)
            excluded = {name: e["excluded"] for name, e in entry["canned"].items() if "excluded" in e}
            dropped: dict[str, dict[str, str]] = {}
            if rdflib is not None:
                slow = {}
                for name, e in entry["canned"].items():
                    got = e.get(rdflib.name, {})
                    if name in excluded:
                        continue
                    if "median_s" not in got:
                        slow[f"canned:{name}"] = got.get("skipped") or f"fails on rdflib-endpoint ({got.get('status')})"
                    elif got["median_s"] > max(args.max_query_seconds * 10, 10):
                        slow[f"canned:{name}"] = f"{got['median_s']:.1f} s on rdflib-endpoint"
                dropped[rdflib.name] = slow
            all_mixes = mixes.build_mixes(
                canned,
                samples,
                popular,
                seed=args.seed,
                light_iris=args.light_iris,
                record_iris=args.record_iris,
                realistic_length=args.realistic_length,
                excluded=excluded,
            )
            entry["excluded_queries"] = excluded
            entry["left_out_per_target"] = dropped
            for name in UNCACHED_MIXES:
                if name in args.mix_names and all_mixes[name].ops:
                    entry["mixes"][name] = run_mix(all_mixes[name], copgraph, others, dropped, args, work)
            entry["memory"][copgraph.name] = memory_of(copgraph)

        if any(name in args.mix_names for name in CACHED_MIXES):
            with copgraph_server(root, store, logs, args, cached=True) as cached:
                entry["servers"][cached.name] = {"started_seconds": cached.started_seconds, **cached.info}
                warm([cached], args)
                for name in CACHED_MIXES:
                    if name in args.mix_names and all_mixes[name].ops:
                        entry["mixes"][name] = run_mix(all_mixes[name], cached, others, dropped, args, work)
                entry["memory"][cached.name] = memory_of(cached)
        for target in others:
            entry["memory"][target.name] = memory_of(target)

    for name, canned_entry in entry.get("canned", {}).items():
        if canned_entry.get("row_counts_differ"):
            entry["notes"].append(f"canned {name}: row counts differ {canned_entry['row_counts_differ']}")
    for name, mix in entry["mixes"].items():
        validation = mix.get("validation", {})
        for mismatch in validation.get("mismatches", []):
            entry["notes"].append(f"{name}: row counts differ {mismatch}")
        for target, checked in validation.get("targets", {}).items():
            if not checked["ok"]:
                message = f"{name}: {target} failed {checked['failure_count']} request(s)"
                (entry["notes"] if target == "rdflib-endpoint" else entry["problems"]).append(message)
        if not mix.get("complete", True):
            entry["problems"].append(f"{name}: {mix.get('stopped')}")
        for target, measured in mix["targets"].items():
            med = measured.get("median", {})
            if med.get("bad_status") or med.get("socket_errors"):
                entry["problems"].append(
                    f"{name}: {target} had {med.get('bad_status')} bad statuses, {med.get('socket_errors')} socket "
                    "errors under load"
                )
    if args.no_shacl:
        entry["shacl"] = {"skipped": "--no-shacl"}
    else:
        say("  SHACL timings ...")
        entry["shacl"] = shacl_timings(root, manifest, store)
    return entry


# --- Main --------------------------------------------------------------------------------------------------------


def _on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds every context manager, so every server is stopped


def write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.partial")
    temporary.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    if not Path(driver.WRK).exists():
        say("wrk is not installed (apt-get install wrk)")
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or RESULTS / f"{'quick-' if args.quick else ''}{stamp}.json"
    command = [Path(sys.executable).name, "-m", "benchmarks.run", *(sys.argv[1:] if argv is None else argv)]
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    results = {
        "schema": 1,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished": None,
        "command": shlex.join(command),
        "quick": args.quick,
        "machine": machine_facts(),
        "settings": settings,
        "sizes": [],
    }
    deadline = time.monotonic() + args.max_hours * 3600
    earlier = mixes.earlier_exclusions(args.mixes_like)  # size label -> queries left out then (--mixes-like)
    if args.root:
        plan = [("repo" if args.root.resolve() == REPO else args.root.resolve().name, None)]
    else:
        plan = [(str(int(size)), int(size)) for size in args.sizes.split(",") if size.strip()]
    failed = False
    say(f"benchmark -> {out}")
    for label, size in plan:
        if time.monotonic() > deadline:
            results["sizes"].append({"size": label, "skipped": f"--max-hours {args.max_hours} reached"})
            continue
        say(f"== size {label}")
        work = args.work / label
        started = time.monotonic()
        try:
            if size is None:
                root, manifest = args.root.resolve(), None
                generated = None
                if (root / "manifest.json").exists():
                    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
            else:
                root = work / "root"
                generated = generate(size, args.seed, root, work / "logs" / "generate.log")
                manifest = generated["manifest"]
            entry = run_size(label, root, manifest, work, args, earlier.get(label))
            entry["communities"] = size if size is not None else None
            entry["generate"] = {k: v for k, v in (generated or {}).items() if k != "manifest"} or None
            entry["manifest"] = manifest_summary(manifest)
        except (targets.TargetFailed, OSError, RuntimeError, ValueError) as error:
            say(f"!! size {label} failed: {error}")
            entry = {"size": label, "error": str(error), "traceback": traceback.format_exc()[-3000:]}
            failed = True
        except (KeyboardInterrupt, SystemExit):
            results["sizes"].append({"size": label, "error": "interrupted"})
            results["interrupted"] = datetime.now(UTC).isoformat(timespec="seconds")
            write_results(out, results)
            raise
        entry["seconds"] = time.monotonic() - started
        if entry.get("problems"):
            failed = True
            say(f"!! size {label}: " + "; ".join(entry["problems"]))
        results["sizes"].append(entry)
        write_results(out, results)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"]["load_average_at_end"] = os.getloadavg()
    write_results(out, results)
    say(f"results: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
