"""SHACL timings at one size (issue 5): one contribution validated in the context of the published data, two ways.

- **store context** (`copgraph.build.shacl.StoreContextValidator`, what the web service uses): pyshacl over the
  contribution and its neighbourhood read from the built store;
- **whole graph** (`copgraph.build.shacl.Validator`, what `copgraph validate` and the build use): pyshacl over the
  contribution merged with every ontology and data file. Its unique-handle rule compares every pair of presences on a
  platform, so its cost grows with the square of the data: it is run only up to `WHOLE_GRAPH_MAX_COMMUNITIES`.

The validator is pyshacl in both (`inference="none"`, rdflib's SPARQL engine for the SHACL-SPARQL rules, each rule's
text parsed once). Every contribution comes from benchmarks.generate.make_contribution and must conform; one broken
contribution must not, or the measurement is refused.

    python -m benchmarks.shacl_bench ROOT [--store STORE] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pyoxigraph as ox

from benchmarks.generate import load_manifest, make_contribution, make_invalid_contribution
from copgraph.build.shacl import StoreContextValidator, Validator, load_shapes

RUNS = 15
WHOLE_GRAPH_MAX_COMMUNITIES = 1000


def _quads(turtle: str) -> list[ox.Quad]:
    return list(ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE))


def _timed(validate, turtle: str) -> tuple[float, bool]:  # noqa: ANN001
    quads = _quads(turtle)
    start = time.perf_counter()
    report = validate(quads)
    return time.perf_counter() - start, report.conforms


def _summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {"runs": len(ms), "median_ms": round(statistics.median(ms), 1), "min_ms": round(ms[0], 1),
            "max_ms": round(ms[-1], 1)}  # fmt: skip


def measure(root: Path, manifest: dict | None, store: Path | None = None, runs: int = RUNS) -> dict:
    root = Path(root)
    manifest = manifest or load_manifest(root)
    store = Path(store) if store else root.parent / "store"
    generation = (store / "current").resolve() / "oxigraph"
    result: dict = {"validator": f"pyshacl {_version('pyshacl')} (rdflib {_version('rdflib')})"}

    opened = time.perf_counter()
    shapes = load_shapes(root)
    focused = StoreContextValidator(ox.Store.read_only(str(generation)), shapes, root)
    focused.handles()  # its per-store index of handles, built once per dataset version in the service
    result["store_context_setup_s"] = round(time.perf_counter() - opened, 3)
    bad_seconds, bad_conforms = _timed(focused.validate_quads, make_invalid_contribution(manifest, 0))
    if bad_conforms:
        raise RuntimeError("the broken contribution passed the store-context validator: refusing to time it")
    _timed(focused.validate_quads, make_contribution(manifest, 0))  # warm-up: rdflib's query parse cache
    timings = []
    for index in range(1, runs + 1):
        seconds, conforms = _timed(focused.validate_quads, make_contribution(manifest, index))
        if not conforms:
            raise RuntimeError(f"contribution {index} failed the store-context validator")
        timings.append(seconds)
    result["store_context"] = _summary(timings) | {"invalid_ms": round(bad_seconds * 1000, 1)}

    communities = manifest["communities"]
    if communities > WHOLE_GRAPH_MAX_COMMUNITIES:
        result["whole_graph"] = {
            "skipped": f"{communities} communities: the whole-graph validator's unique-handle rule compares every pair "
            f"of presences on a platform (quadratic); it is measured up to {WHOLE_GRAPH_MAX_COMMUNITIES}"
        }
        return result
    start = time.perf_counter()
    whole = Validator(root)
    result["whole_graph_setup_s"] = round(time.perf_counter() - start, 3)
    seconds, conforms = _timed(whole.validate_quads, make_contribution(manifest, 1))
    result["whole_graph"] = {"runs": 1, "median_ms": round(seconds * 1000, 1), "conforms": conforms}
    return result


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    print(json.dumps(measure(args.root, None, args.store, args.runs), indent=2))


if __name__ == "__main__":
    main()
