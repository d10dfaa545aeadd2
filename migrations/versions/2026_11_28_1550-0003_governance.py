"""governance

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 15:50:11.394705

Review policy per domain, deprecations, proposals, webhooks with their delivery log, and
the calculation fingerprint of metrics (backfilled for the metrics already registered).
"""

import json

import sqlalchemy as sa
from alembic import op

import app.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('domain_policies',
    sa.Column('domain', sa.String(length=63), nullable=False),
    sa.Column('review_required', sa.Boolean(), nullable=False),
    sa.Column('refuse_duplicates', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=63), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_domain_policies'))
    )
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('domain', sa.String(length=63), nullable=True),
    sa.Column('metric', sa.String(length=127), nullable=True),
    sa.Column('created_by', sa.String(length=63), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_table('deprecations',
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('replacement', sa.String(length=127), nullable=True),
    sa.Column('sunset', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('deprecated_by', sa.String(length=63), nullable=False),
    sa.Column('deprecated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_deprecations_entity_id_entities')),
    sa.PrimaryKeyConstraint('entity_id', name=op.f('pk_deprecations'))
    )
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=127), nullable=False),
    sa.Column('domain', sa.String(length=63), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('author', sa.String(length=63), nullable=False),
    sa.Column('change_note', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reviewer', sa.String(length=63), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('result_version', sa.Integer(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['entity_id'], ['entities.id'], name=op.f('fk_proposals_entity_id_entities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index('ix_proposals_domain_state', ['domain', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_entity_id'), ['entity_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('next_attempt_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_hook_seq', ['webhook_id', 'seq'], unique=True)

    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_entities_fingerprint'), ['fingerprint'], unique=False)

    _backfill_fingerprints()


def _backfill_fingerprints() -> None:
    from pydantic import TypeAdapter

    from app.catalog.fingerprint import fingerprint
    from app.compiler.definitions import MetricDef

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT e.id, r.content FROM entities e JOIN revisions r ON r.entity_id = e.id AND r.version = e.current_version"
        " WHERE e.kind = 'metric'"
    )).all()
    adapter = TypeAdapter(MetricDef)
    for entity_id, content in rows:
        content = json.loads(content) if isinstance(content, str) else content
        value = fingerprint(adapter.validate_python(content))
        bind.execute(sa.text("UPDATE entities SET fingerprint = :f WHERE id = :i"), {"f": value, "i": entity_id})


def downgrade() -> None:
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entities_fingerprint'))
        batch_op.drop_column('fingerprint')

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_hook_seq')
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_entity_id'))
        batch_op.drop_index('ix_proposals_domain_state')

    op.drop_table('proposals')
    op.drop_table('deprecations')
    op.drop_table('webhooks')
    op.drop_table('domain_policies')
