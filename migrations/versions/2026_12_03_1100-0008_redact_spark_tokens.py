"""re-redact stored source URLs: Spark Connect `;token=` path parameters

Before this revision `sources.url_redacted` kept a Spark Connect URL's `;token=…` in the clear
(`sc://host:15002/;token=t;user_id=u`). The column is redacted again here; the rest of each URL
was already redacted. The sealed URL (`url_encrypted`) is untouched. Audit events of earlier
`source.create` changes are append-only and hash-chained, so they keep what they recorded:
rotate any Spark Connect token registered before this revision (docs/scale.md).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:00:00
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The same names app/sources/redaction.py treats as secret, frozen as of this revision.
_SECRET_PATH_PARAM = re.compile(r";([^;=/?#]*(?:pass|secret|token|key|pwd|auth|cred|sig|code)[^;=/?#]*)=[^;?#]*", re.IGNORECASE)


def redact_path_params(url: str) -> str:
    return _SECRET_PATH_PARAM.sub(lambda m: f";{m.group(1)}=***", url)


def upgrade() -> None:
    sources = sa.table("sources", sa.column("id", sa.Integer), sa.column("url_redacted", sa.Text))
    bind = op.get_bind()
    for source_id, url in bind.execute(sa.select(sources.c.id, sources.c.url_redacted).where(sources.c.url_redacted.like("%;%"))).all():
        redacted = redact_path_params(url)
        if redacted != url:
            bind.execute(sa.update(sources).where(sources.c.id == source_id).values(url_redacted=redacted))


def downgrade() -> None:
    """Nothing to restore: the clear tokens are gone from this column (the sealed URL keeps them)."""
