"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select

from app.db import Database, utcnow
from app.migrate import upgrade
from app.models import Base
from app.sources.models import Source
from tests.conftest import BACKEND, PG_URL, _admin_sql, _pg_server_url

# Created by migration 0005 on PostgreSQL only (a pg_trgm GIN index), so not on the model.
POSTGRESQL_ONLY = {"ix_entities_search_trgm"}


@asynccontextmanager
async def fresh_registry(tmp_path) -> AsyncIterator[str]:
    """An empty registry database of the suite's backend, for migrating step by step."""
    if BACKEND == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/stepwise.db"
        return
    name = f"ys_steps_{os.getpid()}"
    await _admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
    await _admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_server_url(PG_URL, name)
    finally:
        await _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _compared(obj, name, type_, reflected, compare_to) -> bool:
    return name not in POSTGRESQL_ONLY


async def test_models_and_migrations_agree(app):
    async with app.state.db.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True, "include_object": _compared}), Base.metadata)
        )
    assert differences == []


async def test_stored_spark_tokens_are_redacted_again(tmp_path):
    """Migration 0006: a source URL redacted before it (its `;token=` left in the clear) is redacted again."""
    before = ["sc://spark.internal:15002/;token=t0k3n;user_id=ys", "postgresql://app:***@db/w?sslpassword=***", "sc://h:15002/;use_ssl=true"]
    after = ["sc://spark.internal:15002/;token=***;user_id=ys", "postgresql://app:***@db/w?sslpassword=***", "sc://h:15002/;use_ssl=true"]
    async with fresh_registry(tmp_path) as url:
        await asyncio.to_thread(upgrade, url, "0005")
        db = Database(url)
        try:
            async with db.session(write=True) as session:
                for i, redacted in enumerate(before):
                    await session.execute(insert(Source.__table__).values(
                        name=f"s{i}", kind="spark", url_encrypted="sealed", url_redacted=redacted, description="", created_by="admin",
                        created_at=utcnow(), updated_at=utcnow()))
            await asyncio.to_thread(upgrade, url, "head")
            async with db.session() as session:
                assert list(await session.scalars(select(Source.url_redacted).order_by(Source.name))) == after
        finally:
            await db.dispose()
