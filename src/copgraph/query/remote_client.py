"""The HTTP client of a remote SPARQL 1.1 store: queries and updates sent by the SPARQL Protocol, answers read as
pyoxigraph results, and every failure turned into copgraph's own errors.

A query's deadline covers its whole answer, not only the wait for the first byte: the body is read through `_Body`,
which gives up once the query timeout has passed, so a store that answers slowly cannot hold a web worker past it.
A remote that does not answer (or not usably) is `RemoteUnavailable`, one that is too slow `RemoteTimeout`: both are
QueryErrors with status 503 for the web layer, and OSErrors for /healthz.
"""

from __future__ import annotations

import http.client
import io
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING

import pyoxigraph as ox

from copgraph.query import results
from copgraph.query.executor import QueryTimeout, StoreUnavailable
from copgraph.store.writes import WriteRefused

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}


GRAPH_TYPES = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE}


ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, application/n-triples, text/turtle;q=0.9"
)


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
        body = io.BufferedReader(_Body(response, deadline, self))
        return RemoteAnswer(self.query_url, response.headers.get_content_type(), body)

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
            response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=self.timeout)
            return response
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

    def readinto(self, buffer: WriteableBuffer) -> int:
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
