"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.db import Database
from app.migrate import alembic_config, upgrade
from app.models import Base

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


async def test_idempotency_records_holding_answers_are_dropped_on_upgrade(database_url):
    """Migration 0006: the old records (whole answers, API keys included) do not survive it."""
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0005")
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO idempotency_records (caller, key, request_hash, status_code, body, content_type, created_at) "
                "VALUES (:c, 'k', :h, 201, :b, 'application/json', CURRENT_TIMESTAMP)"),
                {"c": "c" * 64, "h": "h" * 64, "b": '{"id":"0123456789abcdef","api_key":"ys_0123456789abcdef_secret"}'})
        await db.dispose()
        await asyncio.to_thread(upgrade, database_url)
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT COUNT(*) FROM idempotency_records"))).scalar() == 0
            await conn.execute(text("SELECT principal, key, request_hash, created_at, status_code, answer_hash, answer, headers FROM idempotency_records"))
    finally:
        await db.dispose()
