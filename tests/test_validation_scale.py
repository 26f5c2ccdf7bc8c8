"""The store-context validator (validate.StoreContextValidator): what the web service validates contributions with.

It reads only the neighbourhood of a contribution from the store instead of parsing all of data/, so it must reach
the verdict the whole-graph Validator reaches. Every example in tests/invalid must fire the shape its header names
(with the expected message) and nothing else; every example in tests/valid must conform; and a sample of examples
must give exactly the results (shape, focus node) the whole-graph Validator gives.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from copgraph.build.shacl import StoreContextValidator, Validator, load_shapes
from copgraph.core.rdf_io import read_rdf_file
from copgraph.store.reader import Dataset

ROOT = Path(__file__).resolve().parents[1]
INVALID = sorted((ROOT / "tests" / "invalid").glob("*.ttl"))
VALID = sorted((ROOT / "tests" / "valid").glob("*.ttl"))


@pytest.fixture(scope="module")
def store_validator(dataset: Dataset) -> StoreContextValidator:
    return StoreContextValidator(dataset.store, load_shapes(ROOT), ROOT)


def header(path: Path, name: str) -> str:
    match = re.search(rf"^# {name}: (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} has no '# {name}:' header"
    return match.group(1).strip()


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_each_invalid_example_fires_its_shape(store_validator: StoreContextValidator, path: Path) -> None:
    report = store_validator.validate_quads(read_rdf_file(path).quads)
    assert not report.conforms, f"{path.name} passed the store-context validator"
    shapes = {r.source_shape for r in report.results}
    assert shapes == {header(path, "shape")}, report.to_text()
    assert any(header(path, "expect") in r.message for r in report.results), report.to_text()


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_examples_conform(store_validator: StoreContextValidator, path: Path) -> None:
    report = store_validator.validate_quads(read_rdf_file(path).quads)
    assert report.conforms, report.to_text()


def results(report) -> set[tuple[str, str, str]]:  # noqa: ANN001
    return {(r.source_shape, r.focus_node, r.message) for r in report.results}


# The cross-record rules are where a neighbourhood could miss something: compare those examples result for result.
RULE_EXAMPLES = [p for p in INVALID if "rule" in p.stem] + VALID


@pytest.mark.parametrize("path", RULE_EXAMPLES, ids=[p.stem for p in RULE_EXAMPLES])
def test_same_results_as_whole_graph(store_validator: StoreContextValidator, path: Path) -> None:
    quads = read_rdf_file(path).quads
    whole = Validator(ROOT).validate_quads(quads)
    assert results(store_validator.validate_quads(quads)) == {
        r for r in results(whole) if r[1] in {q.subject.value for q in quads} | {q.object.value for q in quads}
    }


def test_replacing_a_published_record_leaves_its_old_graph_out(store_validator: StoreContextValidator) -> None:
    """A changed record is checked instead of its published version: dropping a presence that the old version
    had is no conflict, and the old version's statements do not count twice (one label, not two)."""
    path = ROOT / "data" / "communities" / "ukfechat.ttl"
    quads = [q for q in read_rdf_file(path).quads if not str(q.object).startswith('"#UKFEchat"')]
    quads.append(
        ox.Quad(
            ox.NamedNode("https://w3id.org/copgraph/id/community/ukfechat"),
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            ox.Literal("#UKFEchat (renamed)"),
        )
    )
    assert store_validator.validate_quads(quads, replacing=[path]).conforms
    # Without leaving the old graph out, the record has two labels: the label shape says so.
    assert not store_validator.validate_quads(quads).conforms
