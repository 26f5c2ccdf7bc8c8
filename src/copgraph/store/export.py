"""`copgraph export`: maintainers' writes to the embedded store, written back to the repository's files.

A write changes only the served store; the files under data/ stay the source the next build reads. Export compares
each graph of the served generation with the file it was built from (canonicalised, so that blank node labels and
Oxigraph's normalised literals do not count as changes) and rewrites the files that differ, so git records them.
`copgraph build` refuses while such writes are unexported (`graphs_differing_from_files`), so none is lost silently.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pyoxigraph as ox

from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH, DEFAULT_GRAPH_FILE, REPOSITORY_GRAPHS, graph_name
from copgraph.core.rdf_io import FORMATS, as_bytes, rdf_files
from copgraph.core.vocab import GRAPH, PREFIXES
from copgraph.store.generations import StoreMissing, current_generation


class ExportRefused(Exception):
    """Some graphs could not be written back to their files; `written` lists the files that were."""

    def __init__(self, message: str, written: list[Path]):
        super().__init__(message)
        self.written = written


def _canonical(quads: list[ox.Quad]) -> ox.Dataset:
    """The triples as the store holds them, canonicalised: Oxigraph normalises some literals as it stores them
    (e.g. xsd:nonNegativeInteger comes back as xsd:integer), and blank node labels differ between parses."""
    stored = ox.Store()
    stored.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    dataset = ox.Dataset(stored)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def _file_graphs(config: Config) -> dict[str, tuple[Path, list[ox.Quad]]]:
    """The source files' contents by graph name ("" for the default graph); for the ontology and shapes graphs, the
    path is their folder."""
    files: dict[str, tuple[Path, list[ox.Quad]]] = {}
    for name, folder in REPOSITORY_GRAPHS.items():
        quads = [q for path in rdf_files([config.root / folder]) for q in ox.parse(path=str(path))]
        files[name] = (config.root / folder, quads)
    for path in rdf_files([config.root / "data"]):
        own = graph_name(config.root, path)
        for quad in ox.parse(path=str(path), format=FORMATS[path.suffix]):
            name = own if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            files.setdefault(name, (path, []))[1].append(quad)
    return files


def _store_graphs(store: ox.Store) -> dict[str, list[ox.Quad]]:
    graphs: dict[str, list[ox.Quad]] = {}
    for quad in store:
        name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        if name != DATASET_GRAPH:  # rewritten by every build and write
            graphs.setdefault(name, []).append(quad)
    return graphs


def graphs_differing_from_files(config: Config) -> dict[str, list[ox.Quad]]:
    """Graphs of the served store whose triples differ from their file under data/ (missing ones: empty list)."""
    current = current_generation(config.store_dir)
    if current is None:
        raise StoreMissing(f"no store at {config.store_dir}: run `copgraph build` first")
    store = ox.Store.read_only(str(current / "oxigraph"))
    in_store, in_files = _store_graphs(store), _file_graphs(config)
    differing: dict[str, list[ox.Quad]] = {}
    for name in set(in_store) | set(in_files):
        stored = in_store.get(name, [])
        filed = in_files[name][1] if name in in_files else []
        if len(stored) != len(filed) or _canonical(stored) != _canonical(filed):
            differing[name] = stored
    return differing


def export_path(config: Config, name: str) -> Path:
    """Where a graph is written back to: its own file, or one named after the graph."""
    if not name:
        return config.root / DEFAULT_GRAPH_FILE
    prefix = str(GRAPH)
    if name.startswith(prefix) and re.fullmatch(r"[a-z0-9][a-z0-9/_-]*", name[len(prefix) :]):
        return config.root / "data" / f"{name[len(prefix) :]}.ttl"
    return config.root / "data" / "external" / f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.trig"


def export(config: Config) -> list[Path]:
    """Write every data graph that differs from its file back under data/ (so git records it); returns the files.

    Raises ExportRefused, after writing the data graphs, if the ontology or shapes graphs differ: those change only
    by editing their files (then `copgraph build --discard-writes` reloads them).
    """
    written = []
    files = _file_graphs(config)
    differing = graphs_differing_from_files(config)
    for name, quads in sorted(differing.items()):
        if name in REPOSITORY_GRAPHS:
            continue
        path = files[name][0] if name in files else export_path(config, name)
        if not quads:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".trig":
                body = as_bytes(ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES))
            else:
                body = as_bytes(ox.serialize([q.triple for q in quads], format=FORMATS[path.suffix], prefixes=PREFIXES))
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_bytes(body)
            os.replace(temporary, path)
        written.append(path)
    unexportable = sorted(REPOSITORY_GRAPHS[name] + "/" for name in differing if name in REPOSITORY_GRAPHS)
    if unexportable:
        raise ExportRefused(
            f"writes changed the graphs loaded from {' and '.join(unexportable)}, which cannot be written back: edit "
            "those files instead, then run `copgraph build --discard-writes`.",
            written,
        )
    return written

