"""The solutions of a read model's SELECT as plain rows, so model code reads `row["label"]` and never a pyoxigraph term:
the read models only ever need lexical values (an IRI's text, a literal's text), with None where a variable is
unbound."""

from __future__ import annotations

from copgraph.store.reader import Dataset

Row = dict[str, str | None]


def rows(dataset: Dataset, sparql: str) -> list[Row]:
    """Every solution of `sparql` (a SELECT) over `dataset`, as a dict from variable name to lexical value."""
    solutions = dataset.query(sparql)
    names = [variable.value for variable in solutions.variables]
    return [{name: None if s[name] is None else s[name].value for name in names} for s in solutions]
