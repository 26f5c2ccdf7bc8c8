"""copgraph.core.jsonld: node objects written against the published context expand back to exactly their triples.

The expansion is rdflib's JSON-LD parser with the local context, an implementation independent of the writer. Each
shape of term the context uses has its own example; Hypothesis then mixes them, with properties the context does not
name, datatypes it does not coerce, languages, blank nodes and repeated values.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph
from rdflib.compare import isomorphic

from copgraph.core.jsonld import ContextWriter
from copgraph.core.rdf_io import add_to_graph
from copgraph.model.record_graph import published_context

COP = "https://w3id.org/copgraph/def/cop#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
THING = ox.NamedNode("https://w3id.org/copgraph/id/community/example")
OTHER = ox.NamedNode("https://w3id.org/copgraph/id/platform/example")
WRITER = ContextWriter(published_context())


def expanded(nodes: dict[str, dict]) -> Graph:
    document = {"@context": published_context(), "@graph": list(nodes.values())}
    return Graph().parse(data=json.dumps(document), format="json-ld")


def round_trips(triples: list[ox.Triple]) -> bool:
    return isomorphic(expanded(WRITER.node_objects(triples)), add_to_graph(Graph(), triples))


def node(triples: list[ox.Triple]) -> dict:
    return WRITER.node_objects(triples)[THING.value]


def test_an_iri_valued_term_holds_the_iri_and_a_set_term_is_always_an_array() -> None:
    triples = [ox.Triple(THING, ox.NamedNode(COP + "hasPresence"), OTHER)]
    assert node(triples)["presences"] == [OTHER.value]
    assert node([ox.Triple(THING, ox.NamedNode(COP + "status"), OTHER)])["status"] == OTHER.value
    assert round_trips(triples)


def test_a_literal_takes_the_term_of_its_datatype_or_language() -> None:
    triples = [
        ox.Triple(
            THING,
            ox.NamedNode(COP + "memberCount"),
            ox.Literal("1200", datatype=ox.NamedNode(XSD + "nonNegativeInteger")),
        ),
        ox.Triple(THING, ox.NamedNode(RDFS_LABEL), ox.Literal("sector audit", language="en")),
        ox.Triple(THING, ox.NamedNode(RDFS_LABEL), ox.Literal("#UKFEchat")),
    ]
    written = node(triples)
    assert written["memberCount"] == "1200"
    assert written["label"] == "sector audit"
    assert written["name"] == "#UKFEchat"
    assert round_trips(triples)


def test_values_no_term_states_are_written_out_in_full() -> None:
    triples = [
        ox.Triple(THING, ox.NamedNode(COP + "memberCount"), ox.Literal("12", datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(THING, ox.NamedNode(COP + "value"), ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(THING, ox.NamedNode(COP + "unit"), ox.Literal("007", datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(THING, ox.NamedNode(RDFS_LABEL), ox.Literal("Gemeinschaft", language="de")),
        ox.Triple(THING, ox.NamedNode(SKOS_PREF_LABEL), ox.Literal("no language")),
        ox.Triple(THING, ox.NamedNode(COP + "statusNote"), OTHER),
    ]
    written = node(triples)
    assert written["cop:memberCount"] == 12  # not the term's xsd:nonNegativeInteger, so not under "memberCount"
    assert written["value"] == 7  # a JSON number keeps a canonical integer
    assert written["unit"] == {"type": "xsd:integer", "@value": "007"}  # a number would lose the leading zeros
    assert written["name"] == {"@value": "Gemeinschaft", "@language": "de"}
    assert written["skos:prefLabel"] == "no language"
    assert written["statusNote"] == {"id": OTHER.value}
    assert round_trips(triples)


def test_types_are_class_terms_and_ids_use_the_prefixes() -> None:
    ontology_class = ox.NamedNode(COP + "SectorAudit")
    triples = [
        ox.Triple(ontology_class, ox.NamedNode(RDF_TYPE), ox.NamedNode("http://www.w3.org/2002/07/owl#Class")),
        ox.Triple(THING, ox.NamedNode(RDF_TYPE), ox.NamedNode(COP + "CommunityOfPractice")),
        ox.Triple(THING, ox.NamedNode(RDF_TYPE), ox.NamedNode("https://example.org/Unknown")),
    ]
    nodes = WRITER.node_objects(triples)
    assert nodes["cop:SectorAudit"]["type"] == "owl:Class"
    assert nodes[THING.value]["type"] == ["CommunityOfPractice", "https://example.org/Unknown"]
    assert round_trips(triples)


SUBJECTS = st.sampled_from([THING, OTHER, ox.BlankNode("b1"), ox.NamedNode(COP + "Thing")])
PREDICATES = st.sampled_from(
    sorted({*WRITER.terms, RDF_TYPE, "https://example.org/unnamed", COP + "notInTheContext"})
).map(ox.NamedNode)
# Well-typed lexical forms of each datatype, canonical and not (a JSON number must not lose "007" or "+1").
TYPED_VALUES = {
    "string": ["x", ""],
    "integer": ["0", "42", "-3", "007", "+1"],
    "boolean": ["true", "false", "1"],
    "date": ["2021-05-04"],
    "gYear": ["2021"],
    "nonNegativeInteger": ["1200"],
    "decimal": ["1.5", "2"],
    "double": ["1.5E0", "1.5"],
}
TYPED = st.sampled_from(
    [ox.Literal(value, datatype=ox.NamedNode(XSD + name)) for name, values in TYPED_VALUES.items() for value in values]
)
LEXICAL = st.sampled_from(["Pedagogy", "2021", ""])
OBJECTS = st.one_of(
    SUBJECTS,
    TYPED,
    st.builds(lambda value, language: ox.Literal(value, language=language), LEXICAL, st.sampled_from(["en", "cy"])),
    st.text(max_size=8).filter(lambda text: "\x00" not in text).map(ox.Literal),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.builds(ox.Triple, SUBJECTS, PREDICATES, OBJECTS), max_size=12, unique=True))
def test_any_triples_expand_back_to_themselves(triples: list[ox.Triple]) -> None:
    assert round_trips(triples)
