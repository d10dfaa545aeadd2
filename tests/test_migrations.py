"""The migrations build exactly the schema the models describe, and carry an existing audit chain across."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.audit.models import AuditEvent
from app.audit.verify import verify
from app.config import Settings
from app.main import create_app
from app.migrate import downgrade, upgrade
from app.models import Base
from tests.conftest import BACKEND, PG_URL, _admin_sql, _pg_server_url

# Created by migration 0005 on PostgreSQL only (a pg_trgm GIN index), so not on the model.
POSTGRESQL_ONLY = {"ix_entities_search_trgm"}


def _compared(obj, name, type_, reflected, compare_to) -> bool:
    return name not in POSTGRESQL_ONLY


async def test_models_and_migrations_agree(app):
    async with app.state.db.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True, "include_object": _compared}), Base.metadata)
        )
    assert differences == []


@pytest.fixture
async def empty_registry(tmp_path):
    """A database with no tables yet, on the registry backend under test."""
    if BACKEND == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/legacy.db"
        return
    name = f"ys_legacy_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    await _admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_server_url(PG_URL, name)
    finally:
        await _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def unkeyed_hash(event: dict) -> str:
    """The chain's hash before revision 0006: SHA-256 of the canonical JSON of the fields."""
    fields = {k: event[k] for k in ("seq", "actor", "action", "entity_kind", "entity_key", "before", "after", "reason", "prev_hash")}
    fields["at"] = event["at"].astimezone(dt.timezone.utc).isoformat()
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def legacy_chain(n: int, *, edited: int | None = None) -> list[dict]:
    events, prev = [], "0" * 64
    for seq in range(1, n + 1):
        event = {"seq": seq, "at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=seq), "actor": "admin",
                 "action": "domain.create", "entity_kind": "domain", "entity_key": f"d{seq}", "before": None, "after": {"name": f"d{seq}"},
                 "reason": "", "prev_hash": prev}
        event["hash"] = prev = unkeyed_hash(event)
        events.append(event)
    if edited is not None:
        events[edited - 1]["actor"] = "mallory"  # changed after it was hashed
    return events


async def events_of(url: str) -> list[dict]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            table = AuditEvent.__table__
            columns = [c for c in table.c if c.name != "key_id"]
            return [dict(r._mapping) for r in await conn.execute(select(*columns).order_by(table.c.seq))]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("edited", [None, 3])
async def test_an_existing_chain_is_rekeyed_and_what_it_was_is_recorded(empty_registry, tmp_path, edited):
    """Revision 0006 re-keys an unkeyed chain and records whether it held; downgrade gives the unkeyed chain back."""
    url, settings = empty_registry, Settings(environment="test", database_url=empty_registry, var_dir=tmp_path / "var", secret_key="rekey-" + uuid.uuid4().hex)
    await asyncio.to_thread(upgrade, url, "0005")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(insert(AuditEvent.__table__), legacy_chain(5, edited=edited))
    await engine.dispose()

    report, rekey = await upgraded(url, settings)
    assert (report.ok, report.events, report.head_seq) == (True, 6, 6)
    assert (rekey["action"], rekey["after"]["events"]) == ("audit.rekey", 5)
    assert rekey["after"]["unkeyed_chain"] == ({"ok": True} if edited is None else {"ok": False, "first_broken_seq": 3})

    await asyncio.to_thread(downgrade, url, "0005", settings=settings)
    back, prev = await events_of(url), "0" * 64
    for event in back:
        assert (event["prev_hash"], event["hash"]) == (prev, unkeyed_hash(event)), event["seq"]
        prev = event["hash"]
    assert len(back) == 6
    report, rekey = await upgraded(url, settings)  # and up again: the re-keyed chain it came from held
    assert (report.ok, report.events, rekey["after"]["unkeyed_chain"]) == (True, 7, {"ok": True})


async def upgraded(url: str, settings: Settings):
    """Upgrade to head; answer the verification and the last event."""
    await asyncio.to_thread(upgrade, url, "head", settings=settings)
    app = create_app(settings)
    try:
        async with app.state.db.session() as session:
            report = await verify(session)
    finally:
        await app.state.shutdown()
    return report, (await events_of(url))[-1]
