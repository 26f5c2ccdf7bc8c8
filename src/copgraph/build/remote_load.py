"""`copgraph build` for a remote store (COPGRAPH_REMOTE_QUERY_URL / _UPDATE_URL): the repository's files validated
exactly as the embedded build validates them, then sent graph by graph as SPARQL Update requests.

A remote store cannot be swapped whole as a store generation is, so the load is not atomic: readers may see old and
new graphs side by side while it runs. The /graph/dataset description is written last, so the version (and with it
every cache and ETag) changes only once all the graphs are in.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyoxigraph as ox

from copgraph.build.pipeline import BuildError, dataset_version, validated_sources
from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH, graph_name
from copgraph.core.rdf_io import RdfInputError, read_rdf_file
from copgraph.query.executor import QueryTimeout, StoreUnavailable
from copgraph.query.remote import RemoteDataset
from copgraph.query.remote_client import RemoteStore
from copgraph.query.remote_text import inserting, replacing
from copgraph.store.generations import Metadata, dataset_quads

# Triples per update request when a build sends a large graph.
CHUNK_TRIPLES = 10_000


def load(config: Config, *, validate: bool = True) -> Metadata:
    """`copgraph build` for a remote store: validate the repository's files exactly as the embedded build does, then
    replace each of their graphs in the remote store, drop the graphs of the previous build that no file gives any
    more, and write the /graph/dataset description last. Raises BuildError (nothing is sent if validation fails).

    Not atomic: one update request per graph (per chunk of CHUNK_TRIPLES for a large graph without blank nodes, whose
    labels only hold within one request), so readers can see old and new graphs together while it runs.
    """
    if not config.remote_update_url:
        raise BuildError("a remote build needs the store's update URL: set COPGRAPH_REMOTE_UPDATE_URL")
    root = config.root
    files = validated_sources(root, validate)
    graphs: dict[str, str] = {}
    contents: dict[str, set[ox.Triple]] = {}
    for path in files:
        own = graph_name(root, path)
        graphs[own] = path.resolve().relative_to(root.resolve()).as_posix()
        try:
            quads = read_rdf_file(path).quads
        except RdfInputError as error:
            raise BuildError(str(error)) from None
        contents.setdefault(own, set())
        for quad in quads:
            name = own if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            contents.setdefault(name, set()).add(quad.triple)
    version = dataset_version(root, files)
    built_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    triples = sum(len(graph) for graph in contents.values())
    description = [q.triple for q in dataset_quads(version, built_at, triples, graphs)]
    dataset = RemoteDataset(RemoteStore(config.remote_query_url, config.remote_update_url, config.query_timeout))
    try:
        previous = dataset.metadata.graphs
        for name, graph in contents.items():
            for number, chunk in enumerate(_chunks(sorted(graph, key=str))):
                dataset.client.update((replacing if number == 0 else inserting)(name or None, chunk))
        for stale in sorted(set(previous) - set(contents)):
            dataset.client.update(f"DROP SILENT GRAPH <{stale}>")
        dataset.client.update(replacing(DATASET_GRAPH, description))
    except (StoreUnavailable, QueryTimeout, SyntaxError) as error:
        raise BuildError(
            f"loading into the remote store stopped: {error} A remote build is not atomic: run it again once the "
            "store answers."
        ) from None
    return Metadata(version=version, built_at=built_at, triples=triples, graphs=graphs)


def _chunks(triples: list[ox.Triple]) -> list[list[ox.Triple]]:
    """Update-sized pieces of a graph; one piece if it has blank nodes, which would split in two across requests."""
    if len(triples) <= CHUNK_TRIPLES or any(isinstance(term, ox.BlankNode) for t in triples for term in t):
        return [triples]
    return [triples[start : start + CHUNK_TRIPLES] for start in range(0, len(triples), CHUNK_TRIPLES)]

