"""An external SPARQL 1.1 store instead of the embedded one: Oxigraph server, Fuseki, Virtuoso, GraphDB, or a cluster
behind a load balancer, reached through its query and update URLs (COPGRAPH_REMOTE_QUERY_URL / _UPDATE_URL).

It offers what the web layer uses of the embedded store (`RemoteDataset` for `Dataset`, `RemoteExecutor` for
`Executor`, `RemoteWriter` for `LocalWriter`) and `load` for `copgraph build`. What differs, and why:

- The remote's default graph must be the union of its named graphs (`oxigraph serve --union-default-graph`, Fuseki's
  `tdb2:unionDefaultGraph`; Virtuoso and GraphDB do so by default): the SPARQL Protocol has no portable way to ask for
  it, and copgraph's queries rely on it.
- The dataset version is read from the remote's /graph/dataset description and kept for VERSION_TTL seconds, so a
  write made through another copgraph process shows (and empties the result caches) within that time.
- A build replaces one graph per update request: the remote store cannot be swapped whole, so readers may see old and
  new graphs side by side while it runs. The description, and with it the version, changes last.
- The embedded store checks a write by comparing the protected graphs before and after it; a remote store cannot be
  asked to do that, so updates are checked by reading their text (see `refuse_unsafe_update`).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO

import pyoxigraph as ox

from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH
from copgraph.core.vocab import COP, DCT, VOID, XSD
from copgraph.query import results
from copgraph.query.executor import (
    QueryOutcome,
    QueryRequest,
    QuerySyntaxError,
    QueryTimeout,
    StoreUnavailable,
    describe_syntax_error,
    outcome_of,
    parse_term,
)
from copgraph.query.guards import PREFIX_DECLARATION, mask
from copgraph.store.generations import Metadata
from copgraph.store.writes import WriteRefused

# Seconds the remote's dataset description (version, modified, triples, graphs) is reused before it is read again.
VERSION_TTL = 2.0


# Graphs a write to the remote store may not change. The embedded store lets a write change the ontology and the shapes
# because `copgraph build` and `export` then notice; a remote store has no such check, and the dataset description
# carries the version that ETags and caches depend on.
PROTECTED_GRAPHS = (ONTOLOGY_GRAPH, SHAPES_GRAPH, DATASET_GRAPH)


RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}


GRAPH_TYPES = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE}


ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, application/n-triples, text/turtle;q=0.9"
)


DESCRIPTION_QUERY = f"""SELECT ?version ?modified ?triples ?subset WHERE {{ GRAPH <{DATASET_GRAPH}> {{
  ?dataset <{COP}datasetVersion> ?version ; <{DCT}modified> ?modified .
  OPTIONAL {{ ?dataset <{VOID}triples> ?triples }}
  OPTIONAL {{ ?dataset <{VOID}subset> ?subset }}
}} }}"""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_CLEARS_EVERYTHING = re.compile(r"(?i)\b(?:CLEAR|DROP)\s+(?:SILENT\s+)?(?:ALL|NAMED)\b")


_TEMPLATE = re.compile(r"(?i)\b(?:DELETE|INSERT)\s*(?:WHERE\s*)?\{")  # not DELETE/INSERT DATA: no variables there


_VARIABLE_GRAPH = re.compile(r"(?i)\bGRAPH\s*[?$]")


_IRI = re.compile(r"<([^<>\s]*)>")


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


_PREFIXED = re.compile(r"(?<![\w?$:-])([A-Za-z][\w.-]*)?:([\w.%-]*)")


class RemoteUnavailable(StoreUnavailable, ConnectionError):
    """The remote store did not answer, or not usably: a 503 to the web layer, and an OSError to /healthz."""


class RemoteTimeout(QueryTimeout, TimeoutError):
    """The remote store took longer than the query timeout: a 503 to the web layer, and an OSError to /healthz."""


class RemoteStore:
    """The HTTP client of one remote store: sends queries and updates, turns its failures into copgraph's errors."""

    def __init__(self, query_url: str, update_url: str, timeout: float):
        self.query_url, self.update_url, self.timeout = query_url, update_url, timeout

    def query(self, text: str, parameters: Sequence[tuple[str, str]] = ()) -> RemoteAnswer:
        """Send a query (Protocol parameters such as default-graph-uri in the URL). SyntaxError if the remote
        refuses it as malformed (400); RemoteUnavailable or RemoteTimeout if it does not answer usably."""
        url = self.query_url
        if parameters:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(parameters)
        deadline = time.monotonic() + self.timeout
        response = self._post(url, text, "application/sparql-query", ACCEPT)
        return RemoteAnswer(self.query_url, response.headers.get_content_type(), _Body(response, deadline, self))

    def update(self, text: str) -> None:
        """Run one update request (atomic on stores that run a request as one transaction, as Oxigraph does)."""
        if not self.update_url:
            raise WriteRefused(
                "this server reads a remote store but has no update URL for it (COPGRAPH_REMOTE_UPDATE_URL), "
                "so it cannot write. Nothing was written."
            )
        with self._post(self.update_url, text, "application/sparql-update", "*/*") as response:
            response.read()

    def _post(self, url: str, text: str, content_type: str, accept: str) -> http.client.HTTPResponse:
        request = urllib.request.Request(
            url, data=text.encode("utf-8"), method="POST", headers={"Content-Type": content_type, "Accept": accept}
        )
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            with error:
                message = error.read(4000).decode("utf-8", "replace").strip()
            if error.code == 400:
                raise SyntaxError(message or "the remote store refused the request as malformed") from None
            raise RemoteUnavailable(
                f"The remote store at {url} answered {error.code} {error.reason}: {message or '(no message)'}. "
                "Try again shortly; if it persists, check the store and COPGRAPH_REMOTE_QUERY_URL / _UPDATE_URL."
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise self.failure(url, getattr(error, "reason", error)) from None

    def failure(self, url: str, reason: object) -> RemoteUnavailable | RemoteTimeout:
        """The error for a remote that did not answer in time, or at all."""
        if isinstance(reason, TimeoutError):
            return RemoteTimeout(
                f"The remote store at {url} did not answer within the {self.timeout:g} s limit, so the request was "
                "abandoned. Narrow the query (add LIMIT, filters or more specific patterns) and try again."
            )
        return RemoteUnavailable(
            f"The remote store at {url} did not answer ({reason or 'connection closed'}). Try again shortly; if it "
            "persists, check that the store is running and that COPGRAPH_REMOTE_QUERY_URL / _UPDATE_URL are right."
        )


class _Body(io.RawIOBase):
    """A response body that gives up at a deadline, so a slow answer cannot hold a worker past the query timeout."""

    def __init__(self, response: http.client.HTTPResponse, deadline: float, store: RemoteStore):
        super().__init__()
        self.response, self.deadline, self.store = response, deadline, store

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        if time.monotonic() > self.deadline:
            raise self.store.failure(self.store.query_url, TimeoutError())
        try:
            return self.response.readinto(buffer)
        except (OSError, http.client.HTTPException) as error:
            raise self.store.failure(self.store.query_url, error) from None

    def close(self) -> None:
        self.response.close()
        super().close()


class RemoteAnswer:
    """The remote's answer to one query, still being received; a context manager that closes it."""

    def __init__(self, url: str, media_type: str, body: IO[bytes]):
        self.url, self.media_type, self.body = url, media_type, body

    def __enter__(self) -> RemoteAnswer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.body.close()

    def result(self, max_triples: int | None = None) -> results.QueryResult:
        """The answer as the pyoxigraph result a local query returns. Solutions are parsed as they are iterated
        (stop early and the rest is never downloaded); a graph is read up to max_triples."""
        return self._parse(self.body, max_triples)

    def detached(self) -> results.QueryResult:
        """The whole answer, read now: for callers that use the result after the response is closed."""
        return self._parse(io.BytesIO(self.body.read()), None)

    def _parse(self, body: IO[bytes], max_triples: int | None) -> results.QueryResult:
        if self.media_type in RESULT_TYPES:
            return ox.parse_query_results(body, RESULT_TYPES[self.media_type])
        if self.media_type in GRAPH_TYPES:
            quads = ox.parse(body, GRAPH_TYPES[self.media_type], without_named_graphs=True)
            return list(_distinct((q.triple for q in quads), max_triples))
        raise RemoteUnavailable(
            f"The remote store at {self.url} answered in {self.media_type}, which copgraph does not read: "
            f"check that COPGRAPH_REMOTE_QUERY_URL is its SPARQL query endpoint."
        )


def _distinct(triples: Iterable[ox.Triple], limit: int | None) -> set[ox.Triple]:
    """Distinct triples, read until there are limit of them: the store below removes repeats, so counting them
    would let a capped answer pass for a complete one."""
    distinct: set[ox.Triple] = set()
    for triple in triples:
        if limit is not None and len(distinct) >= limit:
            break
        distinct.add(triple)
    return distinct


def with_values(query: str, bindings: Sequence[tuple[str, ox.NamedNode | ox.Literal]]) -> str:
    """The query with a trailing VALUES clause binding each variable to one term: the remote stand-in for SEP-0007
    substitution (every canned query gives the same answer either way). Only IRIs and literals are written."""
    if not bindings:
        return query
    for name, term in bindings:
        if not _NAME.fullmatch(name) or not isinstance(term, ox.NamedNode | ox.Literal):
            raise ValueError(f"cannot bind ?{name} to {term!r}: only IRIs and literals bind by VALUES")
    names = " ".join(f"?{name}" for name, _ in bindings)
    terms = " ".join(str(term) for _, term in bindings)
    return f"{query}\nVALUES ({names}) {{ ({terms}) }}\n"


class RemoteDataset:
    """The remote store's data as the web layer reads a Dataset: `version`, `metadata` and `query()`."""

    def __init__(self, store: RemoteStore):
        self.store = store
        self._metadata: Metadata | None = None
        self._read_at = 0.0

    @property
    def metadata(self) -> Metadata:
        """The remote's description, read at most once per VERSION_TTL seconds. RemoteUnavailable if unreadable."""
        if self._metadata is None or time.monotonic() - self._read_at > VERSION_TTL:
            self._metadata, self._read_at = self._read_metadata(), time.monotonic()
        return self._metadata

    @property
    def version(self) -> str:
        return self.metadata.version

    def forget(self) -> None:
        """Read the description again on next use (after this process wrote)."""
        self._metadata = None

    def query(self, sparql_text: str, **options: object) -> results.QueryResult:
        """Evaluate a query remotely, read whole. Takes Dataset.query's options default_graph, named_graphs,
        use_default_graph_as_union (the remote's default graph is always the union unless default_graph is given)
        and substitutions (as a VALUES clause). SyntaxError if malformed, as locally."""
        default = options.pop("default_graph", None)
        defaults = default if isinstance(default, list | tuple) else ([] if default is None else [default])
        named = list(options.pop("named_graphs", None) or [])
        substitutions = options.pop("substitutions", None) or {}
        if not options.pop("use_default_graph_as_union", True) and not defaults:
            raise ValueError("a remote store's default graph is the union of its graphs; name the graphs instead")
        if options:
            raise TypeError(f"options not supported with a remote store: {', '.join(options)}")
        parameters = [("default-graph-uri", g.value) for g in defaults] + [("named-graph-uri", g.value) for g in named]
        text = with_values(sparql_text, [(variable.value, term) for variable, term in substitutions.items()])
        with self.store.query(text, parameters) as answer:
            return answer.detached()

    def _read_metadata(self) -> Metadata:
        rows = list(self.query(DESCRIPTION_QUERY))
        if not rows:
            return _undescribed()
        first = rows[0]
        return Metadata(
            version=first["version"].value,
            built_at=first["modified"].value,
            triples=int(first["triples"].value) if first["triples"] is not None else 0,
            graphs={row["subset"].value: "" for row in rows if row["subset"] is not None},
        )


def _undescribed() -> Metadata:
    """Stand-in metadata for a remote store loaded by other means (no /graph/dataset description): copgraph cannot
    know when its data changes, so the version changes every VERSION_TTL seconds, which bounds how long a cached
    answer or an ETag can outlive a change. Triples are reported as 0 and named graphs as none (unknown)."""
    period = int(time.time() // VERSION_TTL)
    started = datetime.fromtimestamp(period * VERSION_TTL, UTC).replace(microsecond=0)
    version = hashlib.sha256(f"undescribed\0{period}".encode()).hexdigest()[:16]
    return Metadata(version=version, built_at=started.isoformat().replace("+00:00", "Z"), triples=0, graphs={})


class RemoteReader:
    """The reader the web layer asks for the current dataset: always the one remote dataset."""

    def __init__(self, dataset: RemoteDataset):
        self.dataset = dataset

    def current(self) -> RemoteDataset:
        return self.dataset


class RemoteExecutor:
    """Executor.run's contract over the remote store: one query, capped and serialised, or a QueryError."""

    def __init__(self, dataset: RemoteDataset, max_rows: int):
        self.dataset, self.max_rows = dataset, max_rows

    def run(self, request: QueryRequest) -> QueryOutcome:
        version = self.dataset.version
        bindings = [(name, parse_term(text)) for name, text in request.substitutions]
        parameters = [("default-graph-uri", iri) for iri in request.default_graph_uris]
        parameters += [("named-graph-uri", iri) for iri in request.named_graph_uris]
        try:
            answer = self.dataset.store.query(with_values(request.query, bindings), parameters)
        except SyntaxError as error:
            raise QuerySyntaxError(f"Malformed query: {describe_syntax_error(error)}") from None
        with answer:
            try:
                return outcome_of(answer.result(self.max_rows + 1), request, self.max_rows, version)
            except SyntaxError as error:
                raise RemoteUnavailable(
                    f"The remote store at {answer.url} sent an answer that cannot be read: {error}"
                ) from None


class RemoteWriter:
    """LocalWriter's operations as SPARQL Update on the remote store: one request each, which also gives the dataset
    description a new version and modification time, so ETags and caches change with every write."""

    def __init__(self, dataset: RemoteDataset):
        self.dataset = dataset

    def update(self, text: str, base_iri: str | None = None) -> None:
        """Run a maintainer's update, relative IRIs resolved against base_iri; WriteRefused if it could change a
        protected graph, SyntaxError if malformed."""
        refuse_unsafe_update(text)
        if base_iri and any(not _ABSOLUTE.match(iri) for iri in _IRI.findall(mask(text))):
            text = f"BASE <{base_iri}>\n{text}"  # only then: it moves the remote's line numbers in error messages
        self._write(text)

    def read_graph(self, name: str | None) -> list[ox.Triple] | None:
        """The graph's triples, or None if there is no such named graph. The default graph is read as the triples
        in no named graph (the remote's default graph is the union, so it cannot be asked for directly)."""
        if name is None:
            query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"
        else:
            query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{name}> {{ OPTIONAL {{ ?s ?p ?o }} }} }}"
        rows = list(self.dataset.query(query))
        if not rows and name is not None:
            return None  # an existing graph, even an empty one, gives one row
        return [ox.Triple(row["s"], row["p"], row["o"]) for row in rows if row["s"] is not None]

    def replace_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        """Make the graph hold exactly these triples; True if it held none before (did not exist, or was empty)."""
        _refuse_protected(name)
        created = not self._holds_triples(name)
        self._write(replacing(name, triples))
        return created

    def add_to_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        """Merge triples into the graph; True if it held none before (did not exist, or was empty)."""
        _refuse_protected(name)
        created = not self._holds_triples(name)
        self._write(inserting(name, triples))
        return created

    def delete_graph(self, name: str | None) -> bool:
        """Remove the graph (empty the default graph); False if there was no such graph."""
        _refuse_protected(name)
        if not self._exists(name):
            return False
        self._write("CLEAR DEFAULT" if name is None else f"DROP GRAPH <{name}>")
        return True

    def _exists(self, name: str | None) -> bool:
        return name is None or bool(self.dataset.query(f"ASK {{ GRAPH <{name}> {{ }} }}"))

    def _holds_triples(self, name: str | None) -> bool:
        if name is None:
            return bool(self.dataset.query("ASK { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"))
        return bool(self.dataset.query(f"ASK {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"))

    def _write(self, operations: str) -> None:
        modified = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        self.dataset.store.update(_then(operations, _new_version(secrets.token_hex(8), modified)))
        self.dataset.forget()


def _new_version(version: str, modified: str) -> str:
    """An update giving the dataset description a new version and modification time (nothing if it has none)."""
    old = f"?dataset <{COP}datasetVersion> ?version ; <{DCT}modified> ?modified"
    new = f'?dataset <{COP}datasetVersion> "{version}" ; <{DCT}modified> "{modified}"^^<{XSD}dateTime>'
    graph = f"GRAPH <{DATASET_GRAPH}>"
    return f"DELETE {{ {graph} {{ {old} }} }}\nINSERT {{ {graph} {{ {new} }} }}\nWHERE {{ {graph} {{ {old} }} }}"


def _then(first: str, second: str) -> str:
    """Two update texts as one request. The second follows on the first's last line, so that the remote's line and
    column numbers in an error (even one at the very end, such as a missing brace) point into the first; a newline
    comes first only if that line ends in a comment, and no ';' if the first already ends with one."""
    masked = mask(first).rstrip()
    if not masked:
        return second
    ends_in_comment = len(masked) < len(first.rstrip())  # masking blanks comments and keeps every other character
    separator = ("\n" if ends_in_comment else " ") + ("" if masked.endswith(";") else ";") + "\n"
    return first.rstrip() + separator + second


def replacing(name: str | None, triples: Iterable[ox.Triple]) -> str:
    """An update that makes a graph (None: the default graph) hold exactly these triples."""
    if name is None:
        return _then("CLEAR SILENT DEFAULT", inserting(None, triples))
    return _then(f"DROP SILENT GRAPH <{name}>", inserting(name, triples))


def inserting(name: str | None, triples: Iterable[ox.Triple]) -> str:
    """An update that adds triples to a graph (None: the default graph), creating the named graph if need be."""
    lines = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    if name is None:
        return f"INSERT DATA {{\n{lines}}}"
    return f"CREATE SILENT GRAPH <{name}> ;\nINSERT DATA {{ GRAPH <{name}> {{\n{lines}}} }}"


def _refuse_protected(name: str | None) -> None:
    if name in PROTECTED_GRAPHS:
        raise WriteRefused(
            f"this write would change {name}, which only changes in the repository (edit ontology/ or shapes/ "
            "and rebuild). Nothing was written."
        )


def refuse_unsafe_update(text: str) -> None:
    """WriteRefused for an update that names a protected graph, clears or drops everything (CLEAR/DROP ALL or
    NAMED), or has a DELETE/INSERT template with a variable graph: on a remote store copgraph cannot compare the
    protected graphs before and after a write, so it refuses, from the text, whatever could reach them."""
    masked = mask(text)
    if _CLEARS_EVERYTHING.search(masked):
        raise WriteRefused(
            "CLEAR/DROP ALL and CLEAR/DROP NAMED would remove the ontology, the shapes and the dataset description, "
            "which only change in the repository: clear or drop the graphs by name instead. Nothing was written."
        )
    for template in _TEMPLATE.finditer(masked):
        if _VARIABLE_GRAPH.search(_block(masked, template.end() - 1)):
            raise WriteRefused(
                "a DELETE or INSERT template with GRAPH ?variable could change the ontology, the shapes or the "
                "dataset description, which copgraph cannot check on a remote store: name the graphs instead. "
                "Nothing was written."
            )
    for graph in _graphs_named(masked):
        _refuse_protected(graph)


def _block(text: str, start: int) -> str:
    """The text of the brace-delimited block opening at text[start] (to the end if it is not closed)."""
    depth = 0
    for position in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[start : position + 1]
    return text[start:]


def _graphs_named(masked: str) -> set[str]:
    """Every IRI the (masked) update names, written in full or as a prefixed name."""
    prefixes = {(name or ""): iri[1:-1] for name, iri in PREFIX_DECLARATION.findall(masked)}
    named = set(_IRI.findall(masked))
    for prefix, local in _PREFIXED.findall(_IRI.sub(" ", masked)):
        if prefix in prefixes:
            named.add(prefixes[prefix] + local.rstrip("."))
    return named


def connect(config: Config) -> tuple[RemoteReader, RemoteExecutor, RemoteWriter]:
    """The reader, executor and writer of the configured remote store, sharing one cached description."""
    dataset = RemoteDataset(RemoteStore(config.remote_query_url, config.remote_update_url, config.query_timeout))
    return RemoteReader(dataset), RemoteExecutor(dataset, config.max_rows), RemoteWriter(dataset)

