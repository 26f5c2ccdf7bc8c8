"""The pending area: contributions received and not yet reviewed, and their receipts.

A validated contribution is kept as its own named graph ``<base>graph/pending/<id>`` in a TriG file, plus a JSON
receipt, in the pending directory beside the store (``Config.pending_dir``). Pending graphs are never loaded into the
store, so they can never appear in /sparql or the dumps. The receipt is written last and makes a contribution
visible. Every file is replaced atomically, and one lock (`review_lock`) lets one review or prune at a time change the
area.

Two names, for two audiences: the receipt's *secret* (random, 18 bytes) is the contributor's capability, the only
way to read the receipt (`/contribute/<secret>`); it is never stored. The contribution's *id* is a one-way digest of
the secret: maintainers review by it, and the public provenance of a review names it (its activity, its pending
graph), so publishing it gives nobody the receipt, the contribution or a rejection's reason.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from copgraph.contributions.answers import Answers
from copgraph.contributions.record import to_quads
from copgraph.core.config import Config
from copgraph.core.vocab import GRAPH, PREFIXES, thing

PENDING_GRAPH = str(GRAPH) + "pending/"
RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def now() -> str:
    """The time of a receipt or a review, to the second, in UTC ("2026-11-23T10:47:11Z")."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def atomic_write(path: Path, body: bytes) -> None:
    """Write a file so that readers (and a crash) see the old content or the new, never part of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@contextmanager
def review_lock(config: Config) -> Iterator[None]:
    """One review (or prune) at a time, across workers, so a contribution is approved or rejected once."""
    config.pending_dir.mkdir(parents=True, exist_ok=True)
    with (config.pending_dir / "review.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pending_graph(receipt_id: str) -> str:
    return PENDING_GRAPH + receipt_id


def contribution_id(secret: str) -> str:
    """The public id of the contribution whose receipt secret this is (and from which the secret cannot be found)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def submit(config: Config, answers: Answers, graph: Graph, flagged: list[dict[str, str]]) -> tuple[dict, str]:
    """Keep a validated contribution pending: its TriG file first, then the receipt that makes it visible. Returns the
    receipt and its secret, which is handed to the contributor and kept nowhere."""
    secret = secrets.token_urlsafe(18)
    receipt_id = contribution_id(secret)
    quads = to_quads(graph, pending_graph(receipt_id))
    directory = config.pending_dir
    atomic_write(directory / f"{receipt_id}.trig", ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES))
    stamp = now()
    receipt = {
        "id": receipt_id,
        "status": "pending",
        "created": stamp,
        "updated": stamp,
        "reason": "",
        "name": answers.name,
        "slug": answers.slug,
        "community": thing("community", answers.slug),
        "updates": answers.updates,
        "graph": pending_graph(receipt_id),
        "duplicates": flagged,
    }
    save_receipt(config, receipt)
    return receipt, secret


def save_receipt(config: Config, receipt: dict) -> None:
    atomic_write(config.pending_dir / f"{receipt['id']}.json", json.dumps(receipt, indent=2).encode())


def find_receipt(config: Config, receipt_id: str) -> dict | None:
    """The receipt of a contribution, or None if there is none with this id."""
    if not RECEIPT_ID.match(receipt_id):
        return None
    path = config.pending_dir / f"{receipt_id}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def find_receipt_by_secret(config: Config, secret: str) -> dict | None:
    """The receipt a contributor's secret opens, or None."""
    return find_receipt(config, contribution_id(secret)) if RECEIPT_ID.match(secret) else None


def receipts(config: Config, status: str | None = "pending") -> list[dict]:
    """Every receipt (with this status), oldest first."""
    if not config.pending_dir.is_dir():
        return []
    found = [json.loads(p.read_text(encoding="utf-8")) for p in config.pending_dir.glob("*.json")]
    return sorted((r for r in found if status is None or r["status"] == status), key=lambda r: r["created"])


def contributed_triples(config: Config, receipt_id: str) -> list[ox.Triple]:
    """The triples of a contribution as it was received (from its TriG file)."""
    path = config.pending_dir / f"{receipt_id}.trig"
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)]
