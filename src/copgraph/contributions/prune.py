"""Expiry of the pending area (`copgraph prune-pending`): a reviewed contribution's files, once old enough.

A receipt outlives its review for a while, so the contributor can read the outcome at its address; then its files
go, while the review itself stays recorded as PROV. Leftovers of interrupted submissions go too, never a pending
contribution.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from copgraph.contributions.pending import review_lock
from copgraph.core.config import Config

REVIEWED = ("approved", "rejected")
# Leftovers of a submission are only removed at least this old: a submission being written is never touched.
LEFTOVER_AGE = timedelta(hours=1)


def prune_pending(config: Config, older_than_days: float, at: datetime | None = None) -> list[Path]:
    """Remove the files of contributions approved or rejected more than `older_than_days` ago (their receipt, then
    their TriG), and what interrupted submissions left (a TriG without a receipt, temporary files) if that old and
    at least LEFTOVER_AGE old. Pending contributions are never removed. Returns the files removed; ValueError for a
    negative age.

    The approval or rejection itself stays recorded as PROV in the store and data/provenance.ttl; only the
    contributor's receipt (and its address) goes."""
    if not older_than_days >= 0:  # also refuses NaN
        raise ValueError(f"--older-than must be a number of days, 0 or more; got {older_than_days}")
    directory = config.pending_dir
    if not directory.is_dir():
        return []
    moment = at or datetime.now(UTC)
    cutoff = moment - timedelta(days=older_than_days)
    removed: list[Path] = []
    with review_lock(config):  # no review closes a receipt while its files go
        for path in sorted(directory.glob("*.json")):
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
                closed = found["status"] in REVIEWED and _parse_stamp(found["updated"]) < cutoff
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not a receipt this code wrote: left for a person to look at
            if closed:
                removed += _unlink(path, path.with_suffix(".trig"))
        receipts_left = {path.stem for path in directory.glob("*.json")}
        for path in sorted([*directory.glob("*.trig"), *directory.glob(".*.tmp")]):
            if path.stem not in receipts_left and _modified(path) < min(cutoff, moment - LEFTOVER_AGE):
                removed += _unlink(path)
    return removed


def _parse_stamp(stamp: str) -> datetime:
    """A receipt's time ("2026-11-23T10:47:11Z"), aware, in UTC."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _unlink(*paths: Path) -> list[Path]:
    """Remove the files, in this order (the receipt first: without it a contribution is invisible)."""
    gone = []
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        gone.append(path)
    return gone
