"""Answering maintainers' writes over HTTP: the same error shape, and nothing written on any failure."""

from __future__ import annotations

import errno
from collections.abc import Callable

from flask import Response, current_app, request

from copgraph.query.executor import QueryError
from copgraph.query.guards import add_using, check_nesting, check_no_load, check_services, clear_silently
from copgraph.store.generations import StoreMissing
from copgraph.store.writes import WriteRefused
from copgraph.web.http.context import backend, config, result_cache
from copgraph.web.http.errors import RequestError


def perform(operation: Callable[[], Response]) -> Response:
    """Run a write and turn its failures into RequestErrors; the store is untouched whenever one is raised."""
    try:
        response = operation()
    except SyntaxError as error:
        raise RequestError(400, f"Malformed input: {error}") from None
    except WriteRefused as error:
        raise RequestError(403, f"Refused: {error}") from None
    except QueryError as error:
        raise RequestError(error.status, str(error)) from None
    except StoreMissing as error:
        raise RequestError(503, str(error)) from None
    except RuntimeError as error:  # Oxigraph's evaluation errors, e.g. DROP GRAPH of a graph that does not exist
        raise RequestError(400, f"The update could not be applied: {error}. Nothing was written.") from None
    except OSError as error:  # the disk (RocksDB reports no errno, only its message), permissions, I/O
        current_app.logger.error("write failed: %s", error)
        if error.errno == errno.ENOSPC or "No space left on device" in str(error):
            raise RequestError(507, "The server's disk is full: nothing was written. Try again later.") from None
        raise RequestError(503, "The store could not be written: nothing was written. Try again later.") from None
    result_cache().clear()
    return response


def run_update(text: str, using: tuple[str, ...], using_named: tuple[str, ...]) -> Response:
    def operation() -> Response:
        check_nesting(text)
        check_no_load(text)
        check_services(text, config().allowed_services)
        backend().update(clear_silently(add_using(text, using, using_named)), base_iri=request.base_url)
        return Response(status=204)

    return perform(operation)
