"""Memo: the one kind of in-process cache (bounded LRU, optional expiry per entry, thread-safe).

Keys are content (bytes, hashes, immutable tuples), plus the registry generation wherever the
value depends on the registry. A Memo belongs to the object that builds it (the app, a service,
a compiler): nothing is cached at module level, so two apps in one process share nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache, TLRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _expires(_key: object, entry: tuple[object, float], now: float) -> float:
    return now + entry[1]


class Memo(Generic[K, V]):
    """`expiring=True` gives every entry its own time to live (`put(..., ttl=seconds)`)."""

    def __init__(self, size: int, *, expiring: bool = False) -> None:
        self.expiring = expiring
        self._items = TLRUCache(size, ttu=_expires, timer=time.monotonic) if expiring else LRUCache(size)
        self._lock = threading.Lock()  # compiles run in worker threads

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
        if found is None or not self.expiring:
            return found
        return found[0]

    def put(self, key: K, value: V, ttl: float | None = None) -> V:
        """Keeps `value` (for `ttl` seconds in an expiring memo; never when ttl <= 0); answers it."""
        if self.expiring:
            if ttl is None or ttl <= 0:
                return value
            entry: object = (value, ttl)
        else:
            entry = value
        with self._lock:
            self._items[key] = entry
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            if self.expiring:
                self._items.expire()
            return len(self._items)
