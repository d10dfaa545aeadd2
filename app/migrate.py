"""Run the alembic migrations programmatically (CLI, tests, container start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent

# Built by migrations where the database supports them, so not on the models (0005: pg_trgm's GIN index).
MIGRATION_ONLY = {"ix_entities_search_trgm"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate and `alembic check` compare everything but the migration-only objects."""
    return name not in MIGRATION_ONLY


def alembic_config(database_url: str, settings: Settings | None = None) -> Config:
    """`settings` (default: the environment's) give migrations that sign the audit chain their key."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["settings"] = settings
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head", *, settings: Settings | None = None) -> None:
    """Blocking: call it outside a running event loop (or in a thread)."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url, settings), revision)


def downgrade(database_url: str, revision: str, *, settings: Settings | None = None) -> None:
    """Blocking, as `upgrade`."""
    command.downgrade(alembic_config(database_url, settings), revision)


def check(database_url: str) -> None:
    """`alembic check`: raises when the models and the migrated database differ. Blocking, as `upgrade`."""
    command.check(alembic_config(database_url))
