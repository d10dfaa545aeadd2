"""PostgreSQL through an asyncpg pool: read-only transactions, server-side statement timeouts.

Rows are read through a cursor so at most max_rows+1 cross the wire; values keep their
driver types (numeric stays Decimal) and the caller serialises them. Past its time limit a
query answers 504 at once, even when a hung server holds asyncpg's cancel and release: that
clean-up goes on in the background, bounded by the pool's own timeouts. The host is checked
against the sources' reach before each new connection, and every query first asks the server
which database it is (with its address and port), so the registry's own database is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import asyncpg

from app.engines.base import Engine, Result, row_limit_exceeded
from app.engines.threaded import UNWIND_SECONDS
from app.errors import AppError, ErrorCode, Invalid, QueryTimeout, SourceError, SourceUnavailable
from app.reach import POSTGRES_PORT, Reach, Target

CONNECT_TIMEOUT = 10.0
# SET LOCAL statement_timeout, and the server's word on which database it is, in one round trip
_PREPARE = "SELECT set_config('statement_timeout', $1, true), current_database(), host(inet_server_addr()), inet_server_port()"
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
)


class PostgresEngine(Engine):
    kind = "postgresql"
    dialect = "postgres"

    def __init__(self, url: str, *, reach: Reach | None = None, max_connections: int = 5) -> None:
        super().__init__(url, reach=reach)
        parts = urlsplit(url)
        self._dsn = urlunsplit(("postgresql", *parts[1:]))
        self._max = max_connections
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    @classmethod
    def target(cls, url: str) -> Target:
        parts = urlsplit(url)
        one_host = parts.hostname and "," not in parts.netloc and not unquote(parts.hostname).startswith("/")  # no socket paths
        if not one_host or any(k in ("host", "hostaddr", "port") for k, _ in parse_qsl(parts.query)):
            raise Invalid("a PostgreSQL source URL names one host in its authority: postgresql://user:pass@host:5432/db",
                          code=ErrorCode.INVALID_SOURCE_URL)
        database = unquote(parts.path.lstrip("/")) or unquote(parts.username or "") or "postgres"
        return Target(host=parts.hostname, port=parts.port or POSTGRES_PORT, database=database)

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=0, max_size=self._max, timeout=CONNECT_TIMEOUT,
                    max_inactive_connection_lifetime=300, connect=self._connect,
                )
            return self._pool

    async def _connect(self, *args: Any, **kwargs: Any) -> asyncpg.Connection:
        """A new pooled connection, only where sources may reach (the server is asked who it is per query)."""
        await asyncio.to_thread(self.check_reach)
        return await asyncpg.connect(*args, **kwargs)

    async def execute(
        self, sql: str, params: Sequence[Any], *, timeout: float, max_rows: int
    ) -> Result:
        try:
            columns, rows = await _within(self._fetch(sql, params, timeout, max_rows), timeout + 0.5)
        except (TimeoutError, asyncpg.QueryCanceledError):
            raise QueryTimeout(f"the query did not finish within {timeout:g} s") from None
        except asyncpg.PostgresError as exc:
            if isinstance(exc, _UNAVAILABLE):
                raise self._unavailable(exc) from None
            raise SourceError(f"PostgreSQL rejected the query: {self.scrub(str(exc))}") from None
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from None
        except asyncpg.InterfaceError as exc:
            raise SourceError(f"PostgreSQL rejected the query: {self.scrub(str(exc))}") from None
        if len(rows) > max_rows:
            raise row_limit_exceeded(max_rows)
        return Result(columns=columns, rows=[tuple(r) for r in rows])

    async def _fetch(
        self, sql: str, params: Sequence[Any], timeout: float, max_rows: int
    ) -> tuple[list[str], list[asyncpg.Record]]:
        pool = await self._get_pool()
        conn = await self._acquire(pool, timeout)
        try:
            async with conn.transaction(readonly=True):
                _, database, address, port = await conn.fetchrow(_PREPARE, str(max(1, int(timeout * 1000))))
                self._reach.check_server(database, address, port)  # never the registry, whatever DNS said
                statement = await conn.prepare(sql)
                columns = [a.name for a in statement.get_attributes()]
                cursor = await statement.cursor(*params)
                rows = await cursor.fetch(max_rows + 1)
        finally:
            await pool.release(conn)
        return columns, rows

    async def _acquire(self, pool: asyncpg.Pool, timeout: float) -> asyncpg.Connection:
        """A pooled connection; failing to get one in time means the source is unavailable."""
        try:
            return await pool.acquire(timeout=min(timeout, CONNECT_TIMEOUT))
        except AppError:
            raise
        except (TimeoutError, *_UNAVAILABLE) as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: BaseException) -> SourceUnavailable:
        return SourceUnavailable(f"PostgreSQL is not reachable: {self.scrub(str(exc)) or type(exc).__name__}")

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), CONNECT_TIMEOUT)
        except TimeoutError:
            pool.terminate()


_cleaning: set[asyncio.Task] = set()  # timed-out fetches still giving their connection back


async def _within(fetch, seconds: float):
    """The result of `fetch`, or TimeoutError past `seconds`: the fetch is cancelled and given
    UNWIND_SECONDS to give its connection back, then left to finish on its own."""
    task = asyncio.ensure_future(fetch)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        _abandon(task)
        raise
    if done:
        return task.result()
    _abandon(task)
    await asyncio.wait({task}, timeout=UNWIND_SECONDS)
    raise TimeoutError


def _abandon(task: asyncio.Task) -> None:
    """Cancel the fetch and keep it referenced until its clean-up ends."""
    task.cancel()
    _cleaning.add(task)
    task.add_done_callback(_cleaned)


def _cleaned(task: asyncio.Task) -> None:
    _cleaning.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: asyncio would log it as never retrieved
