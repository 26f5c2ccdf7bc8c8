"""Importing a sector-audit spreadsheet (CSV) as observations of existing communities for one audit year.

Columns (the shape the ALT audit describes), one row per community; only ``name`` is required, and a source URL
must come from the ``source`` column or ``--source`` for the whole file, since every observation carries its source:

    name, url, platforms, hashtags, activity, members, subject_focus, governance, host_or_sponsor, status, source

``--mapping`` renames columns, either inline (``name=Community Name,url=Website``) or as a JSON file holding
``{"name": "Community Name", ...}``. Rows are matched to communities copgraph already has (homepage, then hashtag,
then handle, then name); an importer never invents a community. A row becomes ``id/observation/<slug>-<year>`` in
``data/audits/<year>-observations.ttl``, recording the name the audit used (``cop:observedName``) and the platforms it
saw (``cop:observedPlatform``), from which ``copgraph diff`` derives renames and moves between platforms. Nothing is
written unless every row is good (or ``skip_bad`` is given) and the result conforms to the shapes in the context of
the published data.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from copgraph.build.description import published_write
from copgraph.build.shacl import Report, Validator
from copgraph.core.config import Config
from copgraph.core.graphs import graph_name
from copgraph.core.vocab import COP, thing
from copgraph.ingest.facts import ACTIVITY_LABELS, AUDIT_PUBLISHER, STATUS_LABELS, THEME_LABELS, iri, new_graph
from copgraph.store.generations import current_generation

COLUMNS = (
    "name",
    "url",
    "platforms",
    "hashtags",
    "activity",
    "members",
    "subject_focus",
    "governance",
    "host_or_sponsor",
    "status",
    "source",
)
# Member counts that mean "no figure": the observation then simply has no cop:memberCount.
NO_FIGURE = {"", "n/a", "na", "-"}
MEMBERS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+|[0-9]+")
FILE_NOTE = "# Written by `copgraph import-audit` (src/copgraph/ingest/audit.py) from an audit spreadsheet.\n"

COMMUNITY_INDEX_QUERY = """
PREFIX cop: <https://w3id.org/copgraph/def/cop#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <https://schema.org/>
SELECT ?community ?kind ?value WHERE {
  ?community a cop:CommunityOfPractice .
  { ?community rdfs:label ?value BIND("name" AS ?kind) }
  UNION { ?community skos:altLabel ?value BIND("name" AS ?kind) }
  UNION { ?community foaf:homepage ?value BIND("url" AS ?kind) }
  UNION { ?community cop:hasPresence/schema:url ?value BIND("url" AS ?kind) }
  UNION { ?community cop:hashtag/cop:normalisedTag ?value BIND("hashtag" AS ?kind) }
  UNION { ?community cop:hasPresence/cop:handle ?value BIND("handle" AS ?kind) }
}
"""
PLATFORM_QUERY = """
PREFIX cop: <https://w3id.org/copgraph/def/cop#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?platform ?label WHERE { ?platform a cop:Platform . OPTIONAL { ?platform rdfs:label ?label } }
"""


class AuditFileError(Exception):
    """The file cannot be imported at all (unreadable, no header, a required column missing, a bad mapping)."""


@dataclass(frozen=True)
class RowProblem:
    """A bad row (it blocks the import unless skip_bad) or a note (the row is good; something was not recorded)."""

    row: int  # as a spreadsheet shows it: the header is row 1
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


@dataclass
class ImportPlan:
    """What an import would do: the observations of good rows, the bad rows, notes, and the file it would write."""

    year: str
    target: Path
    observations: dict[str, int] = field(default_factory=dict)  # observation IRI -> row
    bad_rows: list[RowProblem] = field(default_factory=list)
    notes: list[RowProblem] = field(default_factory=list)
    file_text: str = ""
    report: Report | None = None

    @property
    def conforms(self) -> bool:
        return self.report is None or self.report.conforms


def parse_mapping(text: str | None) -> dict[str, str]:
    """Our column name -> the spreadsheet's, from ``name=Community Name,url=Website`` or a JSON file of the same."""
    if not text:
        return {}
    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise AuditFileError(f"mapping file {path}: not JSON ({error})") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise AuditFileError(f'mapping file {path}: expected an object such as {{"name": "Community Name"}}')
    else:
        mapping = {}
        for part in text.split(","):
            ours, equals, theirs = part.partition("=")
            if not equals or not ours.strip() or not theirs.strip():
                raise AuditFileError(
                    f"mapping {part!r}: write it as column=Spreadsheet Column, e.g. name=Community Name"
                )
            mapping[ours.strip()] = theirs.strip()
    unknown = sorted(set(mapping) - set(COLUMNS))
    if unknown:
        raise AuditFileError(
            f"mapping names unknown column(s) {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}"
        )
    return mapping


def read_rows(path: Path, mapping: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, {our column: cell}) for each data row; AuditFileError if the file cannot be used."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            records = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise AuditFileError(f"cannot read {path}: {error}") from None
    if not records:
        raise AuditFileError(f"{path} is empty: expected a header row ({','.join(COLUMNS)})")
    header = [cell.strip() for cell in records[0]]
    positions = {}
    for column in COLUMNS:
        wanted = mapping.get(column, column)
        if wanted in header:
            positions[column] = header.index(wanted)
        elif column in mapping:
            raise AuditFileError(f"the mapping names column {wanted!r} for {column}, but the header has no such column")
    if "name" not in positions:
        raise AuditFileError(f"{path}: the header has no 'name' column (header: {', '.join(header)}); use --mapping")
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        rows.append((number, {c: record[i].strip() if i < len(record) else "" for c, i in positions.items()}))
    return rows


def normalise_url(url: str) -> str:
    """A homepage compared loosely: no scheme, no www., no trailing slash, lower-case."""
    text = re.sub(r"^https?://", "", url.strip().lower())
    return text.removeprefix("www.").rstrip("/")


def normalise_name(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


def split_cell(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


class CommunityIndex:
    """The published communities by each key a row can be matched on."""

    def __init__(self, quads: Iterable[ox.Quad]):
        store = ox.Store()
        store.extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
        self.keys: dict[tuple[str, str], set[str]] = {}
        self.labels: dict[str, str] = {}
        for solution in store.query(COMMUNITY_INDEX_QUERY):
            community, kind, value = solution["community"].value, solution["kind"].value, solution["value"].value
            self.keys.setdefault((kind, self._normal(kind, value)), set()).add(community)
        for quad in store.quads_for_pattern(None, ox.NamedNode(str(RDFS.label)), None):
            self.labels[quad.subject.value] = quad.object.value
        # Platforms by their slug and by their label, compared as names are ("Email list", "email-list").
        self.platforms: dict[str, str] = {}
        for solution in store.query(PLATFORM_QUERY):
            platform = solution["platform"].value
            self.platforms[normalise_name(platform.rsplit("/", 1)[-1])] = platform
            if solution["label"] is not None:
                self.platforms[normalise_name(solution["label"].value)] = platform

    @staticmethod
    def _normal(kind: str, value: str) -> str:
        if kind == "url":
            return normalise_url(value)
        if kind == "name":
            return normalise_name(value)
        return value.lstrip("#").lower()

    def find(self, kind: str, values: Iterable[str]) -> set[str]:
        return set().union(*(self.keys.get((kind, self._normal(kind, v)), set()) for v in values))

    def match(self, row: dict[str, str]) -> tuple[str | None, str | None]:
        """(community IRI, None), or (None, why not): the first key that finds communities decides; when it finds
        several, the later keys may narrow them to one, else the row is ambiguous."""
        handles = [
            detail for _, _, detail in (t.partition(":") for t in split_cell(row.get("platforms", ""))) if detail
        ]
        keys = [
            ("homepage", self.find("url", [row["url"]] if row.get("url") else [])),
            ("hashtag", self.find("hashtag", split_cell(row.get("hashtags", "")))),
            ("handle", self.find("handle", [h for h in handles if "://" not in h]) | self.find("url", handles)),
            ("name", self.find("name", [row["name"]])),
        ]
        candidates: set[str] | None = None
        first = ""
        for key, found in keys:
            if not found:
                continue
            narrowed = found if candidates is None else candidates & found
            if narrowed:
                candidates, first = narrowed, first or key
            if len(candidates) == 1:
                return next(iter(candidates)), None
        if candidates is None:
            return None, f"{row['name']!r} is not in copgraph yet: contribute it at /contribute, then import again"
        names = ", ".join(sorted(f"{self.labels.get(c, c)} ({c.rsplit('/', 1)[-1]})" for c in candidates))
        return None, f"{row['name']!r} matches more than one community by {first}: {names}; make the row specific"

    def platforms_seen(self, cell: str) -> tuple[list[str], list[str]]:
        """(platform IRIs, names matching no platform) of a platforms cell such as ``Twitter:@handle;Zoom``."""
        seen, unknown = [], []
        for token in split_cell(cell):
            name = token.partition(":")[0].strip()
            platform = self.platforms.get(normalise_name(name))
            if platform is None:  # a bare address names no platform: report it whole
                unknown.append(token if token.startswith(("http://", "https://")) else name or token)
            elif platform not in seen:
                seen.append(platform)
        return seen, unknown


def _activity(cell: str) -> tuple[str | None, str | None]:
    value = cell.strip().lower()
    if not value:
        return None, None
    if value in ACTIVITY_LABELS:
        return value, None
    return None, f"activity {cell!r} is not one of {', '.join(ACTIVITY_LABELS)}"


def _members(cell: str) -> tuple[int | None, str | None]:
    value = cell.strip()
    if value.lower() in NO_FIGURE:
        return None, None
    if MEMBERS.fullmatch(value):
        return int(value.replace(",", "")), None
    return None, f"members {cell!r} is not a whole number (leave it empty or n/a if the audit gives no figure)"


def _status(cell: str) -> tuple[str | None, str | None]:
    value = cell.strip().lower()
    if not value:
        return None, None
    if value in STATUS_LABELS:
        return value, None
    return None, f"status {cell!r} is not one of {', '.join(STATUS_LABELS)}"


def _themes(cell: str) -> tuple[list[str], list[str]]:
    """(theme slugs, focus values matching no theme), matching a theme by its slug or its label."""
    by_name = {normalise_name(slug): slug for slug in THEME_LABELS} | {
        normalise_name(label): slug for slug, label in THEME_LABELS.items()
    }
    themes, unmatched = [], []
    for focus in split_cell(cell):
        slug = by_name.get(normalise_name(focus))
        (themes.append(slug) if slug else unmatched.append(focus))
    return themes, unmatched


def _source(row: dict[str, str], default: str | None) -> tuple[str | None, str | None]:
    value = row.get("source") or default or ""
    if not value:
        return None, "no source: give the row a source URL (source column) or the file one (--source URL)"
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        return None, f"source {value!r} is not an http(s) URL"
    return value, None


def observation_iri(community: str, year: str) -> str:
    return thing("observation", f"{community.rsplit('/', 1)[-1]}-{year}")


def target_file(root: Path, year: str) -> Path:
    return root / "data" / "audits" / f"{year}-observations.ttl"


def plan_import(
    root: Path,
    csv_path: Path,
    year: str,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    validator: Validator | None = None,
) -> ImportPlan:
    """Read, match and check every row, and validate the file that would be written. Writes nothing."""
    if not re.fullmatch(r"[0-9]{4}", year):
        raise AuditFileError(f"--year must be four digits, such as 2021; got {year!r}")
    rows = read_rows(csv_path, mapping or {})
    validator = validator or Validator(root)
    target = target_file(root, year).resolve()
    published = [q for path, quads in validator.context.items() if path != target for q in quads]
    index = CommunityIndex(published)
    elsewhere = {q.subject.value for q in published if q.predicate.value == str(RDF.type)}
    plan = ImportPlan(year=year, target=target)
    graph = _existing(target)
    for number, row in rows:
        problems: list[str] = []
        community, why = index.match(row)
        if why:
            problems.append(why)
        activity, why_activity = _activity(row.get("activity", ""))
        members, why_members = _members(row.get("members", ""))
        status, why_status = _status(row.get("status", ""))
        url, why_source = _source(row, source)
        problems += [p for p in (why_activity, why_members, why_status, why_source) if p]
        if community:
            observation = observation_iri(community, year)
            if observation in plan.observations:
                problems.append(f"the same community as row {plan.observations[observation]}")
            elif observation in elsewhere:
                problems.append(f"copgraph already records {observation} outside {target.name}; edit it there")
        if problems:
            plan.bad_rows.append(RowProblem(number, "; ".join(problems)))
            continue
        themes, unmatched = _themes(row.get("subject_focus", ""))
        if unmatched:
            plan.notes.append(
                RowProblem(number, f"subject focus {', '.join(unmatched)} matches no theme: not recorded")
            )
        platforms, unknown = index.platforms_seen(row.get("platforms", ""))
        if unknown:
            plan.notes.append(
                RowProblem(
                    number,
                    f"platform {', '.join(unknown)} is not in copgraph (data/platforms.ttl): not recorded",
                )
            )
        plan.observations[observation] = number
        _add_observation(graph, observation, community, index.labels.get(community, row["name"]), year, url)
        _add_values(graph, URIRef(observation), activity, members, status, themes)
        _add_seen(graph, URIRef(observation), row["name"], platforms)
    if plan.observations:
        _ensure_audit(graph, year, source or next(iter(graph.objects(None, DCTERMS.source))), elsewhere)
        plan.file_text = FILE_NOTE + graph.serialize(format="turtle")
        quads = list(ox.parse(plan.file_text, format=ox.RdfFormat.TURTLE))
        plan.report = validator.validate_quads(quads, replacing=[target])
    return plan


def _existing(target: Path) -> Graph:
    """The year's observations file as it is (observations of other communities are kept), or an empty graph."""
    graph = new_graph()
    if target.is_file():
        graph.parse(target, format="turtle")
    return graph


def _add_observation(graph: Graph, observation: str, community: str, label: str, year: str, source: str) -> None:
    """The observation's identity, replacing any earlier import of the same community and year."""
    subject = URIRef(observation)
    graph.remove((subject, None, None))
    graph.add((subject, RDF.type, COP.Observation))
    graph.add((subject, RDFS.label, Literal(f"{label} in the {year} audit")))
    graph.add((subject, COP.observedCommunity, URIRef(community)))
    graph.add((subject, COP.inAudit, iri("audit", year)))
    graph.add((subject, COP.year, Literal(year, datatype=XSD.gYear)))
    graph.add((subject, DCTERMS.source, URIRef(source)))


def _add_values(
    graph: Graph, subject: URIRef, activity: str | None, members: int | None, status: str | None, themes: list[str]
) -> None:
    if activity:
        graph.add((subject, COP.activityLevel, iri("activity", activity)))
    if members is not None:
        graph.add((subject, COP.memberCount, Literal(members, datatype=XSD.nonNegativeInteger)))
    if status:
        graph.add((subject, COP.status, iri("status", status)))
    for theme in themes:
        graph.add((subject, DCTERMS.subject, iri("theme", theme)))


def _add_seen(graph: Graph, subject: URIRef, name: str, platforms: list[str]) -> None:
    """What the audit listed: the community's name as it wrote it (on one line) and the platforms it saw."""
    graph.add((subject, COP.observedName, Literal(" ".join(name.split()))))
    for platform in platforms:
        graph.add((subject, COP.observedPlatform, URIRef(platform)))


def _ensure_audit(graph: Graph, year: str, source: object, elsewhere: set[str]) -> None:
    """The year's cop:SectorAudit, published by ALT, unless the data already has it."""
    audit = iri("audit", year)
    if str(audit) in elsewhere or (audit, RDF.type, COP.SectorAudit) in graph:
        return
    graph.add((audit, RDF.type, COP.SectorAudit))
    graph.add((audit, RDFS.label, Literal(f"Communities of Practice Sector Audit {year}")))
    graph.add((audit, COP.auditYear, Literal(year, datatype=XSD.gYear)))
    graph.add((audit, DCTERMS.publisher, iri("organisation", AUDIT_PUBLISHER)))
    graph.add((audit, DCTERMS.source, URIRef(str(source))))


def apply_import(config: Config, plan: ImportPlan) -> None:
    """Write the year's observations file and, if there is a store, replace that file's graph in it.

    The file is written beside its target first and renamed over it only once the store has taken the change, so a
    failure at any point leaves both as they were.
    """
    target = plan.target
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(plan.file_text, encoding="utf-8")
    try:
        if current_generation(config.store_dir) is not None:
            _replace_graph(config, target, plan.file_text)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _replace_graph(config: Config, target: Path, text: str) -> None:
    name = ox.NamedNode(graph_name(config.root, target))
    triples = [q.triple for q in ox.parse(text, format=ox.RdfFormat.TURTLE)]

    def change(store: ox.Store) -> None:
        if store.contains_named_graph(name):
            store.remove_graph(name)
        store.add_graph(name)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)

    published_write(config, change, f"import-audit:{target.name}")
