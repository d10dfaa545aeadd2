"""Which engine serves a source URL, and one lazily created engine per source.

Adding an engine kind touches only ENGINES; the pool keys engines by source name and a
hash of the URL, so changing a source's URL retires its old engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from urllib.parse import urlsplit

from app.engines.base import Engine
from app.engines.clickhouse_engine import ClickHouseEngine
from app.engines.duckdb_engine import DuckDBEngine
from app.engines.postgres_engine import PostgresEngine
from app.engines.spark_engine import SparkEngine
from app.engines.sqlite_engine import SQLiteEngine
from app.engines.trino_engine import TrinoEngine
from app.errors import ErrorCode, Invalid
from app.reach import Reach, Target

log = logging.getLogger(__name__)

ENGINES: dict[str, type[Engine]] = {
    "duckdb": DuckDBEngine,
    "sqlite": SQLiteEngine,
    "postgresql": PostgresEngine,
    "clickhouse": ClickHouseEngine,  # clickhouse://, clickhouse+https://, clickhouse+chdb:///dir
    "spark": SparkEngine,  # spark+local://
    "trino": TrinoEngine,  # trino://, trino+https://
}
_ALIASES = {"postgres": "postgresql", "sc": "spark"}  # sc:// is Spark Connect


def kind_of(url: str) -> str:
    """The engine kind from the URL scheme; a driver suffix (`postgresql+asyncpg`) is ignored."""
    scheme = urlsplit(url).scheme.lower().split("+", 1)[0]
    kind = _ALIASES.get(scheme, scheme)
    if kind not in ENGINES:
        raise Invalid(
            f"unsupported source kind '{scheme}'; supported: {', '.join(sorted(ENGINES))}",
            code=ErrorCode.UNSUPPORTED_SOURCE_KIND,
            details={"supported": sorted(ENGINES)},
        )
    return kind


def create_engine(url: str, reach: Reach | None = None) -> Engine:
    return ENGINES[kind_of(url)](url, reach=reach)


def target_of(url: str) -> Target:
    """Where a source URL points, without opening anything; Invalid for a URL its engine cannot use."""
    return ENGINES[kind_of(url)].target(url)


def _fingerprint(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


class EnginePool:
    """One engine per source name, created on first use and replaced when the URL changes; each
    checks what it connects to against `reach` (default: this process's settings)."""

    def __init__(self, reach: Reach | None = None) -> None:
        self._reach = reach
        self._engines: dict[str, tuple[str, Engine]] = {}
        self._lock = asyncio.Lock()

    async def get(self, source: str, url: str) -> Engine:
        fingerprint = _fingerprint(url)
        async with self._lock:
            current = self._engines.get(source)
            if current is not None and current[0] == fingerprint:
                return current[1]
            engine = create_engine(url, self._reach)
            self._engines[source] = (fingerprint, engine)
        if current is not None:
            log.info("source %s changed its URL; closing its previous engine", source)
            await current[1].close()
        return engine

    async def discard(self, source: str) -> None:
        """Close a source's engine, e.g. when the source is deleted."""
        async with self._lock:
            current = self._engines.pop(source, None)
        if current is not None:
            await current[1].close()

    async def close_all(self) -> None:
        async with self._lock:
            engines, self._engines = [e for _, e in self._engines.values()], {}
        for engine in engines:
            await engine.close()
