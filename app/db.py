"""The registry database: declarative base, engine, and one session per unit of work.

Services never commit; `Database.session()` commits once when the unit of work ends
and rolls back on any exception, so an audit event lands with its change. A unit of work
that cannot reach the registry (no connection to be had, or the connection lost under it)
raises `RegistryUnavailable`, which every transport answers 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from app.errors import ErrorCode, Invalid, RegistryUnavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


CHANGED = "yardstick.changed"  # session.info flag: this unit of work accepted a change
MAX_INTEGER = 2**63 - 1  # the largest integer a registry column (BIGINT) holds: ids, versions, sequences


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=8, pool_timeout=60)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=60)


class Database:
    """Owns the engine; hands out sessions that commit once at the end of a unit of work."""

    def __init__(self, url: str, *, session_info: dict[str, Any] | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        # `session_info` starts every session's `info` (the audit key ring: app.audit.service.session_info).
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False, info=session_info)
        # SQLite has one writer at a time; serialising writers here turns "database is locked"
        # into an orderly queue. PostgreSQL writers serialise on row locks instead.
        self._write_lock = asyncio.Lock()
        # Bumped after every committed unit of work that changed something (it wrote an audit
        # event): cached definitions built at an older generation are rebuilt (app/query/freshness.py).
        self.generation = 0

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        if write and self.is_sqlite:
            async with self._write_lock:
                async with self._unit(write) as session:
                    yield session
        else:
            async with self._unit(write) as session:
                yield session

    @asynccontextmanager
    async def _unit(self, write: bool) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            try:
                await session.connection()  # take the connection now: failing to get one is an outage
            except Exception as exc:
                raise RegistryUnavailable() from exc
            try:
                yield session
                if write:
                    await session.commit()
                    if session.info.get(CHANGED):
                        self.generation += 1
                # A read-only unit just closes: loaded objects stay usable, nothing is written.
            except BaseException as exc:
                await _rollback(session)
                if connection_lost(exc):
                    raise RegistryUnavailable() from exc
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except sa_exc.DBAPIError:
        pass  # the connection is gone: the server rolled the transaction back itself


def connection_lost(exc: BaseException) -> bool:
    """The registry connection failed under a unit of work (terminated, reset, locked, pool timeout)."""
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
    return isinstance(exc, sa_exc.TimeoutError)


def as_utc(value: dt.datetime | None, *, pointer: str | None = None) -> dt.datetime | None:
    """Timestamps without an offset are read as UTC (documented in the README); one that leaves the
    years 1 to 9999 once in UTC (0001-01-01T00:00+05:00) is a 422."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    except OverflowError:
        raise Invalid(f"{value.isoformat()} is outside the years 1 to 9999 in UTC", pointer=pointer, code=ErrorCode.INVALID_FIELD) from None
