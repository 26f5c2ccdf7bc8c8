"""The figures the sector audits published (and AmplifyFE's network figures), read with one query for every page that
shows them: the home page and /audits (through the site index), /charts, and the published side of /changes and
`copgraph diff`.

A figure is data as its source gave it (`cop:PublishedFigure`, docs/MODEL.md): every one has exactly one label,
measure, value, unit and year (shapes/figure.ttl), so the query needs no OPTIONAL for those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copgraph.core.vocab import sparql_prefixes
from copgraph.model.rows import rows
from copgraph.store.reader import Dataset

# One row per figure: the sources are joined (IRIs hold no spaces), labels of what it refers to sampled.
FIGURES = (
    sparql_prefixes()
    + """
SELECT ?figure ?label ?measure (SAMPLE(?measureName) AS ?measureLabel) ?value ?unit ?year ?audit ?community
       (SAMPLE(?communityName) AS ?communityLabel) (SAMPLE(?note) AS ?comment)
       (GROUP_CONCAT(DISTINCT STR(?source); separator=" ") AS ?sources)
WHERE {
  ?figure a cop:PublishedFigure ; rdfs:label ?label ; cop:measure ?measure ; cop:value ?value ; cop:unit ?unit ;
          cop:year ?year .
  OPTIONAL { ?measure skos:prefLabel ?measureName }
  OPTIONAL { ?figure cop:inAudit ?audit }
  OPTIONAL { ?figure cop:figureOf ?community . OPTIONAL { ?community rdfs:label ?communityName } }
  OPTIONAL { ?figure rdfs:comment ?note }
  OPTIONAL { ?figure dct:source ?source }
}
GROUP BY ?figure ?label ?measure ?value ?unit ?year ?audit ?community
"""
)


@dataclass(frozen=True)
class Figure:
    """One published figure: an audit's aggregate (`audit` set) or a network figure of one community (`community`)."""

    iri: str
    href: str  # this server's path for the figure's record
    label: str
    measure: str  # the measure's IRI
    measure_label: str  # its preferred label, else the last segment of its IRI
    value: int
    unit: str
    year: str  # four digits (an xsd:gYear, shapes/figure.ttl)
    audit: str | None
    community: str | None
    community_label: str
    community_href: str | None
    comment: str
    sources: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "href": self.href,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "year": self.year,
            "measure": self.measure_label,
            "comment": self.comment,
            "sources": list(self.sources),
        }


def published_figures(dataset: Dataset, href: Callable[[str], str]) -> list[Figure]:
    """Every published figure, by year and then label; `href` maps an IRI to this server's path."""
    figures: dict[str, Figure] = {}
    for row in rows(dataset, FIGURES):
        iri, measure, community = row["figure"] or "", row["measure"] or "", row["community"]
        figures.setdefault(
            iri,
            Figure(
                iri=iri,
                href=href(iri),
                label=row["label"] or "",
                measure=measure,
                measure_label=row["measureLabel"] or measure.rstrip("/").rsplit("/", 1)[-1],
                value=int(row["value"] or 0),
                unit=row["unit"] or "",
                year=row["year"] or "",
                audit=row["audit"],
                community=community,
                community_label=row["communityLabel"] or "",
                community_href=href(community) if community else None,
                comment=row["comment"] or "",
                sources=tuple(sorted((row["sources"] or "").split())),
            ),
        )
    return sorted(figures.values(), key=lambda figure: (figure.year, figure.label))
