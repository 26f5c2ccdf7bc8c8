"""The SHACL shapes read as documentation: for each node shape, what it targets, its node-level constraints and
messages, and a rule in words per property shape (path, cardinality, allowed values, message). `ontology_docs` places
these beside the classes pyLODE documents; kept apart because it reads only the shapes graph, never the page."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from copgraph.core.vocab import PREFIXES

SH = Namespace("http://www.w3.org/ns/shacl#")


# Parameters shown elsewhere in a shape's entry (or not shown: they change no constraint).
NOT_CONSTRAINTS = {
    RDF.type,
    RDFS.label,
    RDFS.comment,
    SH.path,
    SH.minCount,
    SH.maxCount,
    SH.message,
    SH.property,
    SH.targetClass,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.sparql,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    SH.prefixes,
    SH.declare,
    SH.deactivated,
    SH.flags,  # shown with sh:pattern
}


NODE_KINDS = {
    SH.IRI: "an IRI",
    SH.Literal: "a literal",
    SH.BlankNode: "a blank node",
    SH.BlankNodeOrIRI: "an IRI or a blank node",
    SH.BlankNodeOrLiteral: "a blank node or a literal",
    SH.IRIOrLiteral: "an IRI or a literal",
}


COMPARISONS = {
    SH.minInclusive: "at least",
    SH.maxInclusive: "at most",
    SH.minExclusive: "more than",
    SH.maxExclusive: "less than",
    SH.minLength: "at least this many characters:",
    SH.maxLength: "at most this many characters:",
    SH.equals: "equal to the values of",
    SH.disjoint: "none of the values of",
    SH.lessThan: "less than the values of",
    SH.lessThanOrEquals: "at most the values of",
}


@dataclass(frozen=True)
class PropertyRule:
    """One property shape of a node shape, as a reader of the documentation needs it."""

    shape: str  # the property shape's prefixed name ("" for a blank node)
    path: str
    cardinality: str
    values: tuple[str, ...]  # datatype, class, node kind, value shape, pattern, ...
    message: str


@dataclass(frozen=True)
class ShapeDoc:
    """One node shape: what it checks, how, and what it says when data fails it."""

    name: str  # prefixed name, e.g. cops:Community
    anchor: str  # HTML id of its entry
    label: str
    targets: tuple[str, ...]  # "every cop:Hashtag", "subjects of cop:handle", ...
    classes: tuple[str, ...]  # IRIs of the classes it checks (its target class, or the domain or range it targets)
    constraints: tuple[str, ...]  # node-level constraints
    messages: tuple[str, ...]  # its sh:message and those of its SPARQL constraints
    properties: tuple[PropertyRule, ...]


def shape_docs(shapes: Graph, ontology: Graph) -> list[ShapeDoc]:
    """Every node shape of the shapes graph, documented; a shape targeting subjects (objects) of a property is taken
    to check the property's rdfs:domain (rdfs:range) class."""
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    node_shapes |= {s for s in shapes.subjects(SH.targetClass, None) if not shapes.value(s, SH.path)}
    return sorted((_shape_doc(shapes, ontology, s) for s in node_shapes if isinstance(s, URIRef)), key=lambda d: d.name)


def _shape_doc(g: Graph, ontology: Graph, shape: URIRef) -> ShapeDoc:
    targets, classes = [], []
    for class_iri in sorted(g.objects(shape, SH.targetClass)):
        targets.append(f"every {term_name(class_iri)}")
        classes.append(str(class_iri))
    for parameter, words, relation in (
        (SH.targetSubjectsOf, "subjects", RDFS.domain),
        (SH.targetObjectsOf, "objects", RDFS.range),
    ):
        for prop in sorted(g.objects(shape, parameter)):
            targets.append(f"{words} of {term_name(prop)}")
            classes.extend(str(c) for c in ontology.objects(prop, relation) if isinstance(c, URIRef))
    targets.extend(f"the node {term_name(node)}" for node in sorted(g.objects(shape, SH.targetNode)))
    messages = [str(m) for m in g.objects(shape, SH.message)]
    messages += [str(m) for constraint in g.objects(shape, SH.sparql) for m in g.objects(constraint, SH.message)]
    properties = sorted(
        (_property_rule(g, p) for p in g.objects(shape, SH.property)), key=lambda rule: (rule.path, rule.shape)
    )
    return ShapeDoc(
        name=term_name(shape),
        anchor="shape-" + term_name(shape).split(":")[-1].strip("<>").replace("/", "-"),
        label=str(g.value(shape, RDFS.label) or ""),
        targets=tuple(targets),
        classes=tuple(dict.fromkeys(classes)),
        constraints=tuple(_constraints(g, shape)),
        messages=tuple(messages),
        properties=tuple(properties),
    )


def _property_rule(g: Graph, shape: URIRef | BNode) -> PropertyRule:
    return PropertyRule(
        shape=term_name(shape) if isinstance(shape, URIRef) else "",
        path=_path(g, g.value(shape, SH.path)),
        cardinality=_cardinality(g.value(shape, SH.minCount), g.value(shape, SH.maxCount)),
        values=tuple(_constraints(g, shape)),
        message=" ".join(str(m) for m in g.objects(shape, SH.message)),
    )


def _cardinality(minimum: object, maximum: object) -> str:
    low = int(minimum) if minimum is not None else 0
    if maximum is None:
        return "any number" if low == 0 else f"at least {low}"
    high = int(maximum)
    if low == high:
        return f"exactly {low}"
    return f"at most {high}" if low == 0 else f"{low} to {high}"


def _constraints(g: Graph, shape: URIRef | BNode) -> list[str]:
    """Each constraint parameter of a shape in words, e.g. "datatype xsd:string", "instance of cop:Platform"."""
    texts = []
    for parameter, value in sorted(g.predicate_objects(shape)):
        if parameter in NOT_CONSTRAINTS:
            continue
        texts.append(_constraint(g, shape, parameter, value))
    return texts


def _constraint(g: Graph, shape: URIRef | BNode, parameter: URIRef, value: object) -> str:
    if parameter == SH.datatype:
        return f"datatype {term_name(value)}"
    if parameter == SH["class"]:
        return f"instance of {term_name(value)}"
    if parameter == SH.node:
        label = g.value(value, RDFS.label)
        return f"conforms to {term_name(value)}" + (f" ({label})" if label else "")
    if parameter == SH.nodeKind:
        return NODE_KINDS.get(value, term_name(value))
    if parameter == SH.hasValue:
        return f"includes {term_name(value)}"
    if parameter == SH["in"]:
        return "one of " + ", ".join(term_name(v) for v in Collection(g, value))
    if parameter == SH.languageIn:
        return "language " + " or ".join(str(v) for v in Collection(g, value))
    if parameter == SH.pattern:
        flags = g.value(shape, SH.flags)
        return f"matches the pattern {value}" + (f" (flags {flags})" if flags else "")
    if parameter in COMPARISONS:
        return f"{COMPARISONS[parameter]} {term_name(value)}"
    if parameter in (SH["or"], SH.xone, SH["and"]):
        word = {SH["or"]: "at least one of", SH.xone: "exactly one of", SH["and"]: "all of"}[parameter]
        return f"{word}: " + " | ".join(_member(g, member) for member in Collection(g, value))
    if parameter == SH["not"]:
        return f"not: {_member(g, value)}"
    if parameter == SH.severity:
        return f"severity {term_name(value)}"
    return f"{term_name(parameter)} {term_name(value)}"


def _member(g: Graph, member: object) -> str:
    """A shape inside sh:or / sh:and / sh:xone / sh:not, in words (its path and cardinality first)."""
    if isinstance(member, URIRef):
        return term_name(member)
    parts = []
    path = g.value(member, SH.path)
    if path is not None:
        parts.append(_path(g, path))
        minimum, maximum = g.value(member, SH.minCount), g.value(member, SH.maxCount)
        if minimum is not None or maximum is not None:
            parts.append(_cardinality(minimum, maximum))
    parts += _constraints(g, member)
    return " ".join(parts)


def _path(g: Graph, path: object) -> str:
    """A SHACL property path in SPARQL's path syntax."""
    if isinstance(path, URIRef):
        return term_name(path)
    if path is None:
        return "(no path)"
    if g.value(path, RDF.first) is not None:
        return "/".join(_path(g, step) for step in Collection(g, path))
    for parameter, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = g.value(path, parameter)
        if inner is not None:
            return template.format(_path(g, inner))
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path(g, step) for step in Collection(g, alternatives)) + ")"
    return str(path)


def term_name(term: object) -> str:
    """A term as a reader writes it: prefixed name, <IRI> or a quoted literal."""
    if isinstance(term, URIRef):
        return prefixed(str(term))
    if isinstance(term, Literal):
        return f'"{term}"'
    return str(term)


def prefixed(iri: str) -> str:
    """An IRI as a prefixed name with copgraph's prefixes (cop:Platform), or as <IRI> when none fits."""
    for prefix, namespace in PREFIXES.items():
        local = iri.removeprefix(namespace)
        if local != iri and local and all(c.isalnum() or c in "_-." for c in local):
            return f"{prefix}:{local}"
    return f"<{iri}>"
