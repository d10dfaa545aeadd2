"""Per-request DataLoaders: nested domain, owner, dataset and latest version cost one registry query per batch.

Each batch opens its own read session. The batch reads below are ones the services do not
offer yet (see the report of issue #4); they use the catalog repository and models directly.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from app.auth import service as auth
from app.auth.models import Principal
from app.auth.principal import Caller
from app.auth.schemas import DomainOut, PrincipalRef
from app.catalog import repository as repo
from app.catalog import service as catalog
from app.catalog.kinds import DATASET
from app.catalog.schemas import EntityOut, VersionOut
from app.db import Database
from app.errors import AppError


class Loaders:
    def __init__(self, db: Database, caller: Caller) -> None:
        self.db, self.caller = db, caller
        self.domains: DataLoader[str, DomainOut | None] = DataLoader(self._domains)
        self.owners: DataLoader[str, PrincipalRef | None] = DataLoader(self._owners)
        self.datasets: DataLoader[str, EntityOut | None] = DataLoader(self._datasets)
        self.latest: DataLoader[tuple[str, str], VersionOut | None] = DataLoader(self._latest)

    async def _domains(self, names: list[str]) -> list[DomainOut | None]:
        async with self.db.session() as session:
            found = {d.name: d for d in await auth.list_domains(session)}
        return [found.get(n) for n in names]

    async def _owners(self, names: list[str]) -> list[PrincipalRef | None]:
        query = select(Principal.name, Principal.display_name, Principal.kind).where(Principal.name.in_(set(names)))
        async with self.db.session() as session:
            found = {r.name: PrincipalRef(name=r.name, display_name=r.display_name, kind=r.kind) for r in await session.execute(query)}
        return [found.get(n) for n in names]

    async def _datasets(self, names: list[str]) -> list[EntityOut | AppError | None]:
        """Current dataset versions; one the caller may not read is a FORBIDDEN error on that field."""
        async with self.db.session() as session:
            found = await catalog.current_many(session, DATASET, set(names))
        return [self._readable(found.get(n)) for n in names]

    def _readable(self, out: EntityOut | None) -> EntityOut | AppError | None:
        if out is None:
            return None
        try:
            self.caller.require_read(out.domain)
        except AppError as exc:
            return exc
        return out

    async def _latest(self, keys: list[tuple[str, str]]) -> list[VersionOut | None]:
        by_kind: dict[str, set[str]] = defaultdict(set)
        for kind, key in keys:
            by_kind[kind].add(key)
        found: dict[tuple[str, str], VersionOut] = {}
        async with self.db.session() as session:
            for kind, wanted in by_kind.items():
                for entity, revision in await repo.current_many(session, kind, wanted):
                    found[(kind, entity.key)] = VersionOut.model_validate(revision, from_attributes=True)
        return [found.get(k) for k in keys]
