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

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

FOREVER = float("inf")


class Memo(Generic[K, V]):
    """The least recently used entry goes first once `size` are kept; `put(..., ttl=s)` keeps one for s seconds.

    Expiry is checked on read (cachetools' TLRUCache does it with a heap at three times the cost of a
    lookup, and this is read several times per request)."""

    def __init__(self, size: int) -> None:
        self._items: LRUCache[K, tuple[float, V]] = LRUCache(size)
        self._lock = threading.Lock()  # compiles run in worker threads

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._items[key]
                return None
            return entry[1]

    def put(self, key: K, value: V, ttl: float | None = None) -> V:
        """Keeps `value` (never when ttl <= 0); answers it."""
        if ttl is not None and ttl <= 0:
            return value
        expires = FOREVER if ttl is None else time.monotonic() + ttl
        with self._lock:
            self._items[key] = (expires, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
