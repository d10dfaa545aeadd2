"""The result cache: answers keyed by compiled SQL, parameters, source and definition versions.

Because the key carries every definition version used, a changed definition can never be
answered from an entry computed with an older one. Entries live in this process (default)
or in Redis (`YARDSTICK_CACHE_URL=redis://…`), shared by every replica.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from app.canonical import canonical_json
from app.config import Settings

REDIS_PREFIX = "yardstick:result:"


@dataclass
class Result:
    """Cached rows, and the JSON body of the answer as served from the cache (rendered once)."""

    rows: list[list[Any]]
    hit_body: bytes | None = None


def cache_key(source: str, sql: str, params: tuple, metric_versions: dict[str, int], dataset_versions: dict[str, int]) -> str:
    material = canonical_json([source, sql, [repr(p) for p in params], metric_versions, dataset_versions])
    return hashlib.sha256(material.encode()).hexdigest()


class ResultCache(Protocol):
    async def get(self, key: str) -> Result | None: ...

    async def put(self, key: str, result: Result, ttl: float) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """An in-process LRU with a TTL per entry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, tuple[float, Result]] = OrderedDict()

    async def get(self, key: str) -> Result | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        expires, value = hit
        if expires < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    async def put(self, key: str, result: Result, ttl: float) -> None:
        if ttl <= 0:
            return
        self._items[key] = (time.monotonic() + ttl, result)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)

    async def close(self) -> None:
        self._items.clear()


class RedisCache:
    """Rows as JSON under `yardstick:result:<key>` with Redis's own expiry."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)

    async def get(self, key: str) -> Result | None:
        raw = await self.redis.get(REDIS_PREFIX + key)
        return None if raw is None else Result(json.loads(raw))

    async def put(self, key: str, result: Result, ttl: float) -> None:
        if ttl > 0:
            await self.redis.set(REDIS_PREFIX + key, json.dumps(result.rows), px=int(ttl * 1000))

    async def close(self) -> None:
        await self.redis.aclose()


def cache_from_settings(settings: Settings) -> ResultCache:
    if settings.cache_url:
        return RedisCache(settings.cache_url)
    return MemoryCache(settings.cache_max_entries)
