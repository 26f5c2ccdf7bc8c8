"""A process where untrusted work runs under a budget, and fails alone.

pyoxigraph's parsers and query engine, and pySHACL, have no timeout and no memory bound; pyoxigraph holds the GIL
while it works and recurses once per level of nesting in its input. So a web worker never parses, validates or
evaluates a client's input itself: it sends the work to a child process of its own, a `Sandbox`, which runs it under
a `Budget` — wall time (the child is killed and replaced), memory (RLIMIT_DATA: an allocation past it fails, in the
child only) and stack (the thread that runs each job has exactly this much; deeper recursion crashes the child only).

A job is a small picklable object whose `run(workspace, data)` the child calls; the body it works on (`data`) and
the bytes it answers travel raw, never pickled. The `Workspace` keeps what a job may reuse between jobs (an open
store, a validator). How the child ended decides the error: stopped at the time limit (`OutOfTime`), out of memory
(`OutOfMemory`: a Python MemoryError, or SIGABRT, which is how Rust reports a failed allocation, or SIGKILL, the
kernel's OOM killer) or any other death (`Crashed`, e.g. SIGSEGV). An exception the job raises is re-raised in the
caller as it is. Each user turns these into the message a person can act on (query.executor, build.inputs).
"""

from __future__ import annotations

import ctypes
import importlib
import multiprocessing
import os
import pickle
import queue
import resource
import signal
import sys
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol, TypeVar, cast

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

CHILD_START_SECONDS = 60
PR_SET_PDEATHSIG = 1  # linux/prctl.h
MEMORY_EXIT = 75  # the child's exit status after a MemoryError (it may not be able to say so over the pipe)


@dataclass(frozen=True)
class Budget:
    """What one job may use: wall seconds, bytes of data segment (0: no cap), bytes of stack."""

    seconds: float
    memory_bytes: int
    stack_bytes: int = 16 * 2**20


class SandboxFailure(Exception):
    """The sandbox process did not answer a job: it was stopped, ran out of memory, crashed or could not start."""


class OutOfTime(SandboxFailure):
    pass


class OutOfMemory(SandboxFailure):
    pass


class Crashed(SandboxFailure):
    """The process died some other way; the message names the signal or exit status."""


class SandboxUnavailable(SandboxFailure):
    pass


class Workspace:
    """What the sandbox process keeps between jobs: one value per kind, made again when its key changes (a new
    store generation, another dataset version), so nothing accumulates."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[Hashable, object]] = {}

    def keep(self, kind: str, key: Hashable, make: Callable[[], T]) -> T:
        kept = self._kept.get(kind)
        if kept is None or kept[0] != key:
            kept = (key, make())
            self._kept[kind] = kept
        return cast(T, kept[1])


class Job(Protocol[T_co]):
    """Work for a sandbox: runs in the child on `data` (the raw body), answers a small value and raw bytes."""

    def run(self, workspace: Workspace, data: bytes) -> tuple[T_co, bytes]: ...


def how_it_ended(exitcode: int | None) -> SandboxFailure:
    """The failure a child's exit status means (negative: killed by that signal)."""
    if exitcode in (-signal.SIGABRT, -signal.SIGKILL, MEMORY_EXIT):
        return OutOfMemory(f"ran out of memory ({_describe(exitcode)})")
    return Crashed(f"crashed ({_describe(exitcode)})")


def _describe(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not end"
    if exitcode == MEMORY_EXIT:
        return "MemoryError"
    if exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit status {exitcode}"


def _die_with_worker() -> None:
    """Have the kernel kill this process when its worker dies, even by SIGKILL (which runs no clean-up): an orphan
    would otherwise run its job to the end, however long, holding a CPU. Linux only; elsewhere a no-op.

    The kernel sends the signal when the *thread* that started the process ends, so sandbox processes are started by
    one thread that lives as long as the worker (_spawner), whichever thread serves the request."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the worker died before prctl took effect
        os._exit(0)


# A call for the spawner thread, and the queue its outcome comes back on: (True, value) or (False, the exception).
_Done = queue.SimpleQueue[tuple[bool, Any]]
_Calls = queue.SimpleQueue[tuple[Callable[[], object], _Done]]


class _Spawner:
    """A thread that lives as long as its process and starts every sandbox process (see _die_with_worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._calls: _Calls = queue.SimpleQueue()

    def call(self, function: Callable[[], object]) -> object:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a process forked from the one that started the thread
                self._pid, self._calls = os.getpid(), queue.SimpleQueue()
                threading.Thread(target=self._serve, args=(self._calls,), name="copgraph-spawner", daemon=True).start()
            done: _Done = queue.SimpleQueue()
            self._calls.put((function, done))
            ok, value = done.get()
        if not ok:
            raise value
        return value

    @staticmethod
    def _serve(calls: _Calls) -> None:
        while True:
            function, done = calls.get()
            try:
                done.put((True, function()))
            except BaseException as error:  # handed to the caller, raised there
                done.put((False, error))


_spawner = _Spawner()


def _child_main(conn: Connection, budget: Budget, preload: Sequence[str]) -> None:
    _die_with_worker()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a child ends
    if budget.memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (budget.memory_bytes, budget.memory_bytes))
    for module in preload:  # imported before "ready": an import is not part of any job's time
        importlib.import_module(module)
    # Jobs run on a thread with exactly the stack budget (the main thread's stack is fixed at exec).
    threading.stack_size(budget.stack_bytes)
    runner = threading.Thread(target=_serve_jobs, args=(conn,), name="copgraph-sandbox-jobs")
    runner.start()
    runner.join()


def _serve_jobs(conn: Connection) -> None:
    workspace = Workspace()
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
            data = conn.recv_bytes()
        except EOFError:
            return
        answer = b""
        try:
            value, answer = job.run(workspace, data)
            reply: tuple[str, object] = ("ok", value)
        except MemoryError:
            reply = ("memory", None)
        except Exception as error:  # the job's own refusal or failure: the caller re-raises it
            reply = ("raised", _portable(error))
        try:
            try:
                message = pickle.dumps(reply)
            except Exception as error:  # a value that cannot be sent is the job's mistake, not a crash
                reply = ("raised", RuntimeError(f"the job's answer cannot be sent: {error}"))
                message = pickle.dumps(reply)
            conn.send_bytes(message)
            if reply[0] == "ok":
                conn.send_bytes(answer)
        except MemoryError:
            os._exit(MEMORY_EXIT)
        if reply[0] == "memory":
            os._exit(MEMORY_EXIT)  # a fresh process rather than a fragmented heap


def _portable(error: Exception) -> Exception:
    """The exception itself if it survives pickling, else a RuntimeError with its text."""
    try:
        return cast(Exception, pickle.loads(pickle.dumps(error)))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


class Sandbox:
    """A worker's handle on one sandbox process: sends a job, waits at most the budget's time, replaces a dead or
    stopped child on the next job. One job at a time (callers in other threads wait their turn)."""

    def __init__(self, name: str, budget: Budget, preload: Sequence[str] = ()):
        self.name, self.budget, self.preload = name, budget, tuple(preload)
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._owner_pid = os.getpid()

    @property
    def started(self) -> bool:
        """Whether this worker has a sandbox process now."""
        return self._process is not None and self._owner_pid == os.getpid()

    def run(self, job: Job[T], data: bytes = b"") -> tuple[T, bytes]:
        """The job's value and answer bytes. OutOfTime, OutOfMemory, Crashed or SandboxUnavailable if the process
        did not answer; the job's own exception if it raised one."""
        with self._lock:
            conn = self._ensure_child()
            try:
                conn.send(job)
                conn.send_bytes(data)
                ready = conn.poll(self.budget.seconds)
            except (BrokenPipeError, EOFError, ConnectionResetError):
                ready = True  # the child died: recv below reports how
            if not ready:
                self._stop_child()
                raise OutOfTime(f"ran longer than {self.budget.seconds:g} s and was stopped")
            try:
                status, value = conn.recv()
                answer = conn.recv_bytes() if status == "ok" else b""
            except (EOFError, ConnectionResetError, OSError):
                raise how_it_ended(self._stop_child()) from None
            if status == "memory":
                self._stop_child()
                raise how_it_ended(MEMORY_EXIT)
        if status == "raised":
            raise cast(Exception, value)
        return cast(T, value), answer

    def _ensure_child(self) -> Connection:
        if os.getpid() != self._owner_pid:  # inherited through a fork: that child is not ours
            self._process, self._conn, self._owner_pid = None, None, os.getpid()
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop_child()
        context = multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_child_main, args=(child_end, self.budget, self.preload), name=self.name, daemon=True
        )
        _spawner.call(process.start)
        child_end.close()
        self._process, self._conn = process, parent_end
        # Starting a child (a fresh interpreter) is not part of any job's time budget.
        try:
            started = parent_end.poll(CHILD_START_SECONDS) and parent_end.recv()[0] == "ready"
        except (EOFError, OSError):  # it died while starting (an import failed, no memory)
            started = False
        if not started:
            self._stop_child()
            raise SandboxUnavailable(f"the {self.name} process could not start")
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
