"""The one cache helper for what a worker derives from a dataset version. Each worker keeps two: SPARQL answers
(web.http.context.ResultCache) and read models (the site index, the network, rendered records). Every such value is
right for exactly one version (a generation never changes once built), so the cache is keyed by version and never
invalidated entry by entry: asking with a new version (a build, a write) empties it.

It is bounded in bytes, not entries, because values differ in size by five orders of magnitude, from a lookup's few
hundred bytes to a 31 MB export: bounded at 512 entries, 40 distinct 31 MB answers grew workers to 800 MB. Least
recently used values go first; a value larger than `largest` is never kept, so one big answer cannot push out the
many small ones that repeat.

A value's size is estimated once, when it is stored: by the caller, or by `deep_size`, a walk over what the value
owns, linear in its objects. For the site index of the current data it says 255 KiB where tracemalloc counts 254 KiB,
and takes 6-15 ms, a tenth of building the index, once per version.
"""

from __future__ import annotations

import logging
import sys
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

log = logging.getLogger(__name__)

# Leaves: measured by sys.getsizeof, nothing inside them to follow.
_ATOMS = (str, bytes, bytearray, int, float, complex, bool, type(None))
# Shared by many values, owned by none: not counted, not followed.
_SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def deep_size(value: object) -> int:
    """An estimate, in bytes, of the memory `value` holds: `sys.getsizeof` of it and of every object reachable through
    containers (tuple, list, set, dict) and instance attributes (`__dict__`, `__slots__`), each object counted once.
    Classes, functions and modules are shared, so neither counted nor followed; an object a C extension keeps (a
    pyoxigraph Store) counts only its Python shell."""
    seen: set[int] = set()
    pending: list[object] = [value]
    total = 0
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, _SHARED):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, _ATOMS):
            continue
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            pending.extend(item)
        else:
            attributes = getattr(item, "__dict__", None)
            if isinstance(attributes, dict):
                pending.append(attributes)
            for cls in type(item).__mro__:
                slots = cls.__dict__.get("__slots__", ())
                for slot in (slots,) if isinstance(slots, str) else slots:
                    if slot not in ("__dict__", "__weakref__") and hasattr(item, slot):
                        pending.append(getattr(item, slot))
    return total


class VersionedCache(Generic[V]):
    """Values derived from one dataset version, by key, least recently used first out, their estimated sizes summing
    to at most `max_bytes` (0 keeps nothing). `None` cannot be cached: `get` answers it for a miss."""

    def __init__(self, max_bytes: int, largest: int | None = None, setting: str = ""):
        self.max_bytes = max(0, max_bytes)
        self.setting = setting  # the variable that sets max_bytes, named when a value does not fit
        self.largest = self.max_bytes if largest is None else max(0, min(largest, self.max_bytes))
        self.version: str | None = None
        self.bytes = 0
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._warned: set[Hashable] = set()
        self._lock = threading.Lock()  # a worker serves requests on several threads (COPGRAPH_THREADS)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, version: str, key: Hashable) -> V | None:
        """The value kept for `key` in `version`, or None; asking with another version empties the cache first."""
        with self._lock:
            if version != self.version:
                self._empty(version)
                return None
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, version: str, key: Hashable, value: V, size: int | None = None) -> bool:
        """Keep `value` (of `size` bytes, else `deep_size(value)`) and say whether it was kept: not when it was made
        from another version than the one last asked about (a slow request that read the version before a write), nor
        when it is larger than `largest`. Older values are evicted until the sum fits."""
        size = deep_size(value) if size is None else size
        with self._lock:
            if self.version is None:
                self.version = version
            if version != self.version or size > self.largest:
                return False
            replaced = self._items.pop(key, None)
            if replaced is not None:
                self.bytes -= replaced[1]
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._items.popitem(last=False)
                self.bytes -= evicted
            return True

    def get_or_make(
        self, version: str, key: Hashable, make: Callable[[], V], size: Callable[[V], int] = deep_size
    ) -> V:
        """The value kept for `key`, or `make()` kept for next time. A read model too large to keep is rebuilt on every
        request, so that is logged (once per key) with the setting to raise."""
        found = self.get(version, key)
        if found is not None:
            return found
        made = make()
        measured = size(made)
        if not self.put(version, key, made, measured) and measured > self.largest > 0 and key not in self._warned:
            self._warned.add(key)
            log.warning(
                "%r (%d bytes) is larger than the cache keeps (%d bytes), so it is rebuilt on every request: raise %s",
                key,
                measured,
                self.largest,
                self.setting or "the cache's bound",
            )
        return made

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def _empty(self, version: str) -> None:
        self._items.clear()
        self.bytes = 0
        self.version = version
