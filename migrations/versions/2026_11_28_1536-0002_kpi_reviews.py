"""kpi reviews

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:36:00.000000

Targets and scorecards need no schema of their own: they are `entities` of kinds
"target" and "scorecard" with `revisions`, like datasets and metrics.
"""

from alembic import op
import sqlalchemy as sa
import app.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kpi_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_key', sa.String(length=127), nullable=False),
    sa.Column('domain', sa.String(length=63), nullable=False),
    sa.Column('reviewer', sa.String(length=63), nullable=False),
    sa.Column('reviewed_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_reviews'))
    )
    with op.batch_alter_table('kpi_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_reviews_metric_at', ['metric_key', 'reviewed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kpi_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_reviews_metric_at')

    op.drop_table('kpi_reviews')
