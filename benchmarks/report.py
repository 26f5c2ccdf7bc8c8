"""Write docs/benchmarks.md and its plots from a results JSON of benchmarks.run.

    python -m benchmarks.report benchmarks/results/X.json            # docs/benchmarks.md, docs/benchmarks/*.png
    python -m benchmarks.report                                       # the newest file in benchmarks/results/
    python -m benchmarks.report X.json --doc out/bench.md --plots out/plots

The page holds the machine and the command, the targets (each met or missed, with the factor), build and load
rates, disk and memory, a table per size and mix, the canned queries' sequential latencies, SHACL timings and the
plots. Its "Analysis" section is for a person to write: when the page is regenerated, whatever stands between the
analysis markers is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
DOC = REPO / "docs" / "benchmarks.md"
PLOTS = REPO / "docs" / "benchmarks"
ANALYSIS_START = "<!-- analysis:start (kept when this page is regenerated) -->"
ANALYSIS_END = "<!-- analysis:end -->"
ANALYSIS_PLACEHOLDER = "_To be written: what the figures show, why, and what to change._"
MIX_ORDER = ("engine", "light", "record", "record-graph", "repeated", "realistic")

# (name, mix, other target, goal, what it measures)
RATIO_TARGETS = (
    ("Engine-bound queries, uncached", "engine", "oxigraph", 0.9),
    ("Light lookups, uncached", "light", "oxigraph", 0.3),
    ("Record fetches, uncached", "record", "oxigraph", 0.3),
    ("Record fetches, uncached, Oxigraph asked for the same graph", "record-graph", "oxigraph", 0.3),
    ("Repeated query (result cache on)", "repeated", "oxigraph", 2.0),
    ("Realistic mix (result cache on)", "realistic", "oxigraph", 1.0),
    ("Against rdflib-endpoint (engine mix, uncached)", "engine", "rdflib-endpoint", 25.0),
)
VALIDATION_GOAL_MS = 200.0
VALIDATION_SIZE = "100000"
BUILD_GOAL = 0.8
STYLE = {
    "copgraph": {"color": "C0", "marker": "o"},
    "copgraph-cached": {"color": "C0", "marker": "s", "linestyle": "--"},
    "oxigraph": {"color": "C1", "marker": "^"},
    "rdflib-endpoint": {"color": "C2", "marker": "v"},
}


# --- Formatting ----------------------------------------------------------------------------------------------------


def num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def size_bytes(value: int | None) -> str:
    if value is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def size_label(entry: dict) -> str:
    label = str(entry.get("size"))
    return f"{int(label):,}" if label.isdigit() else label


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def measured_sizes(results: dict) -> list[dict]:
    return [entry for entry in results.get("sizes", []) if "build" in entry]


# --- Targets -------------------------------------------------------------------------------------------------------


def mix_ratio(entry: dict, mix: str, other: str) -> tuple[float | None, str]:
    """copgraph's throughput over the other target's in a mix at one size, and a note (partial, lower bound)."""
    measured = entry.get("mixes", {}).get(mix)
    if not measured:
        return None, "not measured"
    got = measured.get("ratios", {}).get(other)
    if not got:
        state = measured.get("targets", {}).get(other)
        if state is None:
            return None, f"{other} not running"
        if state.get("not_measured"):
            return None, f"{other} not measured: {state['not_measured'][:100]}"
        return None, "not measured" if state.get("valid") else f"{other} failed validation"
    notes = []
    same = (measured.get("same_requests") or {}).get(other, {})
    if got.get("partial") and (same.get("ratios") or {}).get(other, {}).get("throughput"):
        # Measured again on exactly the requests the other target answers: that is the like-for-like figure.
        value = same["ratios"][other]["throughput"]
        whole = got.get("throughput") or got.get("throughput_at_least")
        whole_note = f"; copgraph's whole mix against its part: {whole:.2f}×" if whole else ""
        return value, f"the {len(same.get('labels', []))} requests {other} answers, on both{whole_note}"
    if got.get("partial"):
        notes.append("partial mix")
    value = got.get("throughput")
    if value is None and got.get("throughput_at_least"):
        value = got["throughput_at_least"]
        notes.append(f"at least: {other} finished no request")
    return value, ", ".join(notes)


def sequential_ratio(entry: dict) -> tuple[float | None, int]:
    """Oxigraph's median latency over copgraph's, geometric mean over the canned queries both answered (above 1:
    copgraph is faster), and how many queries that is."""
    import math

    logs = []
    for got in entry.get("canned", {}).values():
        mine, theirs = got.get("copgraph", {}).get("median_s"), got.get("oxigraph", {}).get("median_s")
        if mine and theirs:
            logs.append(math.log(theirs / mine))
    if not logs:
        return None, 0
    return math.exp(sum(logs) / len(logs)), len(logs)


def find_validation_median_ms(shacl: dict) -> float | None:
    """The median time to validate one contribution: benchmarks.shacl_bench's `store_context.median_ms`, else a key
    path naming "contribution" and "median" (milliseconds, or seconds when the key says so)."""

    def walk(node: object, path: tuple[str, ...]) -> float | None:
        if isinstance(node, dict):
            for key, value in node.items():
                found = walk(value, (*path, str(key).lower()))
                if found is not None:
                    return found
            return None
        if isinstance(node, int | float) and not isinstance(node, bool):
            joined = "/".join(path)
            if "contribution" in joined and "median" in joined:
                last = path[-1]
                if last.endswith("_s") or "second" in last:
                    return float(node) * 1000
                return float(node)
        return None

    result = shacl.get("result", {})
    if isinstance(result, dict):
        # benchmarks.shacl_bench: a contribution validated in the context of the served store, as the service does.
        median = (result.get("store_context") or {}).get("median_ms")
        if isinstance(median, int | float):
            return float(median)
    return walk(result, ())


def target_rows(results: dict) -> list[list[str]]:
    rows = []
    sizes = measured_sizes(results)
    for name, mix, other, goal in RATIO_TARGETS:
        for entry in sizes:
            value, note = mix_ratio(entry, mix, other)
            verdict = "–" if value is None else ("**met**" if value >= goal else "**missed**")
            rows.append([name, size_label(entry), f"≥ {goal:g}× {other}", ratio(value), verdict, note])
    for entry in sizes:
        value, count = sequential_ratio(entry)
        verdict = "–" if value is None else ("**met**" if value >= 0.9 else "**missed**")
        note = f"geometric mean over the {count} canned queries both answered, one at a time" if count else ""
        rows.append(
            ["Engine-bound queries, sequential", size_label(entry), "≥ 0.9× oxigraph", ratio(value), verdict, note]
        )
    build_rows = (
        ("Build rate vs `oxigraph load` (whole build)", lambda b: b.get("rate_ratio"), "load, dumps, statistics, docs"),
        (
            "Load phase vs `oxigraph load`",
            lambda b: (b.get("load_phase") or {}).get("ratio_default_graph"),
            "copgraph's named graphs, Oxigraph's default graph",
        ),
        (
            "Load phase vs `oxigraph load --graph`",
            lambda b: (b.get("load_phase") or {}).get("ratio_named_graphs"),
            "both into the same named graphs",
        ),
    )
    for name, pick_ratio, note in build_rows:
        for entry in sizes:
            value = pick_ratio(entry["build"])
            verdict = "–" if value is None else ("**met**" if value >= BUILD_GOAL else "**missed**")
            rows.append([name, size_label(entry), f"≥ {BUILD_GOAL:g}×", ratio(value), verdict, note])
    for entry in sizes:
        if str(entry.get("size")) != VALIDATION_SIZE:
            continue
        median = find_validation_median_ms(entry.get("shacl", {}))
        note = entry.get("shacl", {}).get("skipped") or entry.get("shacl", {}).get("error", "")
        verdict = "–" if median is None else ("**met**" if median <= VALIDATION_GOAL_MS else "**missed**")
        factor = "–" if median is None else f"{median:.0f} ms ({median / VALIDATION_GOAL_MS:.2f}× the budget)"
        rows.append(
            [
                "Contribution validation, median",
                size_label(entry),
                f"≤ {VALIDATION_GOAL_MS:g} ms",
                factor,
                verdict,
                note,
            ]
        )
    if not any(str(entry.get("size")) == VALIDATION_SIZE for entry in sizes):
        rows.append(["Contribution validation, median", "100,000", "≤ 200 ms", "–", "–", "size not in this run"])
    return rows


# --- Sections ------------------------------------------------------------------------------------------------------


def machine_section(results: dict, source: Path) -> list[str]:
    machine = results.get("machine", {})
    versions = machine.get("versions", {})
    lines = [
        "## Machine and run",
        "",
        f"- Results: `{os.path.relpath(source, REPO)}` (started {results.get('started')}, finished "
        f"{results.get('finished') or 'not finished'})",
        f"- Command: `{results.get('command')}`",
        f"- CPU: {machine.get('cpu_model')}, {machine.get('logical_cores')} logical cores "
        f"({machine.get('affinity_cores')} usable); RAM {size_bytes(machine.get('ram_bytes'))}; {machine.get('os')}",
        f"- Load average at start {fmt_load(machine.get('load_average_at_start'))}, at end "
        f"{fmt_load(machine.get('load_average_at_end'))} (the machine may be shared: compare ratios measured in the "
        "same run, not absolute figures across runs)",
        f"- copgraph commit `{(machine.get('git_commit') or '?')[:12]}`"
        + (" with uncommitted changes under src/" if machine.get("src_modified_since_commit") else ""),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items() if v),
    ]
    settings = results.get("settings", {})
    keys = (
        "workers",
        "connections",
        "threads",
        "rounds",
        "seconds",
        "warmup",
        "query_reps",
        "max_query_seconds",
        "query_timeout",
        "max_rows",
        "record_equivalent",
        "rdflib_max_triples",
        "no_access_log",
    )
    lines.append("- Settings: " + ", ".join(f"{k}={settings.get(k)}" for k in keys if k in settings))
    lines += [
        "",
        "How it measures (benchmarks/README.md has the details): each mix is first sent once, request by request, to "
        "every server (every answer must be 200 and non-empty), then measured with `wrk` on all servers in the same "
        "run, alternating their order round by round after a warm-up; figures are the median over rounds. "
        f"copgraph is the production server (`copgraph serve`: {copgraph_server(results)}), uncached "
        "(`COPGRAPH_RESULT_CACHE_BYTES=0`, `COPGRAPH_MODEL_CACHE_BYTES=0`) "
        "for the engine, light and record mixes and with its result cache for the repeated and realistic ones. "
        "Oxigraph is `oxigraph serve-read-only --union-default-graph` on copgraph's own store. Ratios are "
        "copgraph's throughput divided by the other server's (above 1: copgraph is faster).",
        "",
    ]
    return lines


def copgraph_server(results: dict) -> str:
    """Which HTTP server copgraph ran under, as its process tree showed it."""
    for entry in results.get("sizes", []):
        info = entry.get("servers", {}).get("copgraph")
        if info:
            names = sorted(set(info.get("processes", [])))
            chosen = info.get("server", "copgraph's default")
            return f"{chosen}, {info.get('workers')} workers; processes {', '.join(names)}"
    return "?"


def fmt_load(value: object) -> str:
    return "–" if not value else " / ".join(f"{x:.2f}" for x in value)


def build_section(sizes: list[dict]) -> list[str]:
    rows = []
    for entry in sizes:
        build = entry["build"]
        cg, ox = build["copgraph"], build["oxigraph_load"]
        named = build.get("oxigraph_load_named") or {}
        phases = cg.get("phases") or {}
        disk = build.get("disk", {})
        rows.append(
            [
                size_label(entry),
                num(cg.get("triples"), 0),
                num(cg.get("seconds"), 2),
                num(cg.get("triples_per_second"), 0),
                " / ".join(num(seconds, 1) for seconds in phases.values()) if phases else "–",
                num(ox.get("seconds"), 2),
                num(ox.get("triples_per_second"), 0),
                num(named.get("seconds"), 2),
                ratio(build.get("rate_ratio")),
                ratio((build.get("load_phase") or {}).get("ratio_default_graph")),
                ratio((build.get("load_phase") or {}).get("ratio_named_graphs")),
                size_bytes((disk.get("copgraph_oxigraph") or {}).get("bytes")),
                size_bytes((disk.get("copgraph_generation") or {}).get("bytes")),
                size_bytes((disk.get("oxigraph_load") or {}).get("bytes")),
            ]
        )
    phase_names = next((" / ".join(p) for e in sizes if (p := e["build"]["copgraph"].get("phases"))), "–")
    return [
        "## Build and load",
        "",
        "`copgraph build --no-validate` (bulk load, one named graph per file, compaction, dumps, statistics and "
        "ontology documentation) against `oxigraph load` of the same files into an empty store (its default graph), "
        "and against `oxigraph load --graph` file by file into the named graphs copgraph uses; triples/s over "
        f"copgraph's triple count. Phases: copgraph's own timings (meta.json: {phase_names}). Ratios: the whole "
        "build, and the load phase alone against each load. Disk: copgraph's RocksDB store, "
        "its whole generation (with dumps and docs), and Oxigraph's.",
        "",
        *table(
            [
                "size (communities)",
                "triples",
                "copgraph build s",
                "triples/s",
                "phases s",
                "oxigraph load s",
                "triples/s",
                "oxigraph load --graph s",
                "build ratio",
                "load phase ratio",
                "load phase ratio, named graphs",
                "copgraph store",
                "copgraph generation",
                "oxigraph store",
            ],
            rows,
        ),
        "",
    ]


def memory_section(sizes: list[dict]) -> list[str]:
    rows = []
    for entry in sizes:
        memory = entry.get("memory", {})
        cells = [size_label(entry)]
        for name in ("copgraph", "copgraph-cached"):
            got = memory.get(name, {})
            per = got.get("per_worker", {})
            cells.append(
                f"{size_bytes(got.get('pss_bytes'))} PSS / {size_bytes(got.get('rss_bytes'))} RSS; per worker "
                f"{size_bytes(per.get('mean_worker_pss_bytes'))} PSS"
                if got
                else "–"
            )
        for name in ("oxigraph", "rdflib-endpoint"):
            got = memory.get(name)
            cells.append(f"{size_bytes(got.get('rss_bytes'))} RSS" if got else "–")
        rows.append(cells)
    return [
        "## Memory",
        "",
        "Resident memory of each server's whole process tree after its mixes: for copgraph the server's master, its "
        "workers and each worker's query process (PSS shares pages between processes, so it adds up; RSS counts them "
        "in each); per worker = a worker with its query process.",
        "",
        *table(["size", "copgraph (uncached)", "copgraph (cached)", "Oxigraph", "rdflib-endpoint"], rows),
        "",
    ]


def mixes_section(sizes: list[dict]) -> list[str]:
    lines = ["## Throughput and latency by size and mix", ""]
    for entry in sizes:
        lines += [
            f"### {size_label(entry)} communities" if str(entry.get("size")).isdigit() else f"### {entry['size']}"
        ]
        lines.append("")
        rdflib = entry.get("rdflib", {})
        if rdflib.get("skipped"):
            lines.append(f"rdflib-endpoint not run: {rdflib['skipped']}.")
        elif rdflib.get("loaded"):
            lines.append(f"rdflib-endpoint loaded the data in {rdflib.get('load_seconds', 0):.1f} s.")
        excluded = entry.get("excluded_queries", {})
        if excluded:
            lines.append("Canned queries left out of the load mixes at this size (too slow or failing): ")
            lines += [f"- `{name}`: {why}" for name, why in sorted(excluded.items())]
        dropped = {k: v for k, v in entry.get("left_out_per_target", {}).items() if v}
        for target, why in dropped.items():
            lines.append(
                f"Left out for {target} only (its ratio is over a partial mix): "
                + "; ".join(f"`{label}` ({reason})" for label, reason in sorted(why.items()))
            )
        lines.append("")
        rows = []
        for mix_name in MIX_ORDER:
            mix = entry.get("mixes", {}).get(mix_name)
            if not mix:
                continue
            for target, measured in mix.get("targets", {}).items():
                med = measured.get("median")
                if not med:
                    state = measured.get("not_measured") or (
                        "failed validation" if not measured.get("valid") else "no run"
                    )
                    rows.append([mix_name, target, "–", "–", "–", "–", "–", state])
                    continue
                got = mix.get("ratios", {}).get(target, {})
                notes = []
                if measured.get("partial"):
                    notes.append("partial")
                if med.get("bad_status") or med.get("socket_errors"):
                    notes.append(f"{med.get('bad_status')} bad statuses, {med.get('socket_errors')} socket errors")
                if got.get("note"):
                    notes.append(got["note"])
                cache = mix.get("copgraph_cache") or {}
                if target.startswith("copgraph") and cache.get("hit") is not None:
                    notes.append(f"result cache {cache['hit']:.0f} hits / {cache['miss']:.0f} misses")
                finished = bool(med["requests_per_second"])
                rows.append(
                    [
                        mix_name,
                        target,
                        num(med["requests_per_second"]),
                        num(med["p50"], 2) if finished else "–",
                        num(med["p95"], 2) if finished else "–",
                        num(med["p99"], 2) if finished else "–",
                        ratio(got.get("throughput")) if not target.startswith("copgraph") else "",
                        "; ".join(notes),
                    ]
                )
        lines += table(["mix", "server", "req/s", "p50 ms", "p95 ms", "p99 ms", "copgraph ÷ server", "notes"], rows)
        lines.append("")
        validation_notes = []
        for mix_name, mix in entry.get("mixes", {}).items():
            validation = mix.get("validation", {})
            for mismatch in validation.get("mismatches", [])[:5]:
                validation_notes.append(f"- {mix_name}: row counts differ: {mismatch}")
            for target, checked in validation.get("targets", {}).items():
                if not checked.get("ok"):
                    first = (checked.get("failures") or [{}])[0]
                    validation_notes.append(
                        f"- {mix_name}: {target} failed {checked.get('failure_count')} of {checked.get('checked')} "
                        f"requests, e.g. `{first.get('label')}` → {first.get('status') or first.get('error')} "
                        f"{str(first.get('body', ''))[:160]}"
                    )
            if not mix.get("complete", True):
                validation_notes.append(f"- {mix_name}: stopped early: {' '.join(str(mix.get('stopped')).split())}")
        if validation_notes:
            lines += ["Validation and run notes:", "", *validation_notes, ""]
    return lines


def canned_section(sizes: list[dict]) -> list[str]:
    names = sorted({name for entry in sizes for name in entry.get("canned", {})})
    if not names:
        return []
    headers = ["query"] + [f"{size_label(e)}: copgraph / Oxigraph ms" for e in sizes]
    rows = []
    for name in names:
        row = [f"`{name}`"]
        for entry in sizes:
            got = entry.get("canned", {}).get(name, {})
            cells = []
            for server in ("copgraph", "oxigraph"):
                timing = got.get(server, {})
                if "median_s" in timing:
                    cells.append(num(timing["median_s"] * 1000, 1))
                elif timing:
                    cells.append(f"failed ({timing.get('status') or 'timeout'})")
                else:
                    cells.append("–")
            flag = " ✱" if got.get("excluded") else ""
            row.append(" / ".join(cells) + flag)
        rows.append(row)
    rdflib_rows = []
    for entry in sizes:
        timings = [
            got.get("rdflib-endpoint", {}).get("median_s")
            for got in entry.get("canned", {}).values()
            if "rdflib-endpoint" in got
        ]
        if timings:
            done = [t for t in timings if t is not None]
            rdflib_rows.append(
                f"- {size_label(entry)}: rdflib-endpoint answered {len(done)} of {len(timings)} canned queries"
                + (f", median of their medians {sorted(done)[len(done) // 2] * 1000:.0f} ms" if done else "")
            )
    return [
        "## Canned queries, one at a time",
        "",
        "Median latency of each canned query (unbound parameters, SPARQL JSON results), sent sequentially after a "
        "warm-up; copgraph uncached. ✱: left out of the load mixes at that size.",
        "",
        *table(headers, rows),
        "",
        *rdflib_rows,
        "",
    ]


def shacl_section(sizes: list[dict]) -> list[str]:
    lines = ["## SHACL validation", ""]
    for entry in sizes:
        shacl = entry.get("shacl", {})
        if "result" in shacl:
            lines += [f"{size_label(entry)}:", "", "```json", json.dumps(shacl["result"], indent=1)[:4000], "```", ""]
        else:
            lines.append(f"- {size_label(entry)}: {shacl.get('skipped') or shacl.get('error') or 'not measured'}")
    lines.append("")
    return lines


# --- Plots ---------------------------------------------------------------------------------------------------------


def plots(results: dict, folder: Path, doc: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = measured_sizes(results)
    if not sizes:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    labels = [size_label(e) for e in sizes]
    xs = list(range(len(sizes)))
    written = []
    mixes_present = [m for m in MIX_ORDER if any(m in e.get("mixes", {}) for e in sizes)]

    def series(mix: str, key: str) -> dict[str, list[float | None]]:
        out: dict[str, list[float | None]] = {}
        for i, entry in enumerate(sizes):
            for target, measured in entry.get("mixes", {}).get(mix, {}).get("targets", {}).items():
                med = measured.get("median")
                out.setdefault(target, [None] * len(sizes))[i] = med.get(key) if med else None
        return out

    for key, name, ylabel in (
        ("requests_per_second", "throughput.png", "requests/s (median of rounds)"),
        ("p50", "latency-p50.png", "p50 latency, ms"),
        ("p95", "latency-p95.png", "p95 latency, ms"),
    ):
        if not mixes_present:
            break
        fig, axes = plt.subplots(1, len(mixes_present), figsize=(4 * len(mixes_present), 3.6), squeeze=False)
        for ax, mix in zip(axes[0], mixes_present, strict=True):
            for target, values in sorted(series(mix, key).items()):
                points = [(x, v) for x, v in zip(xs, values, strict=True) if v]
                if points:
                    ax.plot([p[0] for p in points], [p[1] for p in points], label=target, **STYLE.get(target, {}))
            ax.set_title(mix)
            ax.set_xticks(xs, labels, rotation=30)
            ax.set_yscale("log")
            ax.set_xlabel("communities")
            ax.grid(True, which="both", alpha=0.3)
        axes[0][0].set_ylabel(ylabel)
        handles = {}
        for ax in axes[0]:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, handle)
        fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=len(handles), fontsize="small")
        fig.tight_layout(rect=(0, 0, 1, 0.9))
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append(name)

    names = sorted({n for e in sizes for n in e.get("canned", {})})
    if names:
        fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
        for ax, server in zip(axes, ("copgraph", "oxigraph"), strict=True):
            for query in names:
                values = [e.get("canned", {}).get(query, {}).get(server, {}).get("median_s") for e in sizes]
                points = [(x, v * 1000) for x, v in zip(xs, values, strict=True) if v]
                if points:
                    ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=query)
            ax.set_title(f"canned queries on {server}, sequential median")
            ax.set_xticks(xs, labels, rotation=30)
            ax.set_yscale("log")
            ax.set_xlabel("communities")
            ax.grid(True, which="both", alpha=0.3)
        axes[0].set_ylabel("latency, ms")
        axes[1].legend(fontsize="x-small", ncol=1, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.tight_layout()
        fig.savefig(folder / "canned-latency.png", dpi=110)
        plt.close(fig)
        written.append("canned-latency.png")

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for key, label in (("copgraph", "copgraph build --no-validate"), ("oxigraph_load", "oxigraph load")):
        values = [e["build"].get(key, {}).get("triples_per_second") for e in sizes]
        points = [(x, v) for x, v in zip(xs, values, strict=True) if v]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set_xticks(xs, labels, rotation=30)
    ax.set_yscale("log")
    ax.set_ylabel("triples/s")
    ax.set_xlabel("communities")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(folder / "build-rate.png", dpi=110)
    plt.close(fig)
    written.append("build-rate.png")
    relative = os.path.relpath(folder, doc.parent)
    return ["## Plots", "", *[f"![{name}]({relative}/{name})" for name in written], ""]


# --- The page ------------------------------------------------------------------------------------------------------


def kept_analysis(doc: Path) -> str:
    if not doc.exists():
        return ANALYSIS_PLACEHOLDER
    text = doc.read_text(encoding="utf-8")
    if ANALYSIS_START in text and ANALYSIS_END in text:
        kept = text.split(ANALYSIS_START, 1)[1].split(ANALYSIS_END, 1)[0].strip()
        return kept or ANALYSIS_PLACEHOLDER
    return ANALYSIS_PLACEHOLDER


def render(results: dict, source: Path, doc: Path, plot_folder: Path) -> str:
    sizes = measured_sizes(results)
    failed = [e for e in results.get("sizes", []) if "build" not in e]
    lines = [
        "# copgraph benchmarks",
        "",
        f"Generated by `python -m benchmarks.report {os.path.relpath(source, REPO)}` from a run of "
        "`python -m benchmarks.run` (issue 5). Everything but the Analysis section is regenerated.",
        "",
        *machine_section(results, source),
        "## Targets",
        "",
        "Each target at each size, met or missed, with the factor measured (copgraph's throughput ÷ the other "
        "server's, from the table of that size and mix).",
        "",
        *table(["target", "size", "goal", "measured", "verdict", "note"], target_rows(results)),
        "",
    ]
    if failed:
        lines += ["Sizes that did not complete:", ""]
        lines += [f"- {e.get('size')}: {e.get('error') or e.get('skipped')}" for e in failed]
        lines.append("")
    problems = [(e["size"], " ".join(p.split())) for e in sizes for p in e.get("problems", [])]
    if problems:
        lines += ["Problems recorded by the run:", ""] + [f"- {s}: {p}" for s, p in problems] + [""]
    lines += build_section(sizes)
    lines += memory_section(sizes)
    lines += mixes_section(sizes)
    lines += canned_section(sizes)
    lines += shacl_section(sizes)
    lines += plots(results, plot_folder, doc)
    lines += ["## Analysis", "", ANALYSIS_START, "", kept_analysis(doc), "", ANALYSIS_END, ""]
    return "\n".join(lines)


def newest_results() -> Path:
    found = sorted(RESULTS.glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit("no results in benchmarks/results/: run `python -m benchmarks.run` first")
    return found[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "results", nargs="?", type=Path, help="results JSON (default: the newest in benchmarks/results)"
    )
    parser.add_argument("--doc", type=Path, default=DOC, help="the page to write (default docs/benchmarks.md)")
    parser.add_argument("--plots", type=Path, help="folder for the PNGs (default: benchmarks/ beside the page)")
    args = parser.parse_args(argv)
    source = (args.results or newest_results()).resolve()
    results = json.loads(source.read_text(encoding="utf-8"))
    doc = args.doc.resolve()
    plot_folder = (args.plots or doc.parent / doc.stem).resolve()
    text = render(results, source, doc, plot_folder)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
    print(f"wrote {doc} and plots in {plot_folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
