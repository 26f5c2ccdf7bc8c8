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
from importlib.metadata import version
from pathlib import Path

import pyoxigraph as ox
from dominate import tags
from rdflib import RDF, Graph, URIRef

from copgraph.build.shape_docs import ShapeDoc, shape_docs, term_name
from copgraph.core.graphs import ONTOLOGY_GRAPH, SHAPES_GRAPH
from copgraph.core.vocab import PREFIXES

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
STYLE = """
nav.site { margin-bottom: 1em; } nav.site a { margin-right: 1em; }
.class-shapes { margin-top: 1em; } .shape { border-left: 3px solid #8a6d00; padding-left: .8em; margin: 1em 0; }
.shape table { width: 100%; } .shape th[scope=col] { text-align: left; }
"""

log = logging.getLogger(__name__)


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
            title = tags.h3("Shapes checking ", tags.code(term_name(URIRef(class_iri))))
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
