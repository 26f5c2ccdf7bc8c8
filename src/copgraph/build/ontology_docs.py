"""HTML documentation of the ontology (served at /def/cop), generated once per store generation with pyLODE, with the
SHACL shapes listed beside the classes they check.

pyLODE (pinned in pyproject.toml: 3.3.4 is the last release that runs on Python 3.11 and imports from an installed
wheel) documents the classes and properties of ontology/copgraph.ttl. It knows nothing of SHACL, so each class section
gets, below pyLODE's own table, the node shapes that check that class: for each, what it targets, its node-level
constraints and messages, and a table of its property shapes (path, cardinality, allowed values, sh:message). Shapes
of classes from other vocabularies (skos:Concept, org:Organization) and the value shapes used through sh:node get a
section of their own. All text from the graphs is escaped by dominate, pyLODE's HTML builder.

The page is written to ``<generation>/docs/ontology.html`` when a generation is made (a build or a write), never per
request; a write that leaves the ontology and shapes as they were reuses the previous generation's page.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pyoxigraph as ox
from dominate import tags
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from copgraph.core.graphs import ONTOLOGY_GRAPH, SHAPES_GRAPH
from copgraph.core.vocab import PREFIXES

SH = Namespace("http://www.w3.org/ns/shacl#")
OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")
OWL_ONTOLOGY = URIRef("http://www.w3.org/2002/07/owl#Ontology")
DOCS_FOLDER = "docs"
PAGE = "ontology.html"
DIGEST = "sources.sha256"  # what the page was made from: reused by a write only if this is unchanged
# The ontology's other formats: media type, extension of its URL, name.
FORMATS = (
    ("text/turtle", ".ttl", "Turtle"),
    ("application/ld+json", ".jsonld", "JSON-LD"),
    ("application/n-triples", ".nt", "N-Triples"),
    ("application/rdf+xml", ".rdf", "RDF/XML"),
)
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
STYLE = """
nav.site { margin-bottom: 1em; } nav.site a { margin-right: 1em; }
.class-shapes { margin-top: 1em; } .shape { border-left: 3px solid #8a6d00; padding-left: .8em; margin: 1em 0; }
.shape table { width: 100%; } .shape th[scope=col] { text-align: left; }
"""

log = logging.getLogger(__name__)


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


def documentation_path(generation: Path) -> Path:
    return generation / DOCS_FOLDER / PAGE


def store_graph(store: ox.Store, name: str) -> list[ox.Triple]:
    return [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(name))]


def write_documentation(store: ox.Store, generation: Path, previous: Path | None = None) -> Path:
    """Write the generation's documentation page (copying the previous generation's when made from the same graphs)."""
    ontology, shapes = store_graph(store, ONTOLOGY_GRAPH), store_graph(store, SHAPES_GRAPH)
    digest = _digest(ontology, shapes)
    folder = generation / DOCS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    if previous is not None and _read(previous / DOCS_FOLDER / DIGEST) == digest:
        shutil.copyfile(previous / DOCS_FOLDER / PAGE, folder / PAGE)
    else:
        (folder / PAGE).write_text(render(ontology, shapes), encoding="utf-8")
    (folder / DIGEST).write_text(digest, encoding="utf-8")
    return folder / PAGE


def _digest(ontology: list[ox.Triple], shapes: list[ox.Triple]) -> str:
    digest = hashlib.sha256(f"pylode {version('pylode')}\n".encode())
    for graph in (ontology, shapes):
        digest.update(b"".join(sorted(ox.serialize(graph, format=ox.RdfFormat.N_TRIPLES).splitlines())))
        digest.update(b"\0")
    return digest.hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def to_rdflib(triples: Iterable[ox.Triple]) -> Graph:
    """An rdflib graph of the triples, with copgraph's prefixes bound (so documentation shows cop:, sh:, ...)."""
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    graph.parse(data=ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


def render(ontology: Iterable[ox.Triple], shapes: Iterable[ox.Triple]) -> str:
    """The documentation page of an ontology and its shapes; a page that says why when pyLODE cannot document it (an
    ontology graph emptied by a maintainer's write, say), so that documentation never stops a build or a write."""
    ontology_graph, shapes_graph = to_rdflib(ontology), to_rdflib(shapes)
    if (None, RDF.type, OWL_ONTOLOGY) not in ontology_graph:
        return _unavailable("the ontology graph of this dataset version declares no owl:Ontology.")
    ontpub = _ontpub()
    try:
        return _documentation(ontpub, ontology_graph, shape_docs(shapes_graph, ontology_graph)).make_html()
    except Exception as error:  # pyLODE raises bare Exceptions as well as PylodeError
        log.exception("pyLODE could not document the ontology")
        return _unavailable(f"pyLODE could not document it ({error}).")


def _ontpub() -> type:
    """pyLODE's OntPub. Importing pyLODE runs logging.basicConfig(level=DEBUG) (in its supermodel profile), which
    would flood copgraph's logs: the root logger's configuration is put back as it was."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    from pylode import OntPub

    root.setLevel(level)
    root.handlers[:] = handlers
    return OntPub


def _unavailable(reason: str) -> str:
    page = tags.html(lang="en")
    with page:
        with tags.head():
            tags.meta(charset="utf-8")
            tags.title("copgraph ontology")
        with tags.body():
            tags.h1("copgraph ontology")
            tags.p("The documentation could not be generated from this version of the ontology: ", reason)
            tags.p("Rebuilding the store from the repository (copgraph build) brings it back.")
            with tags.p("The ontology itself is available as "):
                for _, suffix, name in FORMATS:
                    tags.a(name, href=f"/def/cop{suffix}")
                    tags.span(" ")
    return "<!doctype html>\n" + page.render()


def _documentation(ontpub: type, ontology: Graph, shapes: list[ShapeDoc]) -> object:
    """pyLODE's OntPub document, with the shapes added beside the classes, a site menu and links to other formats."""

    class Documentation(ontpub):  # type: ignore[misc, valid-type]
        def _make_head(self, schema_org: Graph, include_css: bool = True, destination: Path | None = None) -> None:
            super()._make_head(schema_org, include_css=include_css, destination=destination)
            self.doc["lang"] = "en"
            with self.doc.head:
                tags.meta(name="viewport", content="width=device-width, initial-scale=1")
                for media_type, suffix, _ in FORMATS:
                    tags.link(rel="alternate", type=media_type, href=f"/def/cop{suffix}")
                tags.style(STYLE)

        def _make_body(self) -> None:
            with self.content, tags.nav(cls="site", aria_label="Site"):
                tags.a("copgraph", href="/")
                tags.a("Dataset description", href="/dataset")
                tags.a("SPARQL", href="/sparql")
                for _, suffix, name in FORMATS:
                    tags.a(f"Ontology as {name}", href=f"/def/cop{suffix}")
                tags.a("Shapes as Turtle", href="/def/shapes.ttl")
            super()._make_body()

        def _make_main_sections(self) -> None:
            super()._make_main_sections()
            documented = set()
            for class_iri, fid in self.fids.items():
                checking = [s for s in shapes if class_iri in s.classes]
                sections = self.content.get(id=fid) if checking and fid else []
                if sections and (URIRef(class_iri), RDF.type, OWL_CLASS) in self.ont:
                    sections[0].add(_class_shapes(checking))
                    documented.update(s.anchor for s in checking)
            self.content.add(_other_shapes(shapes, documented, self.fids))

        def _make_toc(self) -> None:
            super()._make_toc()
            for toc in self.doc.get(id="toc"):
                for first in toc.get(tags.ul, cls="first")[:1]:
                    first.add(tags.li(tags.h4(tags.a("SHACL shapes", href="#shapes"))))

    return Documentation(ontology, sort_subjects=True)


def _class_shapes(shapes: list[ShapeDoc]) -> tags.div:
    block = tags.div(cls="class-shapes")
    block.add(tags.h4("SHACL shapes checking this class"))
    for shape in shapes:
        block.add(_shape_entry(shape, heading=tags.h5))
    return block


def _other_shapes(shapes: list[ShapeDoc], documented: set[str], fids: dict[str, str]) -> tags.div:
    """The section for shapes not listed under one of the ontology's classes."""
    section = tags.div(cls="section", id="shapes")
    section.add(tags.h2("SHACL shapes"))
    section.add(
        tags.p(
            "Data in copgraph must conform to these shapes (shapes/*.ttl, also served at ",
            tags.a("/def/shapes", href="/def/shapes"),
            "). The shapes that check copgraph's own classes are listed with each class above.",
        )
    )
    rest = [s for s in shapes if s.anchor not in documented]
    by_class: dict[str, list[ShapeDoc]] = {}
    for shape in rest:
        for class_iri in shape.classes or ("",):
            by_class.setdefault(class_iri, []).append(shape)
    for class_iri, group in sorted(by_class.items(), key=lambda item: (item[0] == "", item[0])):
        if class_iri:
            title = tags.h3("Shapes checking ", tags.code(_name(URIRef(class_iri))))
        else:
            title = tags.h3("Value shapes and shapes without a class target")
        section.add(title)
        if not class_iri:
            section.add(tags.p("Value shapes are used by property shapes through sh:node."))
        for shape in group:
            section.add(_shape_entry(shape, heading=tags.h4))
    return section


def _shape_entry(shape: ShapeDoc, heading: type) -> tags.div:
    entry = tags.div(cls="shape", id=shape.anchor)
    entry.add(heading("Shape ", tags.code(shape.name), f": {shape.label}" if shape.label else ""))
    listing = entry.add(tags.dl())
    if shape.targets:
        listing.add(tags.dt("Checks"), tags.dd("; ".join(shape.targets)))
    if shape.constraints:
        listing.add(tags.dt("Constraints"), tags.dd("; ".join(shape.constraints)))
    for message in shape.messages:
        listing.add(tags.dt("Message"), tags.dd(message, cls="message"))
    if shape.properties:
        table = entry.add(tags.table(cls="shape-properties"))
        table.add(tags.caption("Property shapes of ", tags.code(shape.name)))
        table.add(
            tags.thead(tags.tr([tags.th(h, scope="col") for h in ("Property", "Cardinality", "Values", "Message")]))
        )
        body = table.add(tags.tbody())
        for rule in shape.properties:
            body.add(
                tags.tr(
                    tags.td(tags.code(rule.path), title=rule.shape),
                    tags.td(rule.cardinality),
                    tags.td("; ".join(rule.values) or "any"),
                    tags.td(rule.message, cls="message"),
                )
            )
    return entry


def shape_docs(shapes: Graph, ontology: Graph) -> list[ShapeDoc]:
    """Every node shape of the shapes graph, documented; a shape targeting subjects (objects) of a property is taken
    to check the property's rdfs:domain (rdfs:range) class."""
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    node_shapes |= {s for s in shapes.subjects(SH.targetClass, None) if not shapes.value(s, SH.path)}
    return sorted((_shape_doc(shapes, ontology, s) for s in node_shapes if isinstance(s, URIRef)), key=lambda d: d.name)


def _shape_doc(g: Graph, ontology: Graph, shape: URIRef) -> ShapeDoc:
    targets, classes = [], []
    for class_iri in sorted(g.objects(shape, SH.targetClass)):
        targets.append(f"every {_name(class_iri)}")
        classes.append(str(class_iri))
    for parameter, words, relation in (
        (SH.targetSubjectsOf, "subjects", RDFS.domain),
        (SH.targetObjectsOf, "objects", RDFS.range),
    ):
        for prop in sorted(g.objects(shape, parameter)):
            targets.append(f"{words} of {_name(prop)}")
            classes.extend(str(c) for c in ontology.objects(prop, relation) if isinstance(c, URIRef))
    targets.extend(f"the node {_name(node)}" for node in sorted(g.objects(shape, SH.targetNode)))
    messages = [str(m) for m in g.objects(shape, SH.message)]
    messages += [str(m) for constraint in g.objects(shape, SH.sparql) for m in g.objects(constraint, SH.message)]
    properties = sorted(
        (_property_rule(g, p) for p in g.objects(shape, SH.property)), key=lambda rule: (rule.path, rule.shape)
    )
    return ShapeDoc(
        name=_name(shape),
        anchor="shape-" + _name(shape).split(":")[-1].strip("<>").replace("/", "-"),
        label=str(g.value(shape, RDFS.label) or ""),
        targets=tuple(targets),
        classes=tuple(dict.fromkeys(classes)),
        constraints=tuple(_constraints(g, shape)),
        messages=tuple(messages),
        properties=tuple(properties),
    )


def _property_rule(g: Graph, shape: URIRef | BNode) -> PropertyRule:
    return PropertyRule(
        shape=_name(shape) if isinstance(shape, URIRef) else "",
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
        return f"datatype {_name(value)}"
    if parameter == SH["class"]:
        return f"instance of {_name(value)}"
    if parameter == SH.node:
        label = g.value(value, RDFS.label)
        return f"conforms to {_name(value)}" + (f" ({label})" if label else "")
    if parameter == SH.nodeKind:
        return NODE_KINDS.get(value, _name(value))
    if parameter == SH.hasValue:
        return f"includes {_name(value)}"
    if parameter == SH["in"]:
        return "one of " + ", ".join(_name(v) for v in Collection(g, value))
    if parameter == SH.languageIn:
        return "language " + " or ".join(str(v) for v in Collection(g, value))
    if parameter == SH.pattern:
        flags = g.value(shape, SH.flags)
        return f"matches the pattern {value}" + (f" (flags {flags})" if flags else "")
    if parameter in COMPARISONS:
        return f"{COMPARISONS[parameter]} {_name(value)}"
    if parameter in (SH["or"], SH.xone, SH["and"]):
        word = {SH["or"]: "at least one of", SH.xone: "exactly one of", SH["and"]: "all of"}[parameter]
        return f"{word}: " + " | ".join(_member(g, member) for member in Collection(g, value))
    if parameter == SH["not"]:
        return f"not: {_member(g, value)}"
    if parameter == SH.severity:
        return f"severity {_name(value)}"
    return f"{_name(parameter)} {_name(value)}"


def _member(g: Graph, member: object) -> str:
    """A shape inside sh:or / sh:and / sh:xone / sh:not, in words (its path and cardinality first)."""
    if isinstance(member, URIRef):
        return _name(member)
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
        return _name(path)
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


def _name(term: object) -> str:
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
