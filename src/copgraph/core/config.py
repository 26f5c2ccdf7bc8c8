"""Settings, in one place: environment variables with the COPGRAPH_ prefix, overridden by CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from copgraph.core.vocab import DEFAULT_BASE


@dataclass(frozen=True)
class Config:
    """Everything copgraph can be told. Field names map to COPGRAPH_<NAME> environment variables."""

    root: Path = Path(".")  # the folder holding ontology/, data/, shapes/, queries/
    store: Path | None = None  # the on-disk store; default <root>/var/store
    base: str = DEFAULT_BASE  # canonical base IRI of things, graphs and the ontology
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    server: str = "granian"  # the production HTTP server: granian (Rust HTTP, keep-alive) or gunicorn (sync workers)
    threads: int = 32  # per granian worker: requests served at once (their heavy work waits on child processes)
    slow_requests: int = 24  # per granian worker: of those, requests that may wait long; one more is answered 503
    worker_max_rss_mb: int = 1024  # a granian worker using more memory than this is replaced gracefully; 0: never
    query_timeout: float = 30.0  # seconds a query may run before it is stopped
    query_memory_mb: int = 1024  # data-segment cap of each query process
    input_timeout: float = 10.0  # seconds to parse and validate one client's RDF (upload, contribution, approval)
    input_memory_mb: int = 512  # data-segment cap of each input process (parsing and validating clients' RDF)
    stack_mb: int = 16  # stack of the thread that runs each job in a query or input process
    max_rows: int = 100_000  # result rows (or triples) returned at most; more is signalled, never silent
    max_request_bytes: int = 1_048_576  # largest request body accepted (413 above)
    max_nesting: int = 256  # deepest nesting of brackets (or XML elements) in RDF a client sends (400 above)
    max_described: int = 100  # resources one DESCRIBE may name (400 above)
    max_validation_triples: int = 10_000  # triples in one validation request (413 above)
    max_list_items: int = 1_000  # rdf:List items in one validation request (413 above)
    cache_control: str = "public, max-age=60"  # Cache-Control on reads
    result_cache_bytes: int = 64 * 2**20  # per worker: SPARQL answers (each at most 1/8 of it); 0: none kept
    model_cache_bytes: int = 64 * 2**20  # per worker: site index, network, rendered pages; 0: made per request
    maintainer_token: str = ""  # bearer token for writes; empty: writes are off
    service_allowlist: str = ""  # space- or comma-separated endpoint IRIs SERVICE may reach; empty: none
    remote_query_url: str = ""  # SPARQL 1.1 query URL of an external store; empty: the embedded Oxigraph store
    remote_update_url: str = ""  # its SPARQL 1.1 update URL; empty: no writes (and no build) in remote mode
    pending: Path | None = None  # contributions awaiting review; default: beside the store (<root>/var/pending)
    rate_limit_per_minute: int = 30  # requests a client may make to a rate-limited route, per worker; 0: no limit
    trusted_proxy: str = ""  # proxy addresses whose X-Forwarded-For names the client; empty: trust no header
    access_log: bool = True  # one line per request on standard output; off where a proxy in front logs them

    @property
    def store_dir(self) -> Path:
        return self.store if self.store is not None else self.root / "var" / "store"

    @property
    def pending_dir(self) -> Path:
        return self.pending if self.pending is not None else self.store_dir.parent / "pending"

    @property
    def sessions_dir(self) -> Path:
        """Maintainer sessions (one small file each), beside the pending contributions."""
        return self.pending_dir.parent / "sessions"

    @property
    def allowed_services(self) -> frozenset[str]:
        return frozenset(part for part in self.service_allowlist.replace(",", " ").split() if part)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Config:
        """Read COPGRAPH_* variables, then apply overrides that are not None (CLI flags)."""
        variables = os.environ if environ is None else environ
        values: dict[str, Any] = {}  # each coerced to its field's type by _coerce
        for field in fields(cls):
            raw = variables.get(f"COPGRAPH_{field.name.upper()}")
            if raw is None or raw == "":
                continue
            values[field.name] = _coerce(field.name, field.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)
        return replace(config, root=Path(config.root).resolve(), store=_resolve(config.store))


def _resolve(path: Path | str | None) -> Path | None:
    return None if path is None else Path(path).resolve()


BOOLEANS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _coerce(name: str, kind: object, raw: str) -> object:
    kind_text = str(kind)
    if kind_text == "bool":
        if raw.lower() not in BOOLEANS:
            raise ValueError(f"COPGRAPH_{name.upper()} must be true or false, not {raw!r}")
        return BOOLEANS[raw.lower()]
    for number, words in ((int, "a whole number"), (float, "a number")):
        if kind_text == number.__name__:
            try:
                return number(raw)
            except ValueError:
                raise ValueError(f"COPGRAPH_{name.upper()} must be {words}, not {raw!r}") from None
    if "Path" in kind_text:
        return Path(raw)
    return raw
