"""Review: a maintainer approves or rejects a pending contribution, and the store, the files and the receipt follow.

Approval replaces the community's graph in the store (one atomic `store.write`, which also records the PROV activity
in the provenance graph), then writes ``data/communities/<slug>.ttl`` and ``data/provenance.ttl`` (each atomically),
and changes the receipt last. A crash before the store swap leaves the old state everywhere; a crash after it leaves
the new state in the store, which is authoritative: the files may lag behind, and `copgraph build` then refuses ("run
`copgraph export` first") until they are written back, so no rebuild can lose or half-apply the approval. A rejection
records its PROV activity the same way and publishes nothing. The proposed record is validated again at approval, in
the context of the data as it is then.
"""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from copgraph.build.description import published_write
from copgraph.build.shacl import QuadValidator, Validator
from copgraph.contributions.answers import ContributionError, check_reason
from copgraph.contributions.pending import (
    atomic_write,
    contributed_triples,
    find_receipt,
    now,
    review_lock,
    save_receipt,
)
from copgraph.contributions.record import community_graph_name, field_errors, proposed_record, record_file, record_path
from copgraph.core.config import Config
from copgraph.core.vocab import GRAPH, thing

PROVENANCE_GRAPH = str(GRAPH) + "provenance"
PROVENANCE_FILE = "data/provenance.ttl"
MAINTAINER_AGENT = thing("agent", "maintainer")


class NotPending(Exception):
    """The contribution has already been approved or rejected (or does not exist)."""


def _activity(receipt: dict, outcome: str, reason: str, started: str, ended: str) -> list[ox.Triple]:
    """The PROV record of one review: what was used, what it generated, who did it, when and why."""
    activity = ox.NamedNode(thing("activity", f"{outcome}-{receipt['id']}"))
    agent = ox.NamedNode(MAINTAINER_AGENT)

    def node(term: URIRef) -> ox.NamedNode:
        return ox.NamedNode(str(term))

    def when(stamp: str) -> ox.Literal:
        return ox.Literal(stamp, datatype=node(XSD.dateTime))

    statements = [
        (activity, RDF.type, node(PROV.Activity)),
        (activity, RDFS.label, ox.Literal(f"{outcome.capitalize()} of contribution {receipt['id']}")),
        (activity, PROV.startedAtTime, when(started)),
        (activity, PROV.endedAtTime, when(ended)),
        (activity, PROV.used, ox.NamedNode(receipt["graph"])),
        (activity, PROV.wasAssociatedWith, agent),
        (agent, RDF.type, node(PROV.Agent)),
        (agent, RDFS.label, ox.Literal("copgraph maintainer")),
    ]
    if outcome == "approval":
        statements.append((activity, PROV.generated, ox.NamedNode(receipt["community"])))
    if reason and outcome == "approval":  # a rejection's reason is for the contributor (their receipt), not public
        statements.append((activity, RDFS.comment, ox.Literal(reason)))
    return [ox.Triple(s, node(p), o) for s, p, o in statements]


def _history(store: ox.Store, receipt: dict, outcome: str, reason: str, started: str) -> list[ox.Triple]:
    """The provenance graph with this review's activity in it; a review run again after a crash (the receipt still
    pending) replaces the activity its first run stored, so it never has two start or end times."""
    activity = _activity(receipt, outcome, reason, started, now())
    again = activity[0].subject
    kept = [
        q.triple
        for q in store.quads_for_pattern(None, None, None, ox.NamedNode(PROVENANCE_GRAPH))
        if q.subject != again
    ]
    return kept + activity


def _pending_receipt(config: Config, receipt_id: str) -> dict:
    found = find_receipt(config, receipt_id)
    if found is None or found["status"] != "pending":
        raise NotPending(
            f"contribution {receipt_id} is not pending" + (f" (it was {found['status']})" if found else "")
        )
    return found


def approve(
    config: Config,
    receipt_id: str,
    reason: str = "",
    validator: QuadValidator | None = None,
    after_store_write: Callable[[], None] | None = None,
) -> dict:
    """Publish a pending contribution; raises ContributionError (nothing written) if it no longer validates.

    Steps, in crash-safe order: validate the proposed record in context (replacing its old file); one atomic store
    write replacing the community's graph and adding the PROV activity; the record file and data/provenance.ttl;
    the receipt last. `after_store_write` runs between the store swap and the file writes (tests use it to crash
    there)."""
    reason = check_reason(reason, required=False)
    with review_lock(config):
        found = _pending_receipt(config, receipt_id)
        started = now()
        slug, community = found["slug"], found["community"]
        graph_name = community_graph_name(slug)
        contributed = contributed_triples(config, receipt_id)
        path = record_path(config, slug)
        validator = validator or Validator(config.root)
        holder: dict[str, list[ox.Triple]] = {}

        def change(store: ox.Store) -> None:
            named = ox.NamedNode(graph_name)
            current = [q.triple for q in store.quads_for_pattern(None, None, None, named)]
            record = proposed_record(current, contributed, community)
            if current and not found["updates"] and set(record) != set(current):
                # Published by someone else since it was contributed (the same record again is a retried approval).
                raise ContributionError(
                    {"name": [f"A community {slug!r} has been published since: contribute an update to it instead."]}
                )
            report = validator.validate_quads(
                [ox.Quad(t.subject, t.predicate, t.object) for t in record], replacing=[path]
            )
            if not report.conforms:
                raise ContributionError(field_errors(report))
            history = _history(store, found, "approval", reason, started)
            holder["record"] = _replace_graph(store, named, record)
            holder["history"] = _replace_graph(store, ox.NamedNode(PROVENANCE_GRAPH), history)

        published_write(config, change, f"approve:{receipt_id}")
        if after_store_write:
            after_store_write()
        atomic_write(path, record_file(holder["record"]))
        atomic_write(config.root / PROVENANCE_FILE, record_file(holder["history"]))
        return _close(config, found, "approved", reason)


def reject(config: Config, receipt_id: str, reason: str) -> dict:
    """Reject a pending contribution with a reason (required): the PROV activity is stored and filed, the receipt
    keeps the reason. Nothing is published."""
    reason = check_reason(reason, required=True)
    with review_lock(config):
        found = _pending_receipt(config, receipt_id)
        started = now()
        holder: dict[str, list[ox.Triple]] = {}

        def change(store: ox.Store) -> None:
            history = _history(store, found, "rejection", reason, started)
            holder["history"] = _replace_graph(store, ox.NamedNode(PROVENANCE_GRAPH), history)

        published_write(config, change, f"reject:{receipt_id}")
        atomic_write(config.root / PROVENANCE_FILE, record_file(holder["history"]))
        return _close(config, found, "rejected", reason)


def _replace_graph(store: ox.Store, name: ox.NamedNode, triples: list[ox.Triple]) -> list[ox.Triple]:
    """Make the graph hold exactly these triples; returns them as the store holds them (it normalises some literals,
    e.g. dates in UTC end in Z), so that the file written from them matches the store exactly."""
    if store.contains_named_graph(name):
        store.remove_graph(name)
    store.add_graph(name)
    store.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in dict.fromkeys(triples))
    return [q.triple for q in store.quads_for_pattern(None, None, None, name)]


def _close(config: Config, found: dict, status: str, reason: str) -> dict:
    closed = found | {"status": status, "reason": reason, "updated": now()}
    save_receipt(config, closed)
    return closed
