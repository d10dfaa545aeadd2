"""Idempotency-Key on POSTs: the same key and body replay the first answer; another body is a 422.

Keys are scoped to the caller's credential (stored as its SHA-256) and kept for
successful answers only, so a failed request can be retried with the same key.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import Database, utcnow
from app.errors import ErrorCode, Invalid
from app.ops.middleware import send_error
from app.ops.models import IdempotencyRecord

MAX_KEY = 200


class Idempotency:
    def __init__(self, app, db: Database) -> None:
        self.app, self.db = app, db

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        key = headers.get(b"idempotency-key")
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            return await self.app(scope, receive, send)
        key = key.decode("latin-1")
        if not 0 < len(key) <= MAX_KEY:
            return await send_error(send, Invalid(f"Idempotency-Key is 1 to {MAX_KEY} characters", pointer="Idempotency-Key", code=ErrorCode.INVALID_IDEMPOTENCY_KEY))
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        caller = hashlib.sha256(headers.get(b"authorization", b"")).hexdigest()
        request_hash = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        async with self.db.session() as session:
            stored = await session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key))
        if stored is not None:
            if stored.request_hash != request_hash:
                return await send_error(send, Invalid("this Idempotency-Key was used with another request body", pointer="Idempotency-Key", code=ErrorCode.IDEMPOTENCY_KEY_REUSED))
            return await self._replay(send, stored)

        sent = False

        async def replay_body():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        captured: dict = {"status": 500, "body": b"", "content_type": "application/json"}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["content_type"] = dict(message.get("headers", [])).get(b"content-type", b"application/json").decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, replay_body, capture)
        if 200 <= captured["status"] < 300:
            await self._store(caller, key, request_hash, captured)

    async def _store(self, caller: str, key: str, request_hash: str, captured: dict) -> None:
        try:
            async with self.db.session(write=True) as session:
                session.add(IdempotencyRecord(
                    caller=caller, key=key, request_hash=request_hash, status_code=captured["status"],
                    body=captured["body"].decode("utf-8", "replace"), content_type=captured["content_type"], created_at=utcnow(),
                ))
        except IntegrityError:
            pass  # a concurrent request with the same key stored its answer first

    @staticmethod
    async def _replay(send, stored: IdempotencyRecord) -> None:
        body = stored.body.encode()
        headers = [
            (b"content-type", stored.content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})
