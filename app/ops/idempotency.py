"""Idempotency-Key on POSTs: one key, one write; a retry replays the first answer, without its secrets.

A record (principal, key) is taken before the work runs, so concurrent requests with one key make one
write: the others wait for the first answer and replay it, or answer 409 IDEMPOTENCY_IN_PROGRESS after
`WAIT_SECONDS`. The record keeps the SHA-256 of the request and of the first answer, and that answer
with its secrets removed: a replay of a key-creating request answers the same ids without the key,
which was shown once. A replay needs the same principal, calling with a live key. A request that does
not succeed (an error, a body over the limit, a client gone before its body arrived) releases the
record, so it can be retried with the same key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from app.db import Database, utcnow
from app.errors import Conflict, ErrorCode, Invalid, Unauthenticated
from app.ops.middleware import Authenticate, send_error
from app.ops.models import IdempotencyRecord

MAX_KEY = 200
SECRET_FIELDS = frozenset({"api_key"})  # answered once, never stored (app/auth/schemas.py: "shown once")
REPLAYED_HEADERS = (b"content-type", b"location", b"etag")
WAIT_SECONDS = 10.0  # how long a request waits for the first one with its key before a 409
LEASE = dt.timedelta(minutes=10)  # a record still unanswered after this was left by a process that died


def without_secrets(value: Any) -> Any:
    """The answer as stored: every SECRET_FIELDS member dropped, at any depth."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if k not in SECRET_FIELDS}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def stored_answer(body: bytes, content_type: str) -> str:
    if "json" not in content_type:
        return body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
    return json.dumps(without_secrets(parsed), ensure_ascii=False, separators=(",", ":"))


class Idempotency:
    def __init__(self, app, db: Database, authenticate: Authenticate) -> None:
        self.app, self.db, self.authenticate = app, db, authenticate

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        key = headers.get(b"idempotency-key")
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            return await self.app(scope, receive, send)
        key = key.decode("latin-1")
        if not 0 < len(key) <= MAX_KEY:
            return await send_error(send, Invalid(f"Idempotency-Key is 1 to {MAX_KEY} characters", pointer="Idempotency-Key", code=ErrorCode.INVALID_IDEMPOTENCY_KEY))
        body = await _read_body(receive)
        if body is None:
            return  # the body limit answered 413, or the client left: nothing runs, nothing is written
        replay = _replayer(body)
        try:
            principal = (await self.authenticate(headers.get(b"authorization", b"").decode("latin-1"))).name
        except Unauthenticated:
            return await self.app(scope, replay, send)  # the route answers 401; nothing to remember
        request_hash = hashlib.sha256(f"{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}\n".encode() + body).hexdigest()
        stored = await self._claim(principal, key, request_hash)
        if stored is not None:
            return await _replay(send, stored)

        captured: dict[str, Any] = {"status": 500, "body": b"", "headers": {}}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {k.lower(): v.decode("latin-1") for k, v in message.get("headers", []) if k.lower() in REPLAYED_HEADERS}
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay, capture)
        except BaseException:
            await self._release(principal, key)
            raise
        if 200 <= captured["status"] < 300:
            await self._complete(principal, key, captured)
        else:
            await self._release(principal, key)

    async def _claim(self, principal: str, key: str, request_hash: str) -> IdempotencyRecord | None:
        """Take the record (None), or answer the first request's record once it is answered."""
        deadline, pause = time.monotonic() + WAIT_SECONDS, 0.01
        while True:
            if await self._insert(principal, key, request_hash):
                return None
            async with self.db.session() as session:
                stored = await session.get(IdempotencyRecord, (principal, key))
            if stored is None:
                continue  # released meanwhile: take it
            if stored.request_hash != request_hash:
                raise Invalid("this Idempotency-Key was used with another request", pointer="Idempotency-Key", code=ErrorCode.IDEMPOTENCY_KEY_REUSED)
            if stored.status_code is not None:
                return stored
            if stored.created_at < utcnow() - LEASE and await self._take_over(stored):
                return None
            if time.monotonic() > deadline:
                raise Conflict("a request with this Idempotency-Key is still running; retry when it has answered",
                               code=ErrorCode.IDEMPOTENCY_IN_PROGRESS, headers={"Retry-After": "1"})
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.25)

    async def _insert(self, principal: str, key: str, request_hash: str) -> bool:
        try:
            async with self.db.session(write=True) as session:
                session.add(IdempotencyRecord(principal=principal, key=key, request_hash=request_hash, created_at=utcnow()))
        except IntegrityError:
            return False  # another request holds this key
        return True

    async def _take_over(self, stored: IdempotencyRecord) -> bool:
        """An abandoned record becomes this request's; of several requests trying, one wins."""
        async with self.db.session(write=True) as session:
            taken = await session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.principal == stored.principal, IdempotencyRecord.key == stored.key,
                       IdempotencyRecord.status_code.is_(None), IdempotencyRecord.created_at == stored.created_at)
                .values(created_at=utcnow())
            )
        return taken.rowcount == 1

    async def _complete(self, principal: str, key: str, captured: dict[str, Any]) -> None:
        body, headers = captured["body"], captured["headers"]
        async with self.db.session(write=True) as session:
            await session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
                .values(status_code=captured["status"], answer_hash=hashlib.sha256(body).hexdigest(),
                        answer=stored_answer(body, headers.get(b"content-type", "")),
                        headers=json.dumps({k.decode(): v for k, v in headers.items()}))
            )

    async def _release(self, principal: str, key: str) -> None:
        async with self.db.session(write=True) as session:
            await session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key, IdempotencyRecord.status_code.is_(None)))


async def _read_body(receive) -> bytes | None:
    """The whole request body, or None when the client went away first (or the body limit refused it)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replayer(body: bytes):
    """A receive() that hands the app the body already read, then reports the client gone."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _replay(send, stored: IdempotencyRecord) -> None:
    body = (stored.answer or "").encode()
    kept = json.loads(stored.headers or "{}")
    headers = [(k.encode(), v.encode("latin-1")) for k, v in kept.items()]
    headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
