"""JSON-LD node objects written straight from triples against copgraph's one published context.

General compaction (rdflib's or pyld's) works for any context and cost about 2 ms a record, most of a JSON-LD record
fetch. The published context (`core/context.jsonld`, `CONTEXT_FILE`) uses only a few shapes of term — IRI-valued
(`"@type": "@id"`), typed-literal, language-tagged, plain, `@set` containers and reverse terms — so this writer picks a
term for each statement by JSON-LD's term selection restricted to those shapes:

- an IRI or blank node takes the property's IRI-valued term (value: the IRI, compacted with a prefix where one fits),
  else its plain term (value: `{"id": ...}`);
- a literal takes the term whose datatype or language is the literal's, or for a plain string the term with neither;
  failing that the plain term, with the value written out (`{"type", "@value"}`, `{"@value", "@language"}`, or a JSON
  number or boolean when that keeps the lexical form);
- a statement no term fits is keyed by the compact IRI of its property (`skos:prefLabel`), or the IRI itself;
- `rdf:type` is `type`, its values the class terms (`CommunityOfPractice`) or compact IRIs.

tests/test_jsonld.py checks the output expands back to exactly the triples (by rdflib's JSON-LD parser) and keeps the
shape rdflib's compaction gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

# The one JSON-LD context records are written against; served at /context.jsonld.
CONTEXT_FILE = Path(__file__).with_name("context.jsonld")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class Term:
    name: str
    kind: str  # "id" (IRI-valued), "typed", "language" or "plain"
    qualifier: str | None  # the datatype IRI of a typed term, the language of a language term
    is_set: bool  # "@container": "@set": always an array


class ContextWriter:
    """Writes triples as flat JSON-LD node objects compacted against one context (a dict: the `@context` member)."""

    def __init__(self, context: dict[str, Any]):
        self.prefixes = {
            value: key
            for key, value in context.items()
            if isinstance(value, str) and not key.startswith("@") and value.endswith(("#", "/"))
        }
        namespaces = {key: value for value, key in self.prefixes.items()}
        self.class_terms: dict[str, str] = {}
        self.terms: dict[str, list[Term]] = {}
        for name, definition in context.items():
            if name.startswith("@") or name in namespaces:
                continue
            if isinstance(definition, str):
                if definition.startswith("@"):  # keyword aliases: "id", "type"
                    continue
                iri = self._expand(definition, namespaces)
                self.class_terms.setdefault(iri, name)
                self.terms.setdefault(iri, []).append(Term(name, "plain", None, False))
            elif isinstance(definition, dict) and "@id" in definition:
                iri = self._expand(definition["@id"], namespaces)
                is_set = definition.get("@container") == "@set"
                coercion = definition.get("@type")
                if coercion == "@id":
                    term = Term(name, "id", None, is_set)
                elif coercion is not None:
                    term = Term(name, "typed", self._expand(coercion, namespaces), is_set)
                elif "@language" in definition:
                    term = Term(name, "language", definition["@language"], is_set)
                else:
                    term = Term(name, "plain", None, is_set)
                self.terms.setdefault(iri, []).append(term)
        self._choices: dict[tuple[str, str, str | None], tuple[str, Term | None]] = {}

    @staticmethod
    def _expand(value: str, namespaces: dict[str, str]) -> str:
        prefix, colon, local = value.partition(":")
        return namespaces[prefix] + local if colon and prefix in namespaces else value

    def shrink(self, iri: str) -> str:
        """An IRI as a compact IRI where its namespace (up to the last `#`, else `/`) is a prefix, else unchanged."""
        at = iri.rfind("#")
        if at < 0:
            at = iri.rfind("/")
        prefix = self.prefixes.get(iri[: at + 1]) if at >= 0 else None
        return f"{prefix}:{iri[at + 1 :]}" if prefix and at + 1 < len(iri) else iri

    def symbol(self, iri: str) -> str:
        """A class or datatype IRI as its term, else as a compact IRI."""
        return self.class_terms.get(iri) or self.shrink(iri)

    def node_objects(self, triples: Iterable[ox.Triple]) -> dict[str, dict[str, Any]]:
        """One node object per subject, keyed by its `id`, in the order subjects first appear; values in the order of
        the triples."""
        nodes: dict[str, dict[str, Any]] = {}
        singles: dict[str, set[str]] = {}  # per node, the keys holding one value not (yet) written as an array
        for subject, predicate, obj in triples:
            node_id = self._node_id(subject)
            node = nodes.get(node_id)
            if node is None:
                node = nodes[node_id] = {"id": node_id}
                singles[node_id] = set()
            key, value, is_set = self._statement(predicate.value, obj)
            if key not in node:
                if is_set:
                    node[key] = [value]
                else:
                    node[key] = value
                    singles[node_id].add(key)
            elif key in singles[node_id]:
                node[key] = [node[key], value]
                singles[node_id].discard(key)
            else:
                node[key].append(value)
        return nodes

    def _node_id(self, term: ox.NamedNode | ox.BlankNode) -> str:
        return self.shrink(term.value) if isinstance(term, ox.NamedNode) else str(term)

    def _statement(self, predicate: str, obj: ox.NamedNode | ox.BlankNode | ox.Literal) -> tuple[str, object, bool]:
        if isinstance(obj, ox.Literal):
            return self._literal(predicate, obj)
        reference = self._node_id(obj)
        if predicate == RDF_TYPE and isinstance(obj, ox.NamedNode):
            return "type", self.symbol(obj.value), False
        key, term = self._choose(predicate, "id", None)
        if term is not None and term.kind == "id":
            return key, reference, term.is_set
        return key, {"id": reference}, term is not None and term.is_set

    def _literal(self, predicate: str, literal: ox.Literal) -> tuple[str, object, bool]:
        datatype = literal.datatype.value
        if literal.language:
            key, term = self._choose(predicate, "language", literal.language)
        elif datatype == XSD_STRING:
            key, term = self._choose(predicate, "plain", None)
        else:
            key, term = self._choose(predicate, "typed", datatype)
        if term is not None and term.kind != "plain":  # the term states the datatype or language
            return key, literal.value, term.is_set
        return key, self._literal_value(literal), term is not None and term.is_set

    def _choose(self, predicate: str, kind: str, qualifier: str | None) -> tuple[str, Term | None]:
        """The key for a value of this shape: the term that states its shape, else the property's plain term, else the
        property's compact IRI (remembered: a record asks the same few questions many times)."""
        cache_key = (predicate, kind, qualifier)
        choice = self._choices.get(cache_key)
        if choice is None:
            candidates = self.terms.get(predicate, [])
            exact = [t for t in candidates if t.kind == kind and t.qualifier == qualifier]
            plain = [t for t in candidates if t.kind == "plain"]
            term = next(iter(exact or plain), None)
            choice = self._choices[cache_key] = (term.name if term else self.shrink(predicate), term)
        return choice

    def _literal_value(self, literal: ox.Literal) -> object:
        """A literal written out in full, or as a JSON number or boolean where that expands to the same literal."""
        value, datatype = literal.value, literal.datatype.value
        if literal.language:
            return {"@value": value, "@language": literal.language}
        if datatype == XSD_STRING:
            return value
        if datatype == XSD + "integer" and value.lstrip("-").isdigit() and str(int(value)) == value:
            return int(value)
        if datatype == XSD + "boolean" and value in ("true", "false"):
            return value == "true"
        return {"type": self.symbol(datatype), "@value": value}
