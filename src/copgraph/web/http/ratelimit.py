"""Rate limiting per client: a small in-process token bucket for each route that costs work (validation,
contributions).

Each server worker is its own process with its own buckets, so the effective limit is the configured one per worker
(with N workers a client may get up to N times as many requests through). That is enough to stop a script from
hammering the service without a shared store; a deployment that needs one exact limit puts it in its proxy.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, request

from copgraph.web.http.context import config
from copgraph.web.http.errors import error_response

# Buckets kept per worker at most; the least recently seen clients are forgotten first (a forgotten client starts
# again with a full bucket, which only ever errs towards letting a request through).
MAX_CLIENTS = 10_000


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Buckets of `per_minute` tokens keyed by (bucket name, client), refilled continuously at per_minute / 60 a
    second. Thread-safe: Flask's development server answers requests on threads."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.clock = clock
        self._buckets: OrderedDict[tuple[str, str], Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, name: str, client: str) -> float:
        """Spend one token for this client: 0 if the request may go ahead, otherwise the seconds until it may."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop((name, client), None) or Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill_per_second)
            bucket.updated = now
            self._buckets[(name, client)] = bucket
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.refill_per_second


def client_address() -> str:
    """The client's address: the connection's peer, or, only when that peer is a configured trusted proxy
    (COPGRAPH_TRUSTED_PROXY), the nearest address in X-Forwarded-For that is not itself a trusted proxy. A client
    can put anything in X-Forwarded-For, so the header is never believed from anyone else."""
    peer = request.remote_addr or "unknown"
    trusted = trusted_proxies()
    if peer not in trusted:
        return peer
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if address not in trusted:
            return address
    return peer


def trusted_proxies() -> frozenset[str]:
    return frozenset(part for part in config().trusted_proxy.replace(",", " ").split() if part)


def buckets() -> TokenBuckets | None:
    """This worker's buckets, made on first use; None when rate limiting is off (COPGRAPH_RATE_LIMIT_PER_MINUTE=0)."""
    per_minute = config().rate_limit_per_minute
    if per_minute <= 0:
        return None
    return current_app.extensions.setdefault("copgraph.ratelimit", TokenBuckets(per_minute))


def too_many_requests(retry_after: int) -> Response:
    """429 with Retry-After, in the one error shape (an HTML page for browsers)."""
    per_minute = config().rate_limit_per_minute
    message = (
        f"Too many requests: this service accepts {per_minute} requests a minute from one client. "
        f"Try again in {retry_after} second{'s' if retry_after != 1 else ''}."
    )
    headers = {"Retry-After": str(retry_after)}
    return error_response(429, message, headers)


def rate_limited(bucket_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view so that each client may call it COPGRAPH_RATE_LIMIT_PER_MINUTE times a minute (per worker,
    in bursts up to that many); past that it answers 429 with Retry-After before reading the request body.
    Views decorated with the same bucket name share one allowance."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            limiter = buckets()
            if limiter is not None:
                wait = limiter.take(bucket_name, client_address())
                if wait > 0:
                    return too_many_requests(max(1, math.ceil(wait)))
            return view(*args, **kwargs)

        return limited

    return decorate
