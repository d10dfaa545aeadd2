"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
