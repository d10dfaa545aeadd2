"""trigram index for catalog text search on PostgreSQL

`LIKE '%word%'` over entities.search_text scans the table; with pg_trgm's GIN index it is an
index lookup (30 ms -> 0.2 ms at 100k metrics, bench/REPORT.md). pg_trgm is a trusted
extension (a database owner may create it); where it cannot be created the search still works
by scanning. Not declared on the model: it exists only on PostgreSQL (tests/test_migrations.py
leaves it out of the comparison).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 16:50:00
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEX = "ix_entities_search_trgm"
OURS = "created by the Yardstick registry migration 0005"  # so that downgrade drops only an extension it created


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                CREATE EXTENSION pg_trgm;
                COMMENT ON EXTENSION pg_trgm IS '{OURS}';
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm cannot be created here; catalog text search will scan';
        END $$
        """
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                CREATE INDEX IF NOT EXISTS {INDEX} ON entities USING gin (search_text gin_trgm_ops);
            END IF;
        END $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
        op.execute(
            f"""
            DO $$
            BEGIN
                IF obj_description((SELECT oid FROM pg_extension WHERE extname = 'pg_trgm'), 'pg_extension') = '{OURS}' THEN
                    DROP EXTENSION pg_trgm;
                END IF;
            EXCEPTION WHEN dependent_objects_still_exist THEN
                RAISE NOTICE 'pg_trgm is used by other objects; left in place';
            END $$
            """
        )
