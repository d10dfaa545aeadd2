"""The result cache: answers keyed by compiled SQL, parameters, source and definition versions.

Because the key carries every definition version used, a changed definition can never be
answered from an entry computed with an older one.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

from app.canonical import canonical_json


def cache_key(source: str, sql: str, params: tuple, metric_versions: dict[str, int], dataset_versions: dict[str, int]) -> str:
    material = canonical_json([source, sql, [repr(p) for p in params], metric_versions, dataset_versions])
    return hashlib.sha256(material.encode()).hexdigest()


class ResultCache:
    """An in-process LRU with a TTL per entry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str) -> Any | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        expires, value = hit
        if expires < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: str, value: Any, ttl: float) -> None:
        if ttl <= 0:
            return
        self._items[key] = (time.monotonic() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
