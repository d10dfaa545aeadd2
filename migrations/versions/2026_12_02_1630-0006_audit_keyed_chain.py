"""audit chain under a key: HMAC hashes, a signed head, TRUNCATE refused

Existing events are re-keyed: the unkeyed SHA-256 chain is checked first, then every event gets
the current key's id and its HMAC hash, and a closing `audit.rekey` event records how many events
were re-keyed and whether the unkeyed chain held (so tampering before the upgrade stays on record).
The key comes from the settings the migration runs with (YARDSTICK_AUDIT_KEY, else
YARDSTICK_SECRET_KEY): run it with the server's settings. An empty chain needs no key; its head is
the unsigned genesis head. Downgrade recomputes the unkeyed chain.

On PostgreSQL the append-only trigger also refuses TRUNCATE, the head only moves forward, and
both fire ALWAYS, so `session_replication_role = replica` does not skip them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 16:30:00
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import context, op

from app.audit.chain import GENESIS, KeyRing, event_fields, event_hash, head_signature
from app.canonical import sha256_of
from app.config import get_settings
from app.db import UTCDateTime, utcnow

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 2000
EVENTS = sa.table(
    "audit_events",
    *(sa.column(name, sa.String) for name in ("actor", "action", "entity_kind", "entity_key", "reason", "prev_hash", "key_id", "hash")),
    sa.column("seq", sa.Integer), sa.column("at", UTCDateTime), sa.column("before", sa.JSON), sa.column("after", sa.JSON),
)
HEAD = sa.table(
    "audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("hash", sa.String),
    sa.column("key_id", sa.String), sa.column("signature", sa.String), sa.column("at", UTCDateTime),
)
PG_GUARDS = (
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    "ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_append_only",
    "ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_truncate",
    """CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.seq >= OLD.seq THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION 'audit_head only moves forward';
    END;
    $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()",
    "ALTER TABLE audit_head ENABLE ALWAYS TRIGGER audit_head_forward_only",
    "ALTER TABLE audit_head ENABLE ALWAYS TRIGGER audit_head_no_truncate",
)


def _events(conn):
    """Every event in sequence order, read in batches."""
    after = 0
    while rows := conn.execute(sa.select(EVENTS).where(EVENTS.c.seq > after).order_by(EVENTS.c.seq).limit(BATCH)).all():
        yield from rows
        after = rows[-1].seq


def _legacy_hash(event) -> str:
    """The unkeyed hash of revisions 0001-0005: SHA-256 over the same fields without a key id."""
    fields = event_fields(event)
    del fields["key_id"]
    return sha256_of(fields)


class _Rewrite:
    """Collects new (prev_hash, key_id, hash) per event and writes them in batches."""

    def __init__(self, conn) -> None:
        self.conn, self.rows = conn, []

    def add(self, seq: int, prev_hash: str, key_id: str | None, chain_hash: str) -> None:
        self.rows.append({"b_seq": seq, "b_prev": prev_hash, "b_key": key_id, "b_hash": chain_hash})
        if len(self.rows) == BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            statement = EVENTS.update().where(EVENTS.c.seq == sa.bindparam("b_seq")).values(
                prev_hash=sa.bindparam("b_prev"), key_id=sa.bindparam("b_key"), hash=sa.bindparam("b_hash"))
            self.conn.execute(statement, self.rows)
            self.rows = []


def _rekey(conn) -> None:
    """Check the unkeyed chain, re-hash every event under the current key, close with `audit.rekey`, sign the head."""
    prev_old, prev_new, expected, legacy, key, rewrite, count = GENESIS, GENESIS, 1, {"ok": True}, None, _Rewrite(conn), 0
    for count, row in enumerate(_events(conn), start=1):
        if key is None:
            key = KeyRing.from_settings(context.config.attributes.get("settings") or get_settings()).current
        if legacy["ok"] and (row.seq != expected or row.prev_hash != prev_old or row.hash != _legacy_hash(row)):
            legacy = {"ok": False, "first_broken_seq": expected if row.seq != expected else row.seq}
        prev_old, expected = row.hash, row.seq + 1
        rekeyed = SimpleNamespace(**{**row._mapping, "prev_hash": prev_new, "key_id": key.id})
        prev_new = event_hash(key, rekeyed)
        rewrite.add(row.seq, rekeyed.prev_hash, key.id, prev_new)
    rewrite.flush()
    now = utcnow()
    if key is None:
        conn.execute(HEAD.insert().values(id=1, seq=0, hash=GENESIS, key_id=None, signature=None, at=now))
        return
    closing = {"seq": expected, "at": now, "actor": "system", "action": "audit.rekey", "entity_kind": "audit", "entity_key": "chain",
               "before": None, "after": {"events": count, "key_id": key.id, "unkeyed_chain": legacy}, "reason": "",
               "prev_hash": prev_new, "key_id": key.id}
    closing["hash"] = event_hash(key, SimpleNamespace(**closing))
    conn.execute(EVENTS.insert().values(**closing))
    conn.execute(HEAD.insert().values(id=1, seq=closing["seq"], hash=closing["hash"], key_id=key.id,
                                      signature=head_signature(key, closing["seq"], closing["hash"]), at=now))


def upgrade() -> None:
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=True),
        sa.Column("signature", sa.String(length=64), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    _rekey(conn)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=16), nullable=False)
    if postgresql:
        for statement in PG_GUARDS:
            op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    prev, rewrite = GENESIS, _Rewrite(conn)
    for row in _events(conn):
        unkeyed = SimpleNamespace(**{**row._mapping, "prev_hash": prev})
        prev = _legacy_hash(unkeyed)
        rewrite.add(row.seq, unkeyed.prev_hash, row.key_id, prev)
    rewrite.flush()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    op.drop_table("audit_head")
    if postgresql:
        op.execute("DROP FUNCTION audit_head_forward_only()")
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
