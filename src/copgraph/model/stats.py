"""Counts over the live data, for the home page and `copgraph stats`."""

from __future__ import annotations

from copgraph.core.vocab import sparql_prefixes
from copgraph.store.reader import Dataset

COUNTS_QUERY = (
    sparql_prefixes()
    + """
SELECT
  (COUNT(DISTINCT ?community) AS ?communities) (COUNT(DISTINCT ?platform) AS ?platforms)
  (COUNT(DISTINCT ?theme) AS ?themes) (COUNT(DISTINCT ?organisation) AS ?organisations)
  (COUNT(DISTINCT ?hashtag) AS ?hashtags) (COUNT(DISTINCT ?audit) AS ?audits)
WHERE {
  { ?community a cop:CommunityOfPractice } UNION { ?platform a cop:Platform }
  UNION { ?theme skos:inScheme <https://w3id.org/copgraph/id/scheme/theme> }
  UNION { ?organisation a org:Organization } UNION { ?hashtag a cop:Hashtag } UNION { ?audit a cop:SectorAudit }
}
"""
)

PER_AUDIT_QUERY = (
    sparql_prefixes()
    + """
SELECT ?year (SAMPLE(?total) AS ?published_total) (COUNT(DISTINCT ?community) AS ?observed)
       (COUNT(DISTINCT ?theme) AS ?themes_observed)
WHERE {
  ?audit a cop:SectorAudit ; cop:auditYear ?year .
  OPTIONAL { ?figure cop:inAudit ?audit ; cop:measure <https://w3id.org/copgraph/id/measure/communities-total> ;
                     cop:value ?total }
  OPTIONAL { ?observation cop:inAudit ?audit ; cop:observedCommunity ?community .
             OPTIONAL { ?community dct:subject ?theme } }
}
GROUP BY ?year ORDER BY ?year
"""
)

LABELS = ["communities", "platforms", "themes", "organisations", "hashtags", "audits"]


def dataset_counts(dataset: Dataset) -> list[tuple[str, int]]:
    """(label, count) for each kind of record, then the number of triples."""
    solution = next(iter(dataset.query(COUNTS_QUERY)))
    counts = [(label.capitalize(), int(solution[label].value)) for label in LABELS]
    return counts + [("Triples", dataset.metadata.triples)]


def per_audit_year(dataset: Dataset) -> list[dict[str, str]]:
    """Per audit year: the published count of communities, and the communities and themes copgraph observed."""
    return [
        {
            name: ("" if s[name] is None else s[name].value)
            for name in ("year", "published_total", "observed", "themes_observed")
        }
        for s in dataset.query(PER_AUDIT_QUERY)
    ]
