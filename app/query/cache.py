"""The result cache: answers keyed by the compiled statement (source, SQL, definition versions) and parameters.

Because the key carries every definition version used, a changed definition can never be
answered from an entry computed with an older one. Entries live in this process (default)
or in Redis (`YARDSTICK_CACHE_URL=redis://…`), shared by every replica.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from app.canonical import canonical_json
from app.config import Settings
from app.memo import Memo

REDIS_PREFIX = "yardstick:result:"


@dataclass
class Result:
    """Cached rows, and the JSON body of the answer as served from the cache: (answer tag, bytes),
    rendered once per tag (the versions and warnings the answer carries besides its rows)."""

    rows: list[list[Any]]
    rendered: tuple[str, bytes] | None = None


def cache_key(statement: str, params: tuple) -> str:
    """`statement` is CompiledQuery.digest; `repr` keeps 1, 1.0, True and '1' apart."""
    return hashlib.sha256(canonical_json([statement, [repr(p) for p in params]]).encode()).hexdigest()


class ResultCache(Protocol):
    async def get(self, key: str) -> Result | None: ...

    async def put(self, key: str, result: Result, ttl: float) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """An in-process LRU with a TTL per entry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: Memo[str, Result] = Memo(max_entries)

    async def get(self, key: str) -> Result | None:
        return self._items.get(key)

    async def put(self, key: str, result: Result, ttl: float) -> None:
        self._items.put(key, result, ttl)

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
