"""Answering maintainers' writes over HTTP: the same error shape, and nothing written on any failure."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request

from copgraph.executor import QueryError
from copgraph.sparql_text import add_using, check_services, clear_silently
from copgraph.store import StoreMissing, WriteRefused
from copgraph.web.errors import error_response
from copgraph.web.store_access import config, result_cache, writer


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
    result_cache().clear()
    return response


def run_update(text: str, using: tuple[str, ...], using_named: tuple[str, ...]) -> Response:
    def operation() -> Response:
        check_services(text, config().allowed_services)
        writer().update(clear_silently(add_using(text, using, using_named)), base_iri=request.base_url)
        return Response(status=204)

    return perform(operation)
