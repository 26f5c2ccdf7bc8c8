"""What changed between two sector audits: copgraph's own counts from its observations, beside the audits' published
figures (copgraph.model.figures), in the reports' style ("36 additions and six removed").

The per-community changes come from the canned query ``queries/audit-to-audit-changes.rq`` (one query for the CLI,
the /changes page and the API). Renames and moves between platforms come from what each audit's observation recorded:
the name it listed the community under (``cop:observedName``) and the platforms it saw (``cop:observedPlatform``), so
they are found only for communities both audits' imported rows named and placed (see DERIVED_FROM).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

from copgraph.model import figures
from copgraph.model.canned import read_canned_query
from copgraph.store.reader import Dataset

QUERY_FILE = "audit-to-audit-changes.rq"
CHANGES = ("added", "closed", "not observed again", "renamed", "moved between platforms")
# The changes whose entries also say what each audit recorded ("before" and "after").
COMPARED = ("renamed", "moved between platforms")
XSD_GYEAR = ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")
MEASURE = "https://w3id.org/copgraph/id/measure/"
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DERIVED_FROM = {
    "renamed": "both audits listed the community, under names that differ other than in case, spaces and punctuation "
    "(cop:observedName)",
    "moved between platforms": "both audits recorded platforms for the community, and one saw it on a platform the "
    "other did not (cop:observedPlatform)",
}
AUDIT_YEARS_QUERY = """
PREFIX cop: <https://w3id.org/copgraph/def/cop#>
SELECT DISTINCT ?year WHERE { ?audit a cop:SectorAudit ; cop:auditYear ?year . } ORDER BY ?year
"""


def in_words(number: int | None, noun: str = "", plural: str = "") -> str:
    """A count as the audit reports write it: one to nine (and "no") in words, larger numbers in digits."""
    if number is None:
        return "no published figure"
    text = NUMBER_WORDS[number] if 0 <= number < len(NUMBER_WORDS) else str(number)
    if not noun:
        return text
    return f"{text} {noun if number == 1 else (plural or noun + 's')}"


@dataclass
class Comparison:
    """The one data dictionary `copgraph diff` prints and /changes renders as HTML or JSON."""

    from_year: str
    to_year: str
    # change -> [{community, label}], and for renamed / moved also {before, after}: what each audit recorded
    changes: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    published: dict[str, int | None] = field(default_factory=dict)  # added, removed, total_from, total_to
    derived_from: dict[str, str] = field(default_factory=lambda: dict(DERIVED_FROM))

    @property
    def counts(self) -> dict[str, int]:
        return {change: len(self.changes.get(change, [])) for change in CHANGES}

    def copgraph_sentence(self) -> str:
        counts = self.counts
        return (
            f"copgraph's observations of the {self.from_year} and {self.to_year} audits show "
            f"{in_words(counts['added'], 'addition')} and {in_words(counts['closed'])} closed; "
            f"{in_words(counts['not observed again'], 'community', 'communities')} observed in {self.from_year} "
            f"{'was' if counts['not observed again'] == 1 else 'were'} not observed again in {self.to_year}; "
            f"{in_words(counts['renamed'])} renamed and "
            f"{in_words(counts['moved between platforms'], 'community', 'communities')} moved between platforms."
        )

    def published_sentence(self) -> str:
        p = self.published
        if p.get("added") is None and p.get("removed") is None and p.get("total_to") is None:
            return f"The {self.to_year} audit published no figures for additions, removals or its total."
        totals = f"{in_words(p.get('total_to'))} communities in total"
        if p.get("total_from") is not None:
            totals += f", from {in_words(p['total_from'])} in {self.from_year}"
        added = "no published figure for additions" if p.get("added") is None else in_words(p["added"], "addition")
        removed = (
            "no published figure for removals" if p.get("removed") is None else f"{in_words(p['removed'])} removed"
        )
        return f"The {self.to_year} audit published {added} and {removed} ({totals})."

    def as_json(self) -> dict:
        data = asdict(self)
        data |= {
            "counts": self.counts,
            "sentence": self.copgraph_sentence(),
            "published_sentence": self.published_sentence(),
        }
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_json(), indent=2)

    def to_text(self) -> str:
        lines = [self.copgraph_sentence(), self.published_sentence(), ""]
        for change in CHANGES:
            entries = self.changes.get(change, [])
            lines.append(f"{change} ({len(entries)}):")
            listed = [f"  {entry['label']}  <{entry['community']}>{_compared(entry)}" for entry in entries]
            lines += listed or ["  none"]
        lines.append("")
        lines += [f"{kind}: {how}" for kind, how in self.derived_from.items()]
        return "\n".join(lines)


def _compared(entry: dict[str, str]) -> str:
    """What each audit recorded, "(before → after)", for a rename or a move; nothing for the other changes."""
    return f"  ({entry['before']} → {entry['after']})" if "before" in entry else ""


def check_years(from_year: str, to_year: str) -> None:
    """ValueError, in words a person can act on, unless both are four-digit years with from before to."""
    for name, year in (("YEAR1 (from)", from_year), ("YEAR2 (to)", to_year)):
        if not re.fullmatch(r"[0-9]{4}", year or ""):
            raise ValueError(f"{name} must be a year written with four digits, such as 2021; got {year!r}")
    if from_year >= to_year:
        raise ValueError(f"the first year ({from_year}) must come before the second ({to_year})")


def audit_years(dataset: Dataset) -> list[str]:
    return [solution["year"].value for solution in dataset.query(AUDIT_YEARS_QUERY)]


def compare(dataset: Dataset, root: Path, from_year: str, to_year: str) -> Comparison:
    """The changes between two audit years and the audits' published figures; ValueError for bad years."""
    check_years(from_year, to_year)
    query = read_canned_query(root / "queries" / QUERY_FILE)
    substitutions = {
        ox.Variable(name): ox.Literal(year, datatype=XSD_GYEAR) for name, year in (("from", from_year), ("to", to_year))
    }
    comparison = Comparison(from_year, to_year, changes={change: [] for change in CHANGES})
    for solution in dataset.query(query.text, substitutions=substitutions):
        change = solution["change"].value
        entry = {"community": solution["community"].value, "label": solution["label"].value}
        if change in COMPARED:
            entry |= {side: solution[side].value if solution[side] else "" for side in ("before", "after")}
        comparison.changes[change].append(entry)
    comparison.published = published_figures(dataset, from_year, to_year)
    return comparison


def published_figures(dataset: Dataset, from_year: str, to_year: str) -> dict[str, int | None]:
    """The later audit's added and removed figures and both audits' totals (None where none was published)."""
    found = {
        (figure.year, figure.measure.removeprefix(MEASURE)): figure.value
        for figure in figures.published_figures(dataset, href=str)  # no page links here: IRIs as they are
    }
    return {
        "added": found.get((to_year, "communities-added")),
        "removed": found.get((to_year, "communities-removed")),
        "total_from": found.get((from_year, "communities-total")),
        "total_to": found.get((to_year, "communities-total")),
    }
