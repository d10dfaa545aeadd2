"""FastAPI dependencies named once: sessions, the caller, settings, paging."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth
from app.auth.principal import Caller
from app.config import Settings
from app.db import MAX_INTEGER, Database
from app.singleflight import SingleFlight


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_db(request).session() as session:
        yield session


async def write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Commits once when the route returns; rolls back on any error."""
    async with get_db(request).session(write=True) as session:
        yield session


async def current_caller(request: Request) -> Caller:
    caller = await request.app.state.callers.from_header(request.headers.get("authorization", ""))
    request.state.caller = caller.name
    return caller


# scope="function": the unit of work ends (commits) before the response is sent, so an
# acknowledged write is durable and visible to the caller's next request on any replica.
ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(write_session, scope="function")]
CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def auditor_caller(caller: CurrentCaller) -> Caller:
    caller.require_auditor()
    return caller


AuditorCaller = Annotated[Caller, Depends(auditor_caller)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500)]
# Registry integers are 64-bit: a larger one in a path or query is a 422, never a failed bind.
RowId = Annotated[int, Path(ge=1, le=MAX_INTEGER)]
Version = Annotated[int | None, Query(ge=1, le=MAX_INTEGER)]
FromVersion = Annotated[int, Query(alias="from", ge=1, le=MAX_INTEGER)]
ToVersion = Annotated[int, Query(ge=1, le=MAX_INTEGER)]


class CallerCache:
    """Authenticates API keys, remembering a verified key for a few seconds.

    A revoked key stops working within `ttl` seconds on every replica; the hot path of a
    dashboard then costs no registry round trip per request.
    """

    def __init__(self, db: Database, ttl: float = 5.0) -> None:
        self.db, self.ttl = db, ttl
        self._known: dict[str, tuple[float, Caller]] = {}
        self._verifying = SingleFlight()

    async def from_header(self, header: str) -> Caller:
        """The caller an `Authorization: Bearer <key>` header names; Unauthenticated otherwise."""
        scheme, _, token = header.partition(" ")
        return await self.authenticate(token.strip() if scheme.lower() == "bearer" else None)

    async def authenticate(self, token: str | None) -> Caller:
        now = time.monotonic()
        slot = hashlib.sha256((token or "").encode()).hexdigest()
        hit = self._known.get(slot)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        caller = await self._verifying.run(slot, lambda: self._verify(token))
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[slot] = (now, caller)
        return caller

    async def _verify(self, token: str | None) -> Caller:
        async with self.db.session() as session:
            return await auth.authenticate(session, token)

    def forget(self) -> None:
        self._known.clear()
