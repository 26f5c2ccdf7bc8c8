"""Merging the facts conversion into data/, record by record: what the conversion last wrote is fingerprinted in
data/facts-conversion.json, so a re-run adds what is new, updates what nobody has edited since, and keeps (and
reports the difference of) any record edited or approved in data/ since. `facts.convert` drives it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.term import Node

from copgraph.core.things import (
    new_graph,
)
from copgraph.core.vocab import ID

MANIFEST = "facts-conversion.json"


GENERATED_NOTE = (
    "# Converted from ../shared/facts/{csv} by src/copgraph/ingest/facts.py.\n"
    "# Maintained as Turtle from here on: a later conversion merges record by record and never overwrites a record\n"
    "# edited here (data/facts-conversion.json).\n"
)


def record_key(subject: Node) -> str:
    """How a record's subject is written in the manifest and in reports: `community/ukfechat` for copgraph's things."""
    text = str(subject)
    return text.removeprefix(str(ID))


def record_subject(key: str) -> URIRef:
    return URIRef(key if "://" in key else str(ID) + key)


def statements(graph: Graph, subject: Node) -> list[str]:
    """A record's statements, one `predicate object` line each in N-Triples terms, sorted."""
    return sorted(f"{p.n3()} {o.n3()}" for p, o in graph.predicate_objects(subject))


def fingerprint(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Event:
    """What a run did, or found, for one record of one file."""

    kind: str  # added, updated, unchanged, differs, removed-since, no-longer-in-facts
    file: str
    record: str
    only_in_data: tuple[str, ...] = ()
    only_in_facts: tuple[str, ...] = ()


@dataclass
class Conversion:
    """The outcome of a run: an event per record, the files (re)written, and the manifest as it now stands."""

    events: list[Event] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    manifest: dict[str, dict[str, str]] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return sum(1 for event in self.events if event.kind == kind)

    def report(self) -> str:
        lines = []
        for event in self.events:
            if event.kind == "unchanged":
                continue
            lines.append(f"{event.kind:<18} {event.file}  {event.record}")
            lines += [f"    only in data/:     {line}" for line in event.only_in_data]
            lines += [f"    only in the facts: {line}" for line in event.only_in_facts]
        kinds = ("added", "updated", "unchanged", "differs", "removed-since", "no-longer-in-facts")
        lines.append(", ".join(f"{self.count(kind)} {kind}" for kind in kinds) + f"; {len(self.written)} files written")
        if self.count("differs"):
            lines.append(
                "Records that differ were edited or approved in data/ since the last conversion and are kept as they "
                "are: edit them by hand, or take the facts' version with --replace RECORD."
            )
        return "\n".join(lines)


def read_manifest(data_dir: Path) -> dict[str, dict[str, str]]:
    path = data_dir / MANIFEST
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["records"]


def write_manifest(data_dir: Path, manifest: dict[str, dict[str, str]]) -> bool:
    """Write the manifest if it changed; True if it did."""
    path = data_dir / MANIFEST
    text = json.dumps(
        {
            "about": "What python -m copgraph.ingest.facts last wrote to each record of each file under data/ "
            "(SHA-256 of its statements, first 16 hex digits), so that a later run never overwrites a record "
            "edited since. Written by the conversion only.",
            "records": {file: dict(sorted(records.items())) for file, records in sorted(manifest.items()) if records},
        },
        indent=1,
        ensure_ascii=False,
    )
    if path.is_file() and path.read_text(encoding="utf-8") == text + "\n":
        return False
    path.write_text(text + "\n", encoding="utf-8")
    return True


def merge_file(
    name: str,
    facts: Graph,
    data: Graph | None,
    base: dict[str, str],
    replace: set[str],
) -> tuple[Graph | None, dict[str, str], list[Event]]:
    """Merge one file's records: the graph to write (None when nothing is added or updated), the file's manifest
    entries after the run, and an event per record."""
    current = data if data is not None else Graph()
    entries = dict(base)
    events: list[Event] = []
    changes: dict[Node, list[tuple]] = {}
    subjects = sorted(set(facts.subjects()), key=str)
    for subject in subjects:
        key = record_key(subject)
        wanted, have = statements(facts, subject), statements(current, subject)
        if have == wanted:
            entries[key] = fingerprint(wanted)
            events.append(Event("unchanged", name, key))
        elif key in replace or (have and fingerprint(have) == base.get(key)) or (not have and key not in base):
            entries[key] = fingerprint(wanted)
            changes[subject] = list(facts.triples((subject, None, None)))
            events.append(Event("updated" if have else "added", name, key))
        elif not have:
            events.append(Event("removed-since", name, key))
        else:
            only_data = tuple(line for line in have if line not in set(wanted))
            only_facts = tuple(line for line in wanted if line not in set(have))
            events.append(Event("differs", name, key, only_data, only_facts))
    given = {record_key(s) for s in subjects}
    for key in sorted(set(base) - given):
        if (record_subject(key), None, None) in current:
            events.append(Event("no-longer-in-facts", name, key))
        else:
            del entries[key]  # gone from the facts and from data/: nothing left to track
    if not changes:
        return None, entries, events
    merged = new_graph()
    for triple in current:
        if triple[0] not in changes:
            merged.add(triple)
    for triples in changes.values():
        for triple in triples:
            merged.add(triple)
    return merged, entries, events


def write(graph: Graph, path: Path, csv_name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = graph.serialize(format="turtle")
    path.write_text(GENERATED_NOTE.format(csv=csv_name) + text, encoding="utf-8")
