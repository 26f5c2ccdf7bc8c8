"""Graph names: the named graph each source file is loaded into, and the graphs copgraph keeps for itself (the
ontology, the shapes, the dataset description).

Every layer needs them — the build loads into them, the store's writes and export read them, the remote store refuses
writes to the protected ones — so they live at the bottom, beside the vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from copgraph.core.rdf_io import rdf_files
from copgraph.core.vocab import GRAPH

DATASET_GRAPH = str(GRAPH) + "dataset"


DEFAULT_GRAPH_FILE = "data/default.ttl"  # the store's default graph, when a maintainer has written to it


SHAPES_GRAPH = str(GRAPH) + "shapes"


ONTOLOGY_GRAPH = str(GRAPH) + "ontology"


def source_files(root: Path) -> list[Path]:
    """Every file a build reads: the ontology, the shapes and all the data, in a stable order."""
    return rdf_files([root / "ontology", root / "shapes", root / "data"])


def graph_name(root: Path, path: Path) -> str:
    """The named graph of a source file: /graph/ontology, /graph/shapes, or /graph/<path under data/>."""
    relative = path.resolve().relative_to(root.resolve())
    if relative.parts[0] == "ontology":
        return ONTOLOGY_GRAPH
    if relative.parts[0] == "shapes":
        return SHAPES_GRAPH
    if relative.as_posix() == DEFAULT_GRAPH_FILE:
        return ""
    return str(GRAPH) + relative.relative_to("data").with_suffix("").as_posix()


def graph_node(name: str) -> ox.NamedNode | ox.DefaultGraph:
    return ox.NamedNode(name) if name else ox.DefaultGraph()


# Graphs whose source is several files of the repository: writes may change them in the store, but only an edit of
# those files (and a rebuild) can make such a change last, so `export` cannot write them back.
REPOSITORY_GRAPHS = {ONTOLOGY_GRAPH: "ontology", SHAPES_GRAPH: "shapes"}

