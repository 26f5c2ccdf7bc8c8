"""Running untrusted queries where they can be stopped.

pyoxigraph has no query timeout and no memory bound, and holds the GIL while it evaluates: a runaway query cannot
be interrupted from Python. So each web worker sends queries to a child process of its own, which has the store
open read-only and a cap on its data segment (RLIMIT_DATA). A query that outlives the timeout gets its child killed;
one that needs more memory than the cap makes only the child abort. Either way the worker answers with a clear
error, starts a new child on the next query, and the server stays up.

The child also caps result rows, serialises the result in the negotiated format and reports the dataset version it
read, so the worker can cache the bytes under that version.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import re
import resource
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox

from copgraph.query import results
from copgraph.query.lookups import is_bounded_lookup
from copgraph.store.generations import StoreMissing
from copgraph.store.reader import Dataset, StoreReader

CHILD_START_SECONDS = 60
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class QueryError(Exception):
    """A query that could not be answered; `status` is the HTTP status that fits."""

    status = 400


class QuerySyntaxError(QueryError):
    status = 400


class QueryTimeout(QueryError):
    status = 503


class QueryMemoryExceeded(QueryError):
    status = 503


class QueryFailed(QueryError):
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


def _die_with_worker() -> None:
    """Have the kernel kill this query process when its worker dies, even by SIGKILL (which runs no clean-up): an
    orphan would otherwise run its query to the end, however long, holding a CPU. Linux only; elsewhere a no-op.

    The kernel sends the signal when the *thread* that started the process ends, so query processes are started by
    one thread that lives as long as the worker (_spawner), whichever thread serves the request."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the worker died before prctl took effect
        os._exit(0)


# A job for the spawner thread, and the queue its outcome comes back on: (True, value) or (False, the exception).
_Done = queue.SimpleQueue[tuple[bool, Any]]
_Jobs = queue.SimpleQueue[tuple[Callable[[], object], _Done]]


class _Spawner:
    """A thread that lives as long as its process and starts every query process (see _die_with_worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._jobs: _Jobs = queue.SimpleQueue()

    def call(self, job: Callable[[], object]) -> object:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a process forked from the one that started the thread
                self._pid, self._jobs = os.getpid(), queue.SimpleQueue()
                threading.Thread(target=self._serve, args=(self._jobs,), name="copgraph-spawner", daemon=True).start()
            done: _Done = queue.SimpleQueue()
            self._jobs.put((job, done))
            ok, value = done.get()
        if not ok:
            raise value
        return value

    @staticmethod
    def _serve(jobs: _Jobs) -> None:
        while True:
            job, done = jobs.get()
            try:
                done.put((True, job()))
            except BaseException as error:  # handed to the caller, raised there
                done.put((False, error))


_spawner = _Spawner()


def _child_main(conn: Connection, store_dir: str, memory_limit: int, max_rows: int) -> None:
    _die_with_worker()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a child ends
    if memory_limit > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_limit, memory_limit))
    reader = StoreReader(Path(store_dir))
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        reply: tuple[str, QueryOutcome | str]
        try:
            reply = ("ok", execute(reader.current(), request, max_rows))
        except SyntaxError as error:
            reply = ("syntax", describe_syntax_error(error))
        except StoreMissing as error:
            reply = ("unavailable", str(error))
        except (OSError, ValueError, TypeError, RuntimeError) as error:
            reply = ("failed", str(error))
        conn.send(reply)


class Executor:
    """A worker's handle on its query child: sends a query, waits at most the timeout, replaces a dead child."""

    def __init__(
        self, store_dir: Path, timeout: float, memory_limit: int, max_rows: int, reader: StoreReader | None = None
    ):
        self.store_dir, self.timeout, self.memory_limit, self.max_rows = store_dir, timeout, memory_limit, max_rows
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._owner_pid = os.getpid()
        self._reader = reader  # for bounded lookups, evaluated in this process (the worker's own reader, if given)

    def run(self, request: QueryRequest) -> QueryOutcome:
        if is_bounded_lookup(request.query):
            return self._run_here(request)
        with self._lock:
            conn = self._ensure_child()
            try:
                conn.send(request)
                ready = conn.poll(self.timeout)
            except (BrokenPipeError, EOFError, ConnectionResetError):
                ready = True  # the child died: recv below reports how
            if not ready:
                self._stop_child()
                raise QueryTimeout(
                    f"The query ran longer than the {self.timeout:g} s limit and was stopped. "
                    "Narrow it (add LIMIT, filters or more specific patterns) and try again."
                )
            try:
                status, payload = conn.recv()
            except (EOFError, ConnectionResetError, OSError):
                exitcode = self._stop_child()
                if exitcode in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
                    raise QueryMemoryExceeded(
                        f"The query needed more than the {self.memory_limit // 2**20} MiB memory limit and was "
                        "stopped. Narrow it (avoid cross joins; add LIMIT or filters) and try again."
                    ) from None
                raise QueryFailed(f"The query process ended unexpectedly (exit code {exitcode}).") from None
        if status == "ok":
            return cast(QueryOutcome, payload)
        if status == "syntax":
            raise QuerySyntaxError(f"Malformed query: {payload}")
        if status == "unavailable":
            raise StoreUnavailable(payload)
        raise QueryError(f"The query could not be evaluated: {payload}")

    def _run_here(self, request: QueryRequest) -> QueryOutcome:
        """A bounded lookup, evaluated in this process: the round trip to the query process (~0.1 ms, two context
        switches) costs more than the lookup, and the lookup cannot run away (lookups.is_bounded_lookup)."""
        if self._reader is None or os.getpid() != self._owner_pid:
            self._reader = StoreReader(self.store_dir)
        try:
            return execute(self._reader.current(), request, self.max_rows)
        except SyntaxError as error:
            raise QuerySyntaxError(f"Malformed query: {describe_syntax_error(error)}") from None
        except StoreMissing as error:
            raise StoreUnavailable(str(error)) from None
        except (OSError, ValueError, TypeError, RuntimeError) as error:
            raise QueryError(f"The query could not be evaluated: {error}") from None

    def _ensure_child(self) -> Connection:
        if os.getpid() != self._owner_pid:  # inherited through a fork: that child is not ours
            self._process, self._conn, self._owner_pid = None, None, os.getpid()
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop_child()
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_child_main,
            args=(child_end, str(self.store_dir), self.memory_limit, self.max_rows),
            name="copgraph-query",
            daemon=True,
        )
        _spawner.call(process.start)
        child_end.close()
        self._process, self._conn = process, parent_end
        # Starting a child (a fresh interpreter) is not part of any query's time budget.
        if not parent_end.poll(CHILD_START_SECONDS) or parent_end.recv()[0] != "ready":
            self._stop_child()
            raise StoreUnavailable("The query process could not start; try again shortly.")
        return parent_end

    def _stop_child(self) -> int | None:
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join(5)
        return process.exitcode

    def close(self) -> None:
        with self._lock:
            self._stop_child()
