"""Clients' RDF, parsed and validated in the worker's input process, never in the web worker.

Oxigraph's parsers recurse once per level of nesting and pySHACL's cost has no bound (300 presences sharing one
handle, 23 KB of Turtle, took 46 s and 1 GB: the unique-handle rule compares every pair). So every body sent to
/validate or written through the Graph Store, every contribution and every approval is read and checked in a
`core.sandbox.Sandbox` of its own, beside the query process: COPGRAPH_INPUT_TIMEOUT seconds, COPGRAPH_INPUT_MEMORY_MB
of data segment and COPGRAPH_STACK_MB of stack. Input that runs out of its budget, or crashes the process, fails
alone (`InputError`, with the HTTP status that fits); the next input gets a new process.

Before that, two kinds of limit give a person a message to act on rather than a spent budget: the nesting of the
text, scanned in the worker before any parser sees it (core.rdf_io.untrusted_input_problem, called by the views),
and, counted while the input process parses, the triples and rdf:List items one validation may hold
(COPGRAPH_MAX_VALIDATION_TRIPLES, COPGRAPH_MAX_LIST_ITEMS).

Bodies travel to the input process as bytes and come back as bytes (a report's Turtle, a graph in N-Triples), never
as pickled objects; the worker reads those N-Triples, which are flat and which the input process wrote itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from copgraph.build.shacl import Report, StoreContextValidator, Validator, load_shapes
from copgraph.core.config import Config
from copgraph.core.rdf_io import as_bytes
from copgraph.core.sandbox import (
    Budget,
    Crashed,
    Job,
    OutOfMemory,
    OutOfTime,
    Sandbox,
    SandboxUnavailable,
    Workspace,
)
from copgraph.store.reader import StoreReader

T = TypeVar("T")
RDF_FIRST = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#first")


class InputError(Exception):
    """Clients' RDF that was not read or not checked; `status` is the HTTP status that fits."""

    status = 400


class InputTooLarge(InputError):
    status = 413


class InputTimeout(InputError):
    status = 503


class InputMemoryExceeded(InputError):
    status = 503


class InputCrashed(InputError):
    """The input process died reading or checking this input (e.g. SIGSEGV): not a memory limit."""

    status = 500


class InputUnavailable(InputError):
    status = 503


@dataclass(frozen=True)
class Context:
    """What input is validated against: the embedded store (store_dir) or, for a remote store, root's files at the
    dataset version the worker serves."""

    root: str
    store_dir: str | None
    version: str


@dataclass(frozen=True)
class Limits:
    triples: int
    list_items: int


@dataclass(frozen=True)
class ParseGraph:
    """A Graph Store body: parsed in the input process, answered as N-Triples."""

    media_type: str
    base_iri: str | None

    def run(self, workspace: Workspace, data: bytes) -> tuple[None, bytes]:
        rdf_format = ox.RdfFormat.from_media_type(self.media_type)
        quads = ox.parse(input=data, format=rdf_format, base_iri=self.base_iri, without_named_graphs=True)
        return None, as_bytes(ox.serialize((quad.triple for quad in quads), format=ox.RdfFormat.N_TRIPLES))


@dataclass(frozen=True)
class Validate:
    """RDF validated in the context of the published data: a client's body (blank nodes renamed apart from the
    published data's) or a contribution's record (as N-Quads, replacing its published file)."""

    media_type: str
    context: Context
    limits: Limits
    replacing: tuple[str, ...] = ()
    rename_blank_nodes: bool = True
    turtle: bool = False  # also answer the report in Turtle

    def run(self, workspace: Workspace, data: bytes) -> tuple[Report, bytes]:
        quads = _read(data, ox.RdfFormat.from_media_type(self.media_type), self.rename_blank_nodes, self.limits)
        report = _validator(workspace, self.context).validate_quads(quads, replacing=map(Path, self.replacing))
        turtle = report.to_turtle().encode() if self.turtle else b""
        return replace(report, graph=None), turtle


def _read(data: bytes, rdf_format: ox.RdfFormat, rename_blank_nodes: bool, limits: Limits) -> list[ox.Quad]:
    """The quads, counted as they are parsed: InputTooLarge as soon as there are more than the limits allow."""
    quads, items = [], 0
    for quad in ox.parse(input=data, format=rdf_format, rename_blank_nodes=rename_blank_nodes):
        quads.append(quad)
        if len(quads) > limits.triples:
            raise InputTooLarge(
                f"This input holds more than {limits.triples} triples, the most one validation checks. "
                "Validate it in parts (one record at a time)."
            )
        if quad.predicate == RDF_FIRST:
            items += 1
            if items > limits.list_items:
                raise InputTooLarge(
                    f"This input's lists (rdf:List: Turtle's ( ... ), JSON-LD's @list) hold more than "
                    f"{limits.list_items} items, the most one validation checks. Shorten them or validate in parts."
                )
    return quads


def _validator(workspace: Workspace, context: Context) -> Validator | StoreContextValidator:
    """The input process's validator, made again when the data changes: on the embedded store, the shapes with the
    neighbourhood of each input read from the store; for a remote store, root's shapes, ontology and data files."""
    root = Path(context.root)
    if context.store_dir is None:
        return workspace.keep("validator", context.version, lambda: Validator(root))
    store_dir = Path(context.store_dir)
    current = workspace.keep("reader", store_dir, lambda: StoreReader(store_dir)).current()
    return workspace.keep(
        "validator", current.version, lambda: StoreContextValidator(current.store, load_shapes(root), root)
    )


class Inputs:
    """A worker's handle on its input process (started on first use, replaced after any failure)."""

    def __init__(self, config: Config, embedded: bool):
        self.root, self.store_dir = str(config.root), str(config.store_dir) if embedded else None
        self.timeout, self.memory_mb = config.input_timeout, config.input_memory_mb
        self.limits = Limits(config.max_validation_triples, config.max_list_items)
        budget = Budget(config.input_timeout, config.input_memory_mb * 2**20, config.stack_mb * 2**20)
        self.sandbox = Sandbox("copgraph-input", budget, preload=(__name__,))

    def parse_graph(self, data: bytes, rdf_format: ox.RdfFormat, base_iri: str | None) -> list[ox.Triple]:
        """The triples of a Graph Store body; SyntaxError or ValueError if it is not that format, InputError if it
        could not be read within the budget."""
        _, ntriples = self._run(ParseGraph(rdf_format.media_type, base_iri), data)
        return [quad.triple for quad in ox.parse(input=ntriples, format=ox.RdfFormat.N_TRIPLES)]

    def validate(
        self, data: bytes, rdf_format: ox.RdfFormat, version: str, turtle: bool = False
    ) -> tuple[Report, bytes]:
        """The SHACL report of a client's RDF (and its Turtle, if asked); SyntaxError or ValueError if it is not that
        format, InputError if it is too large or could not be checked within the budget."""
        return self._run(Validate(rdf_format.media_type, self._context(version), self.limits, turtle=turtle), data)

    def validate_quads(self, quads: Iterable[ox.Quad], replacing: Iterable[Path], version: str) -> Report:
        """The report of parsed RDF (a contribution's record), the published files it replaces left out."""
        job = Validate(
            ox.RdfFormat.N_QUADS.media_type,
            self._context(version),
            self.limits,
            replacing=tuple(str(path) for path in replacing),
            rename_blank_nodes=False,  # the record's blank nodes are the published record's
        )
        report, _ = self._run(job, as_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS)))
        return report

    def validator(self, version: str) -> SandboxedValidator:
        """build.shacl.QuadValidator for contributions and approvals, validating in the input process."""
        return SandboxedValidator(self, version)

    def _context(self, version: str) -> Context:
        return Context(self.root, self.store_dir, version)

    def _run(self, job: Job[T], data: bytes) -> tuple[T, bytes]:
        try:
            return self.sandbox.run(job, data)
        except OutOfTime:
            raise InputTimeout(
                f"Checking this input took longer than the {self.timeout:g} s limit, so it was stopped. "
                "Send less at a time (one record per request), or try again later."
            ) from None
        except OutOfMemory:
            raise InputMemoryExceeded(
                f"Checking this input needed more than the {self.memory_mb} MiB memory limit, so it was stopped. "
                "Send less at a time (one record per request)."
            ) from None
        except Crashed as failure:
            raise InputCrashed(
                f"The process checking this input {failure}; the service itself is unaffected. Simplify the "
                "input (less nesting, shorter lists) and try again."
            ) from None
        except SandboxUnavailable:
            raise InputUnavailable("The process that checks input could not start; try again shortly.") from None
        except RecursionError:
            raise InputError("This input nests too deeply to be checked. Flatten it.") from None


@dataclass(frozen=True)
class SandboxedValidator:
    """Inputs.validate_quads at one dataset version, as a build.shacl.QuadValidator."""

    inputs: Inputs
    version: str

    def validate_quads(self, quads: Iterable[ox.Quad], replacing: Iterable[Path] = ()) -> Report:
        return self.inputs.validate_quads(quads, replacing, self.version)
