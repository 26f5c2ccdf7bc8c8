"""The access log under granian: one line per request on standard output, written by the application.

granian's own access log builds a dict, a datetime and a logging record for every request, which cost a worker
about a fifth of its time on a lookup (profiled with py-spy: docs/benchmarks.md). This layer writes the same line
(`127.0.0.1 - "GET /sparql HTTP/1.1" 200 0.4ms`) with one f-string and one write(2): lines of two workers never mix,
as each is one write of less than PIPE_BUF bytes. The time is until the application returned its response (for a
streamed body such as a dump, until it began). Query strings are not logged: they can carry tokens and queries.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable

STDOUT = 1
# A path may hold decoded control characters (%0A): written as \xNN, so that a request cannot forge a log line.
CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(32), 127]}


class AccessLog:
    def __init__(self, application: Callable, fd: int = STDOUT):
        self.application, self.fd = application, fd

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        statuses: list[str] = []

        def start_and_note(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable:
            statuses.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            body = self.application(environ, start_and_note)
        except BaseException:
            self._write(environ, "500", started)
            raise
        self._write(environ, statuses[-1][:3] if statuses else "500", started)
        return body

    def _write(self, environ: dict, status: str, started: float) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        path = environ.get("PATH_INFO", "").translate(CONTROL_ESCAPES)
        line = (
            f'{environ.get("REMOTE_ADDR", "-")} - "{environ.get("REQUEST_METHOD", "")} {path} '
            f'{environ.get("SERVER_PROTOCOL", "")}" {status} {elapsed:.1f}ms\n'
        )
        with contextlib.suppress(OSError):  # a closed or full output must not fail the request
            os.write(self.fd, line.encode("utf-8", "backslashreplace"))
