"""An external SPARQL 1.1 store as a backend instead of the embedded one: Oxigraph server, Fuseki, Virtuoso, GraphDB,
or a cluster behind a load balancer, reached through its query and update URLs (COPGRAPH_REMOTE_QUERY_URL /
_UPDATE_URL).

`RemoteBackend` implements the backend contract (query.backend) over HTTP (query.remote_client), with the text it
sends written by query.remote_text; `copgraph build` loads a remote store through build.remote_load. What differs
from the embedded store, and why:

- The remote's default graph must be the union of its named graphs (`oxigraph serve --union-default-graph`, Fuseki's
  `tdb2:unionDefaultGraph`; Virtuoso and GraphDB do so by default): the SPARQL Protocol has no portable way to ask for
  it, and copgraph's queries rely on it.
- The dataset version is read from the remote's /graph/dataset description and kept for VERSION_TTL seconds, so a
  write made through another copgraph process shows (and empties the result caches) within that time.
- A build replaces one graph per update request: the remote store cannot be swapped whole, so readers may see old and
  new graphs side by side while it runs. The description, and with it the version, changes last.
- Updates are checked by reading their text (remote_text.refuse_unsafe_update), not by comparing the protected graphs
  before and after, which a remote store cannot be asked to do.
- Nothing runs in a query process: the remote store bounds its own work, and copgraph stops reading at the timeout.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from copgraph.core.config import Config
from copgraph.core.graphs import DATASET_GRAPH
from copgraph.core.vocab import COP, DCT, VOID
from copgraph.query import results
from copgraph.query.backend import Backend
from copgraph.query.executor import (
    QueryOutcome,
    QueryRequest,
    QuerySyntaxError,
    describe_syntax_error,
    outcome_of,
    parse_term,
)
from copgraph.query.remote_client import RemoteStore, RemoteUnavailable
from copgraph.query.remote_text import (
    in_one_request,
    inserting,
    refuse_protected,
    refuse_unsafe_update,
    replacing,
    version_update,
    with_base,
    with_values,
)
from copgraph.store.generations import Metadata

# Seconds the remote's dataset description (version, modified, triples, graphs) is reused before it is read again.
VERSION_TTL = 2.0


DESCRIPTION_QUERY = f"""SELECT ?version ?modified ?triples ?subset WHERE {{ GRAPH <{DATASET_GRAPH}> {{
  ?dataset <{COP}datasetVersion> ?version ; <{DCT}modified> ?modified .
  OPTIONAL {{ ?dataset <{VOID}triples> ?triples }}
  OPTIONAL {{ ?dataset <{VOID}subset> ?subset }}
}} }}"""


class RemoteDataset:
    """The remote store's data as a DatasetView: its description (re-read every VERSION_TTL seconds) and queries."""

    generation: Path | None = None  # a remote store has no generation directory: no dumps, no pre-built documentation

    def __init__(self, client: RemoteStore):
        self.client = client
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

    def query(
        self, sparql: str, *, substitutions: Mapping[ox.Variable, ox.NamedNode | ox.Literal] | None = None
    ) -> results.QueryResult:
        """Evaluate a query remotely, read whole; the default graph is the remote's, the union of its graphs.
        Substitutions are sent as a VALUES clause. SyntaxError if malformed, as locally."""
        bindings = [(variable.value, term) for variable, term in (substitutions or {}).items()]
        with self.client.query(with_values(sparql, bindings)) as answer:
            return answer.detached()

    def graph(self, name: str | None) -> list[ox.Triple] | None:
        """The graph's triples, or None if there is no such named graph. The default graph is read as the triples
        in no named graph (the remote's default graph is the union, so it cannot be asked for directly)."""
        if name is None:
            query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"
        else:
            query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{name}> {{ OPTIONAL {{ ?s ?p ?o }} }} }}"
        rows = list(self._solutions(query))
        if not rows and name is not None:
            return None  # an existing graph, even an empty one, gives one row
        return [ox.Triple(row["s"], row["p"], row["o"]) for row in rows if row["s"] is not None]

    def _solutions(self, query: str) -> ox.QuerySolutions:
        answer = self.query(query)
        if not isinstance(answer, ox.QuerySolutions):
            raise RemoteUnavailable(f"The remote store at {self.client.query_url} did not answer a SELECT with rows.")
        return answer

    def _read_metadata(self) -> Metadata:
        rows = list(self._solutions(DESCRIPTION_QUERY))
        if not rows:
            return _undescribed()
        first = rows[0]
        return Metadata(
            version=_text(first["version"]),
            built_at=_text(first["modified"]),
            triples=int(_text(first["triples"])) if first["triples"] is not None else 0,
            graphs={_text(row["subset"]): "" for row in rows if row["subset"] is not None},
        )


def _text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    """The value of an IRI or literal in a solution of DESCRIPTION_QUERY."""
    if not isinstance(term, ox.NamedNode | ox.Literal):
        raise RemoteUnavailable(f"The remote store's dataset description holds {term} where a value was expected.")
    return term.value


def _undescribed() -> Metadata:
    """Stand-in metadata for a remote store loaded by other means (no /graph/dataset description): copgraph cannot
    know when its data changes, so the version changes every VERSION_TTL seconds, which bounds how long a cached
    answer or an ETag can outlive a change. Triples are reported as 0 and named graphs as none (unknown)."""
    period = int(time.time() // VERSION_TTL)
    started = datetime.fromtimestamp(period * VERSION_TTL, UTC).replace(microsecond=0)
    version = hashlib.sha256(f"undescribed\0{period}".encode()).hexdigest()[:16]
    return Metadata(version=version, built_at=started.isoformat().replace("+00:00", "Z"), triples=0, graphs={})


class RemoteBackend(Backend):
    """The configured remote store. Queries are capped and serialised as the embedded store's are (outcome_of); each
    write is one update request, which also gives the dataset description a new version and modification time, so
    ETags and caches change with every write."""

    def __init__(self, config: Config):
        client = RemoteStore(config.remote_query_url, config.remote_update_url, config.query_timeout)
        self.dataset = RemoteDataset(client)
        self.max_rows = config.max_rows

    def current(self) -> RemoteDataset:
        return self.dataset

    def run(self, request: QueryRequest) -> QueryOutcome:
        version = self.dataset.version
        bindings = [(name, parse_term(text)) for name, text in request.substitutions]
        parameters = [("default-graph-uri", iri) for iri in request.default_graph_uris]
        parameters += [("named-graph-uri", iri) for iri in request.named_graph_uris]
        try:
            answer = self.dataset.client.query(with_values(request.query, bindings), parameters)
        except SyntaxError as error:
            raise QuerySyntaxError(f"Malformed query: {describe_syntax_error(error)}") from None
        with answer:
            try:
                return outcome_of(answer.result(self.max_rows + 1), request, self.max_rows, version)
            except SyntaxError as error:
                raise RemoteUnavailable(
                    f"The remote store at {answer.url} sent an answer that cannot be read: {error}"
                ) from None

    def update(self, text: str, base_iri: str | None = None) -> None:
        """Also WriteRefused if the update could change a protected graph (remote_text.refuse_unsafe_update)."""
        refuse_unsafe_update(text)
        self._write(with_base(text, base_iri))

    def replace_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        refuse_protected(name)
        created = not self._holds_triples(name)
        self._write(replacing(name, triples))
        return created

    def add_to_graph(self, name: str | None, triples: Sequence[ox.Triple]) -> bool:
        refuse_protected(name)
        created = not self._holds_triples(name)
        self._write(inserting(name, triples))
        return created

    def delete_graph(self, name: str | None) -> bool:
        refuse_protected(name)
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
        self.dataset.client.update(in_one_request(operations, version_update(secrets.token_hex(8), modified)))
        self.dataset.forget()
