"""The load driver: wrk walking a precomputed request list, and the alternating comparison of several targets.

- `validate` sends every distinct request of a mix once, in order, to every target (status 200 and a non-empty body
  required) and compares the row counts of SELECT answers between targets: a mix is only measured on the targets
  where every request succeeds, and the failures are returned (and printed) instead of being measured as errors.
- `run_wrk` writes a Lua script holding the requests (each wrk thread starts at its own offset and wraps around),
  runs `wrk -t2 -cC -dD --latency --timeout T -s script.lua URL` and reads the JSON its `done()` hook prints:
  requests, duration, bytes, socket errors, answers with status >= 400 (counted by a `response()` hook, by status),
  latency p50/p90/p95/p99/max.
- `compare` runs one mix on several targets in one run, alternating their order round by round (A B C, B C A,
  C A B, ...) after a warm-up of each, and reports per target the median over rounds of throughput and latency
  percentiles, and the ratio of the reference target (copgraph) to each other target. It is bounded: a number of
  rounds and a deadline, after which it stops and says so.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests as http

from benchmarks.mixes import Request

WRK = shutil.which("wrk") or "/usr/bin/wrk"
MARKER = "BENCH_JSON "


@dataclass
class Endpoint:
    """One target of a comparison: its name, base URL and the mix rendered for it."""

    name: str
    base_url: str
    requests: list[Request]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- Validation ----------------------------------------------------------------------------------------------------


def _key(request: Request) -> tuple:
    return (request.method, request.path, tuple(sorted(request.headers.items())), request.body)


def _unique(requests: list[Request]) -> list[Request]:
    seen, out = set(), []
    for request in requests:
        key = _key(request)
        if key not in seen:
            seen.add(key)
            out.append(request)
    return out


def send(base_url: str, request: Request, timeout: float) -> http.Response:
    return http.request(
        request.method, base_url + request.path, headers=request.headers, data=request.body, timeout=timeout
    )


def _rows(response: http.Response) -> int | None:
    try:
        return len(response.json()["results"]["bindings"])
    except (ValueError, KeyError, TypeError):
        return None


def validate(endpoints: list[Endpoint], timeout: float = 300, limit: int | None = None) -> dict:
    """Every distinct request once per target, sequentially. Returns per target: ok, checked, failures (label,
    status, snippet), seconds; and row-count mismatches of SELECT answers between targets (by operation).
    `report["failed"][name]` is the set of the failed requests' keys (not JSON: the caller removes it)."""
    report: dict = {"targets": {}, "mismatches": [], "failed": {}}
    rows: dict[str, dict[str, tuple[str, int | None]]] = {}
    for endpoint in endpoints:
        unique = _unique(endpoint.requests)[:limit]
        failures, counts, failed, start = [], {}, set(), time.monotonic()
        for request in unique:
            try:
                response = send(endpoint.base_url, request, timeout)
            except http.RequestException as error:
                failures.append({"label": request.label, "path": request.path[:200], "error": str(error)[:300]})
                failed.add(_key(request))
                continue
            if response.status_code != 200 or not response.content:
                failed.add(_key(request))
                failures.append(
                    {
                        "label": request.label,
                        "path": request.path[:200],
                        "status": response.status_code,
                        "body": response.text[:300],
                    }
                )
            if request.form == "select" and response.status_code == 200:
                counts[request.op_id] = (request.label, _rows(response))
        rows[endpoint.name] = counts
        report["failed"][endpoint.name] = failed
        report["targets"][endpoint.name] = {
            "ok": not failures,
            "checked": len(unique),
            "failures": failures[:20],
            "failure_count": len(failures),
            "seconds": time.monotonic() - start,
        }
        if failures:
            say(f"  !! {endpoint.name}: {len(failures)} of {len(unique)} requests failed validation: {failures[0]}")
    names = list(rows)
    for other in names[1:]:
        for op_id, (label, mine) in rows[names[0]].items():
            theirs = rows[other].get(op_id, (label, None))[1]
            if mine is not None and theirs is not None and mine != theirs:
                report["mismatches"].append({"label": label, names[0]: mine, other: theirs})
    if report["mismatches"]:
        say(f"  !! row counts differ between targets: {report['mismatches'][:5]}")
    return report


# --- wrk -----------------------------------------------------------------------------------------------------------


def lua_string(value: str | bytes) -> str:
    """A Lua (5.1 / LuaJIT) string literal for any bytes: printable ASCII kept, everything else as \\ddd."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    out = []
    for byte in data:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


LUA_TEMPLATE = r"""-- generated by benchmarks/driver.py: walks a precomputed request list
local NTHREADS = %(threads)d
local specs = {
%(specs)s
}
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local formatted = {}
local index = 1
bad = 0
answered = 0
codes = {}

function init(args)
  for i, spec in ipairs(specs) do
    local headers = {}
    for k, v in pairs(spec[3]) do headers[k] = v end
    formatted[i] = wrk.format(spec[1], spec[2], headers, spec[4])
  end
  local n = #formatted
  index = (math.floor((tid - 1) * n / NTHREADS) %% n) + 1
end

function request()
  local r = formatted[index]
  index = index + 1
  if index > #formatted then index = 1 end
  return r
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 400 then
    bad = bad + 1
    local key = tostring(status)
    codes[key] = (codes[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad_total, answered_total, code_parts = 0, 0, {}
  local merged = {}
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    answered_total = answered_total + (t:get("answered") or 0)
    local c = t:get("codes")
    if c then for k, v in pairs(c) do merged[k] = (merged[k] or 0) + v end end
  end
  for k, v in pairs(merged) do table.insert(code_parts, string.format('"%%s":%%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"bad_status":%%d,"answered":%%d,"bad_codes":{%%s},' ..
    '"latency_us":{"min":%%d,"mean":%%.1f,"stdev":%%.1f,"p50":%%d,"p90":%%d,"p95":%%d,"p99":%%d,"max":%%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    bad_total, answered_total, table.concat(code_parts, ","),
    latency.min, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def lua_script(requests: list[Request], threads: int) -> str:
    specs = []
    for request in requests:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in request.headers.items())
        body = lua_string(request.body) if request.body is not None else "nil"
        specs.append(f"  {{{lua_string(request.method)}, {lua_string(request.path)}, {{{headers}}}, {body}}},")
    return LUA_TEMPLATE % {"threads": threads, "specs": "\n".join(specs), "marker": MARKER}


def run_wrk(
    base_url: str,
    requests: list[Request],
    *,
    seconds: float,
    connections: int = 8,
    threads: int = 2,
    timeout_s: float = 60,
    workdir: Path | None = None,
) -> dict:
    """One wrk run of `seconds` over the request list. Returns the parsed summary with req/s and latencies in ms;
    raises RuntimeError if wrk fails or prints no summary."""
    if not requests:
        raise ValueError("an empty request list")
    threads = max(1, min(threads, connections))
    workdir = workdir or Path(tempfile.mkdtemp(prefix="copgraph-wrk-"))
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "mix.lua"
    script.write_text(lua_script(requests, threads), encoding="utf-8")
    command = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        f"{max(1, round(timeout_s))}s",
        "-s",
        str(script),
        base_url,
    ]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + timeout_s + 30, start_new_session=True
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"wrk did not finish within {seconds + timeout_s + 30:.0f} s") from None
    line = next((x for x in completed.stdout.splitlines() if x.startswith(MARKER)), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr[-500:]} {completed.stdout[-500:]}")
    raw = json.loads(line[len(MARKER) :])
    duration = raw["duration_us"] / 1e6
    lat = raw["latency_us"]
    socket_errors = sum(v for k, v in raw["errors"].items() if k != "status")
    return {
        "requests": raw["requests"],
        "seconds": duration,
        "requests_per_second": raw["requests"] / duration if duration else 0.0,
        "bytes": raw["bytes"],
        "bytes_per_second": raw["bytes"] / duration if duration else 0.0,
        "errors": raw["errors"],
        "socket_errors": socket_errors,
        "bad_status": raw["bad_status"],
        "bad_codes": raw["bad_codes"],
        "latency_ms": {k: (v / 1000.0) for k, v in lat.items()},
        "command": " ".join(command[:-3] + [script.name, base_url]),
    }


# --- Comparison ----------------------------------------------------------------------------------------------------


METRICS = ("requests_per_second", "p50", "p95", "p99", "max")


def _metric(run: dict, key: str) -> float:
    return run["requests_per_second"] if key == "requests_per_second" else run["latency_ms"][key]


def compare(
    endpoints: list[Endpoint],
    *,
    reference: str,
    rounds: int = 3,
    seconds: float = 10,
    warmup: float = 3,
    connections: int = 8,
    threads: int = 2,
    timeout_s: float = 60,
    deadline: float | None = None,
    workdir: Path | None = None,
    validate_first: bool = True,
    settle: Callable[[str], None] | None = None,
) -> dict:
    """Validate, then measure every valid endpoint `rounds` times, alternating the order each round.

    Returns {"validation", "targets": {name: {"runs": [...], "median": {...}, "valid": bool}}, "ratios": {name:
    {"throughput": ref/target, "p50": target/ref}}, "complete": bool, "stopped": reason}. `deadline` is a
    time.monotonic() value after which no further wrk run starts. `settle(name)`, called after each run, may wait
    until that target has finished what its clients abandoned (so it does not slow the next target's run)."""
    result: dict = {
        "settings": {
            "rounds": rounds,
            "seconds": seconds,
            "warmup": warmup,
            "connections": connections,
            "threads": threads,
            "timeout_s": timeout_s,
        },
        "targets": {},
        "ratios": {},
        "complete": True,
    }
    partial: dict[str, dict] = {}
    if validate_first:
        validation = validate(endpoints, timeout=timeout_s)
        failed = validation.pop("failed")
        result["validation"] = validation
        valid = []
        for endpoint in endpoints:
            bad = failed[endpoint.name]
            if not bad:
                valid.append(endpoint)
                continue
            kept = [r for r in endpoint.requests if _key(r) not in bad]
            unique = len(_unique(endpoint.requests))
            # The reference must answer everything; another target that fails a few requests is measured on the
            # rest and flagged as partial (its ratio is then over a different mix), never measured on errors.
            if endpoint.name != reference and kept and len(bad) * 2 <= unique:
                labels = sorted({r.label for r in endpoint.requests if _key(r) in bad})
                partial[endpoint.name] = {"dropped_unique": len(bad), "of_unique": unique, "labels": labels}
                valid.append(Endpoint(endpoint.name, endpoint.base_url, kept))
                say(f"  !! {endpoint.name} measured WITHOUT {len(bad)} of {unique} requests it fails: {labels}")
            else:
                say(f"  !! {endpoint.name} is NOT measured on this mix: {len(bad)} of {unique} requests fail")
    else:
        valid = list(endpoints)
    names = {e.name for e in valid}
    for endpoint in endpoints:
        result["targets"][endpoint.name] = {"valid": endpoint.name in names, "runs": [], "warmup": None}
        if endpoint.name in partial:
            result["targets"][endpoint.name]["partial"] = partial[endpoint.name]
    if reference not in names:
        result["complete"] = False
        result["stopped"] = f"the reference target {reference} failed validation: nothing measured"
        say(f"  !! {result['stopped']}")
        return result

    def out_of_time(planned: float) -> bool:
        return deadline is not None and time.monotonic() + planned + 5 > deadline

    def one(endpoint: Endpoint, duration: float) -> dict:
        retried = ""
        for attempt in (1, 2):
            try:
                run = run_wrk(
                    endpoint.base_url,
                    endpoint.requests,
                    seconds=duration,
                    connections=connections,
                    threads=threads,
                    timeout_s=timeout_s,
                    workdir=(workdir / endpoint.name) if workdir else None,
                )
                if attempt == 2:
                    run["retried"] = retried
                return run
            except RuntimeError as error:
                # wrk could not connect at all: once, retry after a pause if the server still answers.
                if attempt == 2 or "unable to connect" not in str(error) or not _answers(endpoint.base_url):
                    raise
                retried = f"{str(error)[:200]}; {_socket_summary()}"
                say(f"  !! {endpoint.name}: {retried}; retrying once")
                time.sleep(2)
            finally:
                if settle is not None:
                    settle(endpoint.name)
        raise AssertionError("unreachable")

    try:
        if warmup > 0:
            for endpoint in valid:
                if out_of_time(warmup):
                    raise TimeoutError("deadline reached during warm-up")
                result["targets"][endpoint.name]["warmup"] = _brief(one(endpoint, warmup))
        for round_index in range(rounds):
            order = valid[round_index % len(valid) :] + valid[: round_index % len(valid)]
            for endpoint in order:
                if out_of_time(seconds):
                    raise TimeoutError(f"deadline reached in round {round_index + 1}")
                run = one(endpoint, seconds)
                run["round"] = round_index + 1
                result["targets"][endpoint.name]["runs"].append(run)
                lat = run["latency_ms"]
                flag = f"  !! {run['bad_status']} bad status {run['bad_codes']}" if run["bad_status"] else ""
                flag += f"  !! socket errors {run['errors']}" if run["socket_errors"] else ""
                say(
                    f"    round {round_index + 1} {endpoint.name:<16} {run['requests_per_second']:9.1f} req/s  "
                    f"p50 {lat['p50']:8.2f} ms  p95 {lat['p95']:8.2f} ms  p99 {lat['p99']:8.2f} ms{flag}"
                )
    except TimeoutError as error:
        result["complete"] = False
        result["stopped"] = str(error)
        say(f"  !! {error}: stopping this comparison")
    except RuntimeError as error:
        result["complete"] = False
        result["stopped"] = f"wrk failed: {error}"
        say(f"  !! wrk failed: {error}")

    for entry in result["targets"].values():
        runs = entry["runs"]
        if runs:
            entry["median"] = {key: statistics.median(_metric(r, key) for r in runs) for key in METRICS}
            entry["median"]["bad_status"] = sum(r["bad_status"] for r in runs)
            entry["median"]["socket_errors"] = sum(r["socket_errors"] for r in runs)
            entry["median"]["requests"] = sum(r["requests"] for r in runs)
    ref = result["targets"].get(reference, {}).get("median")
    for name, entry in result["targets"].items():
        theirs = entry.get("median")
        if name == reference or not ref or not theirs:
            continue
        ratio = {
            "partial": name in partial,
            "throughput": ref["requests_per_second"] / theirs["requests_per_second"]
            if theirs["requests_per_second"]
            else None,
            "p50": theirs["p50"] / ref["p50"] if ref["p50"] else None,
            "p95": theirs["p95"] / ref["p95"] if ref["p95"] else None,
        }
        if not theirs["requests_per_second"]:
            # It finished nothing within a run: had it finished one request, the ratio would have been this.
            ratio["throughput_at_least"] = ref["requests_per_second"] * seconds
            ratio["note"] = f"{name} completed no request within a {seconds:g} s run"
        result["ratios"][name] = ratio
    return result


def _answers(base_url: str) -> bool:
    try:
        http.get(base_url + "/", timeout=10)
        return True
    except http.RequestException:
        return False


def _socket_summary() -> str:
    try:
        return " ".join(subprocess.run(["ss", "-s"], capture_output=True, text=True, timeout=5).stdout.split()[:40])
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _brief(run: dict) -> dict:
    return {
        "requests_per_second": run["requests_per_second"],
        "p50_ms": run["latency_ms"]["p50"],
        "bad_status": run["bad_status"],
    }
