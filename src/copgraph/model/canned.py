"""The catalogue of canned queries: ``queries/*.rq`` files, read alike by the UI, the API and the tests.

Each file opens with header comments, then its PREFIX lines and a SPARQL SELECT query::

    # title: Communities per platform
    # description: How many communities have a presence on each platform, most used first.
    # param: platform iri optional  The platform to restrict to, e.g. https://w3id.org/copgraph/id/platform/twitter

A parameter named ``platform`` is the query's variable ``?platform``; callers bind it when a value is given, and
the query returns every row when it is not. Other comment lines in the header are free text and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PARAM_TYPES = ("iri", "string", "integer", "year")

_FIELD = re.compile(r"#\s*(?P<key>[A-Za-z]+)\s*:\s*(?P<value>.*)$")
_PARAM = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>\S+)\s+(?P<required>required|optional)\s+(?P<description>\S.*)$"
)


@dataclass(frozen=True)
class QueryParam:
    """A value a canned query can be given: binds the query variable of the same name."""

    name: str
    type: str  # one of PARAM_TYPES
    required: bool
    description: str


@dataclass(frozen=True)
class CannedQuery:
    """One canned query: ``name`` is the file name without ``.rq``; ``text`` is the whole file."""

    name: str
    title: str
    description: str
    text: str
    params: tuple[QueryParam, ...]


# Request parameters the HTTP API reads itself, so no query parameter may be called so.
RESERVED_NAMES = frozenset({"format", "output"})


def load_canned_queries(queries_dir: Path) -> list[CannedQuery]:
    """Every ``*.rq`` file in queries_dir, sorted by name. Raises ValueError naming the file whose header is bad."""
    return [read_canned_query(path) for path in sorted(Path(queries_dir).glob("*.rq"), key=lambda p: p.stem)]


def read_canned_query(path: Path) -> CannedQuery:
    """One canned query file. Raises ValueError naming the file if its header lacks a title or description,
    repeats one, or has a malformed param line."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    params: list[QueryParam] = []
    header, body = _split_header(text)
    for line in header:
        match = _FIELD.match(line)
        if not match:
            continue
        key, value = match["key"].lower(), match["value"].strip()
        if key == "param":
            params.append(_parse_param(path, value, body))
        elif key in ("title", "description"):
            if key in fields:
                raise ValueError(f"{path}: more than one '# {key}:' line")
            fields[key] = value
    for key in ("title", "description"):
        if not fields.get(key):
            raise ValueError(f"{path}: the header has no '# {key}: ...' line")
    names = [param.name for param in params]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: a parameter is declared twice ({', '.join(names)})")
    return CannedQuery(
        name=path.stem,
        title=fields["title"],
        description=fields["description"],
        text=text,
        params=tuple(params),
    )


def _split_header(text: str) -> tuple[list[str], str]:
    """The comment lines before the first line of SPARQL (blank lines may come between them), and the rest."""
    lines = text.splitlines()
    header = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return header, "\n".join(lines[number:])
        if stripped:
            header.append(stripped)
    return header, ""


def _parse_param(path: Path, value: str, body: str) -> QueryParam:
    match = _PARAM.match(value)
    if not match:
        raise ValueError(
            f"{path}: malformed param line '# param: {value}': "
            "expected '# param: <name> <iri|string|integer|year> <required|optional>  <description>'"
        )
    if match["type"] not in PARAM_TYPES:
        raise ValueError(f"{path}: param {match['name']!r} has type {match['type']!r}, not one of {PARAM_TYPES}")
    if match["name"] in RESERVED_NAMES:
        raise ValueError(f"{path}: param {match['name']!r} is reserved (it chooses the result format); rename it")
    # A parameter binds the variable of its name, so the query must use that variable.
    if not re.search(rf"[?$]{re.escape(match['name'])}\b", body):
        raise ValueError(f"{path}: param {match['name']!r} does not appear in the query as ?{match['name']}")
    return QueryParam(
        name=match["name"],
        type=match["type"],
        required=match["required"] == "required",
        description=match["description"].strip(),
    )
