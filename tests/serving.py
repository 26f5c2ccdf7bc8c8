"""A `copgraph serve` process that tests can look inside and kill: its workers, their memory, its process group.

conftest.running_server is enough for tests that only talk HTTP; fault and soak tests also need the processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import copgraph_command, free_port

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (which may hold spaces): [state, ppid, ...]; None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    """The living (not zombie) child processes of pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid) and fields[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of pid so far, in clock ticks (0 once it is gone)."""
    fields = _stat(pid)
    return 0 if fields is None else int(fields[11]) + int(fields[12])


def rss_bytes(pid: int) -> int:
    fields = _stat(pid)
    return 0 if fields is None else int(fields[21]) * PAGE_SIZE


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path  # the server's standard error: gunicorn's error log and the application's

    @property
    def workers(self) -> list[int]:
        """gunicorn's worker processes (the master's children)."""
        return children(self.process.pid)

    def processes(self) -> list[int]:
        """The master, its workers and their query processes."""
        return [self.process.pid, *descendants(self.process.pid)]

    def memory(self) -> int:
        """Resident memory of all the server's processes, in bytes."""
        return sum(rss_bytes(pid) for pid in self.processes())

    def kill(self) -> None:
        """SIGKILL to the whole process group, as a power cut or the OOM killer would end it: no clean-up runs."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Until url answers at all: gunicorn accepts connections before its workers have booted, so a slow first
    answer (a read time-out) means "not yet", like a refused connection."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer within {seconds} s")


@contextmanager
def serving(root: Path, store: Path, log: Path, workers: int = 2, **settings: str) -> Iterator[Server]:
    """`copgraph serve` on a free loopback port, in its own process group, with COPGRAPH_<NAME> settings."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPGRAPH_")}
    env |= {"COPGRAPH_ROOT": str(root), "COPGRAPH_STORE": str(store)}
    env |= {f"COPGRAPH_{name.upper()}": value for name, value in settings.items()}
    command = copgraph_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
    with log.open("ab") as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_serving(server.url + "/healthz", process)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # any query process a killed worker left behind
