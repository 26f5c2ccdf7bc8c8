"""SHACL validation of copgraph data, always in the context of the published data.

A file is checked together with the ontology and all of ``data/`` (minus the file it replaces, if any), so that it
may refer to existing platforms, themes and organisations, and so that rules across records (one handle, one
community) are enforced against what is already published.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import Graph
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql import processor as sparql_processor
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from copgraph.core.rdf_io import add_to_graph, rdf_files, read_rdf_file
from copgraph.core.vocab import COP, PREFIXES

COP_NS = str(COP)


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, as plain strings."""

    focus_node: str
    path: str | None
    value: str | None
    message: str
    severity: str
    source_shape: str
    component: str


@dataclass
class Report:
    conforms: bool
    results: list[Result]
    # The report as pySHACL wrote it (to_turtle); None once the report has left the process that made it (its
    # Turtle travels as text: build.inputs).
    graph: Graph | None = None

    def by_focus_node(self) -> dict[str, list[Result]]:
        grouped: dict[str, list[Result]] = {}
        for result in sorted(self.results, key=lambda r: (r.focus_node, r.path or "", r.message)):
            grouped.setdefault(result.focus_node, []).append(result)
        return grouped

    def to_text(self) -> str:
        if self.conforms:
            return "Conforms: no violations.\n"
        lines = [f"Does not conform: {len(self.results)} problem(s).", ""]
        for focus, results in self.by_focus_node().items():
            lines.append(focus)
            for result in results:
                lines.append(f"  - {result.message}")
                if result.path:
                    lines.append(f"    path: {result.path}")
                if result.value is not None:
                    lines.append(f"    value: {result.value}")
                lines.append(f"    shape: {result.source_shape} ({_short(result.severity)})")
            lines.append("")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({"conforms": self.conforms, "results": [asdict(r) for r in self.results]}, indent=2)

    def to_turtle(self) -> str:
        if self.graph is None:
            raise ValueError("this report was made in another process: ask that process for its Turtle")
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace)
        return self.graph.serialize(format="turtle")


class QuadValidator(Protocol):
    """What validates parsed RDF in the context of the published data: Validator, StoreContextValidator, or either
    of them run in the input process (build.inputs)."""

    def validate_quads(self, quads: Iterable[ox.Quad], replacing: Iterable[Path] = ()) -> Report: ...


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]


def context_files(root: Path) -> list[Path]:
    """The published data a contribution is checked against: the ontology and everything under data/."""
    return rdf_files([root / "ontology", root / "data"])


def load_shapes(root: Path) -> Graph:
    return add_to_graph(Graph(), (q for f in rdf_files([root / "shapes"]) for q in read_rdf_file(f).quads))


class Validator:
    """Shapes and published data, parsed once, to validate many inputs against."""

    def __init__(self, root: Path):
        _reuse_parsed_sparql()
        self.root = root
        self.shapes = load_shapes(root)
        self.context = {path.resolve(): read_rdf_file(path).quads for path in context_files(root)}

    def validate_files(self, paths: Iterable[Path]) -> Report:
        """Validate files (or folders of files) in the context of the published data."""
        files = [p.resolve() for p in rdf_files(paths)]
        return self.validate_quads([q for path in files for q in read_rdf_file(path).quads], replacing=files)

    def validate_quads(self, quads: Iterable[ox.Quad], replacing: Iterable[Path] = ()) -> Report:
        """Validate parsed RDF (a contribution, a request body) in the context of the published data, leaving out
        the published files it replaces (a changed record is checked instead of, not beside, its old version)."""
        left_out = {path.resolve() for path in replacing}
        graph = Graph()
        for path, published in self.context.items():
            if path not in left_out:
                add_to_graph(graph, published)
        add_to_graph(graph, quads)
        return validate_graph(graph, self.shapes)


def validate_files(paths: Iterable[Path], root: Path) -> Report:
    """Validate files in the context of root's ontology/ and data/ with root's shapes/."""
    return Validator(root).validate_files(paths)


def validate_graph(data: Graph, shapes: Graph) -> Report:
    """Run SHACL (no inference: every class the shapes need is stated in the data) and collect the results."""
    conforms, results_graph, _ = shacl_validate(data, shacl_graph=shapes, inference="none", allow_warnings=False)
    # Only the report's own results: pyshacl also types the sh:detail reasons nested under an sh:node result.
    report_node = next(results_graph.subjects(RDF.type, SH.ValidationReport))
    results = [_result(results_graph, node) for node in results_graph.objects(report_node, SH.result)]
    return Report(conforms=bool(conforms), results=results, graph=results_graph)


def _result(graph: Graph, node: object) -> Result:
    def text(predicate: object) -> str | None:
        value = graph.value(node, predicate)
        return None if value is None else str(value)

    return Result(
        focus_node=text(SH.focusNode) or "",
        path=text(SH.resultPath),
        value=text(SH.value),
        message=text(SH.resultMessage) or "(no message)",
        severity=text(SH.resultSeverity) or str(SH.Violation),
        source_shape=text(SH.sourceShape) or "",
        component=text(SH.sourceConstraintComponent) or "",
    )


def _reuse_parsed_sparql() -> None:
    """Make rdflib parse each SPARQL text once.

    pyshacl hands rdflib the same query text for every focus node of a SHACL-SPARQL constraint, and rdflib parses it
    again each time (about 20 ms, most of a validation run). A prepared query evaluates exactly as its text would, so
    caching the parse changes only the speed (about 1.4 s to 0.25 s for one contribution here). It changes rdflib for
    the whole process, so it is done when a validator is made (idempotently), never as a side effect of an import.
    """
    original = sparql_processor.SPARQLProcessor.query
    if getattr(original, "copgraph_cached", False):
        return

    @functools.lru_cache(maxsize=512)
    def prepared(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> object:
        return translateQuery(parseQuery(text), base, dict(namespaces))

    def query(self, str_or_query, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803, ANN001, ANN202
        if isinstance(str_or_query, str):
            str_or_query = prepared(str_or_query, base, tuple(sorted((initNs or {}).items())))
        return original(self, str_or_query, initBindings or {}, initNs, base, DEBUG)

    query.copgraph_cached = True
    sparql_processor.SPARQLProcessor.query = query


OUT_STEPS = 2  # how far out from the input (and from the records the rules compare it with) statements are read


class StoreContextValidator:
    """Validate a contribution against the published *store*, reading only the part of it the shapes can see.

    The file-based Validator parses all of data/ into rdflib for every check, which grows with the data (seconds at
    100,000 communities). This one builds a small graph: the contribution, the statements (two steps out) of every
    IRI it mentions, and what the cross-record rules in shapes/rules.ttl compare it with — the observations of its
    communities, presences elsewhere with the same handle on the same platform, other communities with the same
    hashtag or presence, and the dct:isPartOf chains of every community involved. Results are kept for the nodes
    the contribution is about (its subjects and the IRIs it points at); the rest of the small graph is context only.
    tests/test_validation_scale.py checks that it reaches the same verdict as the whole-graph Validator on every
    example in tests/invalid and tests/valid.
    """

    def __init__(self, store: ox.Store, shapes: Graph, root: Path):
        _reuse_parsed_sparql()
        self.store, self.shapes, self.root = store, shapes, root
        self._handles: dict[str, list[ox.NamedNode | ox.BlankNode]] | None = None

    def handles(self) -> dict[str, list[ox.NamedNode | ox.BlankNode]]:
        """Every presence by its handle in lower case (Python's, as pyshacl's LCASE), read once per store: the store
        has no case-insensitive index, and comparing LCASE(handle) in SPARQL reads every handle on every check
        (half a second at 100,000 communities)."""
        if self._handles is None:
            index: dict[str, list] = {}
            for quad in self.store.quads_for_pattern(None, _HANDLE, None, None):
                if isinstance(quad.object, ox.Literal):
                    index.setdefault(quad.object.value.lower(), []).append(quad.subject)
            self._handles = index
        return self._handles

    def validate_quads(self, quads: Iterable[ox.Quad], replacing: Iterable[Path] = ()) -> Report:
        """Like Validator.validate_quads: `replacing` names the data files whose graphs the input replaces."""
        from copgraph.core.graphs import graph_name

        contribution = [ox.Quad(q.subject, q.predicate, q.object) for q in quads]
        left_out = {ox.NamedNode(name) for name in (graph_name(self.root, Path(p)) for p in replacing) if name}
        context = _StoreNeighbourhood(self.store, left_out, self.handles)
        about = {q.subject for q in contribution} | {
            q.object for q in contribution if isinstance(q.object, ox.NamedNode)
        }
        context.add_out(about, OUT_STEPS)
        context.add_rule_partners(contribution, about)
        graph = add_to_graph(Graph(), contribution)
        add_to_graph(graph, context.quads())
        report = validate_graph(graph, self.shapes)
        focus = {_rdflib_text(node) for node in about}
        results = [r for r in report.results if r.focus_node in focus]
        return Report(
            conforms=not any(r.severity == str(SH.Violation) for r in results), results=results, graph=report.graph
        )


def _rdflib_text(node: ox.NamedNode | ox.BlankNode) -> str:
    return node.value


_HAS_PRESENCE = ox.NamedNode(COP_NS + "hasPresence")
_OBSERVED = ox.NamedNode(COP_NS + "observedCommunity")
_FIGURE_OF = ox.NamedNode(COP_NS + "figureOf")
_HANDLE = ox.NamedNode(COP_NS + "handle")
_ON_PLATFORM = ox.NamedNode(COP_NS + "onPlatform")
_HASHTAG = ox.NamedNode(COP_NS + "hashtag")
_PART_OF = ox.NamedNode("http://purl.org/dc/terms/isPartOf")


class _StoreNeighbourhood:
    """Statements read from the store for one validation, graph names dropped, minus the graphs being replaced."""

    def __init__(self, store: ox.Store, left_out: set[ox.NamedNode], handles: Callable[[], dict[str, list]]):
        self.store, self.left_out, self.handles = store, left_out, handles
        self._quads: dict[ox.Quad, None] = {}
        self._described: set = set()

    def _match(self, subject=None, predicate=None, object_=None) -> Iterable[ox.Quad]:  # noqa: ANN001
        for quad in self.store.quads_for_pattern(subject, predicate, object_, None):
            if quad.graph_name not in self.left_out:
                yield quad

    def _keep(self, quad: ox.Quad) -> None:
        self._quads[ox.Quad(quad.subject, quad.predicate, quad.object)] = None

    def add_out(self, nodes: Iterable, steps: int) -> None:
        """Every statement of each node, then of what those statements point at, `steps` deep."""
        frontier = {n for n in nodes if isinstance(n, ox.NamedNode | ox.BlankNode)} - self._described
        for _ in range(steps):
            reached = set()
            for node in frontier:
                self._described.add(node)
                for quad in self._match(node):
                    self._keep(quad)
                    if isinstance(quad.object, ox.NamedNode | ox.BlankNode):
                        reached.add(quad.object)
            frontier = reached - self._described

    def add_rule_partners(self, contribution: list[ox.Quad], about: set) -> None:
        """What the cross-record rules compare the contribution with (shapes/rules.ttl)."""
        communities = set(about)
        for quad in contribution:
            if quad.predicate == _HASHTAG:  # other communities claiming the same hashtag
                communities |= {q.subject for q in self._match(None, _HASHTAG, quad.object)}
            if quad.predicate == _HAS_PRESENCE:
                communities |= {q.subject for q in self._match(None, _HAS_PRESENCE, quad.object)}
        for node in about:  # the communities that have a presence the contribution describes
            communities |= {q.subject for q in self._match(None, _HAS_PRESENCE, node)}
        communities |= self._same_handle_owners(contribution)
        parts = set()
        for community in communities:  # observations and figures of each community, with their audits
            parts |= {q.subject for q in self._match(None, _OBSERVED, community)}
            parts |= {q.subject for q in self._match(None, _FIGURE_OF, community)}
        self.add_out(communities | parts, OUT_STEPS)
        self._add_part_of_chains(communities)

    def _same_handle_owners(self, contribution: list[ox.Quad]) -> set:
        """Communities with a presence on the same platform under the same handle, ignoring case (rule 2)."""
        platforms: dict = {}
        handles: dict = {}
        for quad in contribution:
            if quad.predicate == _ON_PLATFORM:
                platforms.setdefault(quad.subject, []).append(quad.object)
            elif quad.predicate == _HANDLE and isinstance(quad.object, ox.Literal):
                handles.setdefault(quad.subject, []).append(quad.object.value.lower())
        owners = set()
        for presence, values in handles.items():
            for platform in platforms.get(presence, []):
                if not isinstance(platform, ox.NamedNode):
                    continue  # the shapes report a platform that is not an IRI
                for value in values:
                    for other in self.handles().get(value, ()):
                        if any(True for _ in self._match(other, _ON_PLATFORM, platform)):
                            self.add_out([other], 1)
                            owners |= {q.subject for q in self._match(None, _HAS_PRESENCE, other)}
        return owners

    def _add_part_of_chains(self, communities: set) -> None:
        seen, frontier = set(), set(communities)
        while frontier:
            node = frontier.pop()
            seen.add(node)
            for quad in self._match(node, _PART_OF):
                self._keep(quad)
                if quad.object not in seen:
                    frontier.add(quad.object)
            for quad in self._match(None, _PART_OF, node):  # parts of it (either direction of isPartOf+ matters)
                self._keep(quad)

    def quads(self) -> Iterable[ox.Quad]:
        return self._quads
