"""Running untrusted queries where they can be stopped.

pyoxigraph has no query timeout and no memory bound, and holds the GIL while it evaluates: a runaway query cannot
be interrupted from Python. So each web worker sends queries to its query process (a core.sandbox.Sandbox), which
has the store open read-only and a budget: COPGRAPH_QUERY_TIMEOUT (then it is killed and replaced),
COPGRAPH_QUERY_MEMORY_MB of data segment (an allocation past it fails there) and COPGRAPH_STACK_MB of stack. The
worker answers each way it can end with its own error: QueryTimeout and QueryMemoryExceeded (503), QueryCrashed
(500: a segfault is a crash, not a memory limit), and the server stays up. Only bounded lookups (query.lookups) are
evaluated in the worker.

The query process also caps result rows, serialises the result in the negotiated format and reports the dataset
version it read, so the worker can cache the bytes under that version.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from copgraph.core.sandbox import Budget, Crashed, OutOfMemory, OutOfTime, Sandbox, SandboxUnavailable, Workspace
from copgraph.query import results
from copgraph.query.lookups import is_bounded_lookup
from copgraph.store.generations import StoreMissing
from copgraph.store.reader import Dataset, StoreReader


class QueryError(Exception):
    """A query that could not be answered; `status` is the HTTP status that fits."""

    status = 400


class QuerySyntaxError(QueryError):
    status = 400


class QueryTimeout(QueryError):
    status = 503


class QueryMemoryExceeded(QueryError):
    status = 503


class QueryCrashed(QueryError):
    """The query process died while evaluating (e.g. SIGSEGV): not a memory limit, and not the client's mistake."""

    status = 500


class StoreUnavailable(QueryError):
    status = 503


@dataclass(frozen=True)
class QueryRequest:
    query: str
    # The negotiated format for each kind of result; None where the client accepts none of ours (→ 406).
    select_format: str | None = "json"
    graph_format: str | None = "turtle"
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    # Canned-query parameters: variable name -> term in N-Triples syntax, bound by SEP-0007 substitution.
    substitutions: tuple[tuple[str, str], ...] = ()
    base_iri: str | None = None  # the service's own address, against which relative IRIs in the query resolve


@dataclass(frozen=True)
class QueryOutcome:
    kind: str  # "solutions", "boolean" or "graph"
    version: str  # the dataset version the answer was read from
    body: bytes = b""
    media_type: str = ""
    acceptable: bool = True  # False: the client accepts no format for this kind of result
    truncated: bool = False
    rows: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def execute(dataset: Dataset, request: QueryRequest, max_rows: int) -> QueryOutcome:
    """Evaluate and serialise one query against one dataset generation (runs in the child)."""
    result = dataset.query(
        request.query,
        substitutions={ox.Variable(name): parse_term(text) for name, text in request.substitutions},
        default_graph=request.default_graph_uris,
        named_graphs=request.named_graph_uris,
        base_iri=request.base_iri,
    )
    return outcome_of(result, request, max_rows, dataset.version)


def outcome_of(result: results.QueryResult, request: QueryRequest, max_rows: int, version: str) -> QueryOutcome:
    """Serialise a result in the negotiated format, capped at max_rows (shared by the embedded and remote stores)."""
    if isinstance(result, ox.QueryBoolean):
        if request.select_format is None:
            return QueryOutcome("boolean", version, acceptable=False)
        body, media_type = results.serialize_boolean(result, request.select_format)
        return QueryOutcome("boolean", version, body, media_type, rows=1)
    if isinstance(result, ox.QueryTriples | list):  # a list: triples read from a remote store
        if request.graph_format is None:
            return QueryOutcome("graph", version, acceptable=False)
        triples = list(islice(result, max_rows + 1))
        truncated = len(triples) > max_rows
        body, media_type = results.serialize_triples(triples[:max_rows], request.graph_format)
        return QueryOutcome("graph", version, body, media_type, truncated=truncated, rows=min(len(triples), max_rows))
    if request.select_format is None:
        return QueryOutcome("solutions", version, acceptable=False)
    body, media_type, rows, truncated = results.serialize_solutions(result, request.select_format, max_rows)
    return QueryOutcome("solutions", version, body, media_type, truncated=truncated, rows=rows)


def describe_syntax_error(error: SyntaxError) -> str:
    """Oxigraph's "error at LINE:COLUMN: what" as "line LINE, column COLUMN: what", which people read more easily."""
    message = str(error)
    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
    return f"line {match[1]}, column {match[2]}: {match[3]}" if match else message


def parse_term(text: str) -> ox.NamedNode | ox.Literal:
    """Parse one term written in N-Triples syntax (how the web layer passes validated parameters)."""
    quad: ox.Quad = next(iter(ox.parse(input=f"<urn:s> <urn:p> {text} .", format=ox.RdfFormat.N_TRIPLES)))
    if not isinstance(quad.object, ox.NamedNode | ox.Literal):
        raise ValueError(f"{text} is not an IRI or a literal")
    return quad.object


@dataclass(frozen=True)
class QueryJob:
    """One query for the query process (core.sandbox): evaluated against the store's current generation there."""

    store_dir: str
    request: QueryRequest
    max_rows: int

    def run(self, workspace: Workspace, data: bytes) -> tuple[QueryOutcome, bytes]:
        reader = workspace.keep("reader", self.store_dir, lambda: StoreReader(Path(self.store_dir)))
        outcome = evaluate(reader, self.request, self.max_rows)
        return replace(outcome, body=b""), outcome.body  # the body travels raw, not pickled


def evaluate(reader: StoreReader, request: QueryRequest, max_rows: int) -> QueryOutcome:
    """Evaluate a query on the reader's current generation; failures as QueryError (the same in either process)."""
    try:
        return execute(reader.current(), request, max_rows)
    except SyntaxError as error:
        raise QuerySyntaxError(f"Malformed query: {describe_syntax_error(error)}") from None
    except StoreMissing as error:
        raise StoreUnavailable(str(error)) from None
    except (OSError, ValueError, TypeError, RuntimeError) as error:
        raise QueryError(f"The query could not be evaluated: {error}") from None


class Executor:
    """A worker's handle on its query process: bounded lookups answered here, every other query sent there."""

    def __init__(
        self,
        store_dir: Path,
        timeout: float,
        memory_limit: int,
        max_rows: int,
        reader: StoreReader | None = None,
        stack_bytes: int = Budget.stack_bytes,
    ):
        self.store_dir, self.timeout, self.memory_limit, self.max_rows = store_dir, timeout, memory_limit, max_rows
        self.sandbox = Sandbox("copgraph-query", Budget(timeout, memory_limit, stack_bytes), preload=(__name__,))
        self._owner_pid = os.getpid()
        self._reader = reader  # for bounded lookups, evaluated in this process (the worker's own reader, if given)

    def run(self, request: QueryRequest) -> QueryOutcome:
        if is_bounded_lookup(request.query):
            return self._run_here(request)
        try:
            outcome, body = self.sandbox.run(QueryJob(str(self.store_dir), request, self.max_rows))
        except OutOfTime:
            raise QueryTimeout(
                f"The query ran longer than the {self.timeout:g} s limit and was stopped. "
                "Narrow it (add LIMIT, filters or more specific patterns) and try again."
            ) from None
        except OutOfMemory:
            raise QueryMemoryExceeded(
                f"The query needed more than the {self.memory_limit // 2**20} MiB memory limit and was stopped. "
                "Narrow it (avoid cross joins; add LIMIT or filters) and try again."
            ) from None
        except Crashed as failure:
            raise QueryCrashed(
                f"The query process {failure} while evaluating this query; the service itself is unaffected. "
                "Simplify the query (fewer nested or repeated parts) and try again."
            ) from None
        except SandboxUnavailable:
            raise StoreUnavailable("The query process could not start; try again shortly.") from None
        return replace(outcome, body=body)

    def _run_here(self, request: QueryRequest) -> QueryOutcome:
        """A bounded lookup, evaluated in this process: the round trip to the query process (~0.1 ms, two context
        switches) costs more than the lookup, and the lookup cannot run away (lookups.is_bounded_lookup)."""
        if self._reader is None or os.getpid() != self._owner_pid:
            self._reader, self._owner_pid = StoreReader(self.store_dir), os.getpid()
        return evaluate(self._reader, request, self.max_rows)

    def close(self) -> None:
        self.sandbox.close()
