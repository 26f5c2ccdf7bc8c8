"""The store: built from the files, one named graph per file, swapped in whole, never left half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from copgraph.build.pipeline import BuildError, build
from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH
from copgraph.store.generations import current_generation
from copgraph.store.reader import StoreReader, open_dataset
from tests.conftest import NAMELESS_COMMUNITY, copgraph_command

UKFECHAT = "https://w3id.org/copgraph/id/community/ukfechat"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def config_for(root: Path, store: Path) -> Config:
    return Config.from_env(environ={}, root=root, store=store)


def label_of(dataset, iri: str) -> str:
    return next(iter(dataset.query(f"SELECT ?l WHERE {{ <{iri}> <{LABEL}> ?l }}")))["l"].value


def test_every_source_file_has_its_own_named_graph(dataset, repo_root: Path) -> None:
    graphs = {s["g"].value for s in dataset.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    communities = list((repo_root / "data" / "communities").glob("*.ttl"))
    assert "https://w3id.org/copgraph/graph/communities/ukfechat" in graphs
    assert {ONTOLOGY_GRAPH, SHAPES_GRAPH, DATASET_GRAPH, "https://w3id.org/copgraph/graph/platforms"} <= graphs
    assert len([g for g in graphs if "/graph/communities/" in g]) == len(communities)


def test_shapes_are_readable_in_their_own_graph(dataset) -> None:
    ask = f"ASK {{ GRAPH <{SHAPES_GRAPH}> {{ ?shape a <http://www.w3.org/ns/shacl#NodeShape> }} }}"
    assert bool(dataset.query(ask))


def test_default_graph_is_the_union_of_the_named_graphs(dataset) -> None:
    assert label_of(dataset, UKFECHAT) == "#UKFEchat"


def test_store_records_version_and_build_time(dataset) -> None:
    query = f"""SELECT ?v ?t WHERE {{ GRAPH <{DATASET_GRAPH}> {{
        ?d <https://w3id.org/copgraph/def/cop#datasetVersion> ?v ; <http://purl.org/dc/terms/modified> ?t }} }}"""
    solution = next(iter(dataset.query(query)))
    assert solution["v"].value == dataset.version
    assert solution["t"].value == dataset.metadata.built_at
    assert len(dataset.version) == 16


def test_version_is_a_content_hash(scratch_root: Path, tmp_path: Path) -> None:
    first = build(config_for(scratch_root, tmp_path / "a"))
    again = build(config_for(scratch_root, tmp_path / "b"))
    assert first.version == again.version
    path = scratch_root / "data" / "communities" / "ukfechat.ttl"
    path.write_text(path.read_text() + "\n# a comment changes the file\n")
    assert build(config_for(scratch_root, tmp_path / "a")).version != first.version


def test_a_build_with_a_violation_is_refused_and_the_previous_store_kept(scratch_root: Path, tmp_path: Path) -> None:
    config = config_for(scratch_root, tmp_path / "store")
    before = build(config)
    (scratch_root / "data" / "communities" / "nameless.ttl").write_text(NAMELESS_COMMUNITY)
    with pytest.raises(BuildError) as refused:
        build(config)
    assert refused.value.report is not None and not refused.value.report.conforms
    assert open_dataset(config).version == before.version
    assert not list((config.store_dir / "generations").glob(".building-*"))


def test_a_build_with_unreadable_turtle_names_line_and_column(scratch_root: Path, tmp_path: Path) -> None:
    config = config_for(scratch_root, tmp_path / "store")
    (scratch_root / "data" / "broken.ttl").write_text('<http://a> <http://b> "unterminated .\n')
    with pytest.raises(BuildError, match=r"broken\.ttl:1:\d+"):
        build(config)
    assert current_generation(config.store_dir) is None


def test_a_build_killed_half_way_leaves_the_previous_store_serving(scratch_root: Path, tmp_path: Path) -> None:
    config = config_for(scratch_root, tmp_path / "store")
    before = build(config)
    path = scratch_root / "data" / "communities" / "ukfechat.ttl"
    path.write_text(path.read_text().replace('rdfs:label "#UKFEchat"', 'rdfs:label "#UKFEchat renamed"'))
    env = {**os.environ, "COPGRAPH_ROOT": str(scratch_root), "COPGRAPH_STORE": str(config.store_dir)}
    process = subprocess.Popen(copgraph_command("build"), env=env)
    generations = config.store_dir / "generations"
    deadline = time.monotonic() + 60
    while not list(generations.glob(".building-*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert list(generations.glob(".building-*")), "the build was killed while building"

    dataset = open_dataset(config)
    assert dataset.version == before.version
    assert label_of(dataset, UKFECHAT) == "#UKFEchat"

    after = build(config)
    assert after.version != before.version
    assert label_of(open_dataset(config), UKFECHAT) == "#UKFEchat renamed"
    assert not list(generations.glob(".building-*")), "the next build removes the abandoned one"


def test_an_open_reader_keeps_its_version_until_it_asks_again(scratch_root: Path, tmp_path: Path) -> None:
    config = config_for(scratch_root, tmp_path / "store")
    build(config)
    reader = StoreReader(config.store_dir)
    old = reader.current()
    path = scratch_root / "data" / "communities" / "ukfechat.ttl"
    path.write_text(path.read_text().replace('rdfs:label "#UKFEchat"', 'rdfs:label "#UKFEchat renamed"'))
    build(config)
    assert label_of(old, UKFECHAT) == "#UKFEchat"
    assert label_of(reader.current(), UKFECHAT) == "#UKFEchat renamed"


def test_old_generations_are_pruned(scratch_root: Path, tmp_path: Path) -> None:
    config = config_for(scratch_root, tmp_path / "store")
    path = scratch_root / "data" / "communities" / "ukfechat.ttl"
    for n in range(4):
        path.write_text(path.read_text() + f"\n# edit {n}\n")
        build(config, validate=False)
    assert len(list((config.store_dir / "generations").iterdir())) == 2
