"""An audit spreadsheet read: its columns (renamed by a mapping), its rows, and each cell checked.

The first step of `copgraph import-audit` (ingest/audit.py): everything that can be said about a row without the
published data. A file that cannot be used at all is an AuditFileError; a cell that cannot be used gives the reason,
which the import reports against its row.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from copgraph.core.things import normalise_name
from copgraph.ingest.schemes import ACTIVITY_LABELS, STATUS_LABELS, THEME_LABELS

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


class AuditFileError(Exception):
    """The file cannot be imported at all (unreadable, no header, a required column missing, a bad mapping)."""


@dataclass(frozen=True)
class RowProblem:
    """A bad row (it blocks the import unless skip_bad) or a note (the row is good; something was not recorded)."""

    row: int  # as a spreadsheet shows it: the header is row 1
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


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


def split_cell(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


# Each cell read as (value, None), (None, None) when empty, or (None, why it cannot be used).


def read_activity(cell: str) -> tuple[str | None, str | None]:
    value = cell.strip().lower()
    if not value:
        return None, None
    if value in ACTIVITY_LABELS:
        return value, None
    return None, f"activity {cell!r} is not one of {', '.join(ACTIVITY_LABELS)}"


def read_members(cell: str) -> tuple[int | None, str | None]:
    value = cell.strip()
    if value.lower() in NO_FIGURE:
        return None, None
    if MEMBERS.fullmatch(value):
        return int(value.replace(",", "")), None
    return None, f"members {cell!r} is not a whole number (leave it empty or n/a if the audit gives no figure)"


def read_status(cell: str) -> tuple[str | None, str | None]:
    value = cell.strip().lower()
    if not value:
        return None, None
    if value in STATUS_LABELS:
        return value, None
    return None, f"status {cell!r} is not one of {', '.join(STATUS_LABELS)}"


def read_themes(cell: str) -> tuple[list[str], list[str]]:
    """(theme slugs, focus values matching no theme), matching a theme by its slug or its label."""
    by_name = {normalise_name(slug): slug for slug in THEME_LABELS} | {
        normalise_name(label): slug for slug, label in THEME_LABELS.items()
    }
    themes, unmatched = [], []
    for focus in split_cell(cell):
        slug = by_name.get(normalise_name(focus))
        (themes.append(slug) if slug else unmatched.append(focus))
    return themes, unmatched


def read_source(row: dict[str, str], default: str | None) -> tuple[str | None, str | None]:
    value = row.get("source") or default or ""
    if not value:
        return None, "no source: give the row a source URL (source column) or the file one (--source URL)"
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        return None, f"source {value!r} is not an http(s) URL"
    return value, None
