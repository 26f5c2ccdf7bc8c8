"""Reading and rewriting SPARQL text before it reaches the engine.

pyoxigraph fetches any SERVICE IRI it is given (loopback addresses included), so federation is refused here,
before execution, unless the endpoint is on the configured allow-list. pyoxigraph's update API has no dataset
parameters, so the Protocol's using-graph-uri / using-named-graph-uri become USING clauses in the text.
"""

from __future__ import annotations

import re

from copgraph.query.executor import QueryError

# Strings, IRIs and comments, matched in one pass so that a '#' inside an IRI or a string is not a comment.
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
    re.DOTALL,
)
PREFIX_DECLARATION = re.compile(r"(?i)PREFIX\s+([A-Za-z][\w.-]*)?:\s*(<[^>]*>)")
_SERVICE = re.compile(r"(?i)(?<![\w:])SERVICE\s+(?:SILENT\s+)?(<[^>]*>|[A-Za-z][\w.-]*:[\w.-]*|:[\w.-]*|[?$]\w+)")


class ServiceNotAllowed(QueryError):
    status = 400


class DatasetConflict(QueryError):
    status = 400


def mask(query: str) -> str:
    """The query with string contents and comments blanked (same length, so positions still match); IRIs kept."""

    def keep_iris(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("<"):
            return token
        if token.startswith("#"):
            return " " * len(token)
        return token[0] + "_" * (len(token) - 2) + token[-1]

    return _TOKENS.sub(keep_iris, query)


def blank(query: str) -> str:
    """The query with every string, IRI and comment blanked (same length): what is left is the query's own syntax."""
    return _TOKENS.sub(lambda token: " " * len(token.group(0)), query)


_WORD = re.compile(r"(?i)(?<![\w:?$])(WHERE|USING|WITH|DELETE|INSERT)(?![\w:])|[{}]")


def add_using(update: str, using: tuple[str, ...], using_named: tuple[str, ...]) -> str:
    """Apply the Protocol's using-graph-uri / using-named-graph-uri to every DELETE/INSERT ... WHERE operation.

    Raises DatasetConflict if the update already names its dataset (USING or WITH), as the Protocol requires.
    """
    if not using and not using_named:
        return update
    masked = mask(update)
    clauses = "".join(f" USING <{iri}>" for iri in using) + "".join(f" USING NAMED <{iri}>" for iri in using_named)
    depth, previous, insert_at = 0, "", []
    for match in _WORD.finditer(masked):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            word = token.upper()
            if word in ("USING", "WITH"):
                raise DatasetConflict(
                    "The update names its own dataset (USING or WITH) and the request gives using-graph-uri or "
                    "using-named-graph-uri: give one or the other."
                )
            if word == "WHERE" and previous != "DELETE":  # DELETE WHERE { } takes no USING
                insert_at.append(match.start())
            previous = word
    for position in reversed(insert_at):
        update = update[:position] + clauses + " " + update[position:]
    return update


def services_in(query: str) -> list[str]:
    """Every SERVICE target in the query: IRIs (prefixed names expanded) or `?var` for a variable endpoint."""
    if "service" not in query.lower():  # the common case, decided without masking (which costs ~0.1 ms per 2 KB)
        return []
    text = mask(query)
    prefixes = {(name or ""): iri[1:-1] for name, iri in PREFIX_DECLARATION.findall(text)}
    targets = []
    for target in _SERVICE.findall(text):
        if target.startswith("<"):
            targets.append(target[1:-1])
        elif target[0] in "?$":
            targets.append(target)
        else:
            prefix, _, local = target.partition(":")
            targets.append(prefixes.get(prefix, target + " (undeclared prefix)") + local)
    return targets


def check_services(query: str, allowed: frozenset[str]) -> None:
    """Raise ServiceNotAllowed if the query would reach an endpoint that is not on the allow-list."""
    for target in services_in(query):
        if target not in allowed:
            listed = ", ".join(sorted(allowed)) if allowed else "none (COPGRAPH_SERVICE_ALLOWLIST is empty)"
            raise ServiceNotAllowed(
                f"SERVICE {target} is not allowed: this endpoint only federates with allow-listed endpoints. "
                f"Allowed: {listed}."
            )


# Oxigraph's parser recurses once per bracket: a few thousand nested brackets overflow the query process's stack.
# No real query comes near this depth.
MAX_NESTING = 256


class QueryTooDeep(QueryError):
    status = 400


def nesting_depth(query: str) -> int:
    """How deep brackets, parentheses and braces nest outside strings, IRIs and comments (one pass over the text)."""
    depth = deepest = 0
    for character in blank(query):
        if character in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "})]":
            depth = max(depth - 1, 0)
    return deepest


def check_nesting(query: str) -> None:
    """Raise QueryTooDeep if brackets, parentheses or braces (outside strings, IRIs and comments) nest too deep."""
    if sum(query.count(opening) for opening in "{([") <= MAX_NESTING:
        return  # brackets cannot nest deeper than there are opening ones: the scan is not needed
    deepest = nesting_depth(query)
    if deepest > MAX_NESTING:
        raise QueryTooDeep(
            f"The query nests brackets {deepest} deep; this endpoint accepts at most {MAX_NESTING}. Flatten it."
        )


class TooManyDescribed(QueryError):
    status = 400


_DESCRIBE = re.compile(r"(?i)(?<![\w:?$])DESCRIBE(?![\w:])")
# What a DESCRIBE names ends where its dataset, pattern or modifiers begin.
_DESCRIBE_END = re.compile(r"(?i)[{]|(?<![\w:?$])(?:FROM|WHERE|LIMIT|OFFSET|ORDER|GROUP|HAVING|VALUES)(?![\w:])")
_DESCRIBED = re.compile(r"<[^>]*>|[?$]\w+|(?:[A-Za-z][\w.-]*)?:[^\s{}()<>]*")


def described_count(query: str) -> int:
    """How many resources (IRIs, prefixed names, variables) a DESCRIBE names; 0 for any other query."""
    if "describe" not in query.lower():  # the common case, decided without masking
        return 0
    text = mask(query)
    found = _DESCRIBE.search(text)
    if found is None:
        return 0
    end = _DESCRIBE_END.search(text, found.end())
    return len(_DESCRIBED.findall(text, found.end(), end.start() if end else len(text)))


def check_described(query: str, most: int) -> None:
    """Raise TooManyDescribed if a DESCRIBE names more than `most` resources: Oxigraph recurses once per resource, and
    the limit is cheaper to state than a crash."""
    count = described_count(query)
    if count > most:
        raise TooManyDescribed(
            f"The query describes {count} resources; this endpoint describes at most {most} in one query. "
            "Split it into several queries."
        )


_LOAD = re.compile(r"(?i)(?<![\w:?$])LOAD(?![\w:])")


class LoadNotAllowed(QueryError):
    status = 400


def check_no_load(update: str) -> None:
    """Raise LoadNotAllowed if the update has a LOAD operation: the engine would fetch any IRI it names (loopback
    and private addresses included), and the server fetches nothing on a client's behalf."""
    if _LOAD.search(blank(update)):
        raise LoadNotAllowed(
            "LOAD is not accepted: this server fetches no document on a client's behalf. Send the data itself with "
            "a Graph Store PUT or POST to /store, or INSERT DATA."
        )


_CLEAR = re.compile(r"(?i)(?<![\w:?$])CLEAR(\s+)(?!SILENT\b)")


def clear_silently(update: str) -> str:
    """CLEAR of a graph that does not exist succeeds, as in stores that do not record empty graphs (and as the
    Protocol's tests expect); Oxigraph alone would fail the whole request. DROP keeps its strict meaning."""
    masked = mask(update)
    for match in reversed(list(_CLEAR.finditer(masked))):
        update = update[: match.end(1)] + "SILENT " + update[match.end(1) :]
    return update
