"""Recognising bounded lookups: queries whose cost is at most the triples about a few named resources, bounded by
their shape and by their size.

Such a query can run in the web worker instead of making a round trip to the query process (executor.py), which
costs more than the lookup itself. Recognition is a whitelist over tokens: anything the small grammar of
is_bounded_lookup does not spell out (strings, comments, paths, several patterns, FILTER, ORDER BY, GRAPH, FROM,
SERVICE ...), and anything longer, goes to the query process with its timeout, memory cap and stack.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LOOKUP_TOKEN = re.compile(
    r"\s*(?:(?P<iri><[^<>\"{}|^`\\\s]*>)|(?P<var>[?$][A-Za-z_]\w*)"
    r"|(?P<pname>(?:[A-Za-z][\w-]*)?:[A-Za-z_][\w-]*(?:[.][\w-]+)*|(?:[A-Za-z][\w-]*)?:)"
    r"|(?P<word>[A-Za-z]+)|(?P<number>\d{1,9})|(?P<punct>[{}.*]))"
)
_CONSTANT = ("iri", "pname")


def _lookup_tokens(query: str) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    position, end = 0, len(query.rstrip())
    while position < end:
        match = _LOOKUP_TOKEN.match(query, position)
        if match is None or match.end() == position or match.lastgroup is None:
            return None
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append((kind, value.upper() if kind == "word" else value))
        position = match.end()
    return tokens


# A lookup is short by construction: a text longer than LONGEST_LOOKUP characters, or a DESCRIBE naming more than
# MOST_DESCRIBED resources, goes to the query process. Oxigraph recurses once per described resource (a DESCRIBE
# of 3,000 IRIs overflowed a web worker's stack), and the 2048 answers remembered below then hold at most 4 MiB of
# ASCII (16 MiB in the widest encoding).
LONGEST_LOOKUP = 2048
MOST_DESCRIBED = 16


def is_bounded_lookup(query: str) -> bool:
    """True for `[PREFIX p: <iri>]* (DESCRIBE <iri>+ | SELECT [DISTINCT] (?v+|*) [WHERE] { S P O [.] } [LIMIT n]
    [OFFSET n] | ASK [WHERE] { S P O [.] })` of at most LONGEST_LOOKUP characters, with S a constant IRI, P an IRI,
    `a` or a variable, O an IRI or a variable, and at most MOST_DESCRIBED IRIs described. Its work is bounded by the
    triples of a few named resources (and the row cap), so no timeout is needed."""
    return len(query) <= LONGEST_LOOKUP and _remembered(query)


# Asked twice per lookup (web/http/fast_lookups.py, then Executor.run) and clients repeat, so answers are remembered.
@lru_cache(maxsize=2048)
def _remembered(query: str) -> bool:
    return _bounded_lookup(query)


def _bounded_lookup(query: str) -> bool:
    tokens = _lookup_tokens(query)
    if not tokens:
        return False
    i = 0
    while i < len(tokens) and tokens[i] == ("word", "PREFIX"):  # PREFIX pname: <iri>
        if len(tokens) < i + 3 or tokens[i + 1][0] != "pname" or not tokens[i + 1][1].endswith(":"):
            return False
        if tokens[i + 2][0] != "iri":
            return False
        i += 3
    rest = tokens[i:]
    if not rest:
        return False
    head = rest[0]
    if head == ("word", "DESCRIBE"):
        return 1 < len(rest) <= 1 + MOST_DESCRIBED and all(kind in _CONSTANT for kind, _ in rest[1:])
    if head == ("word", "SELECT"):
        j = 1
        if j < len(rest) and rest[j] == ("word", "DISTINCT"):
            j += 1
        if j < len(rest) and rest[j] == ("punct", "*"):
            j += 1
        else:
            start = j
            while j < len(rest) and rest[j][0] == "var":
                j += 1
            if j == start:
                return False
        return _one_pattern_then_modifiers(rest[j:], allow_modifiers=True)
    if head == ("word", "ASK"):
        return _one_pattern_then_modifiers(rest[1:], allow_modifiers=False)
    return False


def _one_pattern_then_modifiers(tokens: list[tuple[str, str]], allow_modifiers: bool) -> bool:
    if tokens and tokens[0] == ("word", "WHERE"):
        tokens = tokens[1:]
    if len(tokens) < 5 or tokens[0] != ("punct", "{"):
        return False
    subject, predicate, object_ = tokens[1], tokens[2], tokens[3]
    if subject[0] not in _CONSTANT:
        return False
    if not (predicate[0] in _CONSTANT or predicate[0] == "var" or predicate == ("word", "A")):
        return False
    if object_[0] not in (*_CONSTANT, "var"):
        return False
    j = 4
    if tokens[j] == ("punct", "."):
        j += 1
    if j >= len(tokens) or tokens[j] != ("punct", "}"):
        return False
    modifiers = tokens[j + 1 :]
    if not allow_modifiers:
        return not modifiers
    seen = set()
    while modifiers:
        if len(modifiers) < 2 or modifiers[0][1] not in ("LIMIT", "OFFSET") or modifiers[0][1] in seen:
            return False
        if modifiers[0][0] != "word" or modifiers[1][0] != "number":
            return False
        seen.add(modifiers[0][1])
        modifiers = modifiers[2:]
    return True
