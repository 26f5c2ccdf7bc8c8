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

Reading the file and its cells is ``ingest/audit_sheet.py``, matching rows to communities ``ingest/audit_match.py``;
this module plans the import (what it would write, and whether that conforms) and applies it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from copgraph.build.description import published_write
from copgraph.build.shacl import Report, Validator
from copgraph.core.config import Config
from copgraph.core.graphs import graph_name
from copgraph.core.things import add_audit, add_audit_observation, iri, new_graph
from copgraph.core.vocab import COP, thing
from copgraph.ingest.audit_match import CommunityIndex
from copgraph.ingest.audit_sheet import (
    AuditFileError,
    RowProblem,
    read_activity,
    read_members,
    read_rows,
    read_source,
    read_status,
    read_themes,
)
from copgraph.store.generations import current_generation

FILE_NOTE = "# Written by `copgraph import-audit` (src/copgraph/ingest/audit.py) from an audit spreadsheet.\n"


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
        activity, why_activity = read_activity(row.get("activity", ""))
        members, why_members = read_members(row.get("members", ""))
        status, why_status = read_status(row.get("status", ""))
        url, why_source = read_source(row, source)
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
        themes, unmatched = read_themes(row.get("subject_focus", ""))
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
    add_audit_observation(graph, subject, URIRef(community), f"{label} in the {year} audit", year)
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
    add_audit(graph, year)
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
