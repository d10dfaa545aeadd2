"""The per-request GraphQL context, built by a FastAPI dependency (strawberry's `context_getter`).

It carries the services and the Database (a session factory), never one shared session:
fields resolve concurrently and an AsyncSession cannot be shared between them.
"""

from __future__ import annotations

from functools import cached_property

from fastapi import Request
from strawberry.fastapi import BaseContext

from app.api.deps import current_caller
from app.api.graphql.loaders import Loaders
from app.auth.principal import Caller
from app.config import Settings
from app.db import Database
from app.errors import Unauthenticated
from app.query.service import QueryService


class Context(BaseContext):
    def __init__(self, db: Database, queries: QueryService, settings: Settings, caller: Caller | Unauthenticated) -> None:
        super().__init__()
        self.db, self.queries, self.settings = db, queries, settings
        self._caller = caller

    @property
    def caller(self) -> Caller:
        """The authenticated caller; an anonymous request gets the same 401-coded error as REST."""
        if isinstance(self._caller, Unauthenticated):
            raise self._caller
        return self._caller

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.db, self.caller)


async def get_context(request: Request) -> Context:
    """Authenticate exactly as REST does, but report a failure per field instead of as an HTTP 401."""
    state = request.app.state
    try:
        caller: Caller | Unauthenticated = await current_caller(request)
    except Unauthenticated as exc:
        caller = exc
    return Context(state.db, state.queries, state.settings, caller)
