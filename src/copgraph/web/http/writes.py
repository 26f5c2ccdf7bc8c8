"""Answering maintainers' writes over HTTP: the same error shape, and nothing written on any failure."""

from __future__ import annotations

import errno
from collections.abc import Callable

from flask import Response, current_app, request

from copgraph.query.executor import QueryError
from copgraph.query.guards import add_using, check_nesting, check_no_load, check_services, clear_silently
from copgraph.store.generations import StoreMissing
from copgraph.store.writes import WriteRefused
from copgraph.web.http.context import config, result_cache, writer
from copgraph.web.http.errors import error_response


def perform(operation: Callable[[], Response]) -> Response:
    """Run a write and map its failures to statuses; the store is untouched whenever this answers an error."""
    try:
        response = operation()
    except SyntaxError as error:
        return error_response(400, f"Malformed input: {error}")
    except WriteRefused as error:
        return error_response(403, f"Refused: {error}")
    except QueryError as error:
        return error_response(error.status, str(error))
    except StoreMissing as error:
        return error_response(503, str(error))
    except RuntimeError as error:  # Oxigraph's evaluation errors, e.g. DROP GRAPH of a graph that does not exist
        return error_response(400, f"The update could not be applied: {error}. Nothing was written.")
    except OSError as error:  # the disk (RocksDB reports no errno, only its message), permissions, I/O
        current_app.logger.error("write failed: %s", error)
        if error.errno == errno.ENOSPC or "No space left on device" in str(error):
            return error_response(507, "The server's disk is full: nothing was written. Try again later.")
        return error_response(503, "The store could not be written: nothing was written. Try again later.")
    result_cache().clear()
    return response


def run_update(text: str, using: tuple[str, ...], using_named: tuple[str, ...]) -> Response:
    def operation() -> Response:
        check_nesting(text)
        check_no_load(text)
        check_services(text, config().allowed_services)
        writer().update(clear_silently(add_using(text, using, using_named)), base_iri=request.base_url)
        return Response(status=204)

    return perform(operation)
