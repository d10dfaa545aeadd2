"""Verify the audit chain and its head: name the first event that does not hold, with a stable code.

A break is an answer, never an error: unreadable rows, unknown keys, a cut tail or a head moved
back all come out as a coded report (docs/audit.md lists the codes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.chain import GENESIS, KeyRing, event_hash, head_signature
from app.audit.models import AuditEvent, AuditHead
from app.audit.service import key_ring

# What decoding a tampered row can raise: bad JSON or timestamps, text that cannot be encoded again.
_UNREADABLE = (ValueError, TypeError, AttributeError, UnicodeError, json.JSONDecodeError, StatementError)


class Break(StrEnum):
    """Why the chain does not hold; the wire string is the member's name."""

    EVENT_MISSING = "EVENT_MISSING"
    CORRUPT_ROW = "CORRUPT_ROW"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    PREV_HASH_MISMATCH = "PREV_HASH_MISMATCH"
    HASH_MISMATCH = "HASH_MISMATCH"
    HEAD_MISSING = "HEAD_MISSING"
    HEAD_MISMATCH = "HEAD_MISMATCH"
    HEAD_SIGNATURE_INVALID = "HEAD_SIGNATURE_INVALID"
    TAIL_MISSING = "TAIL_MISSING"
    HEAD_BEHIND = "HEAD_BEHIND"


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    head_seq: int | None = None
    first_broken_seq: int | None = None
    code: Break | None = None
    reason: str | None = None


class _Broken(Exception):
    def __init__(self, seq: int, code: Break, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.code, self.reason = seq, code, reason


async def verify(session: AsyncSession, *, batch: int = 2000) -> Verification:
    """Recompute the chain in sequence order, then hold it against the head read before and after."""
    ring = key_ring(session)
    head = await _head(session)
    count = 0
    try:
        if head is None:
            raise _Broken(1, Break.HEAD_MISSING, "the head row is missing")
        count = await _walk(session, ring, head, batch)
        if count < head.seq:
            raise _Broken(count + 1, Break.TAIL_MISSING, f"the head names event {head.seq}; the chain ends at {count}")
        _check_signature(ring, head)
        after = await _head(session)
        if after is None or after.seq < count:
            raise _Broken((after.seq if after else 0) + 1, Break.HEAD_BEHIND, f"the chain runs to {count}, past its head")
    except _Broken as broken:
        return Verification(False, count, head.seq if head else None, broken.seq, broken.code, broken.reason)
    return Verification(True, count, head.seq)


async def _head(session: AsyncSession) -> Any:
    """The head as a plain row, read afresh each time."""
    table = AuditHead.__table__
    return (await session.execute(select(table).where(table.c.id == 1))).first()


async def _walk(session: AsyncSession, ring: KeyRing, head: Any, batch: int) -> int:
    """Check every event against its key and predecessor; answer how many held."""
    prev_hash, expected = GENESIS, 1
    while True:
        seqs = list((await session.scalars(select(AuditEvent.seq).where(AuditEvent.seq >= expected).order_by(AuditEvent.seq).limit(batch))).all())
        if not seqs:
            return expected - 1
        for event in await _rows(session, seqs):
            if event.seq != expected:
                raise _Broken(expected, Break.EVENT_MISSING, f"event {expected} is missing")
            _check_event(ring, event, prev_hash)
            if event.seq == head.seq and event.hash != head.hash:
                raise _Broken(event.seq, Break.HEAD_MISMATCH, "the head's hash is not this event's")
            prev_hash, expected = event.hash, expected + 1


async def _rows(session: AsyncSession, seqs: list[int]) -> list[Any]:
    """Plain rows for these sequences (not ORM objects); a row that cannot be read is a break."""
    table = AuditEvent.__table__
    try:
        return list((await session.execute(select(table).where(table.c.seq.between(seqs[0], seqs[-1])).order_by(table.c.seq))).all())
    except _UNREADABLE:
        for seq in seqs:  # find the first unreadable row
            try:
                (await session.execute(select(table).where(table.c.seq == seq))).all()
            except _UNREADABLE:
                raise _Broken(seq, Break.CORRUPT_ROW, "the stored row cannot be read") from None
        raise


def _check_event(ring: KeyRing, event: Any, prev_hash: str) -> None:
    key = ring.get(event.key_id)
    if key is None:
        raise _Broken(event.seq, Break.UNKNOWN_KEY, f"signed by key '{event.key_id}', which is not configured")
    if event.prev_hash != prev_hash:
        raise _Broken(event.seq, Break.PREV_HASH_MISMATCH, "prev_hash does not match the previous event")
    try:
        expected = event_hash(key, event)
    except _UNREADABLE:
        raise _Broken(event.seq, Break.CORRUPT_ROW, "the stored content cannot be encoded") from None
    if expected != event.hash:
        raise _Broken(event.seq, Break.HASH_MISMATCH, "stored content does not match its hash")


def _check_signature(ring: KeyRing, head: Any) -> None:
    if head.signature is None and head.seq == 0 and head.hash == GENESIS:
        return  # the head of an empty chain
    key = ring.get(head.key_id)
    if key is None or head.signature != head_signature(key, head.seq, head.hash):
        raise _Broken(head.seq, Break.HEAD_SIGNATURE_INVALID, "the head's signature does not hold under a configured key")
