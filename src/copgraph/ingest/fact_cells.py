"""Reading the fact files (../shared/facts/*.csv): rows as dictionaries, `;`-separated lists, space-separated source
URLs. Shared by the modules of the facts conversion."""

from __future__ import annotations

import csv
from pathlib import Path

from rdflib import URIRef


def split_list(cell: str, sep: str = ";") -> list[str]:
    return [part.strip() for part in cell.split(sep) if part.strip()]


def sources(cell: str) -> list[URIRef]:
    return [URIRef(url) for url in cell.split()]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
