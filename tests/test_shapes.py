"""Tests of the ontology and the SHACL shapes.

- the published data (ontology/ + data/) conforms;
- every example in tests/invalid/ breaks exactly the one constraint its header names, with the expected message;
- the examples in tests/valid/ conform;
- every constraint in shapes/ has a message and an invalid example (so none can go untested);
- every cop: term is documented in the ontology;
- the `copgraph validate` command reports the same.

Each tests/invalid/*.ttl starts with header comments:

    # shape: <IRI of the shape that must be the sh:sourceShape of every result>
    # component: sh:XxxConstraintComponent
    # expect: <a substring of the sh:message>
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SH, Graph, Literal, URIRef
from rdflib.collection import Collection

from copgraph.build.shacl import Report, Validator, load_shapes

ROOT = Path(__file__).resolve().parents[1]
INVALID = sorted((ROOT / "tests" / "invalid").glob("*.ttl"))
VALID = sorted((ROOT / "tests" / "valid").glob("*.ttl"))

COP = "https://w3id.org/copgraph/def/cop#"
COPS = "https://w3id.org/copgraph/def/shapes#"
ONTOLOGY = URIRef("https://w3id.org/copgraph/def/cop")
SHACL = str(SH)

# Constraint parameters used in shapes/ and the constraint components they belong to.
COMPONENTS = {
    SH.minCount: "MinCountConstraintComponent",
    SH.maxCount: "MaxCountConstraintComponent",
    SH.datatype: "DatatypeConstraintComponent",
    SH.nodeKind: "NodeKindConstraintComponent",
    SH.pattern: "PatternConstraintComponent",
    SH["class"]: "ClassConstraintComponent",
    SH.node: "NodeConstraintComponent",
    SH.hasValue: "HasValueConstraintComponent",
    SH["in"]: "InConstraintComponent",
    SH.minInclusive: "MinInclusiveConstraintComponent",
    SH.maxInclusive: "MaxInclusiveConstraintComponent",
    SH.minLength: "MinLengthConstraintComponent",
    SH.maxLength: "MaxLengthConstraintComponent",
    SH.languageIn: "LanguageInConstraintComponent",
    SH.uniqueLang: "UniqueLangConstraintComponent",
    SH["or"]: "OrConstraintComponent",
    SH["and"]: "AndConstraintComponent",
    SH["not"]: "NotConstraintComponent",
    SH.xone: "XoneConstraintComponent",
    SH.qualifiedMinCount: "QualifiedMinCountConstraintComponent",
    SH.qualifiedMaxCount: "QualifiedMaxCountConstraintComponent",
    SH.minExclusive: "MinExclusiveConstraintComponent",
    SH.maxExclusive: "MaxExclusiveConstraintComponent",
    SH.equals: "EqualsConstraintComponent",
    SH.disjoint: "DisjointConstraintComponent",
    SH.lessThan: "LessThanConstraintComponent",
    SH.lessThanOrEquals: "LessThanOrEqualsConstraintComponent",
    SH.sparql: "SPARQLConstraintComponent",
}
# sh: predicates in shapes/ that are not constraint parameters.
NOT_CONSTRAINTS = {
    SH.path, SH.property, SH.message, SH.name, SH.description, SH.severity, SH.deactivated, SH.order, SH.group,
    SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target,
    SH.alternativePath, SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath,
    SH.select, SH.ask, SH.prefixes, SH.declare, SH.prefix, SH.namespace, SH.qualifiedValueShape, SH.ignoredProperties,
}  # fmt: skip
TARGETS = (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target)


# --- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> Validator:
    """Shapes, ontology and data parsed once for all the tests here."""
    return Validator(ROOT)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(ROOT)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "copgraph.ttl")


# --- helpers --------------------------------------------------------------------------------------------------------


def header(path: Path) -> dict[str, str]:
    """The `# key: value` lines at the top of an example file."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = re.match(r"#\s*(shape|component|expect):\s*(.+?)\s*$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def expected(path: Path) -> tuple[str, str, str]:
    head = header(path)
    missing = {"shape", "component", "expect"} - head.keys()
    assert not missing, f"{path.name}: header lacks {sorted(missing)}"
    component = head["component"]
    assert component.startswith("sh:"), f"{path.name}: write the component as sh:XxxConstraintComponent"
    return head["shape"], SHACL + component[3:], head["expect"]


def describe(report: Report) -> str:
    return report.to_text() + "\n" + "\n".join(f"{r.source_shape} {r.component}" for r in report.results)


def top_level(report: Report) -> list[tuple[str, str, str]]:
    """(source shape, component, message) of each sh:result of the report.

    Results nested under another with sh:detail (pyshacl adds them for sh:node) are the reasons for their parent,
    not results of their own, so they are left out here.
    """
    graph = report.graph
    return [
        (
            str(graph.value(r, SH.sourceShape)),
            str(graph.value(r, SH.sourceConstraintComponent)),
            str(graph.value(r, SH.resultMessage)),
        )
        for r in graph.objects(None, SH.result)
    ]


def constraints(shapes: Graph) -> set[tuple[str, str]]:
    """(shape IRI, component IRI) of every constraint that can be reported as a validation result's source.

    That is, constraints of shapes with a target and of their property shapes. Shapes without a target (the
    value-set shapes in concepts.ttl) are only used through sh:node and report through the shape that uses them.
    """
    found: set[tuple[str, str]] = set()
    targeted = {s for p in TARGETS for s in shapes.subjects(p, None)}
    for node_shape in targeted:
        for shape in [node_shape, *shapes.objects(node_shape, SH.property)]:
            for parameter, component in COMPONENTS.items():
                if (shape, parameter, None) in shapes:
                    found.add((str(shape), SHACL + component))
    return found


def covered() -> set[tuple[str, str]]:
    return {expected(path)[:2] for path in INVALID}


# --- (a) the published data conforms --------------------------------------------------------------------------------


def test_published_data_conforms(validator: Validator) -> None:
    report = validator.validate_files([ROOT / "data"])
    assert report.conforms, describe(report)


# --- (b) each invalid example breaks exactly its one constraint -----------------------------------------------------


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_example_breaks_exactly_its_constraint(validator: Validator, path: Path) -> None:
    shape, component, expect = expected(path)
    report = validator.validate_files([path])
    assert not report.conforms, f"{path.name} conforms, but should break {shape} ({component})"
    results = top_level(report)
    assert results, describe(report)
    wrong = [r for r in results if r[:2] != (shape, component)]
    assert not wrong, f"{path.name} breaks other constraints too:\n{describe(report)}"
    for _, _, message in results:
        assert expect in message, f"{path.name}: message lacks {expect!r}:\n{describe(report)}"


def test_report_results_are_only_the_top_level_results(validator: Validator) -> None:
    """Report.results should not repeat the nested sh:detail results of an sh:node violation as results of their own:
    a maintainer would see a second, confusing message about the concept instead of the record that uses it."""
    report = validator.validate_files([ROOT / "tests" / "invalid" / "community-status-node.ttl"])
    assert [(r.source_shape, r.component) for r in report.results] == [r[:2] for r in top_level(report)]


def test_there_are_invalid_examples() -> None:
    assert len(INVALID) > 100


# --- (c) valid examples conform -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_example_conforms(validator: Validator, path: Path) -> None:
    report = validator.validate_files([path])
    assert report.conforms, describe(report)


def test_there_are_valid_examples() -> None:
    assert len(VALID) >= 2


# --- (d) every constraint has a message and an invalid example ------------------------------------------------------


def test_every_constraint_has_an_invalid_example(shapes: Graph) -> None:
    untested = constraints(shapes) - covered()
    assert not untested, "constraints without a tests/invalid example:\n" + "\n".join(sorted(map(str, untested)))


def test_every_constraint_parameter_in_shapes_is_known(shapes: Graph) -> None:
    """So that test_every_constraint_has_an_invalid_example cannot miss a kind of constraint added later."""
    used = {p for p in shapes.predicates() if str(p).startswith(SHACL)}
    unknown = used - set(COMPONENTS) - NOT_CONSTRAINTS
    assert not unknown, f"add these to COMPONENTS or NOT_CONSTRAINTS in {Path(__file__).name}: {sorted(unknown)}"


def test_every_invalid_example_names_a_real_constraint(shapes: Graph) -> None:
    unknown = covered() - constraints(shapes)
    listing = "\n".join(sorted(map(str, unknown)))
    assert not unknown, f"tests/invalid headers naming no constraint in shapes/:\n{listing}"


def test_invalid_examples_describe_only_new_things() -> None:
    """Examples may point at published platforms, themes and organisations, but describe only new nodes."""
    published = set()
    for path in sorted((ROOT / "data").rglob("*.ttl")):
        published |= {s for s in Graph().parse(path).subjects() if isinstance(s, URIRef)}
    for path in INVALID + VALID:
        described = {s for s in Graph().parse(path).subjects() if isinstance(s, URIRef)}
        assert not described & published, f"{path.name} describes published things {sorted(described & published)}"


def _shape_nodes(shapes: Graph) -> set:
    """Every shape reached from a node shape through sh:property, and the node shapes themselves."""
    nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    nodes |= {s for p in TARGETS for s in shapes.subjects(p, None)}
    nodes |= set(shapes.objects(None, SH.property))
    return nodes


def _inside_logical_list(shapes: Graph, node) -> bool:
    """True for the small anonymous shapes inside sh:or / sh:and / sh:xone lists."""
    for operator in (SH["or"], SH["and"], SH.xone):
        for _, members in shapes.subject_objects(operator):
            if node in list(Collection(shapes, members)):
                return True
    return False


def test_every_property_shape_is_named_and_has_a_message(shapes: Graph) -> None:
    problems = []
    for node_shape in {s for p in TARGETS for s in shapes.subjects(p, None)}:
        for shape in shapes.objects(node_shape, SH.property):
            if not str(shape).startswith(COPS):
                problems.append(f"unnamed property shape on {node_shape}")
    for shape in _shape_nodes(shapes):
        if _inside_logical_list(shapes, shape):
            continue
        has_constraint = any((shape, p, None) in shapes for p in COMPONENTS if p != SH.sparql)
        if has_constraint and not list(shapes.objects(shape, SH.message)):
            problems.append(f"{shape} has no sh:message")
        if has_constraint and not str(shape).startswith(COPS):
            problems.append(f"{shape} is not a named cops: shape")
    assert not problems, "\n".join(sorted(problems))


def test_every_sparql_constraint_has_a_message_with_placeholders(shapes: Graph) -> None:
    constraints_found = list(shapes.objects(None, SH.sparql))
    assert len(constraints_found) >= 3
    for constraint in constraints_found:
        messages = [str(m) for m in shapes.objects(constraint, SH.message)]
        assert messages, f"SPARQL constraint {constraint} has no sh:message"
        assert all("{$this}" in m or "{?value}" in m for m in messages), f"{constraint}: message names no node"
        assert shapes.value(constraint, SH.select) is not None, f"{constraint} has no sh:select"
        assert shapes.value(constraint, SH.prefixes) is not None or "PREFIX" in str(shapes.value(constraint, SH.select))


def test_no_shape_is_closed(shapes: Graph) -> None:
    assert not list(shapes.subjects(SH.closed, Literal(True)))


# --- (e) the ontology documents every term --------------------------------------------------------------------------


def _cop_terms(graph: Graph) -> set[URIRef]:
    return {
        t
        for t in set(graph.subjects()) | set(graph.predicates()) | set(graph.objects())
        if isinstance(t, URIRef) and str(t).startswith(COP)
    }


def test_ontology_header(ontology: Graph) -> None:
    for predicate in (
        "owl:versionInfo",
        "dct:title",
        "dct:description",
        "dct:license",
        "dct:creator",
        "dct:created",
        "vann:preferredNamespacePrefix",
        "vann:preferredNamespaceUri",
    ):
        prefix, local = predicate.split(":")
        namespace = {
            "owl": "http://www.w3.org/2002/07/owl#",
            "dct": "http://purl.org/dc/terms/",
            "vann": "http://purl.org/vocab/vann/",
        }[prefix]
        assert ontology.value(ONTOLOGY, URIRef(namespace + local)) is not None, f"ontology lacks {predicate}"


def test_every_cop_term_is_documented(ontology: Graph) -> None:
    problems = []
    for term in sorted(_cop_terms(ontology)):
        for predicate in (RDFS.label, RDFS.comment):
            if not [v for v in ontology.objects(term, predicate) if isinstance(v, Literal) and v.language == "en"]:
                problems.append(f"{term} lacks an @en {predicate.n3(ontology.namespace_manager)}")
        if (term, RDFS.isDefinedBy, ONTOLOGY) not in ontology:
            problems.append(f"{term} lacks rdfs:isDefinedBy <{ONTOLOGY}>")
    assert not problems, "\n".join(problems)


def test_every_cop_term_used_is_declared(ontology: Graph, shapes: Graph) -> None:
    declared = set(ontology.subjects(RDFS.isDefinedBy, ONTOLOGY))
    used = _cop_terms(shapes)
    for path in sorted((ROOT / "data").rglob("*.ttl")):
        used |= _cop_terms(Graph().parse(path))
    assert not used - declared, f"cop: terms used but not in the ontology: {sorted(used - declared)}"


# --- (f) the command line -------------------------------------------------------------------------------------------


def _copgraph() -> list[str]:
    script = Path(sys.executable).with_name("copgraph")
    return [str(script)] if script.exists() else [sys.executable, "-m", "copgraph"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_copgraph(), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_rejects_an_invalid_file() -> None:
    path = ROOT / "tests" / "invalid" / "community-label-mincount.ttl"
    _, _, expect = expected(path)
    done = _run("validate", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert expect in done.stdout + done.stderr


def test_cli_accepts_the_published_data() -> None:
    done = _run("validate", "data/")
    assert done.returncode == 0, done.stdout + done.stderr
